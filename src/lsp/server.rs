//! The LSP handlers. Each one converts in, calls the core (or the state), converts out.
//!
//! Notifications that change text (`didOpen`, `didChange`, `didClose`) apply it to the store
//! synchronously, before their first `.await`: tower-lsp-server polls handlers in arrival
//! order, so edits land in order. Most edits never reach these handlers: the reader thread
//! applies them itself when nothing the server got before them is still to be applied
//! (`edit_lane.rs`); the handlers tell it when they have. An edit lints its document at once,
//! or hands it to the linter task, which lints the newest version; `didOpen` stores the text
//! unparsed and has it parsed, linted and published on the blocking pool, one parse per core
//! at a time (`openings.rs`). No handler awaits a request to the client.

use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types as lsp;
use tower_lsp_server::{Client, LanguageServer};

use super::diagnostics::{self, Publication};
use super::dispatch::{Args, Dispatcher};
use super::edit_lane::{self, EditLane};
use super::guard::{contain, Panicked};
use super::linter::Linter;
use super::openings::Openings;
use super::state::{Snapshot, State};
use super::vet::Malformed;
use super::{
    actions, capabilities, config_watch, counting, features, from_proto, lens, logging,
    send_actions,
};

pub struct Backend {
    client: Client,
    state: Arc<State>,
    linter: Linter,
    dispatcher: Dispatcher,
    openings: Arc<Openings>,
    lane: Arc<EditLane>,
}

impl Backend {
    /// The backend and its linter task; call within the runtime. The reader thread gets the
    /// edit lane through `lane`.
    pub fn new(client: Client, state: Arc<State>, lane: &OnceLock<Arc<EditLane>>) -> Self {
        let linter = Linter::spawn(client.clone(), state.clone());
        counting::spawn(state.clone(), linter.clone());
        let new_lane = || EditLane::new(state.clone(), linter.clone(), client.clone());
        let lane = lane.get_or_init(|| Arc::new(new_lane())).clone();
        let dispatcher = Dispatcher {
            client: client.clone(),
            state: state.clone(),
            linter: linter.clone(),
        };
        Backend {
            client,
            state,
            linter,
            dispatcher,
            openings: Arc::new(Openings::new()),
            lane,
        }
    }

    /// `window/workDoneProgress/cancel`: the user cancelled a run (or a handoff) from its
    /// progress.
    pub async fn cancel_progress(&self, params: lsp::WorkDoneProgressCancelParams) {
        if !self.dispatcher.cancel_handoff(&params.token) {
            self.dispatcher.cancel_progress(&params.token);
        }
    }

    /// Answers a frame the transport could not decode (see `stdio`).
    pub async fn malformed(&self, params: Malformed) -> Result<()> {
        Err(params.into_error())
    }

    fn is_config_uri(&self, uri: &lsp::Uri) -> bool {
        edit_lane::is_config_uri(&self.state, uri)
    }

    /// The document's snapshot for a request; a panic in the core becomes an error response.
    fn snapshot(&self, uri: &lsp::Uri) -> Result<Option<Snapshot>> {
        self.state
            .snapshot(uri.as_str())
            .transpose()
            .map_err(|panicked| panicked.to_jsonrpc())
    }

    /// Runs a feature on a document's snapshot, containing panics.
    fn feature<T>(
        &self,
        uri: &lsp::Uri,
        what: &'static str,
        work: impl FnOnce(&Snapshot) -> Option<T>,
    ) -> Result<Option<T>> {
        let Some(snapshot) = self.snapshot(uri)? else {
            return Ok(None);
        };
        contain(what, || work(&snapshot)).map_err(|panicked| panicked.to_jsonrpc())
    }

    async fn publish(&self, publications: Vec<Publication>) {
        for publication in publications {
            diagnostics::publish(&self.state, publication);
        }
    }

    async fn tell_user(&self, panicked: Panicked) {
        diagnostics::tell_user(&self.client, &self.state, panicked).await;
    }

