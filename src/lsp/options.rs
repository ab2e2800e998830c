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
}
