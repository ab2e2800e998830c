//! The graph, built from documents in a map: nodes, edges across files, order, states, cycles.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::*;
use crate::brief::output::{block_text, Marker, Status};
use crate::brief::payload;
use crate::config::Config;
use crate::dispatch::pipeline::State;
use crate::workspace::{Boundary, Settings};

struct Map {
    texts: HashMap<PathBuf, String>,
    settings: Arc<Settings>,
}

impl Map {
    fn new(files: &[(&str, &str)]) -> Map {
        let config = Config::from_toml(
            "[defaults]\nagent = \"w\"\n[agents.w]\nprovider = \"openai\"\nmodel = \"m\"\n",
        )
        .unwrap();
        Map {
            texts: (files.iter())
                .map(|(name, text)| (Path::new("/ws").join(name), (*text).to_owned()))
                .collect(),
            settings: Arc::new(Settings::new(config)),
        }
    }
}

impl Files for Map {
    fn text(&self, file: &Path) -> Option<String> {
        self.texts.get(file).cloned()
    }
    fn settings(&self, _: &Path) -> Arc<Settings> {
        self.settings.clone()
    }
    fn trusted(&self, _: &Path) -> bool {
        true
    }
    fn boundary(&self, _: &Path) -> Boundary {
        Boundary::at(Path::new("/ws"))
    }
}

fn files(paths: &[&str]) -> Selection {
    Selection::Files(
        paths
            .iter()
            .map(|path| Path::new("/ws").join(path))
            .collect(),
    )
}

/// Each node as `file#title <- needs`.
fn shape(pipeline: &Pipeline) -> Vec<String> {
    (pipeline.nodes.iter())
        .map(|node| {
            let name = node.file.file_name().unwrap().to_string_lossy();
            let needs: Vec<String> = node.needs.iter().map(|n| n.to_string()).collect();
            format!("{name}#{} <- [{}]", node.title, needs.join(","))
        })
        .collect()
}

#[test]
fn a_diamond_across_two_files_in_topological_order() {
    let map = Map::new(&[
        ("a.brief.md", "# Report\n\nUse [[Left]] and [[b.brief.md#Right]].\n\n# Left\n\nUse [[b.brief.md#Scan]].\n"),
        ("b.brief.md", "# Right\n\nUse [[Scan]].\n\n# Scan\n\nLook.\n\n# Unrelated\n\nx\n"),
    ]);
    let pipeline = build(&files(&["a.brief.md"]), &map).unwrap();
    assert_eq!(
        shape(&pipeline),
        [
            "b.brief.md#Scan <- []",
            "a.brief.md#Left <- [0]",
            "b.brief.md#Right <- [0]",
            "a.brief.md#Report <- [1,2]",
        ]
    );
    assert!(pipeline
        .nodes
        .iter()
        .all(|node| node.state == State::NeverRun));
    let agent = pipeline.nodes[0].agent.as_ref().unwrap();
    assert_eq!(
        (agent.name.as_str(), agent.reason()),
        ("w", "`[defaults] agent`".to_owned())
    );

    let one = Selection::Brief {
        file: "/ws/a.brief.md".into(),
        title: "left".into(),
    };
    assert_eq!(
        shape(&build(&one, &map).unwrap()),
        ["b.brief.md#Scan <- []", "a.brief.md#Left <- [0]"]
    );
}

#[test]
fn links_out_of_the_workspace_or_to_nothing_are_no_edges() {
    let map = Map::new(&[(
        "a.brief.md",
        "# A\n\nUse [[../out.brief.md#X]], [[missing.brief.md#Y]] and [[Nowhere]].\n",
    )]);
    assert_eq!(
        shape(&build(&files(&["a.brief.md"]), &map).unwrap()),
        ["a.brief.md#A <- []"]
    );
}

