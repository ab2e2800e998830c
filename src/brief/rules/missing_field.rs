//! `missing-field`: a required field of the document's kind is absent from a brief.

use crate::brief::diagnostic::{Code, Diagnostic, FixHint};
use crate::brief::lint::RuleContext;

pub fn check(context: &RuleContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let Some(kind) = context.kind else { return };
    for (index, brief) in context.briefs.iter().enumerate() {
        let present = &context.specs[index];
        let missing: Vec<String> = (kind.fields.iter().enumerate())
            .filter(|(spec, field)| field.required && !present.contains(&Some(*spec)))
            .map(|(_, field)| field.name.clone())
            .collect();
        if missing.is_empty() {
            continue;
        }
        let list = missing
            .iter()
            .map(|name| format!("`{name}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let what = if brief.title.is_empty() {
            format!("this {}", kind.name)
        } else {
            format!("`{}`", brief.title)
        };
        let noun = if missing.len() == 1 {
            "field"
        } else {
            "fields"
        };
        let message =
            format!("{what} is missing the required {noun} {list}; add a `## ` heading for each");
        let diagnostic =
            Diagnostic::new(Code::MissingField, brief.anchor(context.document), message)
                .with_fix(FixHint::InsertFields { fields: missing });
        diagnostics.push(diagnostic);
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::brief::rules::fixture::render;

    #[test]
    fn on_the_brief_heading_with_every_missing_field() {
        let text = "# Scan pricing @researcher\n## Goal\nFind prices.\n## Background:\nx\n";
        expect![[r#"
            1: error[missing-field]: `Scan pricing` is missing the required fields `Constraints`, `Expected Output`; add a `## ` heading for each
              | # Scan pricing @researcher
              | ^^^^^^^^^^^^^^^^^^^^^^^^^^
              fix: {"fix":"insert-fields","fields":["Constraints","Expected Output"]}
        "#]]
        .assert_eq(&render(text, "", &["missing-field"]));
    }

    #[test]
    fn a_document_without_h1_reports_on_its_first_line() {
        let text = "---\nkind: handoff\n---\n\nWe stopped here.\n## Decisions\nA\n## State\nB\n## Todo\nC\n";
        expect![[r#"
            5: error[missing-field]: this handoff is missing the required field `Reasoning`; add a `## ` heading for each
              | We stopped here.
              | ^^^^^^^^^^^^^^^^
              fix: {"fix":"insert-fields","fields":["Reasoning"]}
        "#]]
        .assert_eq(&render(text, "", &["missing-field"]));
    }

    #[test]
    fn headings_in_quotes_lists_and_code_do_not_count() {
        let text = "# T @writer\n> ## Objective\n\n- ## Context\n\n```\n## Constraints\n```\n## Format\nx\n";
        let rendered = render(text, "", &["missing-field"]);
        assert!(
            rendered.contains("`Objective`, `Context`, `Constraints`;"),
            "{rendered}"
        );
    }
}
