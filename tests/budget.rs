//! Tokens, usage and budgets (DESIGN §6) as a user meets them, through the real binary: the
//! budget lens and its hover, `over-budget` lenses that offer a handoff, the refusal past the
//! whole context window in the editor and in `baton send`, and the usage a provider reports,
//! journalled with the count sent and a warning when the agent saw only part of the payload.

mod support;

#[allow(dead_code)]
#[path = "agents/server.rs"]
mod server;
#[allow(dead_code)]
#[path = "agents/streams.rs"]
mod streams;

use serde_json::{json, Value};

use server::{stream, Server as Agent};
use streams::{data, ollama_done, ollama_line, openai_delta};
use support::to;
use support::{baton, Workspace};
use support::{editor::Editor, runtime};

/// Three agents on `url` that differ only in their context window: `big` takes anything,
/// `mid` is past its `handoff_at` with a brief of a few dozen tokens, `tiny` cannot take one.
fn config(url: &str) -> String {
    let agent = |name: &str, window: u64, extra: &str| {
        format!(
            "[agents.{name}]\nprovider = \"openai\"\nmodel = \"gpt-4o\"\nbase_url = \"{url}/v1\"\n\
             retries = 0\ncontext_window = {window}\n{extra}\n"
        )
    };
    [
        agent("big", 1_000_000, ""),
        agent("mid", 1_000, "handoff_at = 0.02"),
        agent("tiny", 5, ""),
    ]
    .concat()
}

const BODY: &str = "## Objective\n\nFind the prices of the three rivals.\n\n## Context\n\nWe reprice in spring.\n\n\
                    ## Constraints\n\nPublic sources only.\n\n## Expected Output\n\nA table.\n";

