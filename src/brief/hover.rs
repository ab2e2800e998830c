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
        (Some(url), _) => lines.push(format!("- base_url: `{url}`")),
        (None, false) => lines.push(format!("- command: `{}`", spec.command.join(" "))),
        (None, true) => {}
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
mod tests {
    use expect_test::{expect, Expect};

    use super::*;
    use crate::brief::symbols::fixture::fixture_at;

    const LOCAL: &str = "\n[agents.local]\nprovider = \"ollama\"\nmodel = \"llama3.2\"\ncontext_window = 8192\nrole = \"You summarize.\\nBriefly.\"\n";

    fn check(text: &str, expected: Expect) {
        let f = fixture_at(text, "fixture.brief.md", LOCAL);
        let actual = match hover(&f.document, &f.analysis, &f.kinds, &f.config, f.offset) {
            Some(hover) => format!("{:?}\n{}", f.document.slice(hover.range), hover.markdown),
            None => "(none)".to_owned(),
        };
        expected.assert_eq(&actual);
    }

    #[test]
    fn field_headings_say_what_belongs_there() {
        check(
            "# T\n## Go$0al\n",
            expect![[r###"
                "## Goal"
                **Objective** · required in `brief`

                What the agent must achieve, in one or two sentences.

                *Goal* is another name for **Objective**.

                Also written: Goal, Task, Purpose."###]],
        );
        check(
            "# T\n## Not$0es\n",
            expect![[r###"
                "## Notes"
                **Notes** is not a field of `brief`.

                Its fields: Objective, Context, Constraints, Expected Output, Audience, Examples, References, Deadline."###]],
        );
    }

    #[test]
    fn agents_in_headings_and_front_matter() {
        check(
            "# 市场 🎉 @lo$0cal\n",
            expect![[r###"
                "@local"
                **@local**

                - provider: `ollama`
                - model: `llama3.2`
                - base_url: `http://127.0.0.1:11434`
                - locality: local (the text stays on this machine)
                - context window: 8,192 tokens
                - role: You summarize."###]],
        );
        check(
            "---\nagent: wri$0tr\n---\n# T\n",
            expect![[r###"
                "writr"
                **@writr**: unknown agent. baton.toml defines `@local`, `@researcher`, `@writer`."###]],
        );
    }

    #[test]
    fn brief_headings_sum_up_their_fields() {
        check(
            "# Scan 市$0场 @researcher\n## Goal\n## Background\n## Output @researcher\n",
            expect![[r###"
                "# Scan 市场 @researcher"
                **Scan 市场** → @researcher

                `brief` · 2 of 4 required fields · missing: Constraints, Expected Output · 1 output"###]],
        );
        check(
            "# T$0\n",
            expect![[r###"
                "# T"
                **T** → no agent yet: name one with `@agent`

                `brief` · 0 of 4 required fields · missing: Objective, Context, Constraints, Expected Output"###]],
        );
    }

    #[test]
    fn brief_headings_say_which_agent_and_why() {
        let routes = format!(
            "{LOCAL}[defaults]\nagent = \"local\"\n[[routes]]\nwhen = {{ heading = \"(?i)scan*\" }}\nagent = \"researcher\"\n"
        );
        let summary = |text: &str| {
            let f = fixture_at(text, "fixture.brief.md", &routes);
            let hover = hover(&f.document, &f.analysis, &f.kinds, &f.config, f.offset).unwrap();
            hover.markdown.lines().next().unwrap().to_owned()
        };
        assert_eq!(
            summary("# Sc$0an rivals\n"),
            r"**Scan rivals** → @researcher · route 1: heading matches \(?i\)scan\*"
        );
        assert_eq!(
            summary("# Wri$0te\n"),
            "**Write** → @local · `[defaults] agent`"
        );
        assert_eq!(
            summary("---\nagent: writer\n---\n# Sc$0an\n"),
            "**Scan** → @writer · front matter `agent:`"
        );
    }

    #[test]
    fn links_say_where_they_lead() {
        let text = "# Scan 🎉\n# Write\nsee [[Scan 🎉]] and [[Scn]] and [[b.brief.md#Plan]]\n";
        check(
            &text.replacen("[[Scan", "[[$0Scan", 1),
            expect![[r###"
                "[[Scan 🎉]]"
                Uses the latest output of **Scan 🎉**, in this document."###]],
        );
        check(
            &text.replacen("[[Scn", "[[S$0cn", 1),
            expect![[r#"
                "[[Scn]]"
                Broken link: no brief titled `Scn` in this document; link to an existing brief's title (the quick fix offers the closest)."#]],
        );
        check("## Goal\nplain$0 text\n", expect!["(none)"]);
    }

    #[test]
    fn an_answer_has_no_hover() {
        let block = "## Output @local\n<!-- baton:output run=R status=done -->\n";
        let close = "<!-- /baton:output run=R -->\n";
        for inside in ["# Rep$0ort @local\n", "## Obj$0ective\n", "See [[T$0]].\n"] {
            check(&format!("# T\n{block}{inside}{close}"), expect!["(none)"]);
        }
    }

    #[test]
    fn other_markdown_gets_no_hover() {
        let f = fixture_at("# Notes @wri$0ter\n", "notes.md", "");
        assert_eq!(
            hover(&f.document, &f.analysis, &f.kinds, &f.config, f.offset),
            None
        );
    }
}
