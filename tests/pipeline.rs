//! `baton run` and `baton graph` through the real binary, against a loopback
//! OpenAI-compatible agent that answers each brief after a pause and records when each
//! request came and ended: dependency order and parallelism, inputs carried, failures that
//! stop only their dependants, up to date like make, resume after SIGKILL, Ctrl-C, the plan
//! and the graph.

mod support;

#[allow(dead_code)]
#[path = "agents/server.rs"]
mod server;
#[allow(dead_code)]
#[path = "agents/streams.rs"]
mod streams;

use std::process::{Output, Stdio};
use std::time::Duration;

use server::{reply, Recorded, Server, Step};
use streams::{openai_ok, openai_paced};
use support::Workspace;

/// How the loopback agent answers each brief (by its title).
#[derive(Clone, Default)]
struct Agent {
    latency: Duration,
    /// Briefs answered 401 (not retried: the brief fails).
    refuse: Vec<&'static str>,
    /// Briefs that get one piece of answer, then silence.
    hang: Vec<&'static str>,
}

/// The title of the brief a request carries: its message starts `# Title`.
fn title(request: &Recorded) -> String {
    let message = request.last_message();
    let first = message.lines().next().unwrap_or_default();
    first.trim_start_matches("# ").to_owned()
}

async fn agent(agent: Agent) -> Server {
    Server::respond(move |request| {
        let title = title(request);
        if agent.refuse.contains(&title.as_str()) {
            return reply(401, &[], r#"{"error":{"message":"bad key"}}"#);
        }
        if agent.hang.contains(&title.as_str()) {
            return openai_paced(&[format!("Half of {title}")], agent.latency, false);
        }
        let mut steps = vec![Step::Pause(agent.latency)];
        steps.extend(openai_ok(&[&format!("Answer of {title}.")]));
        steps
    })
    .await
}

const SCAN_LEFT_REPORT: &str = "# Scan\n\n## Objective\n\nFind the rivals.\n\n# Left\n\n## Objective\n\nUse [[Scan]].\n\n# Report\n\n## Objective\n\nMerge [[Left]] and [[b.brief.md#Right]].\n";
const RIGHT_ALONE: &str = "# Right\n\n## Objective\n\nUse [[a.brief.md#Scan]].\n\n# Alone\n\n## Objective\n\nUnrelated.\n";

/// A workspace with the diamond Scan ← {Left, Right} ← Report across two files, and Alone.
fn diamond(server: &Server) -> Workspace {
    let workspace = Workspace::new("pipeline");
    workspace.write(
        "baton.toml",
        &format!(
            "[defaults]\nagent = \"w\"\n\n[agents.w]\nprovider = \"openai\"\nmodel = \"test-model\"\nbase_url = \"{}\"\nretries = 0\nmax_concurrent = 8\n",
            server.url
        ),
    );
    workspace.write("a.brief.md", SCAN_LEFT_REPORT);
    workspace.write("b.brief.md", RIGHT_ALONE);
    workspace
}

fn command(workspace: &Workspace, args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_baton"));
    command
        .args(args)
        .current_dir(&workspace.root)
        .env("BATON_CONFIG", workspace.path("no-user-config.toml"))
        .env("BATON_TRUST_WORKSPACE", "1")
        .env("NO_PROXY", "*")
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

async fn baton(workspace: &Workspace, args: &[&str]) -> Output {
    command(workspace, args).output().await.unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The document with each run id and input hash in its markers replaced by `RUN` and `HASH`,
/// so whole documents can be compared.
fn normalised(text: &str) -> String {
    let words = |line: &str| {
        line.split(' ')
            .map(|word| match word.split_once('=') {
                Some(("run", _)) => "run=RUN".to_owned(),
                Some(("input", _)) => "input=HASH".to_owned(),
                _ => word.to_owned(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    text.split_inclusive('\n')
        .map(|line| match line.contains("baton:output") {
            true => words(line),
            false => line.to_owned(),
        })
        .collect()
}

/// The titles of the briefs the agent was sent, in the order they came.
fn sent(server: &Server) -> Vec<String> {
    server.requests().iter().map(title).collect()
}

fn request<'a>(requests: &'a [Recorded], brief: &str) -> &'a Recorded {
    let found = requests.iter().find(|request| title(request) == brief);
    found.unwrap_or_else(|| panic!("{brief} was not sent"))
}

const DONE_A: &str = "# Scan\n\n## Objective\n\nFind the rivals.\n\n## Output @w\n<!-- baton:output run=RUN agent=w model=test-model input=HASH status=done -->\nAnswer of Scan.\n<!-- /baton:output run=RUN -->\n\n# Left\n\n## Objective\n\nUse [[Scan]].\n\n## Output @w\n<!-- baton:output run=RUN agent=w model=test-model input=HASH status=done -->\nAnswer of Left.\n<!-- /baton:output run=RUN -->\n\n# Report\n\n## Objective\n\nMerge [[Left]] and [[b.brief.md#Right]].\n\n## Output @w\n<!-- baton:output run=RUN agent=w model=test-model input=HASH status=done -->\nAnswer of Report.\n<!-- /baton:output run=RUN -->\n";
const DONE_B: &str = "# Right\n\n## Objective\n\nUse [[a.brief.md#Scan]].\n\n## Output @w\n<!-- baton:output run=RUN agent=w model=test-model input=HASH status=done -->\nAnswer of Right.\n<!-- /baton:output run=RUN -->\n\n# Alone\n\n## Objective\n\nUnrelated.\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_diamond_across_two_files_runs_in_order_in_parallel_with_its_inputs() {
    let server = agent(Agent {
        latency: Duration::from_millis(400),
        ..Agent::default()
    })
    .await;
    let workspace = diamond(&server);
    let output = baton(&workspace, &["run", "a.brief.md"]).await;
    assert!(output.status.success(), "{}", stdout(&output));
    let requests = server.requests();
    let [scan, left, right, report] =
        ["Scan", "Left", "Right", "Report"].map(|b| request(&requests, b));
    assert_eq!(
        requests.len(),
        4,
        "Alone is not part of a.brief.md's pipeline"
    );
    let scan_end = scan.ended.unwrap();
    assert!(
        left.started >= scan_end && right.started >= scan_end,
        "both need Scan"
    );
    assert!(
        left.started < right.ended.unwrap() && right.started < left.ended.unwrap(),
        "Left and Right run at once"
    );
    assert!(report.started >= left.ended.unwrap().max(right.ended.unwrap()));
    // Each brief gets the answers of the briefs it links to, as `send` renders them.
    assert!(left
        .last_message()
        .contains("### From \"Scan\" (@w)\n\nAnswer of Scan."));
    let merged = report.last_message();
    assert!(
        merged.contains("Answer of Left.") && merged.contains("Answer of Right."),
        "{merged}"
    );
    assert!(!merged.contains("Answer of Scan."), "only what it links to");
    assert_eq!(normalised(&workspace.read("a.brief.md")), DONE_A);
    assert_eq!(normalised(&workspace.read("b.brief.md")), DONE_B);
    let out = stdout(&output);
    assert!(
        out.ends_with("4 done, 0 up to date, 0 failed, 0 skipped, 0 cancelled\n"),
        "{out}"
    );

    // Up to date, like make: nothing is sent again.
    let again = baton(&workspace, &["run", "a.brief.md"]).await;
    assert!(again.status.success());
    assert_eq!(server.requests().len(), 4, "nothing sent twice");
    assert!(stdout(&again).ends_with("0 done, 4 up to date, 0 failed, 0 skipped, 0 cancelled\n"));

    // An edit re-runs exactly the edited brief and what needs it.
    let edited = workspace
        .read("b.brief.md")
        .replace("Use [[a.brief.md#Scan]].", "Use [[a.brief.md#Scan]] twice.");
    workspace.write("b.brief.md", &edited);
    let third = baton(&workspace, &["run", "a.brief.md"]).await;
    assert!(third.status.success(), "{}", stdout(&third));
    assert_eq!(sent(&server)[4..], ["Right", "Report"]);
    assert!(stdout(&third).ends_with("2 done, 2 up to date, 0 failed, 0 skipped, 0 cancelled\n"));
}
