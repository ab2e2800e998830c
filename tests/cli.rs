//! `baton check` and `baton init` as a user runs them: the real binary, on fixture folders.
//!
//! Every run points `BATON_CONFIG` at a file that does not exist, so a developer's own
//! configuration never leaks into the results; nor do the developer's API keys or trust
//! (`missing-key` and `untrusted-agent` read the environment).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use expect_test::expect;
use serde::Deserialize;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn baton(cwd: &Path, args: &[&str]) -> Run {
    baton_with(cwd, args, &[])
}

/// `baton` with these environment variables set.
fn baton_with(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(args)
        .current_dir(cwd)
        .env("BATON_CONFIG", "/nonexistent/baton-cli-tests/config.toml")
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("BATON_TRUST_WORKSPACE")
        .env_remove("BATON_TRUST_FILE")
        .envs(env.iter().copied())
        .output()
        .expect("the baton binary runs");
    Run {
        code: output.status.code().expect("baton exits with a code"),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cli")
        .join(name)
}

/// A fresh, empty folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("baton-cli-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn human_output_lists_every_finding_and_exits_1() {
    let run = baton(&fixture("mixed"), &["check"]);
    expect![[r#"
        launch.task.md:1:1: error[missing-field]: `Announce the launch` is missing the required fields `Constraints`, `Expected Output`; add a `## ` heading for each
        launch.task.md:9:5: error[broken-link]: no brief titled `Launch plan` in this document; link to an existing brief's title (the quick fix offers the closest)
        plan.brief.md:1:1: error[missing-field]: `🎉 Launch plan` is missing the required field `Expected Output`; add a `## ` heading for each
        plan.brief.md:1:17: error[unknown-agent]: unknown agent `@writr` (did you mean `@writer`?); agents are defined in baton.toml
        plan.brief.md:7:1: warning[empty-field]: the field `Context` is empty; write what belongs under it, or remove the heading
        sub/status.handoff.md:11:1: warning[empty-field]: the field `Next Steps` is empty; write what belongs under it, or remove the heading
        tagged.md:5:1: error[missing-field]: `Where we stopped` is missing the required fields `Current State`, `Next Steps`, `Reasoning`; add a `## ` heading for each
    "#]]
    .assert_eq(&run.stdout);
    assert_eq!(
        run.stderr,
        "5 errors, 2 warnings in 4 files (4 documents checked)\n"
    );
    assert_eq!(run.code, 1);

    // Paths are shown as given.
    let run = baton(&fixture("."), &["check", "mixed/sub/"]);
    assert!(
        run.stdout
            .starts_with("mixed/sub/status.handoff.md:11:1: warning"),
        "{}",
        run.stdout
    );
    assert_eq!(run.code, 0, "warnings alone do not fail the check");
}

#[test]
fn a_clean_folder_prints_nothing_and_exits_0() {
    let run = baton(&fixture("clean"), &["check"]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "")
    );
    let run = baton(&fixture("clean"), &["check", "--format", "json"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, "[]\n"));
}

#[test]
fn plain_markdown_is_ignored_even_when_named() {
    let run = baton(&fixture("mixed"), &["check", "notes.md"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""));
    assert_eq!(run.stderr, "baton check: no baton documents found\n");
    let run = baton(
        &fixture("clean"),
        &["check", "README.md", "research.brief.md"],
    );
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "")
    );
}

/// One item of `--format json`; unknown fields fail the test, so the shape is exact.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct JsonFinding {
    file: String,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    severity: String,
    code: String,
    message: String,
}

#[test]
fn json_is_one_array_with_columns_counting_characters() {
    let run = baton(
        &fixture("mixed"),
        &["check", "plan.brief.md", "--format", "json"],
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.stderr, "", "only the human format prints a summary");
    let findings: Vec<JsonFinding> = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(findings.len(), 3);
    // `# 🎉 Launch plan @writr`: the emoji is one character, so `@writr` starts at column 17.
    assert_eq!(
        findings[1],
        JsonFinding {
            file: "plan.brief.md".into(),
            line: 1,
            column: 17,
            end_line: 1,
            end_column: 23,
            severity: "error".into(),
            code: "unknown-agent".into(),
            message:
                "unknown agent `@writr` (did you mean `@writer`?); agents are defined in baton.toml"
                    .into(),
        }
    );
    assert_eq!(findings[2].severity, "warning");
}

