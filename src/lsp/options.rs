//! The settings an editor passes in `initializationOptions`.
//!
//! A typed struct, so that the editor integrations (the VS Code extension's `package.json`)
//! can be checked against it field by field.

use serde::Deserialize;

/// `initializationOptions`, as sent by the editor. Unknown fields are ignored, so an older
/// server still starts with a newer extension.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InitializationOptions {
    /// Whether the user trusts this workspace to run `command` agents and to send API keys to
    /// custom endpoints (DESIGN §7). `None` means not trusted.
    pub trusted_workspace: Option<bool>,
    /// The log level for the server's stderr (`error`, `warn`, `info`, `debug`, `trace`), or
    /// any `tracing` filter directive. `BATON_LOG` in the environment takes precedence.
    pub log_level: Option<String>,
}

/// Every field of [`InitializationOptions`] as the editor spells it, with its JSON type
/// (`boolean` or `string`, as in a VS Code `package.json` setting). `tests/editor_settings.rs`
/// checks the VS Code extension's settings against this list; the unit test below keeps the
/// list true to the struct.
pub const FIELDS: &[(&str, &str)] = &[("trustedWorkspace", "boolean"), ("logLevel", "string")];

impl InitializationOptions {
    /// The options in an `initialize` request; absent or malformed options count as defaults,
    /// since a settings typo must never keep the server from starting.
    pub fn from_value(value: Option<serde_json::Value>) -> Self {
        match value.map(serde_json::from_value) {
            Some(Ok(options)) => options,
            Some(Err(error)) => {
                tracing::warn!("ignoring malformed initializationOptions: {error}");
                InitializationOptions::default()
            }
            None => InitializationOptions::default(),
        }
    }

    pub fn is_trusted(&self) -> bool {
        self.trusted_workspace.unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_camel_case_fields_and_ignores_unknown_or_bad_ones() {
        let options = InitializationOptions::from_value(Some(serde_json::json!({
            "trustedWorkspace": true, "logLevel": "debug", "future": 1
        })));
        assert!(options.is_trusted());
        assert_eq!(options.log_level.as_deref(), Some("debug"));
        let bad = serde_json::json!({ "trustedWorkspace": "yes" });
        assert_eq!(
            InitializationOptions::from_value(Some(bad)),
            InitializationOptions::default()
        );
        assert!(!InitializationOptions::from_value(None).is_trusted());
    }

    /// A value of the JSON type `kind` that differs from the field's default.
    fn sample(kind: &str) -> serde_json::Value {
        match kind {
            "boolean" => serde_json::json!(true),
            "string" => serde_json::json!("debug"),
            other => panic!("FIELDS names a type the test does not know: {other}"),
        }
    }

    #[test]
    fn fields_lists_exactly_the_struct_fields_with_their_types() {
        // Each listed name is a field of that type: set alone, it changes the options.
        for (name, kind) in FIELDS {
            let json = serde_json::json!({ *name: sample(kind) });
            let options: InitializationOptions = serde_json::from_value(json)
                .unwrap_or_else(|error| panic!("{name} is not a {kind}: {error}"));
            assert_ne!(
                options,
                InitializationOptions::default(),
                "{name} is no field"
            );
        }
        // Every field is listed: the literal below names them all (no `..Default::default()`),
        // so a new field breaks the build until it is added here and to FIELDS.
        let all: serde_json::Map<String, serde_json::Value> = FIELDS
            .iter()
            .map(|(name, kind)| (name.to_string(), sample(kind)))
            .collect();
        let options: InitializationOptions =
            serde_json::from_value(serde_json::Value::Object(all)).unwrap();
        let expected = InitializationOptions {
            trusted_workspace: Some(true),
            log_level: Some("debug".to_string()),
        };
        assert_eq!(options, expected);
    }
}
