//! `duplicate-field`: the same field (after aliases) twice in one brief.

use crate::brief::diagnostic::{Code, Diagnostic};
use crate::brief::kind::normalize;
use crate::brief::lint::RuleContext;

pub fn check(context: &RuleContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for (brief_index, brief) in context.briefs.iter().enumerate() {
        // Briefs have a handful of fields: a linear scan beats hashing here.
        let mut seen: Vec<(String, &str)> = Vec::with_capacity(brief.fields.len());
        for (field_index, field) in brief.fields.iter().enumerate() {
            let canonical = match context.spec(brief_index, field_index) {
                Some(spec) => spec.name.clone(),
                None => normalize(&field.name),
            };
            if let Some((_, first)) = seen
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(&canonical))
            {
                let message = format!(
                    "`{}` repeats the field `{}` (written `{}` above); merge them into one section",
                    field.name.trim(),
                    canonical,
                    first.trim()
                );
                diagnostics.push(Diagnostic::new(
                    Code::DuplicateField,
                    field.heading.clone(),
                    message,
                ));
            } else {
                seen.push((canonical, &field.name));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::brief::rules::fixture::render;

    #[test]
    fn aliases_are_the_same_field() {
        let text = "# T @writer\n## Goal\na\n## Objective\nb\n## Notes\nc\n## notes:\nd\n# U @writer\n## Goal\ne\n";
        expect![[r#"
            4: warning[duplicate-field]: `Objective` repeats the field `Objective` (written `Goal` above); merge them into one section
              | ## Objective
              | ^^^^^^^^^^^^
            8: warning[duplicate-field]: `notes:` repeats the field `notes` (written `Notes` above); merge them into one section
              | ## notes:
              | ^^^^^^^^^
        "#]]
        .assert_eq(&render(text, "", &["duplicate-field"]));
    }
}
