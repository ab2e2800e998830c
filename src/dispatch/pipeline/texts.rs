//! The documents of a pipeline, kept in memory: read once through [`Files`], and changed
//! only by placing answers into them, so each brief reads its inputs as they are now: the
//! answers of the briefs it needs that ran before it in this pipeline included. From them:
//! the inputs of a brief (`brief::input::gather`, the one reading `send` and `stale-output`
//! use), its input hash and so its [`State`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Files, State};
use crate::brief::front_matter;
use crate::brief::graph::TitleIndex;
use crate::brief::input::{self, Input};
use crate::brief::link::Target;
use crate::brief::lint::{classify, Analysis, LinkedDocument, OtherDocuments};
use crate::brief::model::{self, Brief};
use crate::brief::output::{Marker, Status};
use crate::brief::payload;
use crate::dispatch::plan::Refusal;
use crate::document::Document;
use crate::workspace::{Boundary, Located, Settings};

/// One document as the pipeline holds it.
pub(super) struct Doc {
    pub text: String,
    pub document: Document,
    /// Its kind, front matter and briefs (no diagnostics: the pipeline lints nothing).
    pub analysis: Arc<Analysis>,
    /// Its briefs by title, to resolve the links that name them.
    pub titles: TitleIndex,
    pub settings: Arc<Settings>,
    pub boundary: Boundary,
    pub trusted: bool,
}

impl Doc {
    fn new(
        path: &Path,
        text: String,
        settings: Arc<Settings>,
        boundary: Boundary,
        trusted: bool,
    ) -> Doc {
        let document = Document::new(&text);
        let analysis = Arc::new(analyse(path, &document, &settings));
        Doc::analysed(document, analysis, text, settings, boundary, trusted)
    }

    /// A document analysed already, with its text.
    fn analysed(
        document: Document,
        analysis: Arc<Analysis>,
        text: String,
        settings: Arc<Settings>,
        boundary: Boundary,
        trusted: bool,
    ) -> Doc {
        Doc {
            titles: TitleIndex::new(&analysis.briefs),
            text,
            document,
            analysis,
            settings,
            boundary,
            trusted,
        }
    }

    /// The index of the brief titled exactly `title`.
    pub fn brief(&self, title: &str) -> Option<usize> {
        self.analysis
            .briefs
            .iter()
            .position(|brief| brief.title == title)
    }
}

/// What `plan` reads of a document: its kind, front matter and briefs.
fn analyse(path: &Path, document: &Document, settings: &Settings) -> Analysis {
    let (front_matter, _) = front_matter::read(document);
    let kind = classify(Some(path), &front_matter, &settings.config);
    let briefs = match kind {
        Some(_) if !document.is_too_large() => model::briefs(document),
        _ => Vec::new(),
    };
    Analysis {
        kind,
        front_matter,
        briefs,
        diagnostics: Vec::new(),
    }
}

/// The documents of a pipeline, by absolute path (as links name them).
#[derive(Default)]
pub(super) struct Texts {
    docs: HashMap<PathBuf, Doc>,
}

impl Texts {
    /// Reads `path` through `files` unless it is held already. `Err` says why it cannot be
    /// read, or why it is no baton document.
    pub fn load(&mut self, path: &Path, files: &dyn Files) -> Result<&Doc, String> {
        if !self.docs.contains_key(path) {
            let shown = path.display();
            let (settings, boundary) = (files.settings(path), files.boundary(path));
            let trusted = files.trusted(path);
            let doc = match files.analysed(path) {
                Some((document, analysis)) => {
                    let text = document.text().to_string();
                    Doc::analysed(document, analysis, text, settings, boundary, trusted)
                }
                None => {
                    let text = files
                        .text(path)
                        .ok_or_else(|| format!("cannot read {shown}"))?;
                    Doc::new(path, text, settings, boundary, trusted)
                }
            };
            if doc.document.is_too_large() {
                return Err(format!("{shown} is too large for baton to read"));
            }
            self.docs.insert(path.to_path_buf(), doc);
        }
        let doc = &self.docs[path];
        match doc.analysis.kind {
            Some(_) => Ok(doc),
            None => Err(format!("{}: {}", path.display(), Refusal::NotBaton)),
        }
    }

    pub fn get(&self, path: &Path) -> Option<&Doc> {
        self.docs.get(path)
    }

