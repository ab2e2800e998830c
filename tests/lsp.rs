//! The real binary over stdio, driven as an editor drives it.

mod support;

use expect_test::expect;
use serde_json::{json, Value};
use support::{render, underlined, Server, Workspace};

const UTF16: &[&str] = &["utf-16"];
const UTF8: &[&str] = &["utf-8", "utf-16"];

#[test]
fn initialize_announces_every_capability_and_registers_the_config_watcher() {
    let workspace = Workspace::from_fixture("workspace");
    let (mut server, mut result) = Server::start(&workspace, UTF16);
    result["serverInfo"]["version"] = json!("VERSION");
    expect![[r##"
        {
          "capabilities": {
            "codeActionProvider": {
              "codeActionKinds": [
                "quickfix"
              ]
            },
            "codeLensProvider": {
              "resolveProvider": true
            },
            "completionProvider": {
              "triggerCharacters": [
                "@",
                "#",
                " ",
                ":"
              ]
            },
            "definitionProvider": true,
            "documentSymbolProvider": true,
            "executeCommandProvider": {
              "commands": [
                "baton.send",
                "baton.preview",
                "baton.cancel",
                "baton.recover",
                "baton.agents",
                "baton.journal",
                "baton.runs",
                "baton.runPipeline",
                "baton.newThread",
                "baton.handoff",
                "baton.resume"
              ]
            },
            "hoverProvider": true,
            "positionEncoding": "utf-16",
            "referencesProvider": true,
            "renameProvider": {
              "prepareProvider": true
            },
            "textDocumentSync": {
              "change": 2,
              "openClose": true
            },
            "workspace": {
              "workspaceFolders": {
                "changeNotifications": true,
                "supported": true
              }
            }
          },
          "serverInfo": {
            "name": "baton",
            "version": "VERSION"
          }
        }"##]]
    .assert_eq(&serde_json::to_string_pretty(&result).unwrap());

    let request = server.wait_for_server_request("client/registerCapability");
    let registration = &request["params"]["registrations"][0];
    assert_eq!(registration["method"], "workspace/didChangeWatchedFiles");
    let watcher = &registration["registerOptions"]["watchers"][0];
    assert_eq!(watcher["globPattern"], "**/baton.toml");
    server.shutdown();
}

/// Opens a brief with emoji, CJK and CRLF, edits it around those characters, and renders
/// the diagnostics after each step.
fn type_around_wide_characters(encodings: &[&str]) -> String {
    let workspace = Workspace::from_fixture("workspace");
    let (mut server, _) = Server::start(&workspace, encodings);
    let text = "# Scan 🎉 価格 @reseacher\r\n## Objective\r\nFind 日本 prices 🎉.\r\n## Goal\r\n\
                # 第二 🎉 @nobody\r\n";
    let mut doc = server.open(&workspace.uri("unicode.brief.md"), text);
    let mut out = render(&server.wait_for_diagnostics(&doc.uri, Some(1)));

    // Emoji and CJK typed before a mention, a new field with an emoji, all in one change.
    let first = doc.replace("🎉 価格", "🎉🚀 価格表");
    let second = doc.replace("## Goal\r\n", "## Goal\r\n## Context\r\n😀\r\n");
    let third = doc.replace("二 🎉", "二 🎉🎉");
    server.change(&mut doc, vec![first, second, third]);
    let diagnostics = server.wait_for_diagnostics(&doc.uri, Some(2));
    out += &format!("-- v2\n{}", render(&diagnostics));
    for (code, text) in underlined(&doc, &diagnostics) {
        out += &format!("{code}: {text:?}\n");
    }
    server.shutdown();
    out
}

#[test]
fn ranges_are_exact_around_emoji_cjk_and_crlf_in_utf16() {
    expect![[r###"
        0:0-0:23 error missing-field: `Scan 🎉 価格` is missing the required fields `Context`, `Constraints`, `Expected Output`; add a `## ` heading for each
        0:13-0:23 error unknown-agent: unknown agent `@reseacher` (did you mean `@researcher`?); agents are defined in baton.toml
        3:0-3:7 warning empty-field: the field `Goal` is empty; write what belongs under it, or remove the heading
        3:0-3:7 warning duplicate-field: `Goal` repeats the field `Objective` (written `Objective` above); merge them into one section
        4:0-4:15 error missing-field: `第二 🎉` is missing the required fields `Objective`, `Context`, `Constraints`, `Expected Output`; add a `## ` heading for each
        4:8-4:15 error unknown-agent: unknown agent `@nobody`; agents are defined in baton.toml
        -- v2
        0:0-0:26 error missing-field: `Scan 🎉🚀 価格表` is missing the required fields `Constraints`, `Expected Output`; add a `## ` heading for each
        0:16-0:26 error unknown-agent: unknown agent `@reseacher` (did you mean `@researcher`?); agents are defined in baton.toml
        3:0-3:7 warning empty-field: the field `Goal` is empty; write what belongs under it, or remove the heading
        3:0-3:7 warning duplicate-field: `Goal` repeats the field `Objective` (written `Objective` above); merge them into one section
        6:0-6:17 error missing-field: `第二 🎉🎉` is missing the required fields `Objective`, `Context`, `Constraints`, `Expected Output`; add a `## ` heading for each
        6:10-6:17 error unknown-agent: unknown agent `@nobody`; agents are defined in baton.toml
        missing-field: "# Scan 🎉🚀 価格表 @reseacher"
        unknown-agent: "@reseacher"
        empty-field: "## Goal"
        duplicate-field: "## Goal"
        missing-field: "# 第二 🎉🎉 @nobody"
        unknown-agent: "@nobody"
    "###]].assert_eq(&type_around_wide_characters(UTF16));
}

#[test]
fn a_client_offering_utf8_gets_byte_columns() {
    expect![[r###"
        0:0-0:29 error missing-field: `Scan 🎉 価格` is missing the required fields `Context`, `Constraints`, `Expected Output`; add a `## ` heading for each
        0:19-0:29 error unknown-agent: unknown agent `@reseacher` (did you mean `@researcher`?); agents are defined in baton.toml
        3:0-3:7 warning empty-field: the field `Goal` is empty; write what belongs under it, or remove the heading
        3:0-3:7 warning duplicate-field: `Goal` repeats the field `Objective` (written `Objective` above); merge them into one section
        4:0-4:21 error missing-field: `第二 🎉` is missing the required fields `Objective`, `Context`, `Constraints`, `Expected Output`; add a `## ` heading for each
        4:14-4:21 error unknown-agent: unknown agent `@nobody`; agents are defined in baton.toml
        -- v2
        0:0-0:36 error missing-field: `Scan 🎉🚀 価格表` is missing the required fields `Constraints`, `Expected Output`; add a `## ` heading for each
        0:26-0:36 error unknown-agent: unknown agent `@reseacher` (did you mean `@researcher`?); agents are defined in baton.toml
        3:0-3:7 warning empty-field: the field `Goal` is empty; write what belongs under it, or remove the heading
        3:0-3:7 warning duplicate-field: `Goal` repeats the field `Objective` (written `Objective` above); merge them into one section
        6:0-6:25 error missing-field: `第二 🎉🎉` is missing the required fields `Objective`, `Context`, `Constraints`, `Expected Output`; add a `## ` heading for each
        6:18-6:25 error unknown-agent: unknown agent `@nobody`; agents are defined in baton.toml
        missing-field: "# Scan 🎉🚀 価格表 @reseacher"
        unknown-agent: "@reseacher"
        empty-field: "## Goal"
        duplicate-field: "## Goal"
        missing-field: "# 第二 🎉🎉 @nobody"
        unknown-agent: "@nobody"
    "###]].assert_eq(&type_around_wide_characters(UTF8));
}

#[test]
fn markdown_that_is_not_a_brief_gets_no_diagnostics() {
    let workspace = Workspace::from_fixture("workspace");
    let (mut server, _) = Server::start(&workspace, UTF16);
    let mut doc = server.open(&workspace.uri("notes.md"), &workspace.read("notes.md"));
    assert_eq!(
        server.wait_for_diagnostics(&doc.uri, Some(1)),
        Vec::<Value>::new()
    );
    let change = doc.replace("Nothing", "## Objective\n\nNothing");
    server.change(&mut doc, vec![change]);
    assert_eq!(
        server.wait_for_diagnostics(&doc.uri, Some(2)),
        Vec::<Value>::new()
    );

    // An untitled buffer has no path: its front matter alone makes it a brief.
    let untitled = server.open(
        "untitled:Untitled-1",
        "---\nkind: brief\n---\n# T @writer\n",
    );
    let diagnostics = server.wait_for_diagnostics(&untitled.uri, Some(1));
    expect![[r#"
        3:0-3:11 error missing-field: `T` is missing the required fields `Objective`, `Context`, `Constraints`, `Expected Output`; add a `## ` heading for each
    "#]].assert_eq(&render(&diagnostics));
    server.shutdown();
}

/// The quick fixes offered for the diagnostics published on `doc`, by title.
fn quick_fixes(server: &mut Server, doc: &support::Doc, diagnostics: &[Value]) -> Vec<Value> {
    let params = json!({
        "textDocument": { "uri": doc.uri },
        "range": diagnostics[0]["range"],
        "context": { "diagnostics": diagnostics },
    });
    let actions = server.request("textDocument/codeAction", params);
    // The dispatch actions ("Send … to @agent") come after the fixes; tests/dispatch.rs has them.
    let actions = actions.as_array().unwrap().iter();
    actions
        .filter(|action| action["kind"] == "quickfix")
        .cloned()
        .collect()
}

fn edits_of(action: &Value) -> Vec<Value> {
    let change = &action["edit"]["documentChanges"][0];
    change["edits"].as_array().unwrap().clone()
}

#[test]
fn a_missing_field_quick_fix_inserts_the_field() {
    let workspace = Workspace::from_fixture("workspace");
    let (mut server, _) = Server::start(&workspace, UTF16);
    let text = "# Scan 🎉 pricing @researcher\n\n## Objective\nFind prices.\n\n## Context\nAcme.\n";
    let mut doc = server.open(&workspace.uri("fix.brief.md"), text);
    let diagnostics = server.wait_for_diagnostics(&doc.uri, Some(1));
    let actions = quick_fixes(&mut server, &doc, &diagnostics);
    let titles: Vec<String> = actions
        .iter()
        .map(|a| {
            format!(
                "{} preferred={}",
                a["title"].as_str().unwrap(),
                a["isPreferred"]
            )
        })
        .collect();
    expect![[r#"
        Insert all 2 missing fields preferred=true
        Insert field `Constraints` preferred=false
        Insert field `Expected Output` preferred=false"#]]
    .assert_eq(&titles.join("\n"));

    let one = actions
        .iter()
        .find(|a| a["title"] == "Insert field `Constraints`")
        .unwrap();
    assert_eq!(
        one["edit"]["documentChanges"][0]["textDocument"]["version"],
        1
    );
    let changes = doc.apply_text_edits(&edits_of(one));
    server.change(&mut doc, changes);
    assert!(doc.text.contains("## Constraints\n"), "{}", doc.text);
    let diagnostics = server.wait_for_diagnostics(&doc.uri, Some(2));
    expect![[r#"
        0:0-0:29 error missing-field: `Scan 🎉 pricing` is missing the required field `Expected Output`; add a `## ` heading for each
        8:0-8:14 warning empty-field: the field `Constraints` is empty; write what belongs under it, or remove the heading
    "#]].assert_eq(&render(&diagnostics));

    server.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": doc.uri } }),
    );
    assert_eq!(
        server.wait_for_diagnostics(&doc.uri, None),
        Vec::<Value>::new()
    );
    server.shutdown();
}

#[test]
fn replace_quick_fixes_correct_an_unknown_agent_and_a_broken_link() {
    let workspace = Workspace::from_fixture("workspace");
    let (mut server, _) = Server::start(&workspace, UTF16);
    let text = workspace
        .read("pipeline.brief.md")
        .replace("@writer", "@wirter")
        .replace("[[Market scan]]", "[[Market scn]]");
    let mut doc = server.open(&workspace.uri("pipeline.brief.md"), &text);
    let diagnostics = server.wait_for_diagnostics(&doc.uri, Some(1));
    let expected = [
        ("unknown-agent", "@wirter"),
        ("broken-link", "[[Market scn]]"),
    ];
    let expected = expected.map(|(code, text)| (code.to_owned(), text.to_owned()));
    assert_eq!(underlined(&doc, &diagnostics), expected);
    let actions = quick_fixes(&mut server, &doc, &diagnostics);
    let titles: Vec<(&str, bool)> = actions
        .iter()
        .map(|a| (a["title"].as_str().unwrap(), a["isPreferred"] == true))
        .collect();
    let expected = [
        ("Replace with `@writer`", true),
        ("Replace with `[[Market scan]]`", true),
    ];
    assert_eq!(titles, expected);

    let mut changes = doc.apply_text_edits(&edits_of(&actions[1]));
    changes.extend(doc.apply_text_edits(&edits_of(&actions[0])));
    server.change(&mut doc, changes);
    assert!(doc.text.contains("# Pricing memo @writer\n"));
    assert!(doc.text.contains("from [[Market scan]]."));
    assert_eq!(
        server.wait_for_diagnostics(&doc.uri, Some(2)),
        Vec::<Value>::new()
    );
    server.shutdown();
}

#[test]
fn a_config_change_relints_open_documents_and_a_broken_config_keeps_the_last_good_one() {
    let workspace = Workspace::from_fixture("workspace");
    let (mut server, _) = Server::start(&workspace, UTF16);
    let text = workspace
        .read("pipeline.brief.md")
        .replace("@writer", "@critic");
    let doc = server.open(&workspace.uri("pipeline.brief.md"), &text);
    let diagnostics = server.wait_for_diagnostics(&doc.uri, Some(1));
    assert_eq!(
        underlined(&doc, &diagnostics),
        [("unknown-agent".into(), "@critic".into())]
    );

    let config = workspace.read("baton.toml");
    let changed = |server: &mut Server| {
        let change = json!({ "changes": [{ "uri": workspace.uri("baton.toml"), "type": 2 }] });
        server.notify("workspace/didChangeWatchedFiles", change);
    };
    workspace.write(
        "baton.toml",
        &format!("{config}\n[agents.critic]\nprovider = \"ollama\"\n"),
    );
    changed(&mut server);
    assert_eq!(
        server.wait_for_diagnostics(&doc.uri, Some(1)),
        Vec::<Value>::new()
    );

    // Broken: the problem shows on baton.toml, and @critic stays known.
    workspace.write(
        "baton.toml",
        &format!("{config}\n[agents.critic\nprovider = 1\n"),
    );
    changed(&mut server);
    let problems = server.wait_for_diagnostics(&workspace.uri("baton.toml"), None);
    expect![[r#"
        12:14-12:14 error invalid-config: unclosed table, expected `]`
    "#]]
    .assert_eq(&render(&problems));
    assert_eq!(
        server.wait_for_diagnostics(&doc.uri, Some(1)),
        Vec::<Value>::new()
    );

    // Fixed without @critic: its problems clear and @critic is unknown again.
    workspace.write("baton.toml", &config);
    changed(&mut server);
    let problems = server.wait_for_diagnostics(&workspace.uri("baton.toml"), None);
    assert_eq!(problems, Vec::<Value>::new());
    assert_eq!(server.wait_for_diagnostics(&doc.uri, Some(1)).len(), 1);
    server.shutdown();
}

#[test]
fn a_malformed_message_gets_an_error_and_the_server_keeps_serving() {
    let workspace = Workspace::from_fixture("workspace");
    let (mut server, _) = Server::start(&workspace, UTF16);
    server.send(r#"{"jsonrpc":"2.0","id":7,"method":"#);
    let error = server.wait_for("a parse error", |m| m["id"].is_null());
    assert_eq!(error["error"]["code"], -32700, "{error}");
    server.send(r#"{"jsonrpc":"2.0","id":8,"method":42}"#);
    let error = server.wait_for("an invalid request error", |m| m["id"] == 8);
    assert_eq!(error["error"]["code"], -32600, "{error}");

    // A document over the size limit gets one diagnostic saying so, and nothing else.
    let huge = format!("# Huge @writer\n{}", "x".repeat(9 * 1024 * 1024));
    let doc = server.open(&workspace.uri("huge.brief.md"), &huge);
    support::assert_too_large_to_lint(&mut server, &doc.uri, 1);
    server.shutdown();
}

/// The last segment of a URI.
fn file_name(uri: &Value) -> &str {
    uri.as_str().unwrap().rsplit('/').next().unwrap()
}

/// Document symbols as an indented outline: name, detail, kind, selection range.
fn outline(symbols: &[Value], depth: usize, out: &mut String) {
    for symbol in symbols {
        let start = &symbol["selectionRange"]["start"];
        out.push_str(&format!(
            "{}{} {} kind={} at {}:{}\n",
            "  ".repeat(depth),
            symbol["name"].as_str().unwrap(),
            symbol["detail"].as_str().unwrap_or("-"),
            symbol["kind"],
            start["line"],
            start["character"],
        ));
        if let Some(children) = symbol["children"].as_array() {
            outline(children, depth + 1, out);
        }
    }
}

#[test]
fn symbols_hover_and_completion() {
    let workspace = Workspace::from_fixture("workspace");
    let (mut server, _) = Server::start(&workspace, UTF16);
    let mut doc = server.open(
        &workspace.uri("pipeline.brief.md"),
        &workspace.read("pipeline.brief.md"),
    );
    server.wait_for_diagnostics(&doc.uri, Some(1));

    let symbols = server.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": doc.uri } }),
    );
    let mut out = String::new();
    outline(symbols.as_array().unwrap(), 0, &mut out);
    expect![[r#"
        Market scan @researcher kind=5 at 0:0
          Objective - kind=8 at 2:0
          Context - kind=8 at 5:0
          Constraints - kind=8 at 8:0
          Expected Output - kind=8 at 11:0
        Pricing memo @writer kind=5 at 14:0
          Objective - kind=8 at 16:0
          Context - kind=8 at 19:0
          Constraints - kind=8 at 22:0
          Expected Output - kind=8 at 25:0
    "#]]
    .assert_eq(&out);

    let hover = server.request("textDocument/hover", doc.at("@writer", 2));
    assert_eq!(
        hover["range"],
        doc.range(doc.text.find("@writer").unwrap()..doc.text.find("@writer").unwrap() + 7)
    );
    expect![[r#"
        **@writer**

        - provider: `ollama`
        - model: `llama3.2`
        - base_url: `http://127.0.0.1:11434`
        - locality: local (the text stays on this machine)
        - context window: 128,000 tokens"#]]
    .assert_eq(hover["contents"]["value"].as_str().unwrap());
    let hover = server.request("textDocument/hover", doc.at("## Constraints", 4));
    assert_eq!(hover["contents"]["kind"], "markdown");
    assert!(hover["contents"]["value"]
        .as_str()
        .unwrap()
        .contains("**Constraints** · required"));

    // Typing `@` after a title on a heading offers the agents.
    let change = doc.replace("# Pricing memo @writer", "# Pricing memo 🎉 @");
    server.change(&mut doc, vec![change]);
    server.wait_for_diagnostics(&doc.uri, Some(2));
    let at = doc.at("🎉 @", "🎉 @".len());
    let items = server.request("textDocument/completion", at);
    let labels: Vec<String> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            format!(
                "{} {} {}",
                item["label"], item["textEdit"]["newText"], item["textEdit"]["range"]
            )
        })
        .collect();
    expect![[r#"
        "researcher" "researcher" {"end":{"character":19,"line":14},"start":{"character":19,"line":14}}
        "writer" "writer" {"end":{"character":19,"line":14},"start":{"character":19,"line":14}}"#]].assert_eq(&labels.join("\n"));
    server.shutdown();
}

#[test]
fn definition_and_links_across_open_documents() {
    let workspace = Workspace::from_fixture("workspace");
    let (mut server, _) = Server::start(&workspace, UTF16);
    let mut doc = server.open(
        &workspace.uri("pipeline.brief.md"),
        &workspace.read("pipeline.brief.md"),
    );
    let other = server.open(
        &workspace.uri("other.brief.md"),
        &workspace.read("other.brief.md"),
    );
    let mut goto = |at: Value| {
        let location = server.request("textDocument/definition", at);
        let start = &location["range"]["start"];
        let file = file_name(&location["uri"]);
        format!("{file}:{}:{}", start["line"], start["character"])
    };
    let found = [
        goto(doc.at("@writer", 3)),
        goto(doc.at("[[Market scan]]", 4)),
        goto(doc.at("(#market-scan)", 4)),
        goto(other.at("[[pipeline.brief.md#Market scan]]", 25)),
    ];
    assert_eq!(
        found,
        [
            "baton.toml:7:0",
            "pipeline.brief.md:0:0",
            "pipeline.brief.md:0:0",
            "pipeline.brief.md:0:0"
        ]
    );

    // Retitling the brief breaks the link from the other open document at once.
    server.wait_for_diagnostics(&other.uri, Some(1));
    let change = doc.replace("# Market scan", "# Market study");
    server.change(&mut doc, vec![change]);
    let diagnostics = server.wait_for_diagnostics(&other.uri, Some(1));
    let underlined = underlined(&other, &diagnostics);
    let expected = ("broken-link", "[[pipeline.brief.md#Market scan]]");
    assert_eq!(underlined, [(expected.0.into(), expected.1.into())]);
    server.shutdown();
}

#[test]
fn rename_updates_the_title_and_every_link_to_it() {
    let workspace = Workspace::from_fixture("workspace");
    let (mut server, _) = Server::start(&workspace, UTF16);
    let mut doc = server.open(
        &workspace.uri("pipeline.brief.md"),
        &workspace.read("pipeline.brief.md"),
    );
    let mut other = server.open(
        &workspace.uri("other.brief.md"),
        &workspace.read("other.brief.md"),
    );

    let references = server.request(
        "textDocument/references",
        json!({
            "textDocument": { "uri": doc.uri },
            "position": doc.position(4),
            "context": { "includeDeclaration": true },
        }),
    );
    let places: Vec<String> = references
        .as_array()
        .unwrap()
        .iter()
        .map(|l| format!("{} {}", file_name(&l["uri"]), l["range"]))
        .collect();
    expect![[r#"
        pipeline.brief.md {"end":{"character":13,"line":0},"start":{"character":2,"line":0}}
        pipeline.brief.md {"end":{"character":33,"line":17},"start":{"character":18,"line":17}}
        pipeline.brief.md {"end":{"character":28,"line":20},"start":{"character":4,"line":20}}
        other.brief.md {"end":{"character":54,"line":3},"start":{"character":21,"line":3}}"#]]
    .assert_eq(&places.join("\n"));

    let prepared = server.request("textDocument/prepareRename", doc.at("Market scan", 3));
    assert_eq!(prepared["placeholder"], "Market scan");
    assert_eq!(prepared["range"], doc.range(2..13));

    let mut params = doc.at("Market scan", 3);
    params["newName"] = json!("Price 🎉 scan");
    let edit = server.request("textDocument/rename", params);
    for change in edit["documentChanges"].as_array().unwrap() {
        let target = if change["textDocument"]["uri"] == doc.uri {
            &mut doc
        } else {
            &mut other
        };
        assert_eq!(change["textDocument"]["version"], 1);
        let changes = target.apply_text_edits(change["edits"].as_array().unwrap());
        server.change(target, changes);
    }
    assert!(
        doc.text.starts_with("# Price 🎉 scan @researcher\n"),
        "{}",
        doc.text
    );
    assert!(doc.text.contains("from [[Price 🎉 scan]]."), "{}", doc.text);
    assert!(
        doc.text.contains("[the scan](#price--scan)"),
        "{}",
        doc.text
    );
    assert!(
        other.text.contains("[[pipeline.brief.md#Price 🎉 scan]]"),
        "{}",
        other.text
    );

    // Both documents are still clean, and a title may not clash with another brief's.
    assert_eq!(
        server.wait_for_diagnostics(&doc.uri, Some(2)),
        Vec::<Value>::new()
    );
    assert_eq!(
        server.wait_for_diagnostics(&other.uri, Some(2)),
        Vec::<Value>::new()
    );
    let mut bad = doc.at("Pricing memo", 3);
    bad["newName"] = json!("price 🎉 SCAN");
    let error = server.request_response("textDocument/rename", bad.clone());
    assert_eq!(error["error"]["code"], -32803, "{error}");
    server.shutdown();
}

/// Edits sent back to back, without waiting for anything, land in order: right behind the
/// `didOpen` that the server is still storing, and after a close and a reopen with other text.
#[test]
fn edits_sent_without_waiting_land_in_order() {
    let workspace = Workspace::from_fixture("workspace");
    let (mut server, _) = Server::start(&workspace, UTF16);
    let uri = workspace.uri("burst.brief.md");
    let mut doc = server.open(&uri, "# Brief @nobody\n");
    for letter in 'A'..='T' {
        let change = doc.replace(" @nobody", &format!("{letter} @nobody"));
        server.change(&mut doc, vec![change]);
    }
    let title_of = |diagnostics: &[Value]| {
        let rendered = render(diagnostics);
        let title = rendered.split('`').nth(1).map(str::to_owned);
        title.unwrap_or_else(|| panic!("no title in {rendered}"))
    };
    let diagnostics = server.wait_for_diagnostics(&uri, Some(21));
    assert_eq!(title_of(&diagnostics), "BriefABCDEFGHIJKLMNOPQRST");

    server.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": uri } }),
    );
    let mut doc = server.open(&uri, "# Other @nobody\n");
    let change = doc.replace("Other", "Reopened");
    // A version the first session did not publish, to tell the publications apart.
    doc.version = 99;
    server.change(&mut doc, vec![change]);
    let diagnostics = server.wait_for_diagnostics(&uri, Some(100));
    assert_eq!(title_of(&diagnostics), "Reopened");
    server.shutdown();
}
