//! `over-budget` (DESIGN §6): the brief, its thread and its inputs fill more of the agent's
//! context window than `handoff_at` (default 80 %): a warning, with the code action to hand
//! off; past the whole window an error, and sending is refused. Fed by counts the shell made
//! off the keystroke path (when budget lenses were asked for), as `dispatch-failed` is fed by
//! runs: this rule never counts.

use crate::brief::diagnostic::{Code, Diagnostic, Severity};
use crate::brief::lint::DocumentInput;

pub fn check(context: &DocumentInput<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for over in context.over_budget {
        let briefs = context.briefs.iter();
        for brief in briefs.filter(|brief| brief.title == over.title) {
            let mut diagnostic =
                Diagnostic::new(Code::OverBudget, brief.anchor.clone(), over.message.clone());
            if over.past {
                diagnostic.severity = Severity::Error;
            }
            diagnostics.push(diagnostic);
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::brief::lint::OverBudget;
    use crate::brief::rules::fixture::{render_with, Setup};

    #[test]
    fn a_warning_past_handoff_at_and_an_error_past_the_window() {
        let text =
            "# Scan prices @researcher\n\nFind them.\n\n# Write @writer\n\nWrite.\n\n# Gone\n\nx\n";
        let over = |title: &str, message: &str, past| OverBudget {
            title: title.to_owned(),
            message: message.to_owned(),
            past,
        };
        let setup = Setup {
            over_budget: vec![
                over("Scan prices", "105000 tokens for @researcher (82 %)", false),
                over("Write", "9000 tokens for @writer (110 %)", true),
                over("Elsewhere", "x", true),
            ],
            ..Setup::default()
        };
        expect![[r#"
            1: warning[over-budget]: 105000 tokens for @researcher (82 %)
              | # Scan prices @researcher
              | ^^^^^^^^^^^^^^^^^^^^^^^^^
            5: error[over-budget]: 9000 tokens for @writer (110 %)
              | # Write @writer
              | ^^^^^^^^^^^^^^^
        "#]]
        .assert_eq(&render_with(text, &setup, &["over-budget"]));
    }
}
