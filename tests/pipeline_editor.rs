//! "Run pipeline" in the editor, through the real binary over stdio (issue 14): the code lens on
//! a brief with dependencies, the pipeline it starts (one progress, begin/report/end), every
//! answer landing (in the open buffer by `workspace/applyEdit`, in a file the editor does not
//! hold open on disk), up to date on a second run, an edit re-running exactly what it touched,
//! and cancelling from the progress. Each step asserts the whole document.

mod support;

#[allow(dead_code)]
#[path = "agents/server.rs"]
mod server;
#[allow(dead_code)]
#[path = "agents/streams.rs"]
mod streams;

use std::time::Duration;

use regex::Regex;
use serde_json::{json, Value};

use server::{Recorded, Server as Agent, Step};
use streams::{openai_ok, openai_paced};
use support::Workspace;
use support::{editor::Editor, runtime};

const A: &str = "# Scan\n\n## Objective\n\nFind the rivals.\n\n# Left\n\n## Objective\n\nUse [[Scan]].\n\n# Report\n\n## Objective\n\nMerge [[Left]] and [[b.brief.md#Right]].\n";
const B: &str = "# Right\n\n## Objective\n\nUse [[a.brief.md#Scan]].\n\n# Alone\n\n## Objective\n\nUnrelated.\n";

/// The title of the brief a request carries: its message starts `# Title`.
fn title(request: &Recorded) -> String {
    let message = request.last_message();
    let first = message.lines().next().unwrap_or_default();
    first.trim_start_matches("# ").to_owned()
}

/// A loopback agent that answers `Answer of <title>.` after 30 ms, and never ends the answer
/// to a brief titled `hang`.
fn agent(runtime: &tokio::runtime::Runtime, hang: &'static str) -> Agent {
    runtime.block_on(Agent::respond(move |request| {
        let title = title(request);
        if title == hang {
            return openai_paced(
                &[format!("Half of {title}")],
                Duration::from_millis(30),
                false,
            );
        }
        let mut steps = vec![Step::Pause(Duration::from_millis(30))];
        steps.extend(openai_ok(&[&format!("Answer of {title}.")]));
        steps
    }))
}

fn workspace(name: &str, agent: &Agent) -> Workspace {
    let workspace = Workspace::new(name);
    workspace.write(
        "baton.toml",
        &format!(
            "[defaults]\nagent = \"w\"\n\n[agents.w]\nprovider = \"openai\"\nmodel = \"m\"\nbase_url = \"{}/v1\"\nretries = 0\n",
            agent.url
        ),
    );
    workspace.write("b.brief.md", B);
    workspace
}

/// Run ids and input hashes, which change with every run, as `ID` and `HASH`.
fn normalized(text: &str) -> String {
    let runs = Regex::new(r"run=[0-9A-Za-z]+").unwrap();
    let inputs = Regex::new(r"input=[0-9a-f]{8}").unwrap();
    let text = runs.replace_all(text, "run=ID");
    inputs.replace_all(&text, "input=HASH").into_owned()
}

/// `brief` followed by its answered block, as baton writes it (normalized).
fn answered(brief: &str, status: &str, body: &str) -> String {
    format!(
        "{brief}\n\n## Output @w\n<!-- baton:output run=ID agent=w model=m input=HASH status={status} -->\n{body}\n<!-- /baton:output run=ID -->\n"
    )
}

/// `A` as the pipeline leaves it: Scan answered; Left (as `left` reads) with the block
/// `left_block` (status, body) or none; Report answered or not.
fn document_a(left: &str, left_block: Option<(&str, &str)>, report_answered: bool) -> String {
    let scan = &A[..A.find("# Left").unwrap()];
    let report = &A[A.find("# Report").unwrap()..];
    let part = |text: &str, block: Option<(&str, &str)>| match block {
        Some((status, body)) => answered(text.trim_end_matches('\n'), status, body),
        None => text.to_owned(),
    };
    let report_block = report_answered.then_some(("done", "Answer of Report."));
    [
        part(scan, Some(("done", "Answer of Scan."))),
        part(left, left_block),
        part(report, report_block),
    ]
    .join("\n")
}

