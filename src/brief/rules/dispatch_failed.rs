//! `dispatch-failed`: the last run of a brief failed (DESIGN §3), reported on the brief until
//! it is sent again. Fed by run outcomes: the shell hands the lint the failed runs it knows
//! of (the server's run registry; `baton check` knows none).

use crate::brief::diagnostic::{Code, Diagnostic};
use crate::brief::lint::DocumentInput;

pub fn check(context: &DocumentInput<'_>, diagnostics: &mut Vec<Diagnostic>) {
    for failed in context.failed_runs {
        let briefs = context.briefs.iter();
        for brief in briefs.filter(|brief| brief.title == failed.title) {
            let message = format!(
                "the last run of this brief failed: {}; send it again to retry",
                failed.reason
            );
            let range = brief.anchor.clone();
            diagnostics.push(Diagnostic::new(Code::DispatchFailed, range, message));
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::brief::lint::FailedRun;
    use crate::brief::rules::fixture::{render_with, Setup};

    fn failed(title: &str, reason: &str) -> FailedRun {
        FailedRun {
            title: title.to_owned(),
            reason: reason.to_owned(),
        }
    }

    #[test]
    fn on_the_heading_of_each_brief_whose_last_run_failed() {
        let text = "# Scan prices @researcher\n\nFind them.\n\n# Write @writer\n\nWrite.\n\n# Scan\n\nOther.\n";
        let setup = Setup {
            failed_runs: vec![
                failed("Scan prices", "HTTP 500: upstream"),
                failed("Gone", "timed out"),
            ],
            ..Setup::default()
        };
        expect![[r#"
            1: error[dispatch-failed]: the last run of this brief failed: HTTP 500: upstream; send it again to retry
              | # Scan prices @researcher
              | ^^^^^^^^^^^^^^^^^^^^^^^^^
        "#]]
        .assert_eq(&render_with(text, &setup, &["dispatch-failed"]));
    }

    #[test]
    fn a_headless_brief_gets_it_on_its_first_line_and_no_failure_means_none() {
        let text = "\nIntro text.\n\n## Objective\n\nNotes.\n";
        let setup = Setup {
            failed_runs: vec![failed("", "agent `x` is not defined")],
            ..Setup::default()
        };
        expect![[r#"
            2: error[dispatch-failed]: the last run of this brief failed: agent `x` is not defined; send it again to retry
              | Intro text.
              | ^^^^^^^^^^^
        "#]]
        .assert_eq(&render_with(text, &setup, &["dispatch-failed"]));
        expect![""].assert_eq(&render_with(text, &Setup::default(), &["dispatch-failed"]));
    }
}
