//! The inputs of a run (DESIGN §1, §4 step 2): for each brief the sent brief links to, in this
//! document or in another file, its newest output ([`crate::brief::input`], which
//! `stale-output` reads the same way). Other files are read only inside the workspace
//! (`workspace::LinkedDocuments`): a document outside it is never read, so nothing of it is
//! sent.

use crate::brief::graph::TitleIndex;
use crate::brief::input;
use crate::brief::lint::NoOtherDocuments;
use crate::brief::model::Brief;
use crate::brief::payload::Input;
use crate::document::Document;
use crate::workspace::LinkedDocuments;

pub use crate::brief::input::latest_output;

/// The latest outputs of the briefs `brief` links to, in the order its links first name them.
/// `briefs` are the briefs of `document`; other files are read through `linked` (`None` for a
/// document that is not a file). Links that lead nowhere or out of the workspace, and briefs
/// with no output yet, contribute nothing.
/// `titles` indexes `briefs` ([`TitleIndex::new`]).
pub fn gather(
    document: &Document,
    briefs: &[Brief],
    titles: &TitleIndex,
    brief: &Brief,
    linked: Option<&LinkedDocuments<'_>>,
) -> Vec<Input> {
    match linked {
        Some(linked) => input::gather_indexed(document, briefs, titles, brief, linked),
        None => input::gather_indexed(document, briefs, titles, brief, &NoOtherDocuments),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::brief::model;
    use crate::brief::output::{block_text, Marker, Status};
    use crate::workspace::{no_open_documents, Boundary};

    fn marker(run: &str, agent: &str, status: Status) -> Marker {
        Marker {
            run: run.into(),
            agent: agent.into(),
            model: "m".into(),
            input: "00000000".into(),
            status,
        }
    }

    fn inputs_of(text: &str, title: &str) -> Vec<Input> {
        let document = Document::new(text);
        let briefs = model::briefs(&document);
        let brief = briefs.iter().find(|brief| brief.title == title).unwrap();
        gather(&document, &briefs, &TitleIndex::new(&briefs), brief, None)
    }

    #[test]
    fn a_linked_brief_contributes_its_newest_finished_output() {
        let old = block_text("a", &marker("01A", "a", Status::Done), "Old answer.");
        let new = block_text("b", &marker("01B", "b", Status::Done), "New answer.");
        let running = block_text("c", &marker("01C", "c", Status::Running), "Half");
        let text = format!(
            "# Scan\n\n## Objective\n\nLook.\n\n{old}\n{new}\n{running}\n# Report\n\nUse [[Scan]] and [[Scan]].\n"
        );
        let inputs = inputs_of(&text, "Report");
        assert_eq!(
            inputs,
            vec![Input {
                title: "Scan".into(),
                agent: Some("b".into()),
                text: "New answer.".into()
            }]
        );
    }

    #[test]
    fn links_to_briefs_without_output_or_to_nothing_contribute_nothing() {
        let text = "# Scan\n\n## Objective\n\nLook.\n\n# Report\n\nUse [[Scan]], [[Nowhere]] and [[Report]].\n";
        assert!(inputs_of(text, "Report").is_empty());
    }

    #[test]
    fn an_output_written_by_hand_counts() {
        let text = "# Scan\n\n## Output @a\n\nBy hand.\n\n# Report\n\nUse [[Scan]].\n";
        let inputs = inputs_of(text, "Report");
        assert_eq!(inputs.len(), 1);
        assert_eq!(inputs[0].text, "By hand.");
    }

    #[test]
    fn links_into_other_files_are_read_from_disk_inside_the_workspace_only() {
        let dir = std::env::temp_dir().join(format!("baton-inputs-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("ws")).unwrap();
        let done = block_text("a", &marker("01A", "a", Status::Done), "From afar.");
        let scan = format!("# Scan\n\n## Objective\n\nLook.\n\n{done}");
        std::fs::write(dir.join("ws/scan.brief.md"), &scan).unwrap();
        std::fs::write(dir.join("secret.brief.md"), &scan).unwrap();
        let path = dir.join("ws/report.brief.md");
        let linked = LinkedDocuments::new(&path, Boundary::at(&dir.join("ws")), &no_open_documents);
        let inputs_from = |text: &str| {
            let document = Document::new(text);
            let briefs = model::briefs(&document);
            gather(
                &document,
                &briefs,
                &TitleIndex::new(&briefs),
                &briefs[0],
                Some(&linked),
            )
        };
        let inside = inputs_from("# Report\n\nUse [[scan.brief.md#Scan]].\n");
        let outside = inputs_from("# Report\n\nUse [[../secret.brief.md#Scan]].\n");
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(inside.len(), 1);
        assert_eq!(inside[0].text, "From afar.");
        assert!(
            outside.is_empty(),
            "a document outside the workspace is not read"
        );
    }
}
