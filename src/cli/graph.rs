//! `baton graph FILE... [--format mermaid|dot]`: the pipeline of the files (DESIGN §5) for a
//! README or a review: briefs as nodes (title, agent, state: done / stale / failed / never
//! run), grouped by file, and links as edges from the brief whose output flows to the brief
//! that reads it. Nothing is sent.

use std::path::PathBuf;
use std::process::ExitCode;

use super::disk::DiskFiles;
use super::run::names_and_files;
use crate::dispatch::pipeline::{self, Pipeline, Selection, State};

/// The notation printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Mermaid,
    Dot,
}

pub fn run(files: &[PathBuf], format: Format) -> ExitCode {
    if files.is_empty() {
        eprintln!("baton graph: name at least one file");
        return ExitCode::from(2);
    }
    let disk = DiskFiles::new("graph");
    match pipeline::build(&Selection::Files(files.to_vec()), &disk) {
        Ok(pipeline) => {
            let text = match format {
                Format::Mermaid => mermaid(&pipeline),
                Format::Dot => dot(&pipeline),
            };
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("baton graph: {message}");
            ExitCode::from(2)
        }
    }
}

/// The files of the pipeline in order of first appearance, each with its briefs.
fn groups(pipeline: &Pipeline) -> Vec<(String, Vec<usize>)> {
    let (_, files) = names_and_files(pipeline);
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (node, file) in files.into_iter().enumerate() {
        match groups.iter_mut().find(|(known, _)| *known == file) {
            Some((_, nodes)) => nodes.push(node),
            None => groups.push((file, vec![node])),
        }
    }
    groups
}

/// The second line of a node's label: its agent and state.
fn detail(pipeline: &Pipeline, node: usize) -> String {
    let node = &pipeline.nodes[node];
    let agent = node
        .agent
        .as_ref()
        .map_or_else(|| "no agent".to_owned(), |agent| format!("@{}", agent.name));
    format!("{agent} · {}", node.state.as_str())
}

fn class(state: State) -> &'static str {
    match state {
        State::UpToDate => "done",
        State::Stale => "stale",
        State::Failed => "failed",
        State::NeverRun => "never",
    }
}

/// A Mermaid flowchart, left to right, one subgraph per file.
pub fn mermaid(pipeline: &Pipeline) -> String {
    let escape = |text: &str| text.replace('"', "#quot;");
    let mut out = String::from("flowchart LR\n");
    for (group, (file, nodes)) in groups(pipeline).iter().enumerate() {
        out.push_str(&format!("  subgraph f{group}[\"{}\"]\n", escape(file)));
        for &node in nodes {
            let title = escape(&pipeline.nodes[node].title);
            let detail = escape(&detail(pipeline, node));
            let class = class(pipeline.nodes[node].state);
            out.push_str(&format!(
                "    n{node}[\"{title}<br/>{detail}\"]:::{class}\n"
            ));
        }
        out.push_str("  end\n");
    }
    for (node, brief) in pipeline.nodes.iter().enumerate() {
        for need in &brief.needs {
            out.push_str(&format!("  n{need} --> n{node}\n"));
        }
    }
    out.push_str(concat!(
        "  classDef done fill:#d4edda,stroke:#2e7d32\n",
        "  classDef stale fill:#fff3cd,stroke:#b58100\n",
        "  classDef failed fill:#f8d7da,stroke:#c62828\n",
        "  classDef never fill:#eeeeee,stroke:#757575\n",
    ));
    out
}

/// A Graphviz digraph, left to right, one cluster per file.
pub fn dot(pipeline: &Pipeline) -> String {
    let escape = |text: &str| text.replace('\\', "\\\\").replace('"', "\\\"");
    let mut out = String::from("digraph pipeline {\n  rankdir=LR;\n  node [shape=box];\n");
    for (group, (file, nodes)) in groups(pipeline).iter().enumerate() {
        out.push_str(&format!(
            "  subgraph cluster_{group} {{\n    label=\"{}\";\n",
            escape(file)
        ));
        for &node in nodes {
            let title = escape(&pipeline.nodes[node].title);
            let detail = escape(&detail(pipeline, node));
            let class = class(pipeline.nodes[node].state);
            out.push_str(&format!(
                "    n{node} [label=\"{title}\\n{detail}\", class=\"{class}\"];\n"
            ));
        }
        out.push_str("  }\n");
    }
    for (node, brief) in pipeline.nodes.iter().enumerate() {
        for need in &brief.needs {
            out.push_str(&format!("  n{need} -> n{node};\n"));
        }
    }
    out.push_str("}\n");
    out
}
