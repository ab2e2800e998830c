//! `broken-link`: a brief link that points at no brief, here or in the named document.

use crate::brief::diagnostic::{Code, Diagnostic, FixHint};
use crate::brief::graph;
use crate::brief::link::{Link, Target};
use crate::brief::lint::RuleContext;
use crate::brief::suggest;

pub fn check(context: &RuleContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for link in context.briefs.iter().flat_map(|brief| &brief.links) {
        if let Some(message) = problem(context, link) {
            let candidates = replacement_candidates(context, link);
            let mut diagnostic = Diagnostic::new(Code::BrokenLink, link.range.clone(), message);
            if !candidates.is_empty() {
                diagnostic.range = link.range.clone();
                diagnostic = diagnostic.with_fix(FixHint::Replace { candidates });
            }
            diagnostics.push(diagnostic);
        }
    }
}

fn problem(context: &RuleContext<'_>, link: &Link) -> Option<String> {
    let Some(file) = link.target.file() else {
        if graph::local_target(&link.target, context.briefs).is_some() {
            return None;
        }
        let closest = suggest::closest(
            &wanted(&link.target),
            graph::candidate_titles(link, context.briefs),
        );
        return Some(format!(
            "no brief titled `{}` in this document{}",
            link.target.label(),
            suggest::did_you_mean(&closest, "")
        ));
    };
    let Some(titles) = context.others.titles(file) else {
        return Some(format!(
            "`{file}` is not a document baton can find (paths are relative to this file)"
        ));
    };
    if titles.iter().any(|title| link.target.matches_title(title)) {
        return None;
    }
    let closest = suggest::closest(&wanted(&link.target), titles.iter().map(String::as_str));
    Some(format!(
        "`{file}` has no brief `{}`{}",
        wanted(&link.target),
        suggest::did_you_mean(&closest, "")
    ))
}

fn wanted(target: &Target) -> String {
    match target {
        Target::Title { title, .. } => title.clone(),
        Target::Slug { slug, .. } => slug.clone(),
        Target::File { file } => file.clone(),
    }
}

/// Replacement text for the whole link, pointing at the closest local titles.
fn replacement_candidates(context: &RuleContext<'_>, link: &Link) -> Vec<String> {
    if link.target.file().is_some() {
        return Vec::new();
    }
    let titles = graph::candidate_titles(link, context.briefs);
    match &link.target {
        Target::Title { title, .. } => suggest::closest(title, titles)
            .into_iter()
            .map(|t| format!("[[{t}]]"))
            .collect(),
        Target::Slug { slug, .. } => {
            let slugs: Vec<(String, &str)> = titles
                .map(|title| (crate::brief::link::slug(title), title))
                .collect();
            let closest = suggest::closest(slug, slugs.iter().map(|(slug, _)| slug.as_str()));
            let text = context.document.slice(link.range.clone());
            let label = text.split("](").next().unwrap_or("[").to_owned();
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
    use expect_test::expect;

    use crate::brief::rules::fixture::render;

    #[test]
    fn links_must_reach_a_brief() {
        let text = "# Market scan @researcher\nsee [[Market Scan]] and [x](#market-scan)\n# Write up @writer\nUses [[Market scn]], [[other.brief.md#Plan]], [[other.brief.md#Plna]], [[gone.brief.md#X]] and [y](#marketscan).\n";
        expect![[r#"
            4: error[broken-link]: no brief titled `Market scn` in this document (did you mean `Market scan`?)
              | Uses [[Market scn]], [[other.brief.md#Plan]], [[other.brief.md#Plna]], [[gone.brief.md#X]] and [y](#marketscan).
              |      ^^^^^^^^^^^^^^
              fix: {"fix":"replace","candidates":["[[Market scan]]"]}
            4: error[broken-link]: `other.brief.md` has no brief `Plna` (did you mean `Plan`?)
              | Uses [[Market scn]], [[other.brief.md#Plan]], [[other.brief.md#Plna]], [[gone.brief.md#X]] and [y](#marketscan).
              |                                               ^^^^^^^^^^^^^^^^^^^^^^^
            4: error[broken-link]: `gone.brief.md` is not a document baton can find (paths are relative to this file)
              | Uses [[Market scn]], [[other.brief.md#Plan]], [[other.brief.md#Plna]], [[gone.brief.md#X]] and [y](#marketscan).
              |                                                                        ^^^^^^^^^^^^^^^^^^^
            4: error[broken-link]: no brief titled `#marketscan` in this document (did you mean `Market scan`?)
              | Uses [[Market scn]], [[other.brief.md#Plan]], [[other.brief.md#Plna]], [[gone.brief.md#X]] and [y](#marketscan).
              |                                                                                                ^^^^^^^^^^^^^^^^
              fix: {"fix":"replace","candidates":["[y](#market-scan)"]}
        "#]]
        .assert_eq(&render(text, "", &["broken-link"]));
    }
}
