//! Hover (DESIGN §8): what the thing under the cursor means to baton. A field heading tells
//! what belongs under it; an agent shows where its briefs go; a brief's heading sums up its
//! fields; a link says which brief it feeds from and whether that brief exists.

use std::ops::Range;

use super::diagnostic::Code;
use super::graph;
use super::kind::{normalize, Kind, Kinds};
use super::link::{Link, Target};
use super::lint::Analysis;
use super::model::Brief;
use super::navigate::{self, touches};
use super::symbols::UNTITLED;
use super::target::{target_agent, Source};
use crate::config::agent::without_credentials;
use crate::config::{AgentSpec, Config, Locality};
use crate::document::Document;

/// Markdown to show over a range of the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hover {
    pub range: Range<usize>,
    pub markdown: String,
}

/// The hover at a byte offset, if baton has something to say there.
pub fn hover(
    _document: &Document,
    analysis: &Analysis,
    kinds: &Kinds,
    config: &Config,
    offset: usize,
) -> Option<Hover> {
    if let Some((name, range)) = navigate::agent_at(analysis, offset) {
        let markdown = agent(config, name);
        return Some(Hover { range, markdown });
    }
    if let Some(link) = navigate::link_at(analysis, offset) {
        let markdown = link_target(analysis, link);
        let range = link.range.clone();
        return Some(Hover { range, markdown });
    }
    let kind_name = analysis.kind.as_deref()?;
    let kind = kinds.get(kind_name);
    let brief = analysis.brief_at(offset)?;
    if let Some(field) = brief.fields.iter().find(|f| touches(&f.heading, offset)) {
        let markdown = field_guidance(kind, kind_name, &field.name);
        let range = field.heading.clone();
        return Some(Hover { range, markdown });
    }
    let index = navigate::heading_at(analysis, offset)?;
    let brief = &analysis.briefs[index];
    Some(Hover {
        range: brief.heading.clone()?,
        markdown: summary(analysis, kind, kind_name, config, brief),
    })
}

fn field_guidance(kind: Option<&Kind>, kind_name: &str, written: &str) -> String {
    let Some(kind) = kind else {
        return format!(
            "**{written}**: the kind `{kind_name}` is not defined, so its fields are unknown."
        );
    };
    let Some(spec) = kind.field(written) else {
        let names: Vec<&str> = kind.fields.iter().map(|f| f.name.as_str()).collect();
        return format!(
            "**{written}** is not a field of `{}`.\n\nIts fields: {}.",
            kind.name,
            names.join(", ")
        );
    };
    let need = if spec.required {
        "required"
    } else {
        "optional"
    };
    let mut text = format!(
        "**{}** · {need} in `{}`\n\n{}",
        spec.name, kind.name, spec.prompt
    );
    if normalize(written) != normalize(&spec.name) {
        text.push_str(&format!(
            "\n\n*{}* is another name for **{}**.",
            written.trim(),
            spec.name
        ));
    }
    if !spec.aliases.is_empty() {
        text.push_str(&format!("\n\nAlso written: {}.", spec.aliases.join(", ")));
    }
    text
}

fn agent(config: &Config, name: &str) -> String {
    let Some(spec) = config.agent(name) else {
        let known: Vec<String> = config.agent_names().map(|n| format!("`@{n}`")).collect();
        if known.is_empty() {
            return format!("**@{name}**: unknown agent; no agents are defined yet. Add `[agents.{name}]` to baton.toml.");
        }
        return format!(
            "**@{name}**: unknown agent. baton.toml defines {}.",
            known.join(", ")
        );
    };
    let mut lines = vec![
        format!("**@{name}**"),
        String::new(),
        format!("- provider: `{}`", spec.provider.name()),
        format!(
            "- model: {}",
            spec.model
                .as_deref()
                .map_or("the provider's default".into(), |m| format!("`{m}`"))
        ),
    ];
    match (spec.base_url(), spec.command.is_empty()) {
        (Some(url), _) => lines.push(format!("- base_url: `{}`", without_credentials(url))),
        (None, false) => lines.push(format!("- command: `{}`", spec.command.join(" "))),
        (None, true) => {}
    }
    if let Some(proxy) = &spec.proxy {
        lines.push(format!("- proxy: `{}`", without_credentials(proxy)));
    }
    lines.push(format!("- locality: {}", locality(spec)));
    lines.push(format!(
        "- context window: {} tokens",
        thousands(spec.context_window())
    ));
    if let Some(role) = spec.role.as_deref().and_then(|role| role.lines().next()) {
        lines.push(format!("- role: {role}"));
    }
    lines.join("\n")
}

