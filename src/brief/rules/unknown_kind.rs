//! `unknown-kind`: front matter `kind:` names no built-in or configured kind.

use crate::brief::diagnostic::{Code, Diagnostic, FixHint};
use crate::brief::lint::DocumentInput;
use crate::brief::suggest;

pub fn check(context: &DocumentInput<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let Some(kind) = &context.front_matter.kind else {
        return;
    };
    if context.kind.is_some() {
        return;
    }
    let candidates = suggest::closest(&kind.value, context.kinds.names());
    let known = context
        .kinds
        .names()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let message = format!(
        "unknown kind `{}`{}; known kinds are {known} (define more under [kinds] in baton.toml)",
        kind.value,
        suggest::did_you_mean(&candidates, "")
    );
    let mut diagnostic = Diagnostic::new(Code::UnknownKind, kind.range.clone(), message);
    if !candidates.is_empty() {
        diagnostic = diagnostic.with_fix(FixHint::Replace { candidates });
    }
    diagnostics.push(diagnostic);
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::brief::rules::fixture::render;

    #[test]
    fn names_the_closest_kind() {
        let text = "---\nkind: handof\n---\n## Decisions\nx\n";
        expect![[r#"
            2: error[unknown-kind]: unknown kind `handof` (did you mean `handoff`?); known kinds are `brief`, `handoff`, `review` (define more under [kinds] in baton.toml)
              | kind: handof
              |       ^^^^^^
              fix: {"fix":"replace","candidates":["handoff"]}
        "#]]
        .assert_eq(&render(text, "[kinds.review]\nrequired = [\"Subject\"]", &["unknown-kind"]));
    }

    #[test]
    fn configured_kinds_are_known() {
        let text = "---\nkind: Review\n---\n## Subject\nx\n";
        expect![""].assert_eq(&render(
            text,
            "[kinds.review]\nrequired = [\"Subject\"]",
            &[],
        ));
    }
}
