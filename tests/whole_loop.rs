//! The whole loop a user lives in, from a terminal, through the real binary and a loopback
//! agent: write two linked briefs, send one, lint, edit it (stale), send again (fresh, one
//! block), run the pipeline (only what is not up to date is sent), run it again (nothing),
//! hand off the thread, lint the handoff, edit it, resume from it, send again (the edited
//! handoff is the first turn). The documents are asserted whole at the end.

mod support;

#[allow(dead_code)]
#[path = "agents/server.rs"]
mod server;
#[allow(dead_code)]
#[path = "agents/streams.rs"]
mod streams;

use serde_json::Value;

use server::{Recorded, Server};
use streams::openai_ok;
use support::{baton, Workspace};

const PLAN: &str = "# Scan\n\n## Objective\n\nFind the rivals.\n\n## Context\n\nWe reprice.\n\n## Constraints\n\nPublic sources.\n\n## Expected Output\n\nA list.\n\n# Report @w\n\n## Objective\n\nSummarize [[Scan]].\n\n## Context\n\nFor the board.\n\n## Constraints\n\nOne page.\n\n## Expected Output\n\nA memo.\n";

const HANDOFF: &str = "## Key Decisions\n\n- Public sources only.\n\n## Current State\n\nScan and Report are answered.\n\n## Next Steps\n\n1. Share the memo.\n\n## Reasoning\n\nThe board meets on Monday.\n\n## Open Questions\n\n- None.\n\n## Artifacts\n\n- plan.brief.md\n";

/// The brief a request carries (its message starts `# Title`), or `None` for a handoff request.
fn title(request: &Recorded) -> Option<String> {
    let message = request.last_message();
    let first = message.lines().next().unwrap_or_default();
    first.strip_prefix("# ").map(str::to_owned)
}

/// The roles and texts of a request's messages.
fn messages(request: &Recorded) -> Vec<(String, String)> {
    let body: Value = request.json();
    (body["messages"].as_array().unwrap().iter())
        .map(|m| {
            let role = m["role"].as_str().unwrap().to_owned();
            (role, m["content"].as_str().unwrap().to_owned())
        })
        .collect()
}