fn brief(title: &str, agent: &str) -> String {
    format!("# {title} @{agent}\n\n{BODY}\n")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn titles(lenses: &[Value]) -> Vec<String> {
    lenses
        .iter()
        .map(|lens| lens["command"]["title"].as_str().unwrap().to_owned())
        .collect()
}

/// `@agent · N / W` with its count read back, asserting the rest of the title.
fn count_in(title: &str, agent: &str, window: &str) -> u64 {
    let rest = title
        .strip_prefix(&format!("@{agent} · "))
        .unwrap_or_else(|| panic!("{title}"));
    let count = rest
        .strip_suffix(&format!(" / {window}"))
        .unwrap_or_else(|| panic!("{title}"));
    count.parse().unwrap_or_else(|_| panic!("{title}"))
}

#[test]
fn each_brief_has_a_budget_lens_and_over_budget_offers_a_handoff() {
    let workspace = Workspace::new("budget-lens");
    let url = "http://127.0.0.1:9";
    workspace.write("baton.toml", &config(url));
    let doc = [
        brief("Scan", "big"),
        brief("Scan again", "mid"),
        brief("Scan once more", "tiny"),
    ]
    .concat();
    let mut editor = Editor::open(
        &workspace,
        "a.brief.md",
        &doc,
        json!({ "trustedWorkspace": true }),
    );

    let lenses = editor.lenses();
    let all = titles(&lenses);
    let budgets: Vec<&Value> = lenses
        .iter()
        .filter(|lens| lens["command"]["title"].as_str().unwrap().contains(" / "))
        .collect();
    assert_eq!(budgets.len(), 3, "{all:#?}");

    // Within budget: the count only, exact for an OpenAI model (no `≈`).
    let within = budgets[0]["command"]["title"].as_str().unwrap();
    let count = count_in(within, "big", "1M");
    assert!((20..100).contains(&count), "{within}");
    assert_eq!(budgets[0]["command"]["command"], "");

    // Past handoff_at (2 % of 1000 is 20 tokens): the same count, a warning sign, a handoff.
    let mid = budgets[1]["command"]["title"].as_str().unwrap();
    let mid_count = mid
        .strip_prefix("⚠ ")
        .and_then(|title| title.strip_suffix(" · hand off"))
        .map(|title| count_in(title, "mid", "1k"))
        .unwrap_or_else(|| panic!("{mid}"));
    assert_eq!(mid_count, count + 1, "the title has one more word");
    assert_eq!(budgets[1]["command"]["command"], "baton.handoff");
    assert_eq!(
        budgets[1]["command"]["arguments"][0],
        json!({ "uri": editor.doc.uri, "brief": "Scan again", "agent": "mid" })
    );
    assert!(budgets[2]["command"]["title"]
        .as_str()
        .unwrap()
        .starts_with("⚠ @tiny · "));

    // Counting for the lenses found two briefs over budget: their diagnostics follow, a
    // warning past handoff_at and an error past the window, with the quick fix to hand off.
    let published = editor.server.wait_for("over-budget", |m| {
        m["method"] == "textDocument/publishDiagnostics" && m.to_string().contains("over-budget")
    });
    let over: Vec<(&str, i64)> = published["params"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "over-budget")
        .map(|d| {
            (
                d["message"].as_str().unwrap(),
                d["severity"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(over.len(), 2, "{published}");
    assert!(
        over[0].0.contains("tokens for @mid (") && over[0].0.contains("past handoff_at (2 %)"),
        "{over:?}"
    );
    assert_eq!(over[0].1, 2, "a warning");
    assert!(
        over[1].0.contains("more than the agent can take"),
        "{over:?}"
    );
    assert_eq!(over[1].1, 1, "an error");
    let diagnostic = published["params"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "over-budget")
        .unwrap()
        .clone();
    let at = editor.doc.at("Scan again", 0);
    let params = json!({ "textDocument": at["textDocument"],
        "range": { "start": at["position"], "end": at["position"] },
        "context": { "diagnostics": [diagnostic] } });
    let actions = editor.server.request("textDocument/codeAction", params);
    let handoff = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == format!("Hand off \"Scan again\" ({})", to("mid", url)))
        .unwrap_or_else(|| panic!("{actions:#}"));
    assert_eq!(handoff["command"]["command"], "baton.handoff");
    assert_eq!(
        handoff["command"]["arguments"][0],
        json!({ "uri": editor.doc.uri, "brief": "Scan again", "agent": "mid" })
    );

    // The hover on a heading breaks the budget down.
    let at = editor.doc.at("Scan @big", 1);
    let hover = editor.server.request("textDocument/hover", at);
    let markdown = hover["contents"]["value"].as_str().unwrap();
    assert!(
        markdown.contains(&format!(
            "**Budget for @big**: {count} of 1M tokens (hand off at 80 %)"
        )),
        "{markdown}"
    );
    for part in [
        "| role | 0 |",
        "| thread | 0 |",
        &format!("| brief | {count} |"),
        "| inputs | 0 |",
    ] {
        assert!(markdown.contains(part), "{part}: {markdown}");
    }

    // A keystroke in one brief changes only its count.
    let typed = editor.doc.text.find("Find the prices").unwrap();
    editor.type_at(typed, "Quickly ");
    let after = titles(&editor.lenses());
    let after: Vec<&String> = after.iter().filter(|t| t.contains(" / ")).collect();
    assert!(count_in(after[0], "big", "1M") > count, "{after:?}");
    assert_eq!(after[1], mid);

    // Past the whole window, sending is refused with the numbers.
    let send = lenses
        .iter()
        .find(|lens| lens["command"]["title"] == format!("▶ Send to {}", to("tiny", url)))
        .unwrap_or_else(|| panic!("{all:#?}"));
    assert_eq!(editor.execute(&send["command"]), Value::Null);
    let shown = editor
        .server
        .wait_for("the refusal", |m| m["method"] == "window/showMessage");
    let message = shown["params"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("baton: cannot send \"Scan once more\" to @tiny: over budget: "),
        "{message}"
    );
    assert!(message.contains("of its context window of 5"), "{message}");
    editor.server.shutdown();
}

/// The diagnostics of a publish that are `over-budget`, by message.
fn over_budget(published: &Value) -> Vec<String> {
    (published["params"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter())
    .filter(|d| d["code"] == "over-budget")
    .map(|d| d["message"].as_str().unwrap().to_owned())
    .collect()
}

#[test]
fn briefs_are_counted_in_the_background_and_a_lens_resolves_its_own_count() {
    let workspace = Workspace::new("budget-background");
    workspace.write("baton.toml", &config("http://127.0.0.1:9"));
    let doc = [brief("Scan", "big"), brief("Scan again", "mid")].concat();
    let mut editor = Editor::open(
        &workspace,
        "a.brief.md",
        &doc,
        json!({ "trustedWorkspace": true }),
    );

    // No lens is asked for: the count after the document opened finds @mid over budget.
    let published = editor.server.wait_for("over-budget", |m| {
        m["method"] == "textDocument/publishDiagnostics" && m.to_string().contains("over-budget")
    });
    let found = over_budget(&published);
    assert_eq!(found.len(), 1, "{published}");
    assert!(found[0].contains("tokens for @mid ("), "{found:?}");

    // `codeLens/resolve` counts the brief the lens names, as an editor asks for a lens in view.
    let range =
        json!({ "start": { "line": 0, "character": 2 }, "end": { "line": 0, "character": 4 } });
    let uri = editor.doc.uri.clone();
    let resolve = |title: &str| json!({ "range": range, "data": { "uri": uri, "brief": title } });
    let resolved = editor
        .server
        .request("codeLens/resolve", resolve("Scan again"));
    let title = resolved["command"]["title"].as_str().unwrap();
    assert!(
        title.starts_with("⚠ @mid · ") && title.ends_with(" / 1k · hand off"),
        "{title}"
    );
    assert_eq!(resolved["command"]["command"], "baton.handoff");
    assert_eq!(resolved["range"], range);
    // A brief renamed since the lenses were made resolves to nothing to show.
    let gone = editor
        .server
        .request("codeLens/resolve", resolve("Renamed"));
    assert_eq!(gone["command"]["title"], "", "{gone}");

    // Sent to @big instead, the brief is within budget: once typing pauses the warning goes.
    let change = editor.doc.replace("Scan again @mid", "Scan again @big");
    editor.server.change(&mut editor.doc, vec![change]);
    let version = editor.doc.version;
    let cleared = editor.server.wait_for("the warning gone", |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["version"] == version
            && !m.to_string().contains("over-budget")
    });
    assert!(over_budget(&cleared).is_empty(), "{cleared}");
    editor.server.shutdown();
}

#[test]
fn send_refuses_a_brief_past_the_context_window_with_the_numbers() {
    let workspace = Workspace::new("budget-send");
    workspace.write("baton.toml", &config("http://127.0.0.1:9"));
    workspace.write("a.brief.md", &brief("Scan", "tiny"));
    let file = workspace.path("a.brief.md");
    let before = workspace.read("a.brief.md");
    let run = baton(&workspace.root, &["send", file.to_str().unwrap()]);
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("over budget: "), "{stderr}");
    assert!(stderr.contains("tokens for @tiny ("), "{stderr}");
    assert!(
        stderr.contains("of its context window of 5; role 0, thread 0, brief "),
        "{stderr}"
    );
    assert_eq!(workspace.read("a.brief.md"), before, "nothing written");

    // `baton run` refuses it the same way: the brief fails with the numbers, nothing is sent.
    let run = baton(&workspace.root, &["run", file.to_str().unwrap()]);
    let output = text(&run.stdout) + &text(&run.stderr);
    assert_ne!(run.status.code(), Some(0), "{output}");
    assert!(output.contains("over budget: "), "{output}");
    assert!(output.contains("of its context window of 5;"), "{output}");
    assert_eq!(workspace.read("a.brief.md"), before, "nothing written");
}

#[test]
fn check_reports_briefs_over_budget_as_the_editor_does() {
    let workspace = Workspace::new("budget-check");
    workspace.write("baton.toml", &config("http://127.0.0.1:9"));
    let doc = [
        brief("Scan", "big"),
        brief("Scan again", "mid"),
        brief("Scan once more", "tiny"),
    ]
    .concat();
    workspace.write("a.brief.md", &doc);
    let run = baton(&workspace.root, &["check", "a.brief.md"]);
    let stdout = text(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "an error: {stdout}");
    let over: Vec<&str> = (stdout.lines())
        .filter(|line| line.contains("over-budget"))
        .collect();
    assert_eq!(over.len(), 2, "@mid and @tiny, not @big: {stdout}");
    assert!(
        over[0].contains("warning")
            && over[0].contains("tokens for @mid (")
            && over[0].contains("past handoff_at (2 %)"),
        "{stdout}"
    );
    assert!(
        over[1].contains("error") && over[1].contains("more than the agent can take"),
        "{stdout}"
    );

    // Within every budget, nothing is said.
    workspace.write("a.brief.md", &brief("Scan", "big"));
    let run = baton(&workspace.root, &["check", "a.brief.md"]);
    let stdout = text(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains("over-budget"), "{stdout}");
}

/// The run file of the workspace's only run.
fn journal(workspace: &Workspace) -> String {
    let runs = workspace.path(".baton/runs");
    let mut files: Vec<_> = std::fs::read_dir(runs).unwrap().flatten().collect();
    assert_eq!(files.len(), 1);
    std::fs::read_to_string(files.remove(0).path()).unwrap()
}

/// The `usage` line of a run file, parsed.
fn usage_line(run_file: &str) -> Value {
    let line = run_file
        .lines()
        .find(|line| line.contains("\"type\":\"usage\""))
        .unwrap_or_else(|| panic!("no usage in {run_file}"));
    serde_json::from_str(line).unwrap()
}

#[test]
fn usage_is_journalled_and_shown_and_an_openai_count_that_matches_warns_of_nothing() {
    let runtime = runtime();
    // The reported prompt is as long as what was sent: no warning.
    let end = data(
        json!({"id": "c", "object": "chat.completion.chunk", "choices": [],
        "usage": {"prompt_tokens": 100000, "completion_tokens": 2, "total_tokens": 100002}}),
    );
    let events = vec![
        openai_delta("Three rivals."),
        end,
        "data: [DONE]\n\n".to_owned(),
    ];
    let agent = runtime.block_on(Agent::start(vec![stream("text/event-stream", &events)]));
    let workspace = Workspace::new("budget-usage-openai");
    workspace.write("baton.toml", &config(&agent.url));
    workspace.write("a.brief.md", &brief("Scan", "big"));
    let file = workspace.path("a.brief.md");
    let run = baton(&workspace.root, &["send", file.to_str().unwrap()]);
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("tokens: 100000 in, 2 out"), "{stderr}");
    assert!(!stderr.contains("only part of the payload"), "{stderr}");
    assert!(agent.requests()[0].json()["stream_options"]["include_usage"] == true);
    let run_file = journal(&workspace);
    assert!(!run_file.contains("\"type\":\"warning\""), "{run_file}");
    let usage = usage_line(&run_file);
    assert_eq!(usage["prompt_tokens"], 100000);
    assert_eq!(usage["completion_tokens"], 2);
    assert!(usage["counted"].as_u64().unwrap() > 20, "{usage}");
}

#[test]
fn an_ollama_agent_that_saw_part_of_the_payload_is_a_warning_in_send_and_the_journal() {
    let runtime = runtime();
    // Ollama reports 26 prompt tokens (`ollama_done`): far fewer than the brief holds.
    let agent = runtime.block_on(Agent::start(vec![stream(
        "application/x-ndjson",
        &[ollama_line("Half an answer."), ollama_done()],
    )]));
    let workspace = Workspace::new("budget-usage-ollama");
    let long = "Compare every rival's prices, plans, discounts and regions in detail. ".repeat(10);
    let doc = brief("Scan", "local").replace("Find the prices of the three rivals.", &long);
    workspace.write(
        "baton.toml",
        &format!(
            "[agents.local]\nprovider = \"ollama\"\nmodel = \"llama3.2\"\nbase_url = \"{}\"\nretries = 0\n",
            agent.url
        ),
    );
    workspace.write("a.brief.md", &doc);
    let file = workspace.path("a.brief.md");
    let run = baton(&workspace.root, &["send", file.to_str().unwrap()]);
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("tokens: 26 in, 3 out"), "{stderr}");
    assert!(
        stderr.contains("baton send: warning: the agent saw only part of the payload: it reported 26 prompt tokens of about "),
        "{stderr}"
    );
    let run_file = journal(&workspace);
    assert!(
        run_file.contains("{\"type\":\"warning\",\"message\":\"the agent saw only part of the payload: it reported 26 prompt tokens"),
        "{run_file}"
    );
    let usage = usage_line(&run_file);
    assert_eq!(
        (
            usage["prompt_tokens"].as_u64(),
            usage["completion_tokens"].as_u64()
        ),
        (Some(26), Some(3))
    );
    assert!(usage["counted"].as_u64().unwrap() > 100, "{usage}");
}

#[test]
fn a_send_past_the_window_once_corrected_by_what_the_agent_reported_is_refused() {
    let runtime = runtime();
    // The agent reports 2,000 prompt tokens for a brief counted at well under 200: its later
    // estimates are corrected by that ratio.
    let done = format!(
        "{}\n",
        json!({"model": "test-model", "message": {"role": "assistant", "content": ""},
            "done": true, "done_reason": "stop", "prompt_eval_count": 2000, "eval_count": 3})
    );
    let agent = runtime.block_on(Agent::start(vec![stream(
        "application/x-ndjson",
        &[ollama_line("Noted."), done],
    )]));
    let workspace = Workspace::new("budget-corrected");
    workspace.write(
        "baton.toml",
        &format!(
            "[agents.local]\nprovider = \"ollama\"\nmodel = \"llama3.2\"\nbase_url = \"{}\"\n\
             retries = 0\ncontext_window = 200\n",
            agent.url
        ),
    );
    // No thread: the second send is the same request as the first.
    let doc = format!("---\nthread: none\n---\n\n{}", brief("Scan", "local"));
    workspace.write("a.brief.md", &doc);
    let file = workspace.path("a.brief.md");
    let first = baton(&workspace.root, &["send", file.to_str().unwrap()]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let counted = usage_line(&journal(&workspace))["counted"]
        .as_u64()
        .unwrap();
    assert!(counted < 200, "the first send fits, uncorrected: {counted}");

    let sent = workspace.read("a.brief.md");
    let second = baton(&workspace.root, &["send", file.to_str().unwrap()]);
    let stderr = text(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("over budget: about "), "{stderr}");
    assert!(stderr.contains("of its context window of 200"), "{stderr}");
    assert_eq!(workspace.read("a.brief.md"), sent, "nothing written");
}
