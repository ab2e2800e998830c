//! What the handlers share: the open documents, the configuration each one uses, the latest
//! analysis of each, what `initialize` settled, and the folders the editor names now (which
//! decide trust and where links may reach).
//!
//! Every map holds `Arc`s; readers clone one out and drop the guard at once, so no guard is
//! ever held across an `.await` (or across a lint, which reads other entries).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use dashmap::DashMap;

use crate::lsp::config_watch::{Configs, Report};
use crate::lsp::context::DocumentContext;
use crate::lsp::counting::Verdicts;
use crate::lsp::options::InitializationOptions;
use crate::lsp::placement::Placements;
use crate::lsp::trust::Trust;
use crate::lsp::writing::Writing;

mod lint;
use crate::brief::cache::Findings;
use crate::brief::Analysis;
use crate::dispatch::run::registry::{Registry, RunInfo};
use crate::dispatch::run::Cancel;
use crate::document::store::{ChangeError, OpenDocument, Store};
use crate::document::{Change, Document, Encoding};
use crate::workspace::{Boundary, Settings};

/// What `initialize` settled, fixed for the session.
#[derive(Clone, Debug, Default)]
pub struct Session {
    pub encoding: Encoding,
    pub options: InitializationOptions,
    /// The first workspace folder: untitled documents use its configuration.
    pub root: Option<PathBuf>,
    /// Every folder the editor named in `initialize` (`State::trust` keeps the folders
    /// it names now).
    pub folders: Vec<PathBuf>,
    /// Whether the client takes versioned `documentChanges` in workspace edits.
    pub document_changes: bool,
    /// Whether the client lets the server register a file watcher.
    pub watch_files: bool,
    /// Whether the client shows server-created work-done progress.
    pub work_done_progress: bool,
    /// Whether the client takes `workspace/codeLens/refresh`.
    pub code_lens_refresh: bool,
    /// Whether the client takes `window/showDocument`.
    pub show_document: bool,
}

/// What the linter found at one version of a document; the full analysis the features
/// read is made on first use, never on the typing path.
#[derive(Debug)]
pub struct Analyzed {
    pub version: i32,
    pub findings: Findings,
    full: OnceLock<Arc<Analysis>>,
}

/// One open document at one version, with everything the features need about it.
pub struct Snapshot {
    pub open: Arc<OpenDocument>,
    pub context: Arc<DocumentContext>,
    analysis: Arc<Analysis>,
}

impl Snapshot {
    pub fn document(&self) -> &Document {
        &self.open.document
    }

    pub fn analysis(&self) -> &Analysis {
        &self.analysis
    }

    /// The analysis, to keep beyond the snapshot.
    pub fn shared_analysis(&self) -> Arc<Analysis> {
        self.analysis.clone()
    }

    pub fn settings(&self) -> &Settings {
        &self.context.settings
    }
}

#[derive(Default)]
pub struct State {
    pub store: Store,
    /// The diagnostics last published for each open document, as placed and written.
    pub placements: Placements,
    pub configs: Configs,
    pub runs: Registry,
    /// The pipelines running, by id, to cancel from their progress.
    pub pipelines: DashMap<String, Cancel>,
    /// The handoffs an agent is writing, by id, as editors see them beside the runs
    /// (`baton.runs`, `baton/runs`), to cancel from their progress or with `baton.cancel`.
    pub handoffs: DashMap<String, (RunInfo, Cancel)>,
    /// How streamed answers may be written into the documents, and when each last changed.
    pub writing: Writing,
    /// The briefs over budget in each document, as the background count last found them.
    pub verdicts: Verdicts,
    session: OnceLock<Session>,
    contexts: DashMap<String, Arc<DocumentContext>>,
    analyses: DashMap<String, Arc<Analyzed>>,
    /// Open documents by path, for links across files.
    uris_by_path: DashMap<PathBuf, String>,
    /// The editor's folders and the trust they carry.
    trust: Trust,
    shut_down: AtomicBool,
    panicked: AtomicBool,
}

impl State {
    pub fn initialize(&self, session: Session) {
        let folders = session.folders.clone();
        if self.session.set(session).is_err() {
            tracing::warn!("a second initialize was ignored");
            return;
        }
        self.trust.set_folders(&folders);
    }

    /// Applies `workspace/didChangeWorkspaceFolders`, then re-binds every open document, whose
    /// trust and link boundary may have changed with the folders; returns the configuration
    /// problems to show.
    pub fn change_folders(&self, added: &[PathBuf], removed: &[PathBuf]) -> Vec<Report> {
        self.trust.change_folders(added, removed);
        let mut reports = Vec::new();
        self.rebind(&mut reports);
        reports
    }

    pub fn session(&self) -> &Session {
        self.session.get_or_init(Session::default)
    }

    pub fn encoding(&self) -> Encoding {
        self.session().encoding
    }

    pub fn shut_down(&self) {
        self.shut_down.store(true, Ordering::Relaxed);
    }

    pub fn is_shut_down(&self) -> bool {
        self.shut_down.load(Ordering::Relaxed)
    }

    /// Whether this is the first internal error of the session.
    pub fn first_panic(&self) -> bool {
        !self.panicked.swap(true, Ordering::Relaxed)
    }