#[test]
fn sarif_has_every_rule_and_located_results() {
    let run = baton(&fixture("mixed"), &["check", "--format", "sarif"]);
    assert_eq!(run.code, 1);
    let log: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run0 = &log["runs"][0];
    assert_eq!(run0["columnKind"], "unicodeCodePoints");
    let driver = &run0["tool"]["driver"];
    assert_eq!(driver["name"], "baton");
    let rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    for id in [
        "missing-field",
        "cycle",
        "invalid-config",
        "not-utf8",
        "too-large",
    ] {
        assert!(ids.contains(&id), "{id} in {ids:?}");
    }
    assert_eq!(
        driver.get("informationUri"),
        None,
        "baton has no web address"
    );
    for rule in rules {
        // No `[docs] base_url` in the fixture: no link (`baton explain CODE` has the text).
        assert_eq!(rule.get("helpUri"), None);
        assert!(rule["shortDescription"]["text"].is_string());
        assert!(rule["defaultConfiguration"]["level"].is_string());
    }
    let results = run0["results"].as_array().unwrap();
    assert_eq!(results.len(), 7);
    let agent = results
        .iter()
        .find(|r| r["ruleId"] == "unknown-agent")
        .unwrap();
    assert_eq!(agent["level"], "error");
    assert!(agent["message"]["text"]
        .as_str()
        .unwrap()
        .contains("@writr"));
    let location = &agent["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "plan.brief.md");
    assert_eq!(
        location["region"],
        serde_json::json!({"startLine": 1, "startColumn": 17, "endLine": 1, "endColumn": 23})
    );
    let nested = results.iter().find(|r| {
        r["level"] == "warning"
            && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                == "sub/status.handoff.md"
    });
    assert!(nested.is_some(), "URIs use forward slashes");
}

#[test]
fn a_file_that_is_not_utf8_is_reported_and_the_others_still_checked() {
    let dir = scratch("not-utf8");
    fs::write(
        dir.join("bad.brief.md"),
        b"# Title\n## Objective\ncaf\xe9 au lait\n",
    )
    .unwrap();
    fs::write(dir.join("plain.md"), b"# Notes\n\xff\n").unwrap();
    fs::write(dir.join("tagged.md"), b"---\nkind: brief\n---\n\xff\n").unwrap();
    fs::write(dir.join("good.brief.md"), "# Good\n## Objective\nx\n").unwrap();
    let run = baton(&dir, &["check"]);
    expect![[r#"
        bad.brief.md:1:1: error[not-utf8]: file is not valid UTF-8 (first bad byte at line 3, column 4); baton reads UTF-8 only
        good.brief.md:1:1: error[missing-field]: `Good` is missing the required fields `Context`, `Constraints`, `Expected Output`; add a `## ` heading for each
        tagged.md:1:1: error[not-utf8]: file is not valid UTF-8 (first bad byte at line 4, column 1); baton reads UTF-8 only
    "#]]
    .assert_eq(&run.stdout);
    assert_eq!(run.code, 1);

    // Named on the command line, any file is meant to be read.
    let run = baton(&dir, &["check", "plain.md"]);
    assert!(
        run.stdout.starts_with("plain.md:1:1: error[not-utf8]"),
        "{}",
        run.stdout
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_broken_baton_toml_is_reported_once_at_its_line() {
    let dir = scratch("broken-config");
    fs::create_dir_all(dir.join("sub")).unwrap();
    fs::write(
        dir.join("baton.toml"),
        "[defaults]\nagent = \"researcher\"\n\n[agents.researcher\nprovider = \"openai\"\n",
    )
    .unwrap();
    fs::write(dir.join("a.brief.md"), "# A\n## Objective\nx\n").unwrap();
    fs::write(dir.join("sub/b.brief.md"), "# B\n## Objective\nx\n").unwrap();
    let run = baton(&dir, &["check", "--format", "json"]);
    let findings: Vec<JsonFinding> = serde_json::from_str(&run.stdout).unwrap();
    let config: Vec<_> = findings
        .iter()
        .filter(|f| f.code == "invalid-config")
        .map(|f| (f.file.as_str(), f.line, f.column, f.message.as_str()))
        .collect();
    assert_eq!(
        config,
        [("baton.toml", 4, 19, "unclosed table, expected `]`")]
    );
    assert_eq!(findings.len(), 3, "and both briefs are still checked");

    // From a subfolder, the file above is shown relative to it.
    let run = baton(&dir.join("sub"), &["check"]);
    assert!(
        run.stdout
            .starts_with("../baton.toml:4:19: error[invalid-config]"),
        "{}",
        run.stdout
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_path_that_does_not_exist_is_a_usage_error() {
    let run = baton(
        &fixture("clean"),
        &["check", "research.brief.md", "no/such.brief.md"],
    );
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "baton check: no/such.brief.md: no such file or folder\n"
    );
    let run = baton(&fixture("clean"), &["check", "--format", "yaml"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[cfg(unix)]
#[test]
fn an_unreadable_file_is_an_error_and_the_others_are_still_checked() {
    let dir = scratch("unreadable");
    std::os::unix::fs::symlink(dir.join("gone.md"), dir.join("dangling.brief.md")).unwrap();
    fs::write(dir.join("ok.brief.md"), "# Ok\n## Objective\nx\n").unwrap();
    let run = baton(&dir, &["check", "dangling.brief.md", "ok.brief.md"]);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[0].starts_with("dangling.brief.md:1:1: error[io-error]: cannot read this file: "),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("ok.brief.md:1:1: error[missing-field]"),
        "{lines:?}"
    );
    assert_eq!(run.code, 1);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn init_writes_a_workspace_that_checks_clean_and_never_overwrites() {
    let dir = scratch("init");
    let run = baton(&dir, &["init", "ws"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    expect![[r#"
        wrote ws/baton.toml
        wrote ws/welcome.brief.md
        wrote ws/handover.handoff.md
        wrote ws/.baton/.gitignore
        next: `baton check ws`, then open welcome.brief.md in your editor
    "#]]
    .assert_eq(&run.stdout);
    assert_eq!(
        fs::read_to_string(dir.join("ws/.baton/.gitignore"))
            .unwrap()
            .lines()
            .last(),
        Some("*")
    );

    let keys = [
        ("OPENAI_API_KEY", "sk-test"),
        ("ANTHROPIC_API_KEY", "sk-test"),
    ];
    let run = baton_with(&dir.join("ws"), &["check"], &keys);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "")
    );
    // Without the keys too: `check` runs where nothing is sent (CI), so keys are not its
    // business unless asked.
    let run = baton(&dir.join("ws"), &["check"]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "")
    );
    // Asked, each brief says which variable its agent still needs; the handoff, which is not
    // sent, says nothing.
    let run = baton(&dir.join("ws"), &["check", "--keys"]);
    assert_eq!(run.code, 0, "warnings only");
    let codes: Vec<&str> = run
        .stdout
        .lines()
        .map(|line| line.split(['[', ']']).nth(1).unwrap_or(line))
        .collect();
    assert_eq!(codes, ["missing-key"; 2], "{}", run.stdout);
    assert!(!run.stdout.contains("handoff.md"), "{}", run.stdout);

    fs::write(dir.join("ws/welcome.brief.md"), "mine").unwrap();
    let run = baton(&dir, &["init", "ws"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("ws/welcome.brief.md already exists"),
        "{}",
        run.stderr
    );
    assert_eq!(
        fs::read_to_string(dir.join("ws/welcome.brief.md")).unwrap(),
        "mine"
    );

    // One existing file stops the whole init: nothing is half-written.
    fs::create_dir_all(dir.join("other")).unwrap();
    fs::write(dir.join("other/baton.toml"), "").unwrap();
    let run = baton(&dir.join("other"), &["init"]);
    assert_eq!(run.code, 1);
    assert!(!dir.join("other/welcome.brief.md").exists());
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn explain_prints_a_codes_section_from_the_binary() {
    let dir = scratch("explain");
    let run = baton(&dir, &["explain", "confidential-remote"]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert!(run
        .stdout
        .starts_with("## confidential-remote\n\n**Severity:** error."));
    assert!(run.stdout.contains("**Fix:**"), "{}", run.stdout);
    assert!(!run.stdout.contains("## io-error"), "one section only");
    // As `check` prints it, brackets and all, in any case.
    let run = baton(&dir, &["explain", "[Missing-Field]"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.contains("## Objective"),
        "its fenced example is kept"
    );

    let run = baton(&dir, &["explain", "no-such-code"]);
    assert_eq!((run.code, run.stdout.as_str()), (2, ""));
    assert!(
        run.stderr.starts_with(
            "baton explain: unknown code `no-such-code`; the codes are: missing-field, "
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("io-error"), "{}", run.stderr);

    let run = baton(&dir, &["explain", "--list"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout
            .lines()
            .any(|line| line.split_whitespace().collect::<Vec<_>>()
                == ["stale-output", "information"]),
        "{}",
        run.stdout
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn privacy_keys_not_applied_say_so_routes_are_silent_and_docs_base_url_links_sarif() {
    let dir = scratch("honest");
    fs::write(
        dir.join("baton.toml"),
        "[docs]\nbase_url = \"https://team.example/baton/diagnostics.md\"\n\
         [agents.local]\nprovider = \"ollama\"\nmodel = \"m\"\n\
         [[routes]]\nagent = \"local\"\n\
         [privacy]\nterms = [\"Acme\"]\nredact = \"block\"\n\
         [output]\ndemote_headings = false\n",
    )
    .unwrap();
    fs::write(
        dir.join("a.brief.md"),
        "# A @local\n## Objective\nAcme.\n## Context\nx\n## Constraints\ny\n## Expected Output\nz\n",
    )
    .unwrap();
    let run = baton(&dir, &["check"]);
    assert_eq!(run.code, 0, "warnings only: {}", run.stdout);
    expect![[r#"
        baton.toml:10:1: warning[invalid-config]: `redact` is checked but not applied yet: nothing is anonymized; a brief holding a `[privacy]` term is refused for every remote agent, whatever `redact` says
    "#]]
    .assert_eq(&run.stdout);

    let run = baton(&dir, &["check", "--format", "sarif"]);
    let log: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    for rule in rules {
        let id = rule["id"].as_str().unwrap();
        let expected = format!("https://team.example/baton/diagnostics.md#{id}");
        assert_eq!(rule["helpUri"].as_str(), Some(expected.as_str()));
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn stale_output_follows_the_brief_and_the_outputs_it_links_to() {
    let dir = scratch("stale");
    fs::write(
        dir.join("baton.toml"),
        "[agents.scanner]\nprovider = \"command\"\ncommand = [\"printf\", \"Three rivals.\"]\n\
         [agents.writer]\nprovider = \"command\"\ncommand = [\"printf\", \"A summary.\"]\n",
    )
    .unwrap();
    let fields = "## Context\n\nc\n\n## Constraints\n\nd\n\n## Expected Output\n\ne\n\n";
    let text = format!(
        "# Scan @scanner\n\n## Objective\n\nLook.\n\n{fields}# Report @writer\n\n## Objective\n\nSummarize [[Scan]].\n\n{fields}"
    );
    fs::write(dir.join("work.brief.md"), &text).unwrap();
    let trust = [("BATON_TRUST_WORKSPACE", "1")];
    let send = |brief: &str| {
        let run = baton_with(&dir, &["send", "work.brief.md", "--brief", brief], &trust);
        assert_eq!(run.code, 0, "{}", run.stderr);
    };
    let stale = || {
        let run = baton(&dir, &["check"]);
        (run.stdout.lines())
            .filter(|line| line.contains("[stale-output]"))
            .map(|line| line.split(": ").nth(2).unwrap_or(line).to_owned())
            .collect::<Vec<_>>()
    };
    let read = || fs::read_to_string(dir.join("work.brief.md")).unwrap();
    let write = |text: String| fs::write(dir.join("work.brief.md"), text).unwrap();

    send("Scan");
    send("Report");
    assert!(read().contains("A summary."), "{}", read());
    assert_eq!(stale(), Vec::<String>::new(), "right after the sends");

    // The scan's answer changes (by hand here; a new run alike): the report's input changed.
    write(read().replacen("Three rivals.", "Four rivals.", 1));
    assert_eq!(stale().len(), 1, "{:?}", stale());
    assert!(stale()[0].starts_with("`Report` or the output of a brief it links to changed"));
    send("Report");
    assert_eq!(
        stale(),
        Vec::<String>::new(),
        "sent again with the new input"
    );

    // One character typed into the report.
    write(read().replacen("Summarize", "Summarise", 1));
    assert_eq!(stale().len(), 1, "{:?}", stale());
    send("Report");
    assert_eq!(stale(), Vec::<String>::new());
    assert_eq!(
        read().matches("A summary.").count(),
        1,
        "the block is replaced"
    );
    fs::remove_dir_all(&dir).unwrap();
}
