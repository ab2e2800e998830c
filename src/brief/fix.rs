//! Quick fixes as plain text edits: insert missing fields at their canonical place, replace a
//! misspelt name with a known one.

use std::ops::Range;

use super::kind::Kind;
use super::link::{slug, Link, Target};
use super::model::Brief;
use super::suggest;
use crate::document::Document;

/// Replace a byte range of the document with new text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextEdit {
    pub range: Range<usize>,
    pub new_text: String,
}

/// Edits inserting `names` (canonical field names of `kind`) into `brief`, each after the
/// field that precedes it in canonical order, with a one-line prompt as an HTML comment.
pub fn insert_fields(
    document: &Document,
    brief: &Brief,
    kind: &Kind,
    names: &[String],
) -> Vec<TextEdit> {
    let mut sorted: Vec<&String> = names.iter().collect();
    sorted.sort_by_key(|name| kind.order_of(name));
    let mut edits: Vec<TextEdit> = Vec::new();
    for name in sorted {
        let at = insertion_point(brief, kind, name);
        let prompt = kind
            .fields
            .iter()
            .find(|field| &field.name == name)
            .map_or("", |field| field.prompt.as_str());
        let section = format!("## {name}\n\n<!-- {prompt} -->\n\n");
        match edits.iter_mut().find(|edit| edit.range.start == at) {
            Some(edit) => edit.new_text.push_str(&section),
            None => edits.push(TextEdit {
                range: at..at,
                new_text: section,
            }),
        }
    }
    for edit in &mut edits {
        edit.new_text = fit_between_lines(document, edit.range.start, &edit.new_text);
    }
    edits
}

/// The byte offset where a missing field belongs: after the last present field that comes
/// before it in canonical order, else before the first present field that comes after it,
/// else before the output blocks, else at the end of the brief.
fn insertion_point(brief: &Brief, kind: &Kind, name: &str) -> usize {
    let order = kind.order_of(name);
    let order_of = |field: &super::model::Field| {
        kind.field(&field.name)
            .map_or(usize::MAX, |spec| kind.order_of(&spec.name))
    };
    if let Some(before) = brief
        .fields
        .iter()
        .filter(|field| order_of(field) < order)
        .max_by_key(|field| field.body.start)
    {
        return before.body.end;
    }
    if let Some(after) = brief
        .fields
        .iter()
        .filter(|field| order_of(field) > order)
        .min_by_key(|field| field.heading.start)
    {
        return after.heading.start;
    }
    if let Some(first_output) = brief.outputs.first() {
        return first_output.heading.start;
    }
    brief.range.end
}

/// Pads inserted sections with blank lines so they neither glue onto the text before them
/// nor onto the heading after them.
fn fit_between_lines(document: &Document, at: usize, text: &str) -> String {
    let before = document.slice(at.saturating_sub(2)..at);
    let prefix = if at == 0 || before.ends_with("\n\n") || before == "\n" && at == 1 {
        ""
    } else if before.ends_with('\n') {
        "\n"
    } else {
        "\n\n"
    };
    let mut text = format!("{prefix}{text}");
    if at >= document.len() {
        text.truncate(text.trim_end_matches('\n').len());
        text.push('\n');
    }
    text
}

/// Replacements for a broken local link, closest title first, written in the link's own form.
pub fn link_replacements(document: &Document, briefs: &[Brief], link: &Link) -> Vec<String> {
    if link.target.file().is_some() {
        return Vec::new();
    }
    let titles = briefs
        .iter()
        .map(|brief| brief.title.as_str())
        .filter(|title| !title.is_empty());
    match &link.target {
        Target::Title { title, .. } => {
            let written = document.slice(link.range.clone());
            let alias = written
                .trim_end_matches("]]")
                .split_once('|')
                .map(|(_, alias)| alias.to_owned());
            let closest = suggest::closest(title, titles);
            closest
                .into_iter()
                .map(|title| match &alias {
                    Some(alias) => format!("[[{title}|{alias}]]"),
                    None => format!("[[{title}]]"),
                })
                .collect()
        }
        Target::Slug { slug: wanted, .. } => {
            let slugs: Vec<String> = titles.map(slug).collect();
            let closest = suggest::closest(wanted, slugs.iter().map(String::as_str));
            let written = document.slice(link.range.clone());
            let label = written.split("](").next().unwrap_or("[").to_owned();
            closest
                .into_iter()
                .map(|slug| format!("{label}](#{slug})"))
                .collect()
        }
        Target::File { .. } => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::brief::kind::Kinds;
    use crate::brief::model::briefs;

    fn apply(text: &str, names: &[&str]) -> String {
        let document = Document::new(text);
        let kinds = Kinds::default();
        let brief = &briefs(&document)[0];
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        let mut edits = insert_fields(&document, brief, kinds.get("brief").unwrap(), &names);
        edits.sort_by_key(|edit| std::cmp::Reverse(edit.range.start));
        let mut out = text.to_owned();
        for edit in edits {
            out.replace_range(edit.range, &edit.new_text);
        }
        out
    }

    #[test]
    fn inserts_in_canonical_order_between_present_fields() {
        let text = "# T @writer\n## Objective\na\n\n## Expected Output\nb\n";
        let expected = "# T @writer\n## Objective\na\n\n## Context\n\n<!-- What the agent needs to know that it cannot find out itself. -->\n\n## Constraints\n\n<!-- What the agent must not do, and the limits it works within. -->\n\n## Expected Output\nb\n";
        assert_eq!(apply(text, &["Constraints", "Context"]), expected);
    }

    #[test]
    fn appends_at_the_end_of_a_brief_without_a_trailing_newline() {
        let text = "# T @writer\n## Objective\na";
        let expected = "# T @writer\n## Objective\na\n\n## Context\n\n<!-- What the agent needs to know that it cannot find out itself. -->\n";
        assert_eq!(apply(text, &["Context"]), expected);
    }

    #[test]
    fn goes_before_the_output_block() {
        let text = "# T @writer\n## Objective\na\n## Output @writer\nanswer\n";
        let fixed = apply(text, &["Context"]);
        assert!(fixed.contains("a\n\n## Context\n\n<!--"), "{fixed}");
        assert!(fixed.contains("-->\n\n## Output @writer"), "{fixed}");
    }
}

#[cfg(test)]
mod link_tests {
    use super::*;
    use crate::brief::model::briefs;

    #[test]
    fn broken_links_are_pointed_at_the_closest_title_in_their_own_form() {
        let text = "# Market scan @r\n# Use @r\n[[Market scn|the scan]] and [see](#market-scn)\n";
        let document = Document::new(text);
        let briefs = briefs(&document);
        let replacements: Vec<Vec<String>> = briefs[1]
            .links
            .iter()
            .map(|link| link_replacements(&document, &briefs, link))
            .collect();
        assert_eq!(
            replacements,
            vec![
                vec!["[[Market scan|the scan]]".to_owned()],
                vec!["[see](#market-scan)".to_owned()]
            ]
        );
    }
}
