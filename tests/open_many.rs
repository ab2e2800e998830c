//! Many documents opened at once, as an editor restoring a session opens them: the server
//! stores each as it arrives and parses, lints and publishes them on other threads. Every
//! message here is written without waiting for the server, so edits, requests and closes
//! reach documents whose parse is still running.

mod support;

use serde_json::{json, Value};
use support::{render, Doc, Server, Workspace};

const UTF16: &[&str] = &["utf-16"];

/// The fields a brief needs besides its `Objective`; brief `i` lacks `FIELDS[i % 3]`.
const FIELDS: [&str; 3] = ["Context", "Constraints", "Expected Output"];

/// Some kilobytes of prose under a field, so that a parse takes long enough for the next
/// messages to overtake it.
fn filler(i: usize) -> String {
    format!("Paragraph {i} with *emphasis*, a [link](https://example.com) and `code`.\n\n")
        .repeat(40)
}

/// Brief `i`, titled `title`, with an `Objective` and every field in `fields`.
fn brief(i: usize, title: &str, fields: &[&str]) -> String {
    let mut text = format!("# {title} @researcher\n\n## Objective\n{}", filler(i));
    for field in fields {
        text += &format!("## {field}\nAbout {field}.\n\n");
    }
    text
}

/// The one diagnostic of a brief titled `title` that lacks `missing`, rendered.
fn missing(title: &str, missing: &str) -> String {
    let width = format!("# {title} @researcher").encode_utf16().count();
    format!(
        "0:0-0:{width} error missing-field: `{title}` is missing the required field `{missing}`; \
         add a `## ` heading for each\n"
    )
}

fn open_briefs(server: &mut Server, workspace: &Workspace, count: usize) -> Vec<Doc> {
    (0..count)
        .map(|i| {
            let fields: Vec<&str> = FIELDS.into_iter().filter(|f| *f != FIELDS[i % 3]).collect();
            let text = brief(i, &format!("Brief {i}"), &fields);
            server.open(&workspace.uri(&format!("b{i:03}.brief.md")), &text)
        })
        .collect()
}

#[test]
fn two_hundred_briefs_opened_at_once_each_get_their_own_diagnostics() {
    let workspace = Workspace::from_fixture("workspace");
    let (mut server, _) = Server::start(&workspace, UTF16);
    let docs = open_briefs(&mut server, &workspace, 200);
    for (i, doc) in docs.iter().enumerate() {
        let diagnostics = server.wait_for_diagnostics(&doc.uri, Some(1));
        assert_eq!(
            render(&diagnostics),
            missing(&format!("Brief {i}"), FIELDS[i % 3]),
            "{}",
            doc.uri
        );
    }
    server.shutdown();
}

#[test]
fn edits_right_behind_an_open_land_in_order_and_the_last_version_is_diagnosed() {
    let workspace = Workspace::from_fixture("workspace");
    let (mut server, _) = Server::start(&workspace, UTF16);
    let mut docs = open_briefs(&mut server, &workspace, 60);
    for (i, doc) in docs.iter_mut().enumerate() {
        // The missing field added at the end, then the title changed and `Constraints` taken
        // out; each edit placed in the text the one before it left.
        let field = FIELDS[i % 3];
        let end = doc.text.len();
        let add = doc.edit(end..end, &format!("## {field}\nAbout {field}.\n\n"));
        server.change(doc, vec![add]);
        let rename = doc.replace(&format!("# Brief {i} "), &format!("# Task {i} of many "));
        let take_out = doc.replace("## Constraints\nAbout Constraints.\n\n", "");
        server.change(doc, vec![rename, take_out]);
    }
    for (i, doc) in docs.iter().enumerate() {
        let diagnostics = server.wait_for_diagnostics(&doc.uri, Some(3));
        let expected = missing(&format!("Task {i} of many"), "Constraints");
        assert_eq!(render(&diagnostics), expected, "{}", doc.uri);
    }
    // Each final text, opened afresh, gets the same diagnostics.
    for (i, doc) in docs.iter().enumerate().step_by(7) {
        let fresh = server.open(&workspace.uri(&format!("fresh{i}.brief.md")), &doc.text);
        let diagnostics = server.wait_for_diagnostics(&fresh.uri, Some(1));
        let expected = missing(&format!("Task {i} of many"), "Constraints");
        assert_eq!(render(&diagnostics), expected);
    }
    server.shutdown();
}

