//! The pipeline's graph (DESIGN §1, §5): its nodes are briefs, keyed by their document and
//! title; its edges are brief links, within a document and across documents inside the
//! workspace. Built from the briefs selected, following links transitively; a cycle is
//! refused with the `cycle` rule's message.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::texts::Texts;
use super::{Files, Node, Pipeline, Selection};
use crate::brief::graph as brief_graph;
use crate::brief::link::Target;
use crate::brief::rules::cycle;
use crate::config::AgentSpec;
use crate::dispatch::plan::{own_target, pick_brief};
use crate::workspace::{normalize, Located};

/// A brief: its document and its index among the document's briefs.
type Key = (PathBuf, usize);

/// The pipeline of `selection`: the briefs selected and every brief they need, in
/// topological order, each with its agent, what it needs and its state as the documents are
/// now. `Err` says why it cannot be built (a file unreadable or no baton document, no such
/// brief, a cycle).
pub fn build(selection: &Selection, files: &dyn Files) -> Result<Pipeline, String> {
    let mut texts = Texts::default();
    let (keys, needs) = discover(selection, files, &mut texts)?;
    refuse_cycles(&keys, &needs, &texts)?;
    let order = topological(&needs);
    let mut position = vec![0; keys.len()];
    for (at, &node) in order.iter().enumerate() {
        position[node] = at;
    }
    let nodes = order
        .iter()
        .map(|&node| {
            let (file, index) = &keys[node];
            let doc = texts.get(file).expect("every node's document is loaded");
            let brief = &doc.analysis.briefs[*index];
            let mut node_needs: Vec<usize> =
                needs[node].iter().map(|&need| position[need]).collect();
            node_needs.sort_unstable();
            let config = &doc.settings.config;
            let agent = own_target(brief, &doc.analysis, config);
            let host = (agent.as_ref())
                .and_then(|agent| config.agent(&agent.name))
                .and_then(AgentSpec::shown_host);
            Node {
                file: file.clone(),
                title: brief.title.clone(),
                agent,
                host,
                needs: node_needs,
                state: texts.state(file, *index, files),
            }
        })
        .collect();
    Ok(Pipeline { nodes })
}

/// The path a pipeline keys a document by: absolute, without `.` or `..`.
pub(super) fn key_path(file: &Path) -> Result<PathBuf, String> {
    std::path::absolute(file)
        .map(|path| normalize(&path))
        .map_err(|error| format!("{}: {error}", file.display()))
}

/// Every brief reached from the selection, in the order found, with the briefs each needs.
fn discover(
    selection: &Selection,
    files: &dyn Files,
    texts: &mut Texts,
) -> Result<(Vec<Key>, Vec<Vec<usize>>), String> {
    let mut keys: Vec<Key> = Vec::new();
    for key in roots(selection, files, texts)? {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    let mut found: HashMap<Key, usize> = (keys.iter().cloned()).zip(0..).collect();
    let mut needs = Vec::new();
    let mut next = 0;
    while next < keys.len() {
        let mut node_needs = Vec::new();
        for target in linked(&keys[next], files, texts) {
            let need = *found.entry(target.clone()).or_insert_with(|| {
                keys.push(target);
                keys.len() - 1
            });
            if !node_needs.contains(&need) {
                node_needs.push(need);
            }
        }
        needs.push(node_needs);
        next += 1;
    }
    Ok((keys, needs))
}

/// The briefs selected.
fn roots(selection: &Selection, files: &dyn Files, texts: &mut Texts) -> Result<Vec<Key>, String> {
    match selection {
        Selection::Files(paths) => {
            let mut keys = Vec::new();
            for path in paths {
                let path = key_path(path)?;
                let briefs = texts.load(&path, files)?.analysis.briefs.len();
                keys.extend((0..briefs).map(|index| (path.clone(), index)));
            }
            Ok(keys)
        }
        Selection::Brief { file, title } => {
            let path = key_path(file)?;
            let doc = texts.load(&path, files)?;
            let index = pick_brief(&doc.analysis.briefs, Some(title))
                .map_err(|refusal| format!("{}: {refusal}", path.display()))?;
            Ok(vec![(path, index)])
        }
    }
}

/// The briefs the brief `key` links to that a pipeline can run: in its document, or in a
/// baton document inside its workspace. Links that lead nowhere are the linter's business.
fn linked(key: &Key, files: &dyn Files, texts: &mut Texts) -> Vec<Key> {
    let (path, index) = key;
    let Some(doc) = texts.get(path) else {
        return Vec::new();
    };
    let dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
    let briefs = &doc.analysis.briefs;
    let boundary = doc.boundary.clone();
    // Each target once: a brief often links to the same brief several times.
    let mut seen = HashSet::new();
    let targets: Vec<Target> = (briefs[*index].links.iter())
        .filter(|link| seen.insert(&link.target))
        .map(|link| link.target.clone())
        .collect();
    let mut keys = Vec::new();
    for target in targets {
        let Some(file) = target.file() else {
            let doc = texts.get(path).expect("loaded above");
            keys.extend(doc.titles.named(&target).map(|to| (path.clone(), to)));
            continue;
        };
        let Located::Inside { named, .. } = boundary.locate(&dir, file) else {
            continue;
        };
        let Ok(other) = texts.load(&named, files) else {
            continue;
        };
        keys.extend(other.titles.named(&target).map(|to| (named, to)));
    }
    keys
}

/// `Err` with the `cycle` rule's message when links loop back.
fn refuse_cycles(keys: &[Key], needs: &[Vec<usize>], texts: &Texts) -> Result<(), String> {
    let edges: Vec<(usize, usize, usize)> = (needs.iter().enumerate())
        .flat_map(|(from, needs)| needs.iter().map(move |&to| (from, 0, to)))
        .collect();
    let component = brief_graph::components(keys.len(), &edges);
    let title = |node: usize| {
        let (path, index) = &keys[node];
        texts
            .get(path)
            .map_or("", |doc| doc.analysis.briefs[*index].title.as_str())
    };
    let Some(&(from, _, to)) = edges
        .iter()
        .find(|(from, _, to)| component[*from] == component[*to])
    else {
        return Ok(());
    };
    let members: Vec<&str> = (0..keys.len())
        .filter(|&node| component[node] == component[from])
        .map(title)
        .collect();
    let (path, _) = &keys[from];
    let message = cycle::message(title(from), from == to, &members);
    Err(format!("{}: {message}", path.display()))
}

/// The nodes in an order where each comes after every node it needs; among the nodes ready
/// at once, in the order they were found. `needs` holds no cycle.
fn topological(needs: &[Vec<usize>]) -> Vec<usize> {
    let mut placed = vec![false; needs.len()];
    let mut order = Vec::with_capacity(needs.len());
    // Depth first from each node in turn, needs first: iterative, so a long chain of briefs
    // cannot overflow the stack.
    for root in 0..needs.len() {
        let mut stack = vec![(root, 0)];
        while let Some((node, next)) = stack.pop() {
            if placed[node] {
                continue;
            }
            match needs[node].get(next) {
                Some(&need) => {
                    stack.push((node, next + 1));
                    if !placed[need] {
                        stack.push((need, 0));
                    }
                }
                None => {
                    placed[node] = true;
                    order.push(node);
                }
            }
        }
    }
    order
}

#[cfg(test)]
mod tests;
