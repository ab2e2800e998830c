//! Budget code lenses through the real server (DESIGN §6), as an editor meets them: a 1 MiB
//! document with 200 briefs opens, and the editor asks for its code lenses at once, then
//! resolves the budget lenses in view; after one keystroke it asks again and resolves what was
//! left. Times are from request to response over stdio, transport included. Run with
//! `cargo bench --bench budget_lens` (it runs the bench profile's `baton` binary).

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "briefs/mod.rs"]
mod briefs;

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use support::{Server, Workspace};

/// How many budget lenses an editor shows at once: a brief of 5 KiB fills a screen, so the
/// heading in view and the next one.
const IN_VIEW: usize = 2;

fn unresolved(lenses: &Value) -> Vec<Value> {
    (lenses.as_array().expect("lenses").iter())
        .filter(|lens| lens.get("command").is_none_or(Value::is_null))
        .cloned()
        .collect()
}

fn lenses(server: &mut Server, uri: &str) -> (Value, Duration) {
    let started = Instant::now();
    let lenses = server.request(
        "textDocument/codeLens",
        json!({ "textDocument": { "uri": uri } }),
    );
    (lenses, started.elapsed())
}

fn resolve(server: &mut Server, lenses: &[Value]) -> Duration {
    let started = Instant::now();
    for lens in lenses {
        let resolved = server.request("codeLens/resolve", lens.clone());
        assert!(resolved["command"]["title"]
            .as_str()
            .is_some_and(|t| t.contains(" / ")));
    }
    started.elapsed()
}

fn main() {
    let workspace = Workspace::new("bench-budget-lens");
    workspace.write("baton.toml", &briefs::agents("http://127.0.0.1:9"));
    let text = briefs::document();
    workspace.write("big.brief.md", &text);
    let (mut server, _) = Server::start(&workspace, &["utf-8"]);
    let uri = workspace.uri("big.brief.md");
    let mut doc = server.open(&uri, &text);
    server.wait_for_diagnostics(&uri, Some(1));
    println!("document: {} bytes, 200 briefs", text.len());

    // Nothing counted yet, not even the vocabulary loaded.
    let (first, took) = lenses(&mut server, &uri);
    let left = unresolved(&first);
    println!(
        "first codeLens request: {took:?} ({} lenses, {} budgets left to resolve)",
        first.as_array().map_or(0, Vec::len),
        left.len()
    );
    let loading = resolve(&mut server, &left[..1]);
    let in_view = resolve(&mut server, &left[1..IN_VIEW]);
    println!(
        "resolving the {IN_VIEW} in view: {:?} for the first (loads o200k_base), {in_view:?} for the next",
        loading
    );

    // The rest, as Neovim resolves every lens (the background count counts only briefs long
    // enough to be over budget, so these wait for their resolve).
    let rest = resolve(&mut server, &left[IN_VIEW..]);
    println!(
        "resolving the other {} (as Neovim does): {rest:?}",
        left.len() - IN_VIEW
    );

    let mut requests = Vec::new();
    let mut whole = Vec::new();
    let mut paused = Vec::new();
    for round in 0..20 {
        // One keystroke in the middle brief; the editor asks for lenses before the pause.
        let at = doc.text.find("segment 100 want").expect("the middle brief");
        let change = doc.edit(at..at, &"x".repeat(round % 2 + 1));
        server.change(&mut doc, vec![change]);
        server.wait_for_diagnostics(&uri, Some(doc.version));
        let (after, took) = lenses(&mut server, &uri);
        let left = unresolved(&after);
        let resolved = resolve(&mut server, &left);
        requests.push(took);
        whole.push(took + resolved);
        assert!(left.len() <= 1, "only the brief typed in is counted again");
        // Another keystroke, and the lenses asked for once typing has paused (VS Code waits at
        // least 250 ms after an edit): the document's analysis is made by then.
        let change = doc.edit(at..at, "y");
        server.change(&mut doc, vec![change]);
        server.wait_for_diagnostics(&uri, Some(doc.version));
        std::thread::sleep(Duration::from_millis(400));
        let (after, took) = lenses(&mut server, &uri);
        let left = unresolved(&after);
        assert!(left.len() <= 1, "only the brief typed in is counted again");
        paused.push(took + resolve(&mut server, &left));
    }
    paused.sort();
    requests.sort();
    whole.sort();
    println!(
        "after one keystroke: codeLens p50 {:?} max {:?}; with the changed brief resolved p50 {:?} max {:?}",
        requests[requests.len() / 2],
        requests.last().expect("timed"),
        whole[whole.len() / 2],
        whole.last().expect("timed"),
    );
    println!(
        "after a keystroke and a pause: codeLens with the changed brief resolved p50 {:?} max {:?}",
        paused[paused.len() / 2],
        paused.last().expect("timed"),
    );
    server.shutdown();
}
