//! Routing (DESIGN §5) as a user meets it, through the real binary: `[[routes]]` pick the agent
//! of a brief that names none; the code lens and hover say which and why; a route with a bad
//! pattern or an unknown agent is an error in `baton.toml`, in the editor and in `baton check`;
//! and `baton send` sends a brief without a mention to its routed agent, a loopback server.

mod support;

#[allow(dead_code)]
#[path = "agents/server.rs"]
mod server;
#[allow(dead_code)]
#[path = "agents/streams.rs"]
mod streams;

use serde_json::{json, Value};

use server::Server as Agent;
use streams::openai_ok;
use support::{baton, Server, Workspace};

/// Two agents on `url` told apart by their model, a default, and a route that sends scans to
/// the researcher.
fn config(url: &str, routes: &str) -> String {
    format!(
        "[defaults]\nagent = \"writer\"\n\n\
         [agents.writer]\nprovider = \"openai\"\nmodel = \"m-writer\"\nbase_url = \"{url}/v1\"\nretries = 0\n\n\
         [agents.researcher]\nprovider = \"openai\"\nmodel = \"m-research\"\nbase_url = \"{url}/v1\"\nretries = 0\n\n{routes}"
    )
}

const ROUTES: &str = "[[routes]]\nwhen = { kind = \"review\" }\nagent = \"writer\"\n\n\
                      [[routes]]\nwhen = { heading = \"(?i)scan\", tags = [\"market\"] }\nagent = \"researcher\"\n";

const BRIEF: &str = "---\ntags: [market]\n---\n# Scan prices\n\n## Objective\n\nFind the prices.\n\n## Context\n\nWe reprice.\n\n## Constraints\n\nPublic sources.\n\n## Expected Output\n\nA table.\n\n# Write it up\n\n## Objective\n\nSummarize.\n\n## Context\n\nc\n\n## Constraints\n\nd\n\n## Expected Output\n\ne\n";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The lens titles but the budgets (`@agent · 37 / 128k`, tests/budget.rs).
fn titles(lenses: &Value) -> Vec<String> {
    (lenses.as_array().unwrap().iter())
        // Budget lenses (`@agent · …`, or left for `codeLens/resolve`) are not routing's.
        .filter_map(|lens| lens["command"]["title"].as_str().map(str::to_owned))
        .filter(|title| !title.starts_with('@'))
        .collect()
}

#[test]
fn the_code_lens_and_hover_say_which_agent_and_why() {
    let workspace = Workspace::new("routing-lens");
    workspace.write("baton.toml", &config("http://127.0.0.1:9", ROUTES));
    workspace.write("a.brief.md", BRIEF);
    let (mut server, _) = Server::start(&workspace, &["utf-8"]);
    let uri = workspace.uri("a.brief.md");
    let mut doc = server.open(&uri, BRIEF);
    server.wait_for_diagnostics(&uri, Some(1));

    let lenses = server.request(
        "textDocument/codeLens",
        json!({ "textDocument": { "uri": uri } }),
    );
    assert_eq!(
        titles(&lenses),
        [
            "▶ Send to @researcher · 127.0.0.1:9 · route 2: heading matches (?i)scan, tags market",
            "▶ Send to @writer · 127.0.0.1:9 · `[defaults] agent`",
        ]
    );

    let hover = server.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 3, "character": 4 } }),
    );
    let markdown = hover["contents"]["value"].as_str().unwrap();
    assert!(
        markdown.starts_with(
            r"**Scan prices** → @researcher · route 2: heading matches \(?i\)scan, tags market"
        ),
        "{markdown}"
    );

    // Without the tag, the route no longer holds: the default takes over, at once.
    let change = doc.replace("tags: [market]", "tags: [internal]");
    server.change(&mut doc, vec![change]);
    server.wait_for_diagnostics(&uri, Some(2));
    let lenses = server.request(
        "textDocument/codeLens",
        json!({ "textDocument": { "uri": uri } }),
    );
    assert_eq!(
        titles(&lenses)[0],
        "▶ Send to @writer · 127.0.0.1:9 · `[defaults] agent`"
    );
    server.shutdown();
}