fn locality(spec: &AgentSpec) -> &'static str {
    match spec.locality() {
        Locality::Remote => "remote (the text leaves this machine; briefs holding a [privacy] term, or `confidential: true`, are refused)",
        Locality::Local => "local (the text stays on this machine)",
    }
}

/// `128000` as `128,000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn link_target(analysis: &Analysis, link: &Link) -> String {
    let broken = analysis
        .diagnostics
        .iter()
        .find(|d| d.code == Code::BrokenLink && d.range == link.range);
    if let Some(diagnostic) = broken {
        return format!("Broken link: {}.", diagnostic.message);
    }
    if let Some(index) = graph::local_target(&link.target, &analysis.briefs) {
        let brief = &analysis.briefs[index];
        let agent = brief
            .mention
            .as_ref()
            .map(|m| format!(" (@{})", m.name))
            .unwrap_or_default();
        return format!(
            "Uses the latest output of **{}**{agent}, in this document.",
            brief.title
        );
    }
    match &link.target {
        Target::Title {
            file: Some(file),
            title,
        } => format!("Uses the latest output of **{title}**, in `{file}`."),
        Target::Slug {
            file: Some(file),
            slug,
        } => format!("Uses the latest output of `#{slug}`, in `{file}`."),
        Target::File { file } => format!("Uses the latest output of the first brief of `{file}`."),
        target => format!("No brief titled `{}` in this document.", target.label()),
    }
}

/// `text` with the characters Markdown would read as markup escaped.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if r"\`*_{}[]<>()#+-.!|~".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

fn summary(
    analysis: &Analysis,
    kind: Option<&Kind>,
    kind_name: &str,
    config: &Config,
    brief: &Brief,
) -> String {
    let front_matter = &analysis.front_matter;
    let target = match target_agent(brief, Some(kind_name), front_matter, config) {
        Some(target) => match &target.source {
            Source::Mention(_) => format!("@{}", target.name),
            // A route's pattern is the user's text: its `*`, `_`, `[`... are not Markdown.
            Source::Route(_) => format!("@{} · {}", target.name, escape(&target.reason())),
            Source::FrontMatter(_) | Source::Default => {
                format!("@{} · {}", target.name, target.reason())
            }
        },
        None => "no agent yet: name one with `@agent`".to_owned(),
    };
    let title = if brief.title.is_empty() {
        UNTITLED
    } else {
        &brief.title
    };
    let mut text = format!("**{title}** → {target}\n\n");
    let Some(kind) = kind else {
        text.push_str(&format!("`{kind_name}` is not a defined kind."));
        return text;
    };
    let has = |name: &str| {
        brief
            .fields
            .iter()
            .any(|f| kind.field(&f.name).is_some_and(|s| s.name == name))
    };
    let required: Vec<&str> = kind.required().map(|f| f.name.as_str()).collect();
    let missing: Vec<&str> = required.iter().copied().filter(|name| !has(name)).collect();
    text.push_str(&format!(
        "`{}` · {} of {} required fields",
        kind.name,
        required.len() - missing.len(),
        required.len()
    ));
    if !missing.is_empty() {
        text.push_str(&format!(" · missing: {}", missing.join(", ")));
    }
    let outputs = brief.outputs.len();
    if outputs > 0 {
        text.push_str(&format!(
            " · {outputs} output{}",
            if outputs == 1 { "" } else { "s" }
        ));
    }
    text
}

#[cfg(test)]
mod tests;
