//! Document symbols (DESIGN §8): the outline an editor shows, one symbol per brief with its
//! fields and output blocks as children.

use std::ops::Range;

use super::kind::{normalize, Kinds};
use super::lint::Analysis;
use super::model::{Brief, OutputBlock};
use crate::document::Document;

/// What a symbol stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    Brief,
    Field,
    Output,
}

/// One entry of the outline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    pub detail: Option<String>,
    pub kind: SymbolKind,
    /// The whole section.
    pub range: Range<usize>,
    /// What the editor selects and reveals: the heading (or a headless brief's first line).
    pub selection_range: Range<usize>,
    pub children: Vec<Symbol>,
}

/// The name of a brief without a title: editors reject symbols with empty names.
pub const UNTITLED: &str = "(untitled brief)";

/// The briefs of a baton document with their fields and outputs; nothing for other Markdown.
/// Aliases are resolved against the built-in kinds; see [`document_symbols_in`].
pub fn document_symbols(document: &Document, analysis: &Analysis) -> Vec<Symbol> {
    document_symbols_in(document, analysis, &Kinds::default())
}

/// [`document_symbols`] with the kinds in force, so that aliases a configuration adds are
/// shown with their canonical field name too.
pub fn document_symbols_in(document: &Document, analysis: &Analysis, kinds: &Kinds) -> Vec<Symbol> {
    if !analysis.is_baton_document() {
        return Vec::new();
    }
    let kind = analysis.kind.as_deref().and_then(|name| kinds.get(name));
    let canonical = |written: &str| {
        let spec = kind.and_then(|kind| kind.field(written))?;
        (normalize(&spec.name) != normalize(written)).then(|| spec.name.clone())
    };
    analysis
        .briefs
        .iter()
        .map(|brief| brief_symbol(document, brief, &canonical))
        .collect()
}

fn brief_symbol(
    document: &Document,
    brief: &Brief,
    canonical: &dyn Fn(&str) -> Option<String>,
) -> Symbol {
    let fields = brief.fields.iter().map(|field| Symbol {
        name: non_empty(&field.name, "(untitled field)"),
        detail: canonical(&field.name),
        kind: SymbolKind::Field,
        range: field.heading.start..field.body.end,
        selection_range: field.heading.clone(),
        children: Vec::new(),
    });
    let outputs = brief.outputs.iter().map(|output| Symbol {
        name: output_name(output),
        detail: None,
        kind: SymbolKind::Output,
        range: output.heading.start..output.body.end,
        selection_range: output.heading.clone(),
        children: Vec::new(),
    });
    let mut children: Vec<Symbol> = fields.chain(outputs).collect();
    children.sort_by_key(|symbol| symbol.range.start);
    Symbol {
        name: non_empty(&brief.title, UNTITLED),
        detail: brief.mention.as_ref().map(|m| format!("@{}", m.name)),
        kind: SymbolKind::Brief,
        range: brief.range.clone(),
        selection_range: brief
            .heading
            .clone()
            .unwrap_or_else(|| brief.anchor(document)),
        children,
    }
}

/// `Output @agent · done`: the agent the heading names and the status its run's marker
/// gives; `Output` for a block written by hand without either.
fn output_name(output: &OutputBlock) -> String {
    let mut name = "Output".to_owned();
    if let Some(mention) = &output.mention {
        name.push_str(&format!(" @{}", mention.name));
    }
    if let Some(marker) = &output.marker {
        name.push_str(&format!(" · {}", marker.status));
    }
    name
}

fn non_empty(name: &str, fallback: &str) -> String {
    if name.trim().is_empty() {
        fallback.to_owned()
    } else {
        name.to_owned()
    }
}

/// The test fixture shared by the editor features: a linted document with a cursor.
#[cfg(test)]
pub(crate) mod fixture {
    use std::path::Path;

    use crate::brief::kind::Kinds;
    use crate::brief::lint::{lint, Analysis, Context, Machine, NoOtherDocuments};
    use crate::brief::rules::fixture::AGENTS;
    use crate::config::Config;
    use crate::document::Document;

    pub(crate) struct Fixture {
        pub document: Document,
        pub analysis: Analysis,
        pub kinds: Kinds,
        pub config: Config,
        /// Where `$0` was (0 without one).
        pub offset: usize,
    }

    /// Lints `text` (with its `$0` cursor removed) as `path`, with the rule fixtures' agents
    /// plus `extra_config`.
    pub(crate) fn fixture_at(text: &str, path: &str, extra_config: &str) -> Fixture {
        let offset = text.find("$0").unwrap_or(0);
        let text = text.replacen("$0", "", 1);
        let config = Config::from_toml(&format!("{AGENTS}\n{extra_config}")).expect("parses");
        let kinds = Kinds::from_config(&config.file.kinds);
        let document = Document::new(&text);
        let context = Context {
            config: &config,
            kinds: &kinds,
            path: Some(Path::new(path)),
            others: &NoOtherDocuments,
            machine: &Machine::default(),
            failed_runs: &[],
            over_budget: &[],
        };
        let analysis = lint(&document, &context);
        Fixture {
            document,
            analysis,
            kinds,
            config,
            offset,
        }
    }