#[test]
fn a_cycle_is_refused_with_the_cycle_message() {
    let map = Map::new(&[
        ("a.brief.md", "# A\n\nUse [[b.brief.md#B]].\n"),
        ("b.brief.md", "# B\n\nUse [[a.brief.md#A]].\n"),
        ("c.brief.md", "# C\n\nUse [[C]].\n"),
    ]);
    let error = build(&files(&["a.brief.md"]), &map).unwrap_err();
    assert!(
        error.ends_with("this link closes a cycle between `A`, `B`; a pipeline cannot run briefs that wait on each other"),
        "{error}"
    );
    let error = build(&files(&["c.brief.md"]), &map).unwrap_err();
    assert_eq!(
        error,
        "/ws/c.brief.md: `C` links to itself, so it would need its own output before it runs"
    );
}

#[test]
fn a_file_that_is_no_baton_document_or_cannot_be_read_is_refused() {
    let map = Map::new(&[("notes.md", "# Notes\n")]);
    let error = build(&files(&["notes.md"]), &map).unwrap_err();
    assert!(
        error.starts_with("/ws/notes.md: not a baton document"),
        "{error}"
    );
    let error = build(&files(&["gone.brief.md"]), &map).unwrap_err();
    assert_eq!(error, "cannot read /ws/gone.brief.md");
    let wrong = Selection::Brief {
        file: "/ws/notes.md".into(),
        title: "x".into(),
    };
    assert!(build(&wrong, &map).is_err());
}

fn marker(run: &str, input: &str, status: Status) -> Marker {
    Marker {
        run: run.into(),
        agent: "w".into(),
        model: "m".into(),
        input: input.into(),
        status,
    }
}

#[test]
fn states_follow_the_latest_run_and_the_input_hash_of_what_would_be_sent_now() {
    let scan = "# Scan\n\nLook.\n";
    let map = Map::new(&[("a.brief.md", scan)]);
    let settings = map.settings.clone();
    let hash = |text: &str, inputs: &[crate::brief::input::Input]| {
        let document = crate::document::Document::new(text);
        let briefs = crate::brief::model::briefs(&document);
        payload::input_hash(
            &document,
            &briefs[0],
            settings.kinds.get("brief").unwrap(),
            inputs,
        )
    };
    let own = hash(scan, &[]);
    let answered = |run: &str, input: &str, status| {
        format!(
            "{scan}\n{}",
            block_text("w", &marker(run, input, status), "Three rivals.")
        )
    };
    let report = "# Report\n\nUse [[Scan]].\n";
    let state = |text: String| {
        let map = Map::new(&[("a.brief.md", &text)]);
        let pipeline = build(&files(&["a.brief.md"]), &map).unwrap();
        pipeline
            .nodes
            .iter()
            .map(|node| node.state)
            .collect::<Vec<_>>()
    };
    assert_eq!(state(scan.to_owned()), [State::NeverRun]);
    assert_eq!(
        state(answered("01A", &own, Status::Done)),
        [State::UpToDate]
    );
    assert_eq!(
        state(answered("01A", "00000000", Status::Done)),
        [State::Stale]
    );
    assert_eq!(
        state(answered("01A", &own, Status::Partial)),
        [State::Failed]
    );
    // The report's hash covers its input, the scan's answer.
    let input = crate::brief::input::Input {
        title: "Scan".into(),
        agent: Some("w".into()),
        text: "Three rivals.".into(),
    };
    let report_hash = hash(report, std::slice::from_ref(&input));
    let both = format!(
        "{}\n{report}\n{}",
        answered("01A", &own, Status::Done),
        block_text("w", &marker("01B", &report_hash, Status::Done), "Fine.")
    );
    assert_eq!(state(both.clone()), [State::UpToDate, State::UpToDate]);
    let edited = both.replace(
        "Three rivals.\n<!-- /baton:output run=01A",
        "Four rivals.\n<!-- /baton:output run=01A",
    );
    assert_eq!(
        state(edited),
        [State::UpToDate, State::Stale],
        "its input changed"
    );
}
