//! `empty-field`: a field with no content, or only a placeholder (`TODO`, `TBD`, `...`) or
//! comments (the prompts baton's quick fix writes).

use crate::brief::diagnostic::{Code, Diagnostic};
use crate::brief::lint::RuleContext;

const PLACEHOLDERS: [&str; 6] = ["todo", "tbd", "...", "…", "tk", "fixme"];

pub fn check(context: &RuleContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for field in context.briefs.iter().flat_map(|brief| &brief.fields) {
        let body = context.document.trimmed(field.body.clone());
        // Placeholders are a few bytes long; a longer body that does not open with a comment
        // says something, and is not copied out of the rope to find that out.
        let opens_with_comment = context.document.slice(body.start..body.start + 4) == "<!--";
        if body.len() > 16 && !opens_with_comment || has_content(&context.document.slice(body)) {
            continue;
        }
        let name = field.name.trim();
        let message = format!(
            "the field `{name}` is empty; write what belongs under it, or remove the heading"
        );
        diagnostics.push(Diagnostic::new(
            Code::EmptyField,
            field.heading.clone(),
            message,
        ));
    }
}

/// Whether a field body says anything: text other than comments and placeholders.
pub fn has_content(body: &str) -> bool {
    let mut rest = body;
    let mut text = String::new();
    while let Some(start) = rest.find("<!--") {
        text.push_str(&rest[..start]);
        rest = rest[start..]
            .find("-->")
            .map_or("", |end| &rest[start + end + 3..]);
    }
    text.push_str(rest);
    let trimmed = text.trim().trim_end_matches(':').trim();
    let placeholder = PLACEHOLDERS.iter().any(|p| {
        trimmed.eq_ignore_ascii_case(p)
            || trimmed.to_lowercase().starts_with(&format!("{p}:")) && trimmed.len() <= p.len() + 1
    });
    !trimmed.is_empty() && !placeholder
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::has_content;
    use crate::brief::rules::fixture::render;

    #[test]
    fn placeholders_and_prompts_are_empty() {
        for body in [
            "",
            "\n\n",
            " TODO ",
            "tbd",
            "...",
            "<!-- What the agent must achieve. -->\n",
        ] {
            assert!(!has_content(body), "{body:?}");
        }
        for body in ["x", "TODO: ask legal", "### Sub\nmore"] {
            assert!(has_content(body), "{body:?}");
        }
    }

    #[test]
    fn on_the_field_heading() {
        let text = "# T @writer\n## Objective\nTBD\n## Context\n\nSetext field\n------------\n\n## Constraints\nnone\n";
        expect![[r#"
            2: warning[empty-field]: the field `Objective` is empty; write what belongs under it, or remove the heading
              | ## Objective
              | ^^^^^^^^^^^^
            4: warning[empty-field]: the field `Context` is empty; write what belongs under it, or remove the heading
              | ## Context
              | ^^^^^^^^^^
            6: warning[empty-field]: the field `Setext field` is empty; write what belongs under it, or remove the heading
              | Setext field
              | ^^^^^^^^^^^^
        "#]]
        .assert_eq(&render(text, "", &["empty-field"]));
    }
}