const BAD_ROUTES: &str = "[[routes]]\nwhen = { heading = \"[scan\" }\nagent = \"writer\"\n\n\
                          [[routes]]\nwhen = { heading = \"(?i)write\" }\nagent = \"editor\"\n";

#[test]
fn a_bad_pattern_and_an_unknown_agent_are_errors_at_the_route_in_the_editor() {
    let workspace = Workspace::new("routing-bad-editor");
    let toml = config("http://127.0.0.1:9", BAD_ROUTES);
    workspace.write("baton.toml", &toml);
    workspace.write("a.brief.md", BRIEF);
    let (mut server, _) = Server::start(&workspace, &["utf-8"]);
    let uri = workspace.uri("a.brief.md");
    server.open(&uri, BRIEF);
    let found = server.wait_for_diagnostics(&workspace.uri("baton.toml"), None);
    let found: Vec<(usize, &str)> = (found.iter())
        .map(|d| {
            let line = d["range"]["start"]["line"].as_u64().unwrap() as usize;
            assert_eq!(d["severity"], 1, "{d}");
            (line, d["message"].as_str().unwrap())
        })
        .collect();
    let line_of = |text: &str| toml.lines().position(|line| line.contains(text)).unwrap();
    assert_eq!(
        found,
        [
            (
                line_of("[scan"),
                "`heading` is not a valid regex: unclosed character class; this route matches no brief until it is fixed"
            ),
            (line_of("\"editor\""), "no agent named `editor`"),
        ]
    );

    // The brief the second route sends to `editor` says so too.
    let diagnostics = server.wait_for_diagnostics(&uri, Some(1));
    let unknown: Vec<&str> = (diagnostics.iter())
        .filter(|d| d["code"] == "unknown-agent")
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        unknown,
        ["unknown agent `editor`, chosen by route 2 of baton.toml (heading matches (?i)write); define it there, or name an agent with `@agent`"]
    );
    server.shutdown();
}

#[test]
fn check_reports_the_bad_routes_and_fails() {
    let workspace = Workspace::new("routing-bad-check");
    let toml = config("http://127.0.0.1:9", BAD_ROUTES);
    workspace.write("baton.toml", &toml);
    workspace.write("a.brief.md", BRIEF);
    let run = baton(&workspace.root, &["check", "."]);
    let stdout = text(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{stdout}");
    let line_of = |text: &str| 1 + toml.lines().position(|line| line.contains(text)).unwrap();
    let pattern = format!(
        "baton.toml:{}:20: error[invalid-config]: `heading` is not a valid regex: unclosed character class",
        line_of("[scan")
    );
    assert!(stdout.contains(&pattern), "{stdout}");
    let agent = format!(
        "baton.toml:{}:9: error[invalid-config]: no agent named `editor`",
        line_of("\"editor\"")
    );
    assert!(stdout.contains(&agent), "{stdout}");
    assert!(
        stdout.contains("error[unknown-agent]: unknown agent `editor`, chosen by route 2"),
        "{stdout}"
    );
}

#[test]
fn send_without_a_mention_goes_to_the_routed_agent() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let agent = runtime.block_on(Agent::start(vec![openai_ok(&["Three rivals."])]));
    let workspace = Workspace::new("routing-send");
    workspace.write("baton.toml", &config(&agent.url, ROUTES));
    workspace.write("a.brief.md", BRIEF);

    let file = workspace.path("a.brief.md");
    let run = baton(
        &workspace.root,
        &["send", file.to_str().unwrap(), "--brief", "Scan prices"],
    );
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let requests = agent.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].json()["model"], "m-research");
    let written = workspace.read("a.brief.md");
    assert!(
        written.contains("## Output @researcher\n<!-- baton:output "),
        "{written}"
    );
    assert!(written.contains("Three rivals."), "{written}");
}