    /// [`fixture_at`] as `fixture.brief.md` with the plain agents.
    pub(crate) fn fixture(text: &str) -> Fixture {
        fixture_at(text, "fixture.brief.md", "")
    }

    impl Fixture {
        /// The text of each range, for readable assertions.
        pub fn texts(&self, ranges: &[std::ops::Range<usize>]) -> Vec<String> {
            let slice = |range: &std::ops::Range<usize>| self.document.slice(range.clone());
            ranges
                .iter()
                .map(|range| slice(range).into_owned())
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use super::fixture::{fixture, fixture_at};
    use super::*;

    /// Renders the outline, one symbol a line, with the text of its selection range.
    fn check(text: &str, path: &str, extra_config: &str, expected: Expect) {
        let f = fixture_at(text, path, extra_config);
        let symbols = if extra_config.is_empty() {
            document_symbols(&f.document, &f.analysis)
        } else {
            document_symbols_in(&f.document, &f.analysis, &f.kinds)
        };
        let mut out = String::new();
        let mut render = |symbol: &Symbol, depth: usize| {
            let detail = symbol
                .detail
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            let selection = f.document.slice(symbol.selection_range.clone());
            let within = symbol.range.start <= symbol.selection_range.start
                && symbol.selection_range.end <= symbol.range.end;
            assert!(within, "{symbol:?}");
            out.push_str(&format!(
                "{}{:?} {}{detail} @ {selection:?}\n",
                "  ".repeat(depth),
                symbol.kind,
                symbol.name
            ));
        };
        for symbol in &symbols {
            render(symbol, 0);
            symbol.children.iter().for_each(|child| render(child, 1));
        }
        expected.assert_eq(&out);
    }

    #[test]
    fn briefs_with_fields_aliases_and_outputs() {
        let text = "---\nkind: brief\n---\n# 市场调查 🎉 @researcher\n## Goal\nx\n## Context\n## Output @researcher\nanswer\n# @writer\n## Deliverable:\n";
        check(
            text,
            "notes.md",
            "",
            expect![[r###"
                Brief 市场调查 🎉 (@researcher) @ "# 市场调查 🎉 @researcher"
                  Field Goal (Objective) @ "## Goal"
                  Field Context @ "## Context"
                  Output Output @researcher @ "## Output @researcher"
                Brief (untitled brief) (@writer) @ "# @writer"
                  Field Deliverable: (Expected Output) @ "## Deliverable:"
            "###]],
        );
    }

    #[test]
    fn an_output_block_is_one_child_named_with_its_status() {
        let text = "# Scan @researcher\n## Objective\nx\n## Output @researcher\n<!-- baton:output run=R1 agent=researcher model=m input=0 status=done -->\n# Report\n## Summary\n<!-- \\/baton:output -->\n<!-- /baton:output run=R1 -->\n## Output\nby hand\n";
        check(
            text,
            "scan.brief.md",
            "",
            expect![[r###"
                Brief Scan (@researcher) @ "# Scan @researcher"
                  Field Objective @ "## Objective"
                  Output Output @researcher · done @ "## Output @researcher"
                  Output Output @ "## Output"
            "###]],
        );
    }

    #[test]
    fn a_headless_handoff_is_one_untitled_brief() {
        let text = "\n\n## Decisions\nship\n## Why\nit works\n";
        check(
            text,
            "today.handoff.md",
            "",
            expect![[r###"
                Brief (untitled brief) @ "## Decisions"
                  Field Decisions (Key Decisions) @ "## Decisions"
                  Field Why (Reasoning) @ "## Why"
            "###]],
        );
    }

    #[test]
    fn configured_aliases_show_their_field() {
        let config = "[kinds.brief]\naliases = { Objective = [\"Mission\"] }\n";
        check(
            "# T\n## Mission\n",
            "fixture.brief.md",
            config,
            expect![[r###"
                Brief T @ "# T"
                  Field Mission (Objective) @ "## Mission"
            "###]],
        );
    }

    #[test]
    fn other_markdown_has_no_symbols() {
        let f = fixture_at("# Notes\n## Objective\n", "notes.md", "");
        assert!(document_symbols(&f.document, &f.analysis).is_empty());
        let f = fixture("");
        assert_eq!(document_symbols(&f.document, &f.analysis).len(), 1);
    }
}
