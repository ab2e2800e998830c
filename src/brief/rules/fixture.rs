//! The fixture helper for rule tests: lint a document and render each diagnostic under the
//! line it sits on, with `^` under its range, so expectations read like the document.

use std::collections::BTreeMap;
use std::path::Path;

use crate::brief::kind::Kinds;
use crate::brief::lint::{lint, Context, OtherDocuments};
use crate::config::Config;
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
    fn titles(&self, file: &str) -> Option<Vec<String>> {
        self.0.get(file).cloned()
    }
}

/// Lints `text` as `fixture.brief.md` with [`AGENTS`] plus `extra_config`, and renders the
/// diagnostics of the given codes (all when `codes` is empty).
pub fn render(text: &str, extra_config: &str, codes: &[&str]) -> String {
    let config =
        Config::from_toml(&format!("{AGENTS}\n{extra_config}")).expect("fixture config parses");
    let kinds = Kinds::from_config(&config.file.kinds);
    let files = Files([("other.brief.md", vec!["Plan".to_owned()])].into());
    let context = Context {
        config: &config,
        kinds: &kinds,
        path: Some(Path::new("fixture.brief.md")),
        others: &files,
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
                serde_json::to_string(fix).expect("fix hints serialize")
            ));
        }
    }
    out
}
