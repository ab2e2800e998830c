//! The fixture helper for rule tests: lint a document and render each diagnostic under the
//! line it sits on, with `^` under its range, so expectations read like the document.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::brief::kind::Kinds;
use crate::brief::lint::{lint, Context, FailedRun, LinkedDocument, Machine, OtherDocuments};
use crate::config::{merge, Config};
use crate::document::Document;

/// The agents every fixture can name.
pub const AGENTS: &str = r#"
[agents.researcher]
provider = "openai"
model = "gpt-4o-mini"

[agents.writer]
provider = "anthropic"
model = "claude-sonnet-4-5"
"#;

struct Files(BTreeMap<&'static str, Vec<String>>);

impl OtherDocuments for Files {
    fn find(&self, file: &str) -> LinkedDocument {
        // A fixture's workspace is `/ws`; a link that climbs out of it (`../`) or starts at
        // the root leaves it.
        if file.starts_with("../") || file.starts_with('/') {
            return LinkedDocument::Outside {
                workspace: "/ws".into(),
            };
        }
        match self.0.get(file) {
            Some(titles) => LinkedDocument::Found(titles.clone()),
            None => LinkedDocument::Missing,
        }
    }
}

/// What a fixture is linted with besides its text.
#[derive(Default)]
pub struct Setup {
    /// The user's configuration, after [`AGENTS`].
    pub user: &'static str,
    /// The workspace's `baton.toml` (`/ws/baton.toml`), merged over the user's.
    pub workspace: &'static str,
    /// The environment and trust; by default nothing is set and nothing trusted, whatever the
    /// test runner's environment holds.
    pub machine: Machine,
    /// The briefs whose last run failed.
    pub failed_runs: Vec<FailedRun>,
    pub over_budget: Vec<crate::brief::lint::OverBudget>,
}

/// Lints `text` as `fixture.brief.md` with [`AGENTS`] plus `extra_config`, and renders the
/// diagnostics of the given codes (all when `codes` is empty).
pub fn render(text: &str, extra_config: &'static str, codes: &[&str]) -> String {
    let setup = Setup {
        user: extra_config,
        ..Setup::default()
    };
    render_with(text, &setup, codes)
}

/// The configuration of a [`Setup`], with each agent located in the file that defines it.
fn config(setup: &Setup) -> Config {
    let user = Config::from_toml(&format!("{AGENTS}\n{}", setup.user)).expect("user config parses");
    let workspace = Config::from_toml(setup.workspace).expect("workspace config parses");
    let file = merge(Some(user.file.clone()), Some(workspace.file.clone()));
    let mut config = Config::new(file, None);
    config.workspace_path = Some(PathBuf::from("/ws/baton.toml"));
    config.user_path = Some(PathBuf::from("/home/me/.config/baton/config.toml"));
    for (file, path) in [
        (&user, &config.user_path),
        (&workspace, &config.workspace_path),
    ] {
        for name in file.file.agents.keys() {
            let path = path.clone().expect("fixture paths are set");
            config.agent_locations.insert(name.clone(), (path, 0..0));
        }
    }
    config
}

/// Lints `text` as `fixture.brief.md` with the configuration and machine of `setup`, and
/// renders the diagnostics of the given codes (all when `codes` is empty).
pub fn render_with(text: &str, setup: &Setup, codes: &[&str]) -> String {
    let config = config(setup);
    let kinds = Kinds::from_config(&config.file.kinds);
    let files = Files([("other.brief.md", vec!["Plan".to_owned()])].into());
    let context = Context {
        config: &config,
        kinds: &kinds,
        path: Some(Path::new("fixture.brief.md")),
        others: &files,
        machine: &setup.machine,
        failed_runs: &setup.failed_runs,
        over_budget: &setup.over_budget,
    };
    let document = Document::new(text);
    let analysis = lint(&document, &context);
    let mut out = String::new();
    for diagnostic in &analysis.diagnostics {
        if !codes.is_empty() && !codes.contains(&diagnostic.code.as_str()) {
            continue;
        }
        let rope = document.rope();
        let line = rope.byte_to_line(diagnostic.range.start);
        let line_start = rope.line_to_byte(line);
        let line_text = rope.line(line).to_string();
        let column = document
            .slice(line_start..diagnostic.range.start)
            .chars()
            .count();
        let width = document
            .slice(diagnostic.range.clone())
            .lines()
            .next()
            .map_or(0, |text| text.chars().count());
        out.push_str(&format!(
            "{}: {}[{}]: {}\n",
            line + 1,
            diagnostic.severity,
            diagnostic.code,
            diagnostic.message
        ));
        out.push_str(&format!("  | {}", line_text.trim_end_matches(['\n', '\r'])));
        out.push_str(&format!(
            "\n  | {}{}\n",
            " ".repeat(column),
            "^".repeat(width.max(1))
        ));
        if let Some(fix) = &diagnostic.fix {
            out.push_str(&format!(
                "  fix: {}\n",
                serde_json::to_string(fix.as_ref()).expect("fix hints serialize")
            ));
        }
    }
    out
}