/// `B` with Right answered, as the pipeline writes it on disk.
fn document_b() -> String {
    let (right, alone) = B.split_at(B.find("# Alone").unwrap());
    let right = answered(right.trim_end_matches('\n'), "done", "Answer of Right.");
    format!("{right}\n{alone}")
}

/// Left's text in `A`.
fn left() -> &'static str {
    &A[A.find("# Left").unwrap()..A.find("# Report").unwrap()]
}

/// The lens titles of the open document, in order.
fn lens_titles(editor: &mut Editor) -> Vec<String> {
    let lenses = editor.lenses();
    lenses
        .iter()
        .map(|lens| lens["command"]["title"].as_str().unwrap().to_owned())
        .collect()
}

/// Runs the "Run pipeline" lens on `brief`, then waits for its progress to end and returns
/// the command's answer and the progress values.
fn run_pipeline(editor: &mut Editor, brief: &str) -> (Value, Vec<Value>) {
    let lenses = editor.lenses();
    let lens = lenses
        .iter()
        .find(|lens| {
            lens["command"]["command"] == "baton.runPipeline"
                && lens["command"]["arguments"][0]["brief"] == brief
        })
        .unwrap_or_else(|| panic!("no Run pipeline lens on {brief}: {lenses:#?}"));
    let answer = editor.execute(&lens["command"].clone());
    let token = format!("baton-pipeline-{}", answer["pipeline"].as_str().unwrap());
    let progress = |editor: &Editor| -> Vec<Value> {
        (editor.seen.iter())
            .filter(|m| m["method"] == "$/progress" && m["params"]["token"] == token.as_str())
            .map(|m| m["params"]["value"].clone())
            .collect()
    };
    editor.until("the pipeline's progress to end", |editor| {
        progress(editor).iter().any(|value| value["kind"] == "end")
    });
    let values = progress(editor);
    (answer, values)
}