/// Document symbols as `name/child,child` lines.
fn symbol_names(symbols: &Value) -> Vec<String> {
    let names = |symbols: &Value| -> Vec<String> {
        let symbols = symbols.as_array().cloned().unwrap_or_default();
        symbols
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let symbols = symbols.as_array().unwrap();
    symbols
        .iter()
        .map(|s| {
            format!(
                "{}/{}",
                s["name"].as_str().unwrap(),
                names(&s["children"]).join(",")
            )
        })
        .collect()
}

#[test]
fn a_request_on_a_document_not_parsed_yet_sees_its_whole_outline() {
    let workspace = Workspace::from_fixture("workspace");
    let (mut server, _) = Server::start(&workspace, UTF16);
    let docs = open_briefs(&mut server, &workspace, 100);
    // Asked before the last documents can have been parsed off the handler thread.
    let last = docs.last().unwrap();
    let symbols = server.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": last.uri } }),
    );
    assert_eq!(
        symbol_names(&symbols),
        ["Brief 99/Objective,Constraints,Expected Output"]
    );
    let hover = server.request("textDocument/hover", last.at("## Constraints", 4));
    let hover = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(hover.contains("**Constraints** · required"), "{hover}");
    // Parsed by the request, it is still diagnosed at its version.
    let diagnostics = server.wait_for_diagnostics(&last.uri, Some(1));
    assert_eq!(render(&diagnostics), missing("Brief 99", "Context"));
    server.shutdown();
}

#[test]
fn a_link_to_a_document_opened_just_before_reads_its_parse() {
    let workspace = Workspace::from_fixture("workspace");
    let (mut server, _) = Server::start(&workspace, UTF16);
    // Only in the editor, not on disk; long, so its parse is still running when the linking
    // document (short) is linted on the other thread.
    let mut target = brief(0, "Target", &FIELDS);
    target += &filler(1).repeat(40);
    let target = server.open(&workspace.uri("target.brief.md"), &target);
    let linking = brief(1, "Linking", &FIELDS).replace(
        "## Objective\n",
        "## Objective\nFrom [[target.brief.md#Target]].\n",
    );
    let linking = server.open(&workspace.uri("linking.brief.md"), &linking);
    assert_eq!(
        render(&server.wait_for_diagnostics(&linking.uri, Some(1))),
        ""
    );
    assert_eq!(
        render(&server.wait_for_diagnostics(&target.uri, Some(1))),
        ""
    );
    server.shutdown();
}

#[test]
fn a_document_closed_and_opened_again_is_diagnosed_for_its_new_text() {
    let workspace = Workspace::from_fixture("workspace");
    let (mut server, _) = Server::start(&workspace, UTF16);
    let uri = workspace.uri("again.brief.md");
    open_briefs(&mut server, &workspace, 20);
    server.open(&uri, &brief(0, "First", &FIELDS[..2]));
    server.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": uri } }),
    );
    // The same version, as an editor reopening a tab sends it, with other text.
    server.open(&uri, &brief(0, "Second", &FIELDS[1..]));
    // Long, so that its diagnostics come after the others'.
    let mut sentinel = brief(0, "Sentinel", &FIELDS);
    sentinel += &filler(1).repeat(40);
    let sentinel = server.open(&workspace.uri("sentinel.brief.md"), &sentinel);
    // What was published for the document, in order, up to the sentinel's diagnostics.
    let mut published = Vec::new();
    loop {
        let message = server.wait_for("diagnostics", |m| {
            let params = &m["params"];
            m["method"] == "textDocument/publishDiagnostics"
                && (params["uri"] == uri || params["uri"] == sentinel.uri.as_str())
        });
        if message["params"]["uri"] == sentinel.uri.as_str() {
            break;
        }
        let version = message["params"]["version"].as_i64();
        published.push((
            version,
            render(message["params"]["diagnostics"].as_array().unwrap()),
        ));
    }
    // Whatever was published before the close, the last word is the second text's: a lint of
    // the first text that ends after the reopening is dropped, though its version matches.
    // (That lint must start before the close is read, so this rarely catches its absence.)
    let last = published.last().expect("the document was diagnosed");
    assert_eq!(
        last,
        &(Some(1), missing("Second", "Context")),
        "{published:#?}"
    );
    server.shutdown();
}

#[test]
fn a_document_too_large_to_lint_stays_unlinted_when_edited() {
    let workspace = Workspace::from_fixture("workspace");
    let (mut server, _) = Server::start(&workspace, UTF16);
    let huge = format!("# Huge @writer\n{}", "x".repeat(9 * 1024 * 1024));
    let mut doc = server.open(&workspace.uri("huge.brief.md"), &huge);
    let change = doc.replace("# Huge", "# Huger");
    server.change(&mut doc, vec![change]);
    support::assert_too_large_to_lint(&mut server, &doc.uri, 2);
    server.shutdown();
}
