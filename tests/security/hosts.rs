//! DESIGN §7: a cloned repository may point an agent that carries no key at any endpoint
//! without the user's trust, so wherever text would go elsewhere than the provider's own
//! endpoint, the send actions, the send lens and the preview name the host (credentials
//! written into a URL never shown). Nothing is sent: the endpoints here do not exist.

use serde_json::json;

use crate::support::editor::Editor;
use crate::support::Workspace;

const BRIEF: &str = "# Scan prices @elsewhere\n\n## Objective\n\nFind the prices.\n\n## Context\n\nWe reprice.\n\n## Constraints\n\nPublic sources.\n\n## Expected Output\n\nA table.\n";

/// `elsewhere` sends to a host of the repository's choosing (no key, so no trust needed);
/// `plain` to its provider's own endpoint; `proxied` through a proxy, with a password in its
/// URL (which needs trust).
const CONFIG: &str = "[agents.elsewhere]\nprovider = \"openai\"\nmodel = \"m\"\nbase_url = \"https://llm.example.net/v1\"\n\n\
                      [agents.plain]\nprovider = \"openai\"\nmodel = \"m\"\n\n\
                      [agents.proxied]\nprovider = \"anthropic\"\nmodel = \"m\"\nproxy = \"http://me:hunter2@proxy.corp:3128\"\n";

#[test]
fn sends_and_previews_name_the_host_a_repositorys_agent_points_at() {
    let workspace = Workspace::new("security-hosts");
    workspace.write("baton.toml", CONFIG);
    let options = json!({ "trustedWorkspace": false });
    let mut editor = Editor::open(&workspace, "a.brief.md", BRIEF, options);

    assert_eq!(
        editor.titles_at("Find the"),
        [
            "Send \"Scan prices\" to @elsewhere · llm.example.net",
            "Send \"Scan prices\" to @plain",
            "Send \"Scan prices\" to @proxied · api.anthropic.com via proxy.corp:3128 — needs trust",
            "Preview payload for @elsewhere · llm.example.net",
        ]
    );
    let lenses = editor.lenses();
    let send = &lenses[0]["command"]["title"];
    assert_eq!(
        send, "▶ Send to @elsewhere · llm.example.net",
        "{lenses:#?}"
    );

    let preview = editor.run_action(
        "Find the",
        "Preview payload for @elsewhere · llm.example.net",
    );
    let path = preview["uri"]
        .as_str()
        .unwrap()
        .strip_prefix("file://")
        .unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.starts_with("<!-- baton: the payload for @elsewhere (m), exactly as it would be sent to llm.example.net. Nothing was sent. -->\n"),
        "{text}"
    );
    editor.server.shutdown();
}
