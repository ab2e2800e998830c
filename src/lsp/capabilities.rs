//! What the server offers and what it takes from the client's `initialize`: the position
//! encoding (negotiated once), the options, the client abilities the server relies on.

use std::path::PathBuf;

use tower_lsp_server::ls_types as lsp;

use super::from_proto;
use super::options::InitializationOptions;
use super::state::Session;
use super::{dispatch, to_proto};
use crate::document::Encoding;

/// Characters after which the editor asks for completions: `@agent`, `## Field`, a
/// front-matter value after `key:`, and the space after `##`.
const COMPLETION_TRIGGERS: [&str; 4] = ["@", "#", " ", ":"];

/// UTF-8 when the client offers it (no conversion at all), else the protocol's UTF-16.
pub fn negotiate_encoding(capabilities: &lsp::ClientCapabilities) -> Encoding {
    let offered = capabilities
        .general
        .as_ref()
        .and_then(|general| general.position_encodings.as_ref());
    match offered {
        Some(kinds) if kinds.contains(&lsp::PositionEncodingKind::UTF8) => Encoding::Utf8,
        _ => Encoding::Utf16,
    }
}

/// The session `initialize` settles.
pub fn session(params: &lsp::InitializeParams) -> Session {
    let workspace = params.capabilities.workspace.as_ref();
    let window = params.capabilities.window.as_ref();
    #[allow(deprecated)] // `rootUri` still comes from clients that send no workspace folders.
    let root_uri = params.root_uri.as_ref();
    let root = params
        .workspace_folders
        .as_ref()
        .and_then(|folders| folders.first())
        .map(|folder| &folder.uri)
        .or(root_uri)
        .and_then(from_proto::path);
    Session {
        folders: editor_folders(params),
        encoding: negotiate_encoding(&params.capabilities),
        options: InitializationOptions::from_value(params.initialization_options.clone()),
        root,
        document_changes: workspace
            .and_then(|w| w.workspace_edit.as_ref())
            .and_then(|edit| edit.document_changes)
            .unwrap_or(false),
        watch_files: workspace
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|watch| watch.dynamic_registration)
            .unwrap_or(false),
        work_done_progress: window.and_then(|w| w.work_done_progress).unwrap_or(false),
        code_lens_refresh: workspace
            .and_then(|w| w.code_lens.as_ref())
            .and_then(|lens| lens.refresh_support)
            .unwrap_or(false),
        show_document: window
            .and_then(|w| w.show_document.as_ref())
            .is_some_and(|show| show.support),
    }
}

/// Every folder the editor named: its workspace folders, else its `rootUri`, else its
/// `rootPath`. `trustedWorkspace` covers these and nothing else.
fn editor_folders(params: &lsp::InitializeParams) -> Vec<PathBuf> {
    if let Some(folders) = &params.workspace_folders {
        return folders
            .iter()
            .filter_map(|folder| from_proto::path(&folder.uri))
            .collect();
    }
    #[allow(deprecated)] // Older clients name their folder only so.
    let root = params
        .root_uri
        .as_ref()
        .and_then(from_proto::path)
        .or_else(|| params.root_path.as_ref().map(PathBuf::from))
        .filter(|root| root.is_absolute());
    root.into_iter().collect()
}

pub fn initialize_result(encoding: Encoding) -> lsp::InitializeResult {
    lsp::InitializeResult {
        capabilities: server_capabilities(encoding),
        server_info: Some(lsp::ServerInfo {
            name: "baton".to_owned(),
            version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        }),
        offset_encoding: None,
    }
}

fn server_capabilities(encoding: Encoding) -> lsp::ServerCapabilities {
    let sync = lsp::TextDocumentSyncOptions {
        open_close: Some(true),
        change: Some(lsp::TextDocumentSyncKind::INCREMENTAL),
        ..lsp::TextDocumentSyncOptions::default()
    };
    let code_actions = lsp::CodeActionOptions {
        code_action_kinds: Some(vec![lsp::CodeActionKind::QUICKFIX]),
        ..lsp::CodeActionOptions::default()
    };
    let completion = lsp::CompletionOptions {
        trigger_characters: Some(COMPLETION_TRIGGERS.map(str::to_owned).to_vec()),
        ..lsp::CompletionOptions::default()
    };
    let rename = lsp::RenameOptions {
        prepare_provider: Some(true),
        work_done_progress_options: lsp::WorkDoneProgressOptions::default(),
    };
    lsp::ServerCapabilities {
        position_encoding: Some(to_proto::position_encoding(encoding)),
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(sync)),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Options(code_actions)),
        document_symbol_provider: Some(lsp::OneOf::Left(true)),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        completion_provider: Some(completion),
        definition_provider: Some(lsp::OneOf::Left(true)),
        references_provider: Some(lsp::OneOf::Left(true)),
        rename_provider: Some(lsp::OneOf::Right(rename)),
        code_lens_provider: Some(lsp::CodeLensOptions {
            resolve_provider: Some(true),
        }),
        execute_command_provider: Some(lsp::ExecuteCommandOptions {
            commands: dispatch::COMMANDS.map(str::to_owned).to_vec(),
            work_done_progress_options: lsp::WorkDoneProgressOptions::default(),
        }),
        // Trust follows the folders the editor names, so their changes must reach us.
        workspace: Some(lsp::WorkspaceServerCapabilities {
            workspace_folders: Some(lsp::WorkspaceFoldersServerCapabilities {
                supported: Some(true),
                change_notifications: Some(lsp::OneOf::Left(true)),
            }),
            file_operations: None,
        }),
        ..lsp::ServerCapabilities::default()
    }
}
