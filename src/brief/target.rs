//! Which agent a brief goes to (DESIGN §1, §4, §5): the `@mention` in its heading, else the
//! front matter's `agent:`, else the first `[[routes]]` entry that matches, else the
//! configuration's `defaults.agent`.
//!
//! One function decides, so that the linter's `missing-key`, `untrusted-agent` and
//! `confidential-remote`, the code lens, hover, code actions and the dispatcher always name the
//! same agent, and [`Target::reason`] is the one text of why.

use std::ops::Range;

use super::front_matter::FrontMatter;
use super::model::{Brief, Mention};
use crate::config::routes::{RouteMatch, Subject};
use crate::config::Config;

/// A brief's target agent and where it was named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The agent's name as written; it may name no configured agent.
    pub name: String,
    pub source: Source,
}

/// Where a brief's target agent was named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// `@name` in the brief's heading; the range covers the mention, `@` included.
    Mention(Range<usize>),
    /// The front matter's `agent:`; the range covers its value.
    FrontMatter(Range<usize>),
    /// A `[[routes]]` entry of the configuration: its number and the conditions that held.
    Route(RouteMatch),
    /// The configuration's `[defaults] agent`: nothing in the document names it.
    Default,
}

impl Target {
    /// Why this agent, in a few words for a code lens, hover or `baton run --dry-run`
    /// (`→ @researcher · route 2: heading matches (?i)research`).
    pub fn reason(&self) -> String {
        match &self.source {
            Source::Mention(_) => "named in the heading".to_owned(),
            Source::FrontMatter(_) => "front matter `agent:`".to_owned(),
            Source::Route(route) => format!("route {}: {}", route.number, route.conditions()),
            Source::Default => "`[defaults] agent`".to_owned(),
        }
    }
}

/// The agent `brief` goes to, or `None` when neither the brief, the front matter, a route nor
/// the configuration's default names one. `kind` is the document's kind name. The name is not
/// checked against the configured agents: an unknown name is still the target (and
/// `unknown-agent` says what is wrong with it).
pub fn target_agent(
    brief: &Brief,
    kind: Option<&str>,
    front_matter: &FrontMatter,
    config: &Config,
) -> Option<Target> {
    target_of(
        &brief.title,
        brief.mention.as_ref(),
        kind,
        front_matter,
        config,
    )
}

/// [`target_agent`] of a brief titled `title` whose heading's mention is `mention`.
pub fn target_of(
    title: &str,
    mention: Option<&Mention>,
    kind: Option<&str>,
    front_matter: &FrontMatter,
    config: &Config,
) -> Option<Target> {
    if let Some(mention) = mention {
        return Some(Target {
            name: mention.name.clone(),
            source: Source::Mention(mention.range.clone()),
        });
    }
    if let Some(agent) = &front_matter.agent {
        return Some(Target {
            name: agent.value.clone(),
            source: Source::FrontMatter(agent.range.clone()),
        });
    }
    let tags = &front_matter.tags;
    if let Some(route) = config.routes.first_match(Subject { title, kind, tags }) {
        return Some(Target {
            name: route.agent.clone(),
            source: Source::Route(route),
        });
    }
    let name = config.file.defaults.agent.clone()?;
    Some(Target {
        name,
        source: Source::Default,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::brief::front_matter;
    use crate::brief::model::briefs;
    use crate::document::Document;

    const ROUTES: &str = r#"
[defaults]
agent = "local"
[[routes]]
when = { kind = "review", tags = ["legal"] }
agent = "lawyer"
[[routes]]
when = { heading = "(?i)research|scan" }
agent = "researcher"
[[routes]]
when = { kind = "review" }
agent = "critic"
[[routes]]
when = { tags = ["market"] }
agent = "analyst"
"#;

    /// Each brief's target and reason, in a document of `kind`.
    fn targets(text: &str, kind: &str, config: &str) -> Vec<String> {
        let document = Document::new(text);
        let (front_matter, _) = front_matter::read(&document);
        let config = Config::from_toml(config).unwrap();
        briefs(&document)
            .iter()
            .map(
                |brief| match target_agent(brief, Some(kind), &front_matter, &config) {
                    Some(target) => format!("@{} · {}", target.name, target.reason()),
                    None => "none".to_owned(),
                },
            )
            .collect()
    }

    #[test]
    fn the_mention_then_the_front_matter_then_the_default() {
        let defaults = "[defaults]\nagent = \"local\"\n";
        let text = "---\nagent: writer\n---\n# A @researcher\n# B\n";
        let document = Document::new(text);
        let (front_matter, _) = front_matter::read(&document);
        let config = Config::from_toml(defaults).unwrap();
        let sources: Vec<_> = (briefs(&document).iter())
            .map(|brief| {
                target_agent(brief, None, &front_matter, &config)
                    .unwrap()
                    .source
            })
            .collect();
        assert_eq!(
            sources,
            [Source::Mention(26..37), Source::FrontMatter(11..17)]
        );
        assert_eq!(
            targets("# A\n# B @nobody\n", "brief", defaults),
            [
                "@local · `[defaults] agent`",
                "@nobody · named in the heading"
            ]
        );
        assert_eq!(targets("# A\n", "brief", ""), ["none"]);
    }

    #[test]
    fn routes_come_after_the_front_matter_and_before_the_default() {
        let table = [
            // (document, kind, each brief's target and reason)
            (
                "# Scan rivals\n# Write @writer\n# Plan\n",
                "brief",
                &[
                    "@researcher · route 2: heading matches (?i)research|scan",
                    "@writer · named in the heading",
                    "@local · `[defaults] agent`",
                ][..],
            ),
            (
                "---\nagent: writer\n---\n# Research\n",
                "brief",
                &["@writer · front matter `agent:`"],
            ),
            (
                "---\ntags: [Legal, eu]\n---\n# Research\n# Plan\n",
                "review",
                &[
                    "@lawyer · route 1: kind review, tags legal",
                    "@lawyer · route 1: kind review, tags legal",
                ],
            ),
            (
                "---\ntags: eu\n---\n# Research\n# Plan\n",
                "review",
                &[
                    "@researcher · route 2: heading matches (?i)research|scan",
                    "@critic · route 3: kind review",
                ],
            ),
            (
                "---\ntags: [market]\n---\n# Plan\n",
                "brief",
                &["@analyst · route 4: tags market"],
            ),
            // A document no route speaks of goes to the default.
            ("# Plan\n", "handoff", &["@local · `[defaults] agent`"]),
        ];
        for (text, kind, expected) in table {
            assert_eq!(targets(text, kind, ROUTES), expected, "{text}");
        }
    }

    #[test]
    fn a_route_with_an_invalid_pattern_matches_nothing() {
        let config = "[[routes]]\nwhen = { heading = \"(scan\" }\nagent = \"a\"\n\
                      [[routes]]\nagent = \"b\"\n";
        assert_eq!(
            targets("# (scan\n", "brief", config),
            ["@b · route 2: every brief"]
        );
    }
}