    /// Reloads the configuration, shows its problems, and re-lints every open document.
    async fn reload_configuration(&self) {
        let reports = self.state.reload_configuration();
        self.relint_all(reports).await;
    }

    /// Re-lints every open document, and shows the configuration problems `reports` found.
    async fn relint_all(&self, reports: Vec<config_watch::Report>) {
        for (uri, _) in self.state.open_uris() {
            if let Ok(uri) = lsp::Uri::from_str(&uri) {
                self.linter.lint(uri);
            }
        }
        let encoding = self.state.encoding();
        self.publish(diagnostics::config_publications(reports, encoding))
            .await;
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: lsp::InitializeParams) -> Result<lsp::InitializeResult> {
        let session = capabilities::session(&params);
        logging::set_level(session.options.log_level.as_deref());
        let result = capabilities::initialize_result(session.encoding);
        self.state.writing.initialize(&params);
        self.state.initialize(session);
        Ok(result)
    }

    async fn initialized(&self, _: lsp::InitializedParams) {
        if self.state.session().watch_files {
            config_watch::register_watcher(self.client.clone());
        }
    }

    async fn shutdown(&self) -> Result<()> {
        self.state.shut_down();
        Ok(())
    }

    async fn did_open(&self, params: lsp::DidOpenTextDocumentParams) {
        let _applying = self.lane.applying();
        let document = params.text_document;
        if self.is_config_uri(&document.uri) {
            return self.reload_configuration().await;
        }
        let path = from_proto::path(&document.uri);
        let uri = document.uri.as_str();
        // Stored unparsed, which is cheap: the next message (an edit right behind this one,
        // or the next tab of a restored session) is read at once.
        let opened = contain("opening a document", || {
            self.state.open(uri, path, document.version, &document.text)
        });
        let reports = match opened {
            Ok((_, reports)) => reports,
            Err(panicked) => return self.tell_user(panicked).await,
        };
        let encoding = self.state.encoding();
        self.publish(diagnostics::config_publications(reports, encoding))
            .await;
        let (uri, version) = (document.uri, document.version);
        self.openings.push(&self.dispatcher, uri, version);
    }

    async fn did_change(&self, params: lsp::DidChangeTextDocumentParams) {
        let _applying = self.lane.applying();
        let document = params.text_document;
        if self.is_config_uri(&document.uri) {
            return self.reload_configuration().await;
        }
        let changes = from_proto::changes(&params.content_changes);
        let (uri, version) = (&document.uri, document.version);
        for linted in edit_lane::apply(&self.state, &self.linter, uri, version, &changes) {
            diagnostics::publish_linted(&self.client, &self.state, linted).await;
        }
    }

    async fn did_save(&self, params: lsp::DidSaveTextDocumentParams) {
        if self.is_config_uri(&params.text_document.uri) {
            self.reload_configuration().await;
        }
    }

    async fn did_close(&self, params: lsp::DidCloseTextDocumentParams) {
        let _applying = self.lane.applying();
        let uri = params.text_document.uri;
        if self.is_config_uri(&uri) {
            return;
        }
        self.state.close(uri.as_str());
        self.state.runs.forget(uri.as_str());
        self.publish(vec![diagnostics::cleared(uri)]).await;
    }

    async fn did_change_watched_files(&self, params: lsp::DidChangeWatchedFilesParams) {
        if params
            .changes
            .iter()
            .any(|change| self.is_config_uri(&change.uri))
        {
            self.reload_configuration().await;
        }
    }

    /// The editor's folders decide which workspaces its trust covers and, for documents
    /// without a `baton.toml`, where their links may reach: re-lint every open document.
    async fn did_change_workspace_folders(&self, params: lsp::DidChangeWorkspaceFoldersParams) {
        let paths = |folders: &[lsp::WorkspaceFolder]| -> Vec<_> {
            folders
                .iter()
                .filter_map(|folder| from_proto::path(&folder.uri))
                .collect()
        };
        let (added, removed) = (paths(&params.event.added), paths(&params.event.removed));
        let changed = contain("changing workspace folders", || {
            self.state.change_folders(&added, &removed)
        });
        match changed {
            Ok(reports) => self.relint_all(reports).await,
            Err(panicked) => self.tell_user(panicked).await,
        }
    }

