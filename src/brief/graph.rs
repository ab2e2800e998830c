//! Where links lead: to a brief of this document, to another document, or nowhere. The
//! links between the briefs of one document form the pipeline's graph (DESIGN §5).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use super::link::{Link, Target};
use super::model::Brief;

/// The brief of this document a link points at, if it points into this document.
pub fn local_target(target: &Target, briefs: &[Brief]) -> Option<usize> {
    if target.file().is_some() {
        return None;
    }
    briefs
        .iter()
        .position(|brief| !brief.title.is_empty() && target.matches_title(&brief.title))
}

/// [`local_target`] among the briefs' titles, in order.
pub fn local_target_in(target: &Target, titles: &[&str]) -> Option<usize> {
    if target.file().is_some() {
        return None;
    }
    titles
        .iter()
        .position(|title| !title.is_empty() && target.matches_title(title))
}

/// The briefs of one document by folded title and by anchor, so resolving every link of a
/// large document costs one lookup each instead of a scan of all titles.
pub struct TitleIndex {
    by_title: HashMap<Arc<str>, usize, BuildHasherDefault<Fnv>>,
    by_slug: HashMap<Arc<str>, usize, BuildHasherDefault<Fnv>>,
    /// The first brief with a title: what a link to the whole document names.
    first: Option<usize>,
}

/// How a title is looked up: folded (case and spacing) and as an anchor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TitleKeys {
    pub folded: Arc<str>,
    pub slug: Arc<str>,
}

impl TitleKeys {
    pub fn of(title: &str) -> Self {
        let slug = super::link::slug(title);
        TitleKeys {
            folded: fold(title).into(),
            slug: slug.trim_matches('-').into(),
        }
    }
}

impl TitleIndex {
    pub fn new(briefs: &[Brief]) -> Self {
        let keys: Vec<Option<TitleKeys>> = briefs
            .iter()
            .map(|brief| (!brief.title.is_empty()).then(|| TitleKeys::of(&brief.title)))
            .collect();
        TitleIndex::from_keys(keys.iter().map(Option::as_ref))
    }

    /// An index over keys already computed, one per brief in order (`None`: untitled).
    pub fn from_keys<'a>(keys: impl Iterator<Item = Option<&'a TitleKeys>>) -> Self {
        let mut index = TitleIndex {
            by_title: HashMap::default(),
            by_slug: HashMap::default(),
            first: None,
        };
        for (position, keys) in keys.enumerate() {
            if let Some(keys) = keys {
                index.first.get_or_insert(position);
                index
                    .by_title
                    .entry(keys.folded.clone())
                    .or_insert(position);
                index.by_slug.entry(keys.slug.clone()).or_insert(position);
            }
        }
        index
    }

    /// The brief of this document a link points at (same answer as [`local_target`]).
    pub fn resolve(&self, target: &Target) -> Option<usize> {
        match target {
            Target::Title { file: None, title } => self.by_title.get(fold(title).as_str()).copied(),
            Target::Slug { file: None, slug } => self.by_slug.get(slug.trim_matches('-')).copied(),
            _ => None,
        }
    }

    /// The brief of this document a link names, wherever the link is (which document it
    /// points at is the caller's business): the same answer as a scan with
    /// [`Target::matches_title`], in one lookup.
    pub fn named(&self, target: &Target) -> Option<usize> {
        match target {
            Target::Title { title, .. } => self.by_title.get(fold(title).as_str()).copied(),
            Target::Slug { slug, .. } => self.by_slug.get(slug.trim_matches('-')).copied(),
            Target::File { .. } => self.first,
        }
    }
}

/// FNV-1a: titles are short and trusted, and this map is rebuilt on every keystroke, so a
/// fast hash matters more than resistance to crafted collisions.
#[derive(Default)]
pub struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &byte in bytes {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }
}

fn fold(title: &str) -> String {
    title
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Edges `(from brief, link index, to brief)` between briefs of one document, given each
/// brief's links in order.
pub fn local_edges<'a>(
    links: impl IntoIterator<Item = &'a [Link]>,
    index: &TitleIndex,
) -> Vec<(usize, usize, usize)> {
    let mut edges = Vec::new();
    for (from, links) in links.into_iter().enumerate() {
        for (position, link) in links.iter().enumerate() {
            if let Some(to) = index.resolve(&link.target) {
                edges.push((from, position, to));
            }
        }
    }
    edges
}

/// Strongly connected components (Tarjan), as a component number per node.
pub fn components(nodes: usize, edges: &[(usize, usize, usize)]) -> Vec<usize> {
    struct State<'a> {
        adjacency: Vec<Vec<usize>>,
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        component: Vec<usize>,
        next_index: usize,
        next_component: usize,
        _edges: &'a [(usize, usize, usize)],
    }
    fn visit(state: &mut State<'_>, node: usize) {
        // Iterative depth-first search: a long chain of briefs must not overflow the stack.
        let mut work = vec![(node, 0usize)];
        state.index[node] = Some(state.next_index);
        state.low[node] = state.next_index;
        state.next_index += 1;
        state.stack.push(node);
        state.on_stack[node] = true;
        while let Some(&mut (current, ref mut next_edge)) = work.last_mut() {
            if let Some(&successor) = state.adjacency[current].get(*next_edge) {
                *next_edge += 1;
                match state.index[successor] {
                    None => {
                        state.index[successor] = Some(state.next_index);
                        state.low[successor] = state.next_index;
                        state.next_index += 1;
                        state.stack.push(successor);
                        state.on_stack[successor] = true;
                        work.push((successor, 0));
                    }
                    Some(index) if state.on_stack[successor] => {
                        state.low[current] = state.low[current].min(index)
                    }
                    Some(_) => {}
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                state.low[parent] = state.low[parent].min(state.low[current]);
            }
            if Some(state.low[current]) == state.index[current] {
                while let Some(member) = state.stack.pop() {
                    state.on_stack[member] = false;
                    state.component[member] = state.next_component;
                    if member == current {
                        break;
                    }
                }
                state.next_component += 1;
            }
        }
    }
    let mut adjacency = vec![Vec::new(); nodes];
    for &(from, _, to) in edges {
        adjacency[from].push(to);
    }
    let mut state = State {
        adjacency,
        index: vec![None; nodes],
        low: vec![0; nodes],
        on_stack: vec![false; nodes],
        stack: Vec::new(),
        component: vec![0; nodes],
        next_index: 0,
        next_component: 0,
        _edges: edges,
    };
    for node in 0..nodes {
        if state.index[node].is_none() {
            visit(&mut state, node);
        }
    }
    state.component
}

#[cfg(test)]
mod tests {
    use super::components;

    #[test]
    fn cycles_share_a_component() {
        let edges = [(0, 0, 1), (1, 0, 2), (2, 0, 0), (2, 1, 3)];
        let component = components(4, &edges);
        assert_eq!(component[0], component[1]);
        assert_eq!(component[1], component[2]);
        assert_ne!(component[2], component[3]);
    }
}