#[test]
fn the_lens_runs_a_pipeline_across_files_up_to_date_and_after_an_edit() {
    let runtime = runtime();
    let agent = agent(&runtime, "");
    let workspace = workspace("pipeline-editor", &agent);
    let mut editor = Editor::open(
        &workspace,
        "a.brief.md",
        A,
        json!({ "trustedWorkspace": true }),
    );

    let lenses: Vec<String> = lens_titles(&mut editor)
        .into_iter()
        .filter(|title| title.contains("Run pipeline"))
        .collect();
    assert_eq!(
        lenses,
        [
            "▶ Run pipeline · 1 brief, 0 up to date",
            "▶ Run pipeline · 2 briefs, 0 up to date",
            "▶ Run pipeline · 4 briefs, 0 up to date",
        ]
    );

    let (answer, progress) = run_pipeline(&mut editor, "Report");
    assert_eq!(
        (answer["briefs"].as_u64(), answer["toRun"].as_u64()),
        (Some(4), Some(4))
    );
    assert_eq!(progress[0]["kind"], "begin");
    assert_eq!(
        progress[0]["title"],
        "baton: pipeline · 4 briefs, 0 up to date"
    );
    assert_eq!(progress[0]["cancellable"], true);
    let reports: Vec<&str> = (progress.iter())
        .filter(|value| value["kind"] == "report")
        .map(|value| value["message"].as_str().unwrap())
        .collect();
    assert!(
        reports.contains(&"running: Scan · 0 of 4 ended"),
        "{reports:#?}"
    );
    assert!(reports.contains(&"4 of 4 ended"), "{reports:#?}");
    let end = progress.last().unwrap();
    assert_eq!(
        end["message"],
        "4 done, 0 up to date, 0 failed, 0 skipped, 0 cancelled"
    );

    // Every answer landed: three in the open buffer, one in the file on disk.
    let expected = document_a(left(), Some(("done", "Answer of Left.")), true);
    assert_eq!(normalized(&editor.doc.text), expected);
    assert_eq!(normalized(&workspace.read("b.brief.md")), document_b());
    // Report was sent its inputs' answers.
    let requests = agent.requests();
    let report_request = requests.iter().find(|r| title(r) == "Report").unwrap();
    let payload = report_request.last_message();
    assert!(
        payload.contains("Answer of Left.") && payload.contains("Answer of Right."),
        "{payload}"
    );
    let told = "baton: pipeline: 4 done, 0 up to date, 0 failed, 0 skipped, 0 cancelled";
    editor.until("the pipeline's message", |e| {
        e.messages().iter().any(|m| m == told)
    });

    // Up to date: the lens says so, and running again sends nothing.
    let titles = lens_titles(&mut editor);
    assert!(
        titles.contains(&"▶ Run pipeline · 4 briefs, 4 up to date".to_owned()),
        "{titles:#?}"
    );
    let (answer, _) = run_pipeline(&mut editor, "Report");
    assert_eq!(answer["toRun"].as_u64(), Some(0));
    assert_eq!(agent.requests().len(), 4);

    // An edit of Left re-runs Left and what needs it (Report), nothing else.
    let at = editor.doc.text.find("Use [[Scan]]").unwrap();
    editor.type_at(at, "Carefully: ");
    let titles = lens_titles(&mut editor);
    assert!(
        titles.contains(&"▶ Run pipeline · 4 briefs, 3 up to date".to_owned()),
        "{titles:#?}"
    );
    let (answer, _) = run_pipeline(&mut editor, "Report");
    assert_eq!(answer["toRun"].as_u64(), Some(2));
    let sent: Vec<String> = agent.requests()[4..].iter().map(title).collect();
    assert_eq!(sent, ["Left", "Report"]);
    let edited = left().replace("Use [[Scan]]", "Carefully: Use [[Scan]]");
    let expected = document_a(&edited, Some(("done", "Answer of Left.")), true);
    assert_eq!(normalized(&editor.doc.text), expected);
    let titles = lens_titles(&mut editor);
    assert!(
        titles.contains(&"▶ Run pipeline · 4 briefs, 4 up to date".to_owned()),
        "{titles:#?}"
    );
}

#[test]
fn the_code_action_runs_a_pipeline_and_its_progress_cancels_it() {
    let runtime = runtime();
    let agent = agent(&runtime, "Left");
    let workspace = workspace("pipeline-editor-cancel", &agent);
    let mut editor = Editor::open(
        &workspace,
        "a.brief.md",
        A,
        json!({ "trustedWorkspace": true }),
    );

    let action = "Run pipeline from \"Report\"";
    assert!(editor.titles_at("Merge").contains(&action.to_owned()));
    let answer = editor.run_action("Merge", action);
    let token = format!("baton-pipeline-{}", answer["pipeline"].as_str().unwrap());
    editor.until("Left to be running", |editor| {
        editor.all_progress().iter().any(|value| {
            value["message"]
                .as_str()
                .is_some_and(|m| m.contains("Left"))
        })
    });
    // Left has sent its first piece (30 ms in) and then falls silent; Scan is done.
    std::thread::sleep(Duration::from_millis(500));
    editor
        .server
        .notify("window/workDoneProgress/cancel", json!({ "token": token }));
    editor.until("the pipeline's progress to end", |editor| {
        (editor.seen.iter()).any(|m| {
            m["method"] == "$/progress"
                && m["params"]["token"] == token.as_str()
                && m["params"]["value"]["kind"] == "end"
        })
    });
    let expected = document_a(left(), Some(("cancelled", "Half of Left")), false);
    assert_eq!(normalized(&editor.doc.text), expected);
    assert_eq!(normalized(&workspace.read("b.brief.md")), document_b());
    let sent: Vec<String> = agent.requests().iter().map(title).collect();
    assert!(!sent.contains(&"Report".to_owned()), "{sent:?}");
}
