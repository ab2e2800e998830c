//! The brief model (DESIGN §1): each H1 section is a brief, the H2 sections under it are its
//! fields, `## Output @agent` sections are output blocks, `@agent` in a heading names the
//! target agent, and links between briefs are the pipeline's edges.

use std::ops::Range;

use super::link::{self, Link};
use super::output::Marker;
use crate::document::{Document, Heading};

/// `@name` in a heading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mention {
    pub name: String,
    /// The mention, `@` included.
    pub range: Range<usize>,
}

/// An H2 section of a brief.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// The name as written.
    pub name: String,
    /// The heading line(s).
    pub heading: Range<usize>,
    /// The heading's text.
    pub name_range: Range<usize>,
    /// From the end of the heading to the next H1/H2 heading or the end of the brief.
    pub body: Range<usize>,
}

/// `## Output @agent`: an agent's answer, written by baton.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputBlock {
    pub heading: Range<usize>,
    pub mention: Option<Mention>,
    /// From the end of the heading to the next H1/H2 heading or the end of the brief (an
    /// answer holds none: it is opaque).
    pub body: Range<usize>,
    /// The run's marker, when the body opens with one (nothing but blanks before it) that
    /// starts an answer; `None` for an output written by hand.
    pub marker: Option<Marker>,
}

/// One brief (or handoff): an H1 section, or the whole document when it has no H1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Brief {
    /// The title without mentions; empty for a document without an H1.
    pub title: String,
    /// The H1, if the brief has one.
    pub heading: Option<Range<usize>>,
    /// The title's text in the heading (what a rename replaces).
    pub title_range: Range<usize>,
    pub mention: Option<Mention>,
    /// The whole section, heading included.
    pub range: Range<usize>,
    pub fields: Vec<Field>,
    pub outputs: Vec<OutputBlock>,
    pub links: Vec<Link>,
}

impl Brief {
    /// Where brief-level diagnostics go: the heading, or the first line of a headless brief.
    pub fn anchor(&self, document: &Document) -> Range<usize> {
        anchor(self.heading.as_ref(), &self.range, document)
    }

    /// The brief with every offset moved from `from` to `to`. The lint while typing keeps a
    /// brief relative to the start of the part that holds it (from that start to 0), and
    /// places it back in the document (from 0 to where the part starts now).
    pub fn moved(mut self, from: usize, to: usize) -> Brief {
        let mv = |range: &mut Range<usize>| {
            *range = range.start - from + to..range.end - from + to;
        };
        if let Some(heading) = &mut self.heading {
            mv(heading);
        }
        mv(&mut self.title_range);
        if let Some(mention) = &mut self.mention {
            mv(&mut mention.range);
        }
        mv(&mut self.range);
        for field in &mut self.fields {
            mv(&mut field.heading);
            mv(&mut field.name_range);
            mv(&mut field.body);
        }
        for output in &mut self.outputs {
            mv(&mut output.heading);
            mv(&mut output.body);
            if let Some(mention) = &mut output.mention {
                mv(&mut mention.range);
            }
        }
        for link in &mut self.links {
            mv(&mut link.range);
            mv(&mut link.target_range);
        }
        self
    }

    /// The brief's anchor for links: `#slug` of its title.
    pub fn slug(&self) -> String {
        link::slug(&self.title)
    }
}

/// Where brief-level diagnostics go for a brief at `range` with `heading`: the heading, or
/// the first line of a headless brief.
pub fn anchor(
    heading: Option<&Range<usize>>,
    range: &Range<usize>,
    document: &Document,
) -> Range<usize> {
    if let Some(heading) = heading {
        return heading.clone();
    }
    // The first line with text, so the squiggle is visible; else the brief's first line.
    let rope = document.rope();
    let first = rope.byte_to_line(range.start.min(document.len()));
    let last = rope.byte_to_line(range.end.min(document.len()));
    let line_range = |line: usize| {
        let start = rope.line_to_byte(line);
        let end = rope.try_line_to_byte(line + 1).unwrap_or(document.len());
        start
            ..start
                + document
                    .slice(start..end)
                    .trim_end_matches(['\n', '\r'])
                    .len()
    };
    (first..=last)
        .map(line_range)
        .find(|range| !document.slice(range.clone()).trim().is_empty())
        .unwrap_or_else(|| line_range(first))
}