/// `baton ARGS`, which must exit with `code`; its stdout.
fn run(workspace: &Workspace, args: &[&str], code: i32) -> String {
    let output = baton(&workspace.root, args);
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    assert_eq!(
        output.status.code(),
        Some(code),
        "baton {args:?}\nstdout: {}\nstderr: {}",
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// `baton check FILE`'s findings, as `code line` pairs.
fn findings(workspace: &Workspace, file: &str) -> Vec<String> {
    let output = baton(&workspace.root, &["check", file, "--format", "json"]);
    let findings: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    (findings.iter())
        .map(|f| format!("{} {}", f["code"].as_str().unwrap(), f["line"]))
        .collect()
}

/// Run ids and input hashes, new with every run, as `ID` and `HASH`.
fn normalized(text: &str) -> String {
    let runs = regex::Regex::new(r"run=[0-9A-Za-z]+").unwrap();
    let inputs = regex::Regex::new(r"input=[0-9a-f]{8}").unwrap();
    let text = runs.replace_all(text, "run=ID");
    inputs.replace_all(&text, "input=HASH").into_owned()
}

/// `brief` (without its trailing line breaks) followed by its answered block, as baton writes it.
fn answered(brief: &str, body: &str) -> String {
    format!(
        "{}\n\n## Output @w\n<!-- baton:output run=ID agent=w model=m input=HASH status=done -->\n{body}\n<!-- /baton:output run=ID -->\n",
        brief.trim_end_matches('\n')
    )
}

#[test]
fn write_send_lint_edit_send_run_hand_off_resume_send() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let agent = runtime.block_on(Server::respond(|request| match title(request) {
        Some(title) => openai_ok(&[&format!("Answer of {title}.")]),
        None => openai_ok(&[HANDOFF]),
    }));
    let workspace = Workspace::new("whole-loop");
    workspace.write(
        "baton.toml",
        &format!(
            "[defaults]\nagent = \"w\"\n\n[agents.w]\nprovider = \"openai\"\nmodel = \"m\"\nbase_url = \"{}/v1\"\nretries = 0\n",
            agent.url
        ),
    );
    workspace.write("plan.brief.md", PLAN);
    assert_eq!(findings(&workspace, "plan.brief.md"), Vec::<String>::new());

    // Send Scan: right after, the document checks clean.
    run(&workspace, &["send", "plan.brief.md", "--brief", "Scan"], 0);
    assert_eq!(findings(&workspace, "plan.brief.md"), Vec::<String>::new());

    // Edit Scan: its answer is stale. Send again: fresh, and still one block.
    let edited = workspace
        .read("plan.brief.md")
        .replace("Find the rivals.", "Find the three rivals.");
    workspace.write("plan.brief.md", &edited);
    assert_eq!(findings(&workspace, "plan.brief.md"), ["stale-output 19"]);
    run(&workspace, &["send", "plan.brief.md", "--brief", "Scan"], 0);
    assert_eq!(findings(&workspace, "plan.brief.md"), Vec::<String>::new());

    // The pipeline sends only Report (Scan is up to date), with Scan's answer as its input;
    // run again, it sends nothing.
    run(&workspace, &["run", "plan.brief.md"], 0);
    let sent: Vec<_> = agent.requests().iter().map(title).collect();
    let scan = Some("Scan".to_owned());
    assert_eq!(sent, [scan.clone(), scan, Some("Report".to_owned())]);
    assert!(agent.requests()[2]
        .last_message()
        .contains("Answer of Scan."));
    run(&workspace, &["run", "plan.brief.md"], 0);
    assert_eq!(agent.requests().len(), 3);
    assert_eq!(findings(&workspace, "plan.brief.md"), Vec::<String>::new());

    // Hand off the thread: the agent is sent its three turns, then the request; the handoff
    // lands beside the document and checks clean.
    let path = run(
        &workspace,
        &["handoff", "plan.brief.md", "--brief", "Report"],
        0,
    );
    assert!(path.trim().ends_with("plan.handoff.md"), "{path}");
    let requests = agent.requests();
    let asked = messages(requests.last().unwrap());
    assert_eq!(asked.len(), 7, "three turns and the request: {asked:#?}");
    assert_eq!(asked[5].1, "Answer of Report.");
    assert_eq!(
        findings(&workspace, "plan.handoff.md"),
        Vec::<String>::new()
    );

    // Edit the handoff, resume from it: the next send starts from it, as edited.
    let handoff = workspace
        .read("plan.handoff.md")
        .replace("- None.", "- Who presents the memo?");
    workspace.write("plan.handoff.md", &handoff);
    run(&workspace, &["resume", "plan.handoff.md"], 0);
    run(
        &workspace,
        &["send", "plan.brief.md", "--brief", "Report"],
        0,
    );
    let requests = agent.requests();
    let last = messages(requests.last().unwrap());
    assert_eq!(last.len(), 2, "the handoff, then the brief: {last:#?}");
    assert_eq!(last[0], ("user".to_owned(), handoff.clone()));
    assert!(last[1].1.starts_with("# Report"), "{}", last[1].1);

    // The documents, whole.
    let scan = PLAN[..PLAN.find("# Report").unwrap()]
        .replace("Find the rivals.", "Find the three rivals.");
    let report = &PLAN[PLAN.find("# Report").unwrap()..];
    let expected = format!(
        "{}\n{}",
        answered(&scan, "Answer of Scan."),
        answered(report, "Answer of Report.")
    );
    assert_eq!(normalized(&workspace.read("plan.brief.md")), expected);
    assert_eq!(workspace.read("plan.handoff.md"), handoff);
    assert_eq!(findings(&workspace, "plan.brief.md"), Vec::<String>::new());
}