    /// Stores a newly opened document, unparsed (see [`State::parsed`]); returns it, with the
    /// configuration problems to show if its configuration was loaded for the first time.
    pub fn open(
        &self,
        uri: &str,
        path: Option<PathBuf>,
        version: i32,
        text: &str,
    ) -> (Arc<OpenDocument>, Vec<Report>) {
        let open = self.store.open(uri, version, text);
        self.writing.changed(uri);
        let (settings, reports) = self.settings_for(path.as_deref());
        if let Some(path) = &path {
            self.uris_by_path.insert(path.clone(), uri.to_owned());
        }
        let context = Arc::new(self.context(path, settings));
        self.contexts.insert(uri.to_owned(), context);
        (open, reports)
    }

    pub fn change(
        &self,
        uri: &str,
        version: i32,
        changes: &[Change<'_>],
    ) -> Result<Arc<OpenDocument>, ChangeError> {
        self.writing.changed(uri);
        self.store.change(uri, version, changes, self.encoding())
    }

    pub fn close(&self, uri: &str) {
        self.store.close(uri);
        self.writing.closed(uri);
        self.placements.forget(uri);
        self.analyses.remove(uri);
        self.verdicts.forget(uri);
        if let Some((_, context)) = self.contexts.remove(uri) {
            if let Some(path) = &context.path {
                self.uris_by_path.remove(path);
            }
        }
    }

    /// The context of a document at `path` linted with `settings`: its link boundary and
    /// whether its workspace is trusted ([`Trust::trusts`]), as the editor's folders are now.
    fn context(&self, path: Option<PathBuf>, settings: Settings) -> DocumentContext {
        let dir = path.as_deref().and_then(Path::parent);
        let workspace = settings.config.root.as_deref();
        let folders = self.trust.folders();
        let boundary = dir.map(|dir| Boundary::of_document(workspace, dir, &folders));
        let editor_trusts = self.session().options.is_trusted();
        let folder = dir.or(self.session().root.as_deref());
        let trusted = self.trust.trusts(editor_trusts, workspace, folder);
        DocumentContext::new(path, settings, boundary, trusted)
    }

    /// The context a document at `path` would have if it were open: its configuration, link
    /// boundary and trust; for the documents of a pipeline the editor does not hold open.
    pub fn context_at(&self, path: &Path) -> DocumentContext {
        let (settings, _) = self.settings_for(Some(path));
        self.context(Some(path.to_path_buf()), settings)
    }

    fn settings_for(&self, path: Option<&Path>) -> (Settings, Vec<Report>) {
        let folder = match path {
            Some(path) => path.parent(),
            None => self.session().root.as_deref(),
        };
        self.configs.settings_for(folder)
    }

    /// Reloads the configuration and re-binds every open document to it; returns the
    /// configuration problems to show.
    pub fn reload_configuration(&self) -> Vec<Report> {
        let mut reports = self.configs.reload();
        // `baton trust` may have run meanwhile.
        self.trust.forget_store();
        self.rebind(&mut reports);
        reports
    }

    /// Makes every open document's context again (configuration, boundary, trust), collecting
    /// configuration problems into `reports`; their analyses are made again on next use.
    fn rebind(&self, reports: &mut Vec<Report>) {
        let contexts: Vec<(String, Arc<DocumentContext>)> = self
            .contexts
            .iter()
            .map(|entry| (entry.key().clone(), entry.value().clone()))
            .collect();
        for (uri, context) in contexts {
            let (settings, more) = self.settings_for(context.path.as_deref());
            reports.extend(more);
            let context = self.context(context.path.clone(), settings);
            self.contexts.insert(uri.clone(), Arc::new(context));
            self.analyses.remove(&uri);
        }
    }

    /// The document the editor holds open at `path`, parsed, if any (`None` too if its parse
    /// panicked: the caller reads the file instead).
    pub fn open_document_at(&self, path: &Path) -> Option<Document> {
        let uri = self.uris_by_path.get(path).map(|entry| entry.clone())?;
        let open = self.parsed(&uri)?.ok()?;
        Some(open.document.clone())
    }

    /// The URI of the document the editor holds open at `path`, if any.
    pub fn uri_at(&self, path: &Path) -> Option<String> {
        self.uris_by_path.get(path).map(|entry| entry.clone())
    }

    /// The latest analysis of `uri`, whatever its version.
    pub fn cached_analysis(&self, uri: &str) -> Option<Arc<Analyzed>> {
        self.analyses.get(uri).map(|entry| entry.clone())
    }

    /// The path of the open document at `uri`, if it is a file.
    pub fn path_of(&self, uri: &str) -> Option<PathBuf> {
        self.contexts.get(uri)?.path.clone()
    }

    /// The `[docs] base_url` the document's diagnostics link to, when one is configured.
    pub fn docs_base(&self, uri: &str) -> Option<String> {
        let context = self.contexts.get(uri)?;
        context.settings.config.docs_base().map(str::to_owned)
    }

    /// The open documents that are files: their paths and URIs.
    pub fn open_files(&self) -> Vec<(PathBuf, String)> {
        self.uris_by_path
            .iter()
            .map(|entry| (entry.key().clone(), entry.value().clone()))
            .collect()
    }

    /// Every open document, for re-linting after a configuration change.
    pub fn open_uris(&self) -> Vec<(String, Arc<OpenDocument>)> {
        self.store.snapshot()
    }
}
