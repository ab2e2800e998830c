//! The VS Code extension's settings are the server's `initializationOptions`, no more, no less.
//!
//! `editors/vscode/package.json` declares `baton.*` settings; every one of them except the
//! client-only `baton.path` is sent as the `initializationOptions` field of the same name.
//! This test fails when either side gains, loses or retypes a field without the other.

use std::collections::BTreeMap;
use std::path::Path;

use baton::lsp::options::FIELDS;

/// Settings that only the extension reads; the server never sees them.
const CLIENT_ONLY: &[&str] = &["baton.path"];

fn extension_settings() -> BTreeMap<String, String> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/vscode/package.json");
    let text = std::fs::read_to_string(&manifest)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", manifest.display()));
    let json: serde_json::Value = serde_json::from_str(&text).expect("package.json is JSON");
    let properties = json["contributes"]["configuration"]["properties"]
        .as_object()
        .expect("package.json has contributes.configuration.properties");
    properties
        .iter()
        .filter(|(key, _)| key.starts_with("baton.") && !CLIENT_ONLY.contains(&key.as_str()))
        .map(|(key, schema)| {
            let kind = schema["type"]
                .as_str()
                .unwrap_or_else(|| panic!("{key} has no single JSON type"));
            (key["baton.".len()..].to_string(), kind.to_string())
        })
        .collect()
}

#[test]
fn vscode_settings_are_exactly_the_initialization_options() {
    let settings = extension_settings();
    let server: BTreeMap<String, String> = FIELDS
        .iter()
        .map(|(name, kind)| (name.to_string(), kind.to_string()))
        .collect();
    assert_eq!(
        settings, server,
        "editors/vscode/package.json `baton.*` settings (left, without baton.path) differ from \
         InitializationOptions in src/lsp/options.rs (right)"
    );
}

#[test]
fn client_only_settings_are_declared() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/vscode/package.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(manifest).unwrap()).unwrap();
    for key in CLIENT_ONLY {
        let schema = &json["contributes"]["configuration"]["properties"][key];
        assert_eq!(
            schema["type"], "string",
            "{key} is declared as a string setting"
        );
    }
}
