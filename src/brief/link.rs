//! Links between briefs: `[[Title]]`, `[[file.brief.md#Title]]`, `[text](#slug)` and
//! `[text](file.brief.md#slug)`. Code blocks, HTML blocks, code spans and agents' answers
//! (which are opaque) are not read.

use std::ops::Range;

use crate::document::Document;

/// What a link points at.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// `[[Title]]` or `[[file#Title]]`: a brief by title.
    Title { file: Option<String>, title: String },
    /// `[text](#slug)` or `[text](file#slug)`: a brief by its heading's anchor.
    Slug { file: Option<String>, slug: String },
    /// `[[file.brief.md]]`: a whole document (its first brief).
    File { file: String },
}

impl Target {
    pub fn file(&self) -> Option<&str> {
        match self {
            Target::Title { file, .. } | Target::Slug { file, .. } => file.as_deref(),
            Target::File { file } => Some(file),
        }
    }

    /// Whether a brief with this title (in the linked file) is what the link means.
    pub fn matches_title(&self, title: &str) -> bool {
        match self {
            Target::Title { title: wanted, .. } => same_title(wanted, title),
            Target::Slug { slug: wanted, .. } => {
                slug(title) == *wanted || slug(title).trim_matches('-') == wanted.trim_matches('-')
            }
            Target::File { .. } => true,
        }
    }

    /// The text the user wrote to name the brief, for messages.
    pub fn label(&self) -> String {
        match self {
            Target::Title { file: None, title } => title.clone(),
            Target::Title {
                file: Some(file),
                title,
            } => format!("{file}#{title}"),
            Target::Slug { file, slug } => format!("{}#{slug}", file.as_deref().unwrap_or("")),
            Target::File { file } => file.clone(),
        }
    }
}

/// A link found in a brief.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The whole link as written.
    pub range: Range<usize>,
    /// The part naming the target (what a rename of the target rewrites).
    pub target_range: Range<usize>,
    pub target: Target,
}

/// Titles compare case-insensitively with runs of spaces folded.
pub fn same_title(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        // The common case, without allocating: links are resolved by the hundred.
        let (mut a, mut b) = (a.split_whitespace(), b.split_whitespace());
        loop {
            match (a.next(), b.next()) {
                (None, None) => return true,
                (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => {}
                _ => return false,
            }
        }
    }
    let fold = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    fold(a) == fold(b)
}

/// The GitHub-style anchor of a heading: lowercase, punctuation dropped, spaces to hyphens.
pub fn slug(title: &str) -> String {
    title
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The links in a byte range of a document, in order.
pub fn links(document: &Document, range: Range<usize>) -> Vec<Link> {
    let text = document.slice(range.clone());
    let outline = document.outline();
    let mut found = Vec::new();
    let mut in_code_span = false;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'`' => in_code_span = !in_code_span,
            b'\n' if bytes.get(i + 1) == Some(&b'\n') => in_code_span = false,
            b'[' if !in_code_span
                && !outline.is_verbatim(range.start + i)
                && outline.answer_at(range.start + i).is_none() =>
            {
                if let Some((link, end)) = link_at(&text, i, range.start) {
                    found.push(link);
                    i = end;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// Parses a link starting at `text[start]` (a `[`), returning it and where it ends.
fn link_at(text: &str, start: usize, base: usize) -> Option<(Link, usize)> {
    let rest = &text[start..];
    if let Some(inner) = rest.strip_prefix("[[") {
        let close = inner.find("]]")?;
        let body = &inner[..close];
        if body.contains(['\n', '[']) || body.trim().is_empty() {
            return None;
        }
        let target_text = body.split('|').next().unwrap_or(body);
        let target_start = base + start + 2;
        let end = start + 2 + close + 2;
        let target = match target_text.split_once('#') {
            Some((file, title)) => Target::Title {
                file: non_empty(file),
                title: title.trim().to_owned(),
            },
            None if is_document_path(target_text.trim()) => Target::File {
                file: target_text.trim().to_owned(),
            },
            None => Target::Title {
                file: None,
                title: target_text.trim().to_owned(),
            },
        };
        let target_range = target_start..target_start + target_text.len();
        return Some((
            Link {
                range: base + start..base + end,
                target_range,
                target,
            },
            end,
        ));
    }
    let label_end = find_label_end(rest)?;
    let after = &rest[label_end + 1..];
    let destination = after.strip_prefix('(')?;
    let close = destination.find([')', '\n', ' '])?;
    if destination.as_bytes()[close] != b')' {
        return None;
    }
    let href = &destination[..close];
    let (file, fragment) = href.split_once('#')?;
    if !(file.is_empty() || is_document_path(file)) || fragment.is_empty() {
        return None;
    }
    let end = start + label_end + 2 + close + 1;
    let fragment_start = base + start + label_end + 2 + file.len() + 1;
    let target = Target::Slug {
        file: non_empty(file),
        slug: fragment.to_lowercase(),
    };
    let link = Link {
        range: base + start..base + end,
        target_range: fragment_start..fragment_start + fragment.len(),
        target,
    };
    Some((link, end))
}

/// The index of the `]` closing a link label that starts at `text[0]`.
fn find_label_end(text: &str) -> Option<usize> {
    let mut depth = 0;
    for (index, byte) in text.bytes().enumerate() {
        match byte {
            b'[' => depth += 1,
            b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(index);
                }
            }
            b'\n' => return None,
            _ => {}
        }
    }
    None
}

fn non_empty(file: &str) -> Option<String> {
    let file = file.trim();
    (!file.is_empty()).then(|| file.to_owned())
}

fn is_document_path(text: &str) -> bool {
    let lower = text.to_lowercase();
    lower.ends_with(".md") || lower.ends_with(".markdown")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(text: &str) -> Vec<(String, Target)> {
        let document = Document::new(text);
        links(&document, 0..document.len())
            .into_iter()
            .map(|link| (document.slice(link.target_range).into_owned(), link.target))
            .collect()
    }

    #[test]
    fn reads_every_link_form() {
        let found = targets("Uses [[Market scan]], [[b.brief.md#Plan|the plan]], [[c.handoff.md]], [x](#market-scan) and [y](d.brief.md#plan).\n");
        let title = |file: Option<&str>, title: &str| Target::Title {
            file: file.map(Into::into),
            title: title.into(),
        };
        let slug = |file: Option<&str>, slug: &str| Target::Slug {
            file: file.map(Into::into),
            slug: slug.into(),
        };
        assert_eq!(
            found,
            vec![
                ("Market scan".into(), title(None, "Market scan")),
                ("b.brief.md#Plan".into(), title(Some("b.brief.md"), "Plan")),
                (
                    "c.handoff.md".into(),
                    Target::File {
                        file: "c.handoff.md".into()
                    }
                ),
                ("market-scan".into(), slug(None, "market-scan")),
                ("plan".into(), slug(Some("d.brief.md"), "plan")),
            ]
        );
    }

    #[test]
    fn ignores_code_and_ordinary_links() {
        assert!(
            targets("`[[not]]` [site](https://x.org) [doc](notes.md)\n\n```\n[[code]]\n```\n")
                .is_empty()
        );
    }

    #[test]
    fn slugs_follow_github() {
        assert_eq!(
            slug("Scan Acme's pricing (2025)"),
            "scan-acmes-pricing-2025"
        );
        assert!(Target::Slug {
            file: None,
            slug: "ship-it".into()
        }
        .matches_title("🎉 Ship it"));
    }
}