/// Splits a document into briefs.
pub fn briefs(document: &Document) -> Vec<Brief> {
    spans(document)
        .iter()
        .map(|span| build_span(document, span))
        .collect()
}

/// Where a brief lies, before it is read: its H1 (an index into the outline's headings),
/// its byte range, and which headings lie inside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BriefSpan {
    pub h1: Option<usize>,
    pub range: Range<usize>,
    /// The indices of the outline headings inside the brief, after its H1.
    pub headings: Range<usize>,
}

/// The briefs' spans, cheap to find from the outline alone.
pub fn spans(document: &Document) -> Vec<BriefSpan> {
    let outline = document.outline();
    let headings = &outline.headings;
    let h1s: Vec<usize> = (0..headings.len())
        .filter(|&i| headings[i].level == 1)
        .collect();
    if h1s.is_empty() {
        let body_start = outline.front_matter.as_ref().map_or(0, |block| {
            let line = document.rope().byte_to_line(block.range.end);
            document
                .rope()
                .try_line_to_byte(line + 1)
                .unwrap_or(document.len())
        });
        return vec![BriefSpan {
            h1: None,
            range: body_start..document.len(),
            headings: 0..headings.len(),
        }];
    }
    let mut spans = Vec::with_capacity(h1s.len());
    for (n, &h1) in h1s.iter().enumerate() {
        let end = h1s
            .get(n + 1)
            .map_or(document.len(), |&next| headings[next].range.start);
        let next = h1s.get(n + 1).copied().unwrap_or(headings.len());
        spans.push(BriefSpan {
            h1: Some(h1),
            range: headings[h1].range.start..end,
            headings: h1 + 1..next,
        });
    }
    spans
}

/// Reads one brief.
pub fn build_span(document: &Document, span: &BriefSpan) -> Brief {
    let heading = span.h1.map(|h1| &document.outline().headings[h1]);
    let headings = &document.outline().headings;
    let h2s: Vec<usize> = span
        .headings
        .clone()
        .filter(|&i| headings[i].level == 2)
        .collect();
    build(document, heading, span.range.clone(), &h2s)
}

fn build(
    document: &Document,
    heading: Option<&Heading>,
    range: Range<usize>,
    h2s: &[usize],
) -> Brief {
    let headings = &document.outline().headings;
    let (title, title_range, mention) = match heading {
        Some(heading) => split_mention(document, heading.content.clone()),
        None => (String::new(), range.start..range.start, None),
    };
    let mut brief = Brief {
        title,
        heading: heading.map(|heading| heading.range.clone()),
        title_range,
        mention,
        range: range.clone(),
        fields: Vec::new(),
        outputs: Vec::new(),
        links: link::links(document, range.clone()),
    };
    for (n, &index) in h2s.iter().enumerate() {
        let heading = &headings[index];
        let body_end = h2s
            .get(n + 1)
            .map_or(range.end, |&next| headings[next].range.start);
        let body = heading.range.end..body_end;
        let (name, _, mention) = split_mention(document, heading.content.clone());
        if name.eq_ignore_ascii_case("output") {
            brief.outputs.push(OutputBlock {
                heading: heading.range.clone(),
                mention,
                marker: opening_marker(document, &body),
                body,
            });
        } else {
            let name = document.slice(heading.content.clone()).into_owned();
            brief.fields.push(Field {
                name,
                heading: heading.range.clone(),
                name_range: heading.content.clone(),
                body,
            });
        }
    }
    brief
}

/// The marker of the answer an output block's body opens with, if it opens with one.
fn opening_marker(document: &Document, body: &Range<usize>) -> Option<Marker> {
    let answers = &document.outline().answers;
    let index = answers.partition_point(|answer| answer.open.start < body.start);
    let answer = answers
        .get(index)
        .filter(|answer| answer.open.start < body.end)?;
    let before = document.trimmed(body.start..answer.open.start);
    if !before.is_empty() {
        return None;
    }
    Marker::parse(&document.slice(answer.open.clone()))
}

