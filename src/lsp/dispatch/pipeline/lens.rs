//! Where "Run pipeline" is offered: on each brief that has dependencies or dependants. The code
//! lens counts what running it would cover (`▶ Run pipeline · 4 briefs, 2 up to date`), from
//! the pipeline of the whole document, built when lenses are asked for (after typing pauses),
//! and only for a document one of whose briefs links to another: a document without links
//! costs nothing. The code action only looks at the document's own links.

use std::sync::Arc;

use serde_json::json;
use tower_lsp_server::ls_types as lsp;

use super::{EditorFiles, RUN_PIPELINE};
use crate::brief::graph::local_target;
use crate::brief::model::Brief;
use crate::dispatch::pipeline::{self, Pipeline, Selection, State as BriefState};
use crate::lsp::state::{Snapshot, State};

/// For each brief of the snapshot, in order: how many briefs running it would cover and how
/// many of those are up to date; `None` for a brief with neither dependencies nor dependants.
pub fn pipeline_lenses(state: &Arc<State>, snapshot: &Snapshot) -> Vec<Option<(usize, usize)>> {
    let briefs = &snapshot.analysis().briefs;
    let none = vec![None; briefs.len()];
    let Some(path) = snapshot.context.path.clone() else {
        return none;
    };
    if briefs.iter().all(|brief| brief.links.is_empty()) {
        return none;
    }
    let files = EditorFiles::new(state.clone());
    let Ok(pipeline) = pipeline::build(&Selection::Files(vec![path.clone()]), &files) else {
        // A cycle, or a document that cannot be read: its diagnostics say so.
        return none;
    };
    let needed = needed(&pipeline);
    briefs
        .iter()
        .map(|brief| {
            let node = (pipeline.nodes.iter())
                .position(|node| node.file == path && node.title == brief.title)?;
            let linked = !pipeline.nodes[node].needs.is_empty() || needed[node];
            linked.then(|| counts(&pipeline, node))
        })
        .collect()
}

/// Whether some brief needs each node.
fn needed(pipeline: &Pipeline) -> Vec<bool> {
    let mut needed = vec![false; pipeline.nodes.len()];
    for node in &pipeline.nodes {
        for &need in &node.needs {
            needed[need] = true;
        }
    }
    needed
}

/// The briefs running `node` covers (it and everything it needs), and how many are up to date.
fn counts(pipeline: &Pipeline, node: usize) -> (usize, usize) {
    let mut covered = vec![false; pipeline.nodes.len()];
    let mut stack = vec![node];
    while let Some(next) = stack.pop() {
        if !std::mem::replace(&mut covered[next], true) {
            stack.extend(pipeline.nodes[next].needs.iter().copied());
        }
    }
    let nodes = (pipeline.nodes.iter().zip(&covered)).filter(|(_, &covered)| covered);
    let (mut total, mut fresh) = (0, 0);
    for (node, _) in nodes {
        total += 1;
        fresh += usize::from(node.state == BriefState::UpToDate);
    }
    (total, fresh)
}

/// The lens's title.
pub fn title((total, fresh): (usize, usize)) -> String {
    let briefs = if total == 1 { "brief" } else { "briefs" };
    format!("▶ Run pipeline · {total} {briefs}, {fresh} up to date")
}

/// "Run pipeline from *Title*" for a brief that links to another brief, or that another brief
/// of its document links to.
pub fn pipeline_action(snapshot: &Snapshot, brief: &Brief, uri: &str) -> Option<lsp::Command> {
    let briefs = &snapshot.analysis().briefs;
    let index = briefs.iter().position(|other| std::ptr::eq(other, brief))?;
    let linked = !brief.links.is_empty()
        || (briefs.iter()).any(|other| {
            (other.links.iter()).any(|link| local_target(&link.target, briefs) == Some(index))
        });
    linked.then(|| lsp::Command {
        title: format!("Run pipeline from \"{}\"", brief.title),
        command: RUN_PIPELINE.to_owned(),
        arguments: Some(vec![json!({ "uri": uri, "brief": brief.title })]),
    })
}
