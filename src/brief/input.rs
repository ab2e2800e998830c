//! A run's inputs and its input hash (DESIGN §1, §4 step 2). A link from one brief to another
//! means "this brief uses that brief's latest output": the outputs of the briefs a brief links
//! to, in this document or another, are sent with it, and the `input` hash in an output's
//! marker covers both the brief (without its output blocks) and those outputs. The one function
//! for it is [`input_hash`]: the senders (editor, `baton send`, recovery through the journal)
//! write it through [`payload::render`](super::payload::render), `stale-output` compares it.

use std::collections::HashSet;

use super::graph::{local_target_in, TitleIndex};
use super::link::Target;
use super::lint::OtherDocuments;
use super::model::Brief;
use super::output::{self, Status};
use crate::document::Document;

/// The latest output of a brief this one links to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    pub title: String,
    pub agent: Option<String>,
    pub text: String,
}

/// The hash of a run's input: `own` (the brief's part of the payload, without its output
/// blocks) and the `inputs`. Without inputs it is the hash of `own` alone, so the markers of
/// briefs that link nowhere keep the hash they were written with.
pub fn input_hash(own: &str, inputs: &[Input]) -> String {
    let mut hash = Fnv::default();
    hash.write(own);
    for input in inputs {
        for part in [
            "\0input\0",
            &input.title,
            "\0",
            input.agent.as_deref().unwrap_or(""),
            "\0",
            input.text.trim(),
        ] {
            hash.write(part);
        }
    }
    format!("{:08x}", hash.0)
}

/// FNV-1a, 32 bits: enough to tell an edited brief from the one sent, and stable across
/// versions and platforms (unlike `std`'s hasher).
struct Fnv(u32);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0x811c_9dc5)
    }
}

impl Fnv {
    fn write(&mut self, text: &str) {
        for byte in text.bytes() {
            self.0 ^= u32::from(byte);
            self.0 = self.0.wrapping_mul(0x0100_0193);
        }
    }
}

/// The latest outputs of the briefs `brief` links to, in the order its links first name them.
/// `briefs` are the briefs of `document` (read whole: their outputs are read); other files are
/// read through `others`, which reads nothing outside the workspace. Links that lead nowhere
/// and briefs with no output yet contribute nothing.
pub fn gather(
    document: &Document,
    briefs: &[Brief],
    brief: &Brief,
    others: &dyn OtherDocuments,
) -> Vec<Input> {
    let titles: Vec<&str> = briefs.iter().map(|brief| brief.title.as_str()).collect();
    let latest = |index: usize| latest_output(document, &briefs[index]);
    gather_with(&titles, brief, others, &latest)
}

/// [`gather`], for callers that hold the titles of the document's briefs (in order) but not
/// the briefs whole (the document rules): the latest output of brief `index` is `latest`'s.
pub fn gather_with(
    titles: &[&str],
    brief: &Brief,
    others: &dyn OtherDocuments,
    latest: &dyn Fn(usize) -> Option<Input>,
) -> Vec<Input> {
    let local = |target: &Target| {
        local_target_in(target, titles).filter(|&index| titles[index] != brief.title)
    };
    gather_by(brief, others, &local, latest)
}

/// [`gather`] with the document's briefs indexed by title: for a caller that gathers the
/// inputs of every brief of a large document, one lookup per link instead of a scan.
pub fn gather_indexed(
    document: &Document,
    briefs: &[Brief],
    titles: &TitleIndex,
    brief: &Brief,
    others: &dyn OtherDocuments,
) -> Vec<Input> {
    let local = |target: &Target| {
        (titles.resolve(target)).filter(|&index| briefs[index].title != brief.title)
    };
    let latest = |index: usize| latest_output(document, &briefs[index]);
    gather_by(brief, others, &local, &latest)
}

fn gather_by(
    brief: &Brief,
    others: &dyn OtherDocuments,
    local: &dyn Fn(&Target) -> Option<usize>,
    latest: &dyn Fn(usize) -> Option<Input>,
) -> Vec<Input> {
    let mut seen = HashSet::new();
    let mut inputs = Vec::new();
    for link in &brief.links {
        if !seen.insert(&link.target) {
            continue;
        }
        let input = match link.target.file() {
            None => local(&link.target).and_then(latest),
            Some(file) => others.latest_output(file, &link.target),
        };
        inputs.extend(input);
    }
    inputs
}

/// The newest answer among the brief's output blocks: the one whose run id sorts last (run
/// ids sort by time) among those that finished or broke off with text, else the last block
/// written by hand (no marker).
pub fn latest_output(document: &Document, brief: &Brief) -> Option<Input> {
    if brief.outputs.is_empty() {
        return None;
    }
    let text = document.slice(brief.range.clone());
    let mut best: Option<(String, Input)> = None;
    let mut unmarked: Option<Input> = None;
    for block in &brief.outputs {
        let start = block.heading.start - brief.range.start;
        let end = block.body.end - brief.range.start;
        let section = &text[start..end];
        let agent = block.mention.as_ref().map(|mention| mention.name.clone());
        let marked = output::markers(section)
            .into_iter()
            .filter(|marker| matches!(marker.status, Status::Done | Status::Partial))
            .find_map(|marker| output::find(section, &marker.run));
        match marked {
            Some(found) => {
                let body = section[found.body.clone()].trim().to_owned();
                let newer = best.as_ref().is_none_or(|(run, _)| found.marker.run > *run);
                if !body.is_empty() && newer {
                    let input = Input {
                        title: brief.title.clone(),
                        agent: Some(found.marker.agent.clone()),
                        text: body,
                    };
                    best = Some((found.marker.run.clone(), input));
                }
            }
            None if output::markers(section).is_empty() => {
                let body = document.slice(block.body.clone()).trim().to_owned();
                if !body.is_empty() {
                    unmarked = Some(Input {
                        title: brief.title.clone(),
                        agent,
                        text: body,
                    });
                }
            }
            None => {}
        }
    }
    best.map(|(_, input)| input).or(unmarked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(title: &str, text: &str) -> Input {
        Input {
            title: title.into(),
            agent: Some("a".into()),
            text: text.into(),
        }
    }

    #[test]
    fn the_hash_covers_the_brief_and_each_input() {
        let own = "# T\n\n## Objective\n\nx\n";
        let bare = input_hash(own, &[]);
        assert_eq!(input_hash("", &[]), "811c9dc5");
        assert_eq!(input_hash("a", &[]), "e40c292c");
        let with = input_hash(own, &[input("Scan", "Three rivals.")]);
        assert_ne!(with, bare);
        assert_eq!(
            with,
            input_hash(own, &[input("Scan", "\nThree rivals.\n\n")]),
            "trimmed"
        );
        assert_ne!(with, input_hash(own, &[input("Scan", "Four rivals.")]));
        assert_ne!(with, input_hash(own, &[input("Scan2", "Three rivals.")]));
        assert_ne!(
            with,
            input_hash(
                "# T\n\n## Objective\n\ny\n",
                &[input("Scan", "Three rivals.")]
            )
        );
    }
}