/// Splits heading text into its title (mentions removed) and its first `@mention`.
fn split_mention(
    document: &Document,
    content: Range<usize>,
) -> (String, Range<usize>, Option<Mention>) {
    let text = document.slice(content.clone());
    let mut mention = None;
    let mut words = Vec::new();
    let (mut title_start, mut title_end) = (None, content.start);
    let mut offset = 0;
    for word in text.split_inclusive(char::is_whitespace) {
        let trimmed = word.trim_end();
        let start = content.start + offset;
        offset += word.len();
        if let Some(name) = mention_name(trimmed) {
            if mention.is_none() {
                mention = Some(Mention {
                    name: name.to_owned(),
                    range: start..start + 1 + name.len(),
                });
            }
            continue;
        }
        if trimmed.is_empty() {
            continue;
        }
        words.push(trimmed);
        title_start.get_or_insert(start);
        title_end = start + trimmed.len();
    }
    let title_start = title_start.unwrap_or(content.start);
    (
        words.join(" "),
        title_start..title_end.max(title_start),
        mention,
    )
}

/// The agent name of an `@name` word: letters, digits, `_`, `-` and `.` inside.
pub fn mention_name(word: &str) -> Option<&str> {
    let name = word
        .strip_prefix('@')?
        .trim_end_matches(['.', ',', ':', ';', '!', '?', ')']);
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
    valid.then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h1_sections_are_briefs_h2_are_fields_output_is_not_a_field() {
        let text = "---\nkind: brief\n---\nintro\n# Scan pricing @researcher\n## Objective\nx\n### deeper\n## Output @researcher\nanswer\n# Second\n## Context\n";
        let document = Document::new(text);
        let briefs = briefs(&document);
        assert_eq!(briefs.len(), 2);
        assert_eq!(briefs[0].title, "Scan pricing");
        assert_eq!(
            document.slice(briefs[0].title_range.clone()),
            "Scan pricing"
        );
        assert_eq!(briefs[0].mention.as_ref().unwrap().name, "researcher");
        assert_eq!(briefs[0].fields.len(), 1);
        assert_eq!(
            document.slice(briefs[0].fields[0].body.clone()),
            "\nx\n### deeper\n"
        );
        assert_eq!(briefs[0].outputs.len(), 1);
        assert_eq!(briefs[1].fields[0].name, "Context");
    }

    #[test]
    fn an_answer_is_opaque() {
        let answer = "# Report [[Second]]\n## Summary\n```\n<!-- /baton:output -->\n```\n<!-- /baton:output -->\n# Still answer\n";
        let text = format!(
            "# First @a\n## Objective\nx\n\n## Output @a\n<!-- baton:output run=R1 agent=a status=done -->\n{answer}<!-- /baton:output run=R1 -->\n\n## Context\nafter\n# Second\n"
        );
        let document = Document::new(&text);
        let briefs = briefs(&document);
        let titles: Vec<&str> = briefs.iter().map(|brief| brief.title.as_str()).collect();
        assert_eq!(titles, ["First", "Second"]);
        let fields: Vec<&str> = briefs[0].fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(fields, ["Objective", "Context"]);
        assert!(briefs[0].links.is_empty(), "{:?}", briefs[0].links);
        let output = &briefs[0].outputs[0];
        assert_eq!(output.marker.as_ref().map(|m| m.run.as_str()), Some("R1"));
        // Typing inside the answer keeps it opaque.
        let mut typed = document.clone();
        let at = text.find("Still").unwrap();
        typed.replace(at..at, "\n# New title\n[[First]] ");
        let again = super::briefs(&typed);
        assert_eq!(again.len(), 2);
        assert_eq!(again[0].fields.len(), 2);
    }

    #[test]
    fn a_document_without_h1_is_one_brief() {
        let document = Document::new("---\nkind: handoff\n---\n\n## Decisions\nnone\n");
        let briefs = briefs(&document);
        assert_eq!(briefs.len(), 1);
        assert!(briefs[0].heading.is_none());
        assert_eq!(document.slice(briefs[0].anchor(&document)), "## Decisions");
        assert_eq!(briefs[0].fields[0].name, "Decisions");
    }

    #[test]
    fn mentions_need_the_at_sign_at_a_word_start() {
        assert_eq!(mention_name("@writer,"), Some("writer"));
        assert_eq!(mention_name("a@b.com"), None);
        assert_eq!(mention_name("@"), None);
    }
}
