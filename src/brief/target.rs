//! Which agent a brief goes to (DESIGN §1, §4): the `@mention` in its heading, else the front
//! matter's `agent:`, else the configuration's `defaults.agent`. Routes (§5) will come between
//! the front matter and the default.
//!
//! One function decides, so that the linter's `missing-key` and `untrusted-agent`, the code
//! actions and the dispatcher always name the same agent.

use std::ops::Range;

use super::front_matter::FrontMatter;
use super::model::{Brief, Mention};
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
    /// The configuration's `[defaults] agent`: nothing in the document names it.
    Default,
}

impl Target {
    /// Why this agent, in a few words for a code lens, hover or `baton run --dry-run`
    /// (`→ @researcher · front matter agent:`).
    pub fn reason(&self) -> String {
        match &self.source {
            Source::Mention(_) => "named in the heading".to_owned(),
            Source::FrontMatter(_) => "front matter `agent:`".to_owned(),
            Source::Default => "`[defaults] agent`".to_owned(),
        }
    }
}

/// The agent `brief` goes to, or `None` when neither the brief, the front matter nor the
/// configuration names one. The name is not checked against the configured agents: an
/// unknown name is still the target (and `unknown-agent` says what is wrong with it).
pub fn target_agent(brief: &Brief, front_matter: &FrontMatter, config: &Config) -> Option<Target> {
    target_of(brief.mention.as_ref(), front_matter, config)
}

/// [`target_agent`] of a brief whose heading's mention is `mention`.
pub fn target_of(
    mention: Option<&Mention>,
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

    fn targets(text: &str, config: &str) -> Vec<Option<(String, Source)>> {
        let document = Document::new(text);
        let (front_matter, _) = front_matter::read(&document);
        let config = Config::from_toml(config).unwrap();
        briefs(&document)
            .iter()
            .map(|brief| {
                target_agent(brief, &front_matter, &config)
                    .map(|target| (target.name, target.source))
            })
            .collect()
    }

    #[test]
    fn the_mention_then_the_front_matter_then_the_default() {
        let defaults = "[defaults]\nagent = \"local\"\n";
        let text = "---\nagent: writer\n---\n# A @researcher\n# B\n";
        assert_eq!(
            targets(text, defaults),
            [
                Some(("researcher".to_owned(), Source::Mention(26..37))),
                Some(("writer".to_owned(), Source::FrontMatter(11..17))),
            ]
        );
        assert_eq!(
            targets("# A\n# B @nobody\n", defaults),
            [
                Some(("local".to_owned(), Source::Default)),
                Some(("nobody".to_owned(), Source::Mention(8..15))),
            ]
        );
        assert_eq!(targets("# A\n", ""), [None]);
    }
}
