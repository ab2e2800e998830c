//! Navigation (DESIGN §8): go to definition (`@agent` to its table in `baton.toml`, a link to
//! its brief), references to a brief, and renaming a brief together with every link to it.
//!
//! Byte offsets in, byte ranges out. Other documents are the shell's business: a cross-file
//! link becomes a [`Definition::Brief`] with a file to resolve, and [`links_to`] and
//! [`rename_links`] answer for one document at a time.

use std::ops::Range;
use std::path::PathBuf;

use super::fix::TextEdit;
use super::graph;
use super::link::{self, Link, Target};
use super::lint::Analysis;
use super::model::mention_name;
use crate::config::Config;
use crate::document::Document;

/// Where a definition lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Definition {
    /// An agent's `[agents.NAME]` header in a configuration file.
    Agent { path: PathBuf, range: Range<usize> },
    /// A brief: in this document (`file` is `None`, `range` is its heading), or in `file`,
    /// relative to this document, by `title` (or slug) as the link wrote it.
    Brief {
        file: Option<String>,
        title: String,
        range: Option<Range<usize>>,
    },
}

/// Whether the cursor touches a range; a cursor just after a word is still on it.
pub(crate) fn touches(range: &Range<usize>, offset: usize) -> bool {
    range.start <= offset && offset <= range.end
}

/// The agent named under the cursor, with the range naming it: an `@mention` in a brief or
/// output heading, or the front matter's `agent:` value.
pub fn agent_at(analysis: &Analysis, offset: usize) -> Option<(&str, Range<usize>)> {
    if let Some(agent) = analysis.front_matter.agent.as_ref() {
        if touches(&agent.range, offset) {
            return Some((agent.value.as_str(), agent.range.clone()));
        }
    }
    analysis
        .briefs
        .iter()
        .flat_map(|brief| {
            let outputs = brief.outputs.iter().filter_map(|o| o.mention.as_ref());
            brief.mention.iter().chain(outputs)
        })
        .find(|mention| touches(&mention.range, offset))
        .map(|mention| (mention.name.as_str(), mention.range.clone()))
}

/// The link under the cursor.
pub fn link_at(analysis: &Analysis, offset: usize) -> Option<&Link> {
    analysis
        .briefs
        .iter()
        .flat_map(|brief| &brief.links)
        .find(|link| touches(&link.range, offset))
}

/// The index of the brief whose H1 is under the cursor, off its `@mention`.
pub fn heading_at(analysis: &Analysis, offset: usize) -> Option<usize> {
    analysis.briefs.iter().position(|brief| {
        let on_heading = brief.heading.as_ref().is_some_and(|h| touches(h, offset));
        let on_mention = brief
            .mention
            .as_ref()
            .is_some_and(|m| touches(&m.range, offset));
        on_heading && !on_mention
    })
}

/// The brief of this document the cursor names: by a link to it, or by its heading.
fn named_brief(analysis: &Analysis, offset: usize) -> Option<usize> {
    match link_at(analysis, offset) {
        Some(link) => graph::local_target(&link.target, &analysis.briefs),
        None => heading_at(analysis, offset),
    }
}

/// The links of this document that resolve to brief `index` of it.
fn local_links_to(analysis: &Analysis, index: usize) -> impl Iterator<Item = &Link> {
    let briefs = &analysis.briefs;
    briefs
        .iter()
        .flat_map(|brief| &brief.links)
        .filter(move |link| graph::local_target(&link.target, briefs) == Some(index))
}

/// Go to definition: an agent's table, or the brief a link points at.
pub fn definition(
    document: &Document,
    analysis: &Analysis,
    config: &Config,
    offset: usize,
) -> Option<Definition> {
    if let Some((name, _)) = agent_at(analysis, offset) {
        let (path, range) = config.agent_locations.get(name)?;
        return Some(Definition::Agent {
            path: path.clone(),
            range: range.clone(),
        });
    }
    let link = link_at(analysis, offset)?;
    if let Some(file) = link.target.file() {
        let title = match &link.target {
            Target::Title { title, .. } => title.clone(),
            Target::Slug { slug, .. } => slug.clone(),
            Target::File { .. } => String::new(),
        };
        let file = Some(file.to_owned());
        return Some(Definition::Brief {
            file,
            title,
            range: None,
        });
    }
    let brief = &analysis.briefs[graph::local_target(&link.target, &analysis.briefs)?];
    let heading = brief.heading.clone();
    Some(Definition::Brief {
        file: None,
        title: brief.title.clone(),
        range: Some(heading.unwrap_or_else(|| brief.anchor(document))),
    })
}

/// Every link in this document to the brief under the cursor (its title, or a link to it),
/// preceded by its title when `include_declaration` is set.
pub fn references(
    _document: &Document,
    analysis: &Analysis,
    offset: usize,
    include_declaration: bool,
) -> Vec<Range<usize>> {
    let Some(index) = named_brief(analysis, offset) else {
        return Vec::new();
    };
    let declaration = include_declaration.then(|| analysis.briefs[index].title_range.clone());
    let links = local_links_to(analysis, index).map(|link| link.range.clone());
    declaration.into_iter().chain(links).collect()
}