    async fn code_action(
        &self,
        params: lsp::CodeActionParams,
    ) -> Result<Option<lsp::CodeActionResponse>> {
        let session = self.state.session();
        self.feature(
            &params.text_document.uri,
            "computing code actions",
            |snapshot| {
                let mut actions = actions::quick_fixes(snapshot, &params, session);
                actions.extend(send_actions::send_actions(&self.state, snapshot, &params));
                Some(actions)
            },
        )
    }

    async fn code_lens(&self, params: lsp::CodeLensParams) -> Result<Option<Vec<lsp::CodeLens>>> {
        let uri = &params.text_document.uri;
        self.feature(uri, "computing code lenses", |snapshot| {
            Some(lens::code_lenses(&self.state, snapshot, uri))
        })
    }

    async fn code_lens_resolve(&self, params: lsp::CodeLens) -> Result<lsp::CodeLens> {
        contain("counting a budget", || lens::resolve(&self.state, params))
            .map_err(|panicked| panicked.to_jsonrpc())
    }

    async fn execute_command(
        &self,
        params: lsp::ExecuteCommandParams,
    ) -> Result<Option<serde_json::Value>> {
        let args = Args::from_params(&params.arguments)?;
        self.dispatcher.execute(&params.command, args).await
    }

    async fn document_symbol(
        &self,
        params: lsp::DocumentSymbolParams,
    ) -> Result<Option<lsp::DocumentSymbolResponse>> {
        let encoding = self.state.encoding();
        self.feature(&params.text_document.uri, "listing symbols", |snapshot| {
            features::document_symbols(snapshot, encoding)
        })
    }

    async fn hover(&self, params: lsp::HoverParams) -> Result<Option<lsp::Hover>> {
        let at = params.text_document_position_params;
        let encoding = self.state.encoding();
        self.feature(&at.text_document.uri, "computing a hover", |snapshot| {
            features::hover(snapshot, at.position, encoding)
        })
    }

    async fn completion(
        &self,
        params: lsp::CompletionParams,
    ) -> Result<Option<lsp::CompletionResponse>> {
        let at = params.text_document_position;
        let encoding = self.state.encoding();
        self.feature(&at.text_document.uri, "completing", |snapshot| {
            features::completion(snapshot, at.position, encoding)
        })
    }

    async fn goto_definition(
        &self,
        params: lsp::GotoDefinitionParams,
    ) -> Result<Option<lsp::GotoDefinitionResponse>> {
        let at = params.text_document_position_params;
        let encoding = self.state.encoding();
        self.feature(&at.text_document.uri, "finding a definition", |snapshot| {
            features::definition(&self.state, snapshot, &at, encoding)
        })
    }

    async fn references(&self, params: lsp::ReferenceParams) -> Result<Option<Vec<lsp::Location>>> {
        let at = params.text_document_position;
        let include_declaration = params.context.include_declaration;
        let encoding = self.state.encoding();
        self.feature(&at.text_document.uri, "finding references", |snapshot| {
            features::references(&self.state, snapshot, &at, include_declaration, encoding)
        })
    }

    async fn prepare_rename(
        &self,
        params: lsp::TextDocumentPositionParams,
    ) -> Result<Option<lsp::PrepareRenameResponse>> {
        let encoding = self.state.encoding();
        self.feature(
            &params.text_document.uri,
            "preparing a rename",
            |snapshot| features::prepare_rename(snapshot, params.position, encoding),
        )
    }

    async fn rename(&self, params: lsp::RenameParams) -> Result<Option<lsp::WorkspaceEdit>> {
        let at = params.text_document_position;
        let session = self.state.session();
        let Some(snapshot) = self.snapshot(&at.text_document.uri)? else {
            return Ok(None);
        };
        contain("renaming", || {
            features::rename(&self.state, &snapshot, &at, &params.new_name, session)
        })
        .map_err(|panicked| panicked.to_jsonrpc())?
    }
}