    /// Replaces the text of `path` (an answer was placed into it).
    pub fn set(&mut self, path: &Path, text: String) {
        if let Some(doc) = self.docs.get_mut(path) {
            let settings = doc.settings.clone();
            let boundary = doc.boundary.clone();
            *doc = Doc::new(path, text, settings, boundary, doc.trusted);
        }
    }

    /// The inputs brief `index` of `path` would be sent now: the latest outputs of the
    /// briefs it links to.
    pub fn inputs(&self, path: &Path, index: usize, files: &dyn Files) -> Vec<Input> {
        let Some(doc) = self.docs.get(path) else {
            return Vec::new();
        };
        let others = InMemory {
            texts: self,
            files,
            dir: path.parent().unwrap_or(Path::new("/")),
            boundary: &doc.boundary,
        };
        let briefs = &doc.analysis.briefs;
        input::gather(&doc.document, briefs, &briefs[index], &others)
    }

    /// The `input` hash brief `index` of `path` would be sent with now; `None` when its
    /// document or kind is unknown.
    pub fn input_hash(&self, path: &Path, index: usize, files: &dyn Files) -> Option<String> {
        let doc = self.docs.get(path)?;
        let kind = doc.settings.kinds.get(doc.analysis.kind.as_deref()?)?;
        let inputs = self.inputs(path, index, files);
        let brief = &doc.analysis.briefs[index];
        Some(payload::input_hash(&doc.document, brief, kind, &inputs))
    }

    /// Where brief `index` of `path` stands: its latest run against the hash of what would
    /// be sent now.
    pub fn state(&self, path: &Path, index: usize, files: &dyn Files) -> State {
        let Some(doc) = self.docs.get(path) else {
            return State::NeverRun;
        };
        let Some(latest) = latest_marker(&doc.analysis.briefs[index]) else {
            return State::NeverRun;
        };
        if latest.status != Status::Done {
            return State::Failed;
        }
        match self.input_hash(path, index, files) {
            Some(hash) if hash == latest.input => State::UpToDate,
            _ => State::Stale,
        }
    }

    /// [`Texts::state`] of the brief titled `title`, if it is there.
    pub fn state_of(&self, path: &Path, title: &str, files: &dyn Files) -> Option<State> {
        let index = self.docs.get(path)?.brief(title)?;
        Some(self.state(path, index, files))
    }
}

/// The marker of the brief's latest run (run ids sort by time), if any block has one.
pub(super) fn latest_marker(brief: &Brief) -> Option<&Marker> {
    (brief.outputs.iter())
        .filter_map(|block| block.marker.as_ref())
        .max_by(|a, b| a.run.cmp(&b.run))
}

/// The other documents, as the pipeline holds them (else as `files` gives them), inside the
/// linking document's boundary only.
struct InMemory<'a> {
    texts: &'a Texts,
    files: &'a dyn Files,
    dir: &'a Path,
    boundary: &'a Boundary,
}

impl InMemory<'_> {
    /// `read` of the document `file` names, with its briefs (read once for a document held).
    fn with<T>(&self, file: &str, read: impl FnOnce(&Document, &[Brief]) -> T) -> Option<T> {
        let Located::Inside { named, .. } = self.boundary.locate(self.dir, file) else {
            return None;
        };
        match self.texts.get(&named) {
            Some(doc) if doc.analysis.kind.is_some() => {
                Some(read(&doc.document, &doc.analysis.briefs))
            }
            Some(doc) => Some(read(&doc.document, &model::briefs(&doc.document))),
            None => {
                let document = Document::new(&self.files.text(&named)?);
                Some(read(&document, &model::briefs(&document)))
            }
        }
    }
}

impl OtherDocuments for InMemory<'_> {
    fn find(&self, file: &str) -> LinkedDocument {
        if let Located::Outside = self.boundary.locate(self.dir, file) {
            let workspace = self.boundary.root().display().to_string();
            return LinkedDocument::Outside { workspace };
        }
        let titles = |_: &Document, briefs: &[Brief]| {
            LinkedDocument::Found(briefs.iter().map(|brief| brief.title.clone()).collect())
        };
        self.with(file, titles).unwrap_or(LinkedDocument::Missing)
    }

    fn latest_output(&self, file: &str, target: &Target) -> Option<Input> {
        self.with(file, |document, briefs| {
            let found = (briefs.iter())
                .find(|brief| !brief.title.is_empty() && target.matches_title(&brief.title))?;
            input::latest_output(document, found)
        })?
    }
}