/// The links in this document to the brief `title` of `file` (`None`: of this document).
/// `file` is relative to this document, as its links write it. Links to a whole file are
/// left out: they name no title.
pub fn links_to(
    _document: &Document,
    analysis: &Analysis,
    file: Option<&str>,
    title: &str,
) -> Vec<Range<usize>> {
    links_by_title(analysis, file, title)
        .map(|link| link.range.clone())
        .collect()
}

/// Edits rewriting the links of this document to brief `old_title` of `file` so that they
/// name `new_title`: the shell's half of a rename across documents.
pub fn rename_links(
    document: &Document,
    analysis: &Analysis,
    file: Option<&str>,
    old_title: &str,
    new_title: &str,
) -> Vec<TextEdit> {
    links_by_title(analysis, file, old_title)
        .map(|link| retarget(document, link, new_title))
        .collect()
}

fn links_by_title<'a>(
    analysis: &'a Analysis,
    file: Option<&'a str>,
    title: &'a str,
) -> impl Iterator<Item = &'a Link> {
    let same_file = move |target: &Target| match (target.file(), file) {
        (None, None) => true,
        (Some(a), Some(b)) => same_path(a, b),
        _ => false,
    };
    analysis
        .briefs
        .iter()
        .flat_map(|brief| &brief.links)
        .filter(move |link| !matches!(link.target, Target::File { .. }))
        .filter(move |link| same_file(&link.target) && link.target.matches_title(title))
}

fn same_path(a: &str, b: &str) -> bool {
    let clean = |path: &str| path.replace('\\', "/").trim_start_matches("./").to_owned();
    clean(a) == clean(b)
}

/// Whether a rename can start under the cursor: the range to edit there and the title.
/// On a heading that is the title; on a link it is the part of the link naming the brief.
pub fn prepare_rename(
    _document: &Document,
    analysis: &Analysis,
    offset: usize,
) -> Option<(Range<usize>, String)> {
    if let Some(link) = link_at(analysis, offset) {
        let index = graph::local_target(&link.target, &analysis.briefs)?;
        return Some((
            link.target_range.clone(),
            analysis.briefs[index].title.clone(),
        ));
    }
    let brief = &analysis.briefs[heading_at(analysis, offset)?];
    (!brief.title.is_empty()).then(|| (brief.title_range.clone(), brief.title.clone()))
}

/// Renames the brief under the cursor (its title, or a link to it) and rewrites every link to
/// it in this document: `[[Old]]` and `[[Old|alias]]` by title, `(#old)` by slug.
pub fn rename(
    document: &Document,
    analysis: &Analysis,
    offset: usize,
    new_title: &str,
) -> Result<Vec<TextEdit>, String> {
    let index = named_brief(analysis, offset).ok_or(
        "place the cursor on a brief's title, or on a link to a brief of this document, to rename it",
    )?;
    let brief = &analysis.briefs[index];
    if brief.title.is_empty() {
        return Err("this brief has no title to rename; write one after the `#`".to_owned());
    }
    let new_title = check_title(analysis, index, new_title)?;
    // Mentions written among the title's words move after it rather than vanish.
    let written = document.slice(brief.title_range.clone());
    let mentions = written
        .split_whitespace()
        .filter(|word| mention_name(word).is_some());
    let heading_text = std::iter::once(new_title)
        .chain(mentions)
        .collect::<Vec<_>>();
    let mut edits = vec![TextEdit {
        range: brief.title_range.clone(),
        new_text: heading_text.join(" "),
    }];
    edits.extend(local_links_to(analysis, index).map(|link| retarget(document, link, new_title)));
    edits.sort_by_key(|edit| edit.range.start);
    Ok(edits)
}

/// The new title, trimmed, if it can name brief `index` without breaking links to it.
fn check_title<'a>(
    analysis: &Analysis,
    index: usize,
    new_title: &'a str,
) -> Result<&'a str, String> {
    let title = new_title.trim();
    if title.is_empty() {
        return Err("a brief's title cannot be empty".to_owned());
    }
    if title.contains(['\n', '\r']) {
        return Err("a brief's title must fit on one line".to_owned());
    }
    if title.contains(['[', ']', '|', '#']) {
        return Err(format!(
            "`{title}` would break the links to this brief; leave out `[`, `]`, `|` and `#`"
        ));
    }
    if title
        .split_whitespace()
        .any(|word| mention_name(word).is_some())
    {
        return Err(format!(
            "`{title}` contains an `@mention`, which names an agent, not a title"
        ));
    }
    let clash = analysis.briefs.iter().enumerate().find(|(other, brief)| {
        *other != index
            && !brief.title.is_empty()
            && (link::same_title(&brief.title, title)
                || link::slug(&brief.title) == link::slug(title))
    });
    match clash {
        Some((_, brief)) => Err(format!(
            "this document already has a brief titled `{}`",
            brief.title
        )),
        None => Ok(title),
    }
}

/// The edit making a link name `new_title`, keeping its file and its alias.
fn retarget(document: &Document, link: &Link, new_title: &str) -> TextEdit {
    let written = document.slice(link.target_range.clone());
    let new_text = match &link.target {
        Target::Slug { .. } => link::slug(new_title),
        _ => match written.find('#') {
            Some(hash) => format!("{}{new_title}", &written[..=hash]),
            None => new_title.to_owned(),
        },
    };
    TextEdit {
        range: link.target_range.clone(),
        new_text,
    }
}

#[cfg(test)]
mod tests;
