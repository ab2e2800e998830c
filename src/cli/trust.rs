//! `baton trust [DIR]`, `baton trust --list`, `baton trust --remove [DIR]`: the user's trusted
//! workspaces (DESIGN §7), kept by `config::trust_store`.
//!
//! A workspace is the folder holding the `baton.toml` found walking up from `DIR` (default: the
//! current folder), else `DIR` itself. Trusting it lets its `baton.toml` define `command`
//! agents and agents that send a key to a `base_url` of their own.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::config::trust_store::{workspace_root, TrustStore};
use crate::config::WORKSPACE_FILE;

/// What `baton trust` was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Add(PathBuf),
    Remove(PathBuf),
    List,
}

pub fn run(action: &Action) -> ExitCode {
    let store = match TrustStore::user() {
        Ok(store) => store,
        Err(error) => return fail(&error.to_string(), 1),
    };
    let result = match action {
        Action::List => list(&store),
        Action::Add(dir) => add(&store, dir),
        Action::Remove(dir) => remove(&store, dir),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err((message, code)) => fail(&message, code),
    }
}

fn fail(message: &str, code: u8) -> ExitCode {
    eprintln!("baton trust: {message}");
    ExitCode::from(code)
}

/// A failure: the message and the exit status (1 for the store, 2 for usage).
type Failure = (String, u8);

fn list(store: &TrustStore) -> Result<(), Failure> {
    let workspaces = store.workspaces().map_err(|error| (error.to_string(), 1))?;
    if workspaces.is_empty() {
        eprintln!(
            "baton trust: no workspace is trusted (store: {})",
            store.path().display()
        );
    }
    for workspace in workspaces {
        println!("{}", workspace.display());
    }
    Ok(())
}

fn add(store: &TrustStore, dir: &Path) -> Result<(), Failure> {
    let root = root_of(dir)?;
    let added = store.add(&root).map_err(|error| (error.to_string(), 1))?;
    if added {
        println!("trusted {}", root.display());
    } else {
        println!("already trusted: {}", root.display());
    }
    if !root.join(WORKSPACE_FILE).is_file() {
        eprintln!(
            "baton trust: note: no {WORKSPACE_FILE} was found in or above {}; the folder itself is trusted",
            dir.display()
        );
    }
    Ok(())
}

fn remove(store: &TrustStore, dir: &Path) -> Result<(), Failure> {
    // A workspace deleted since it was trusted is removed by the path given.
    let root = workspace_root(dir).unwrap_or_else(|_| dir.to_path_buf());
    let removed = store
        .remove(&root)
        .map_err(|error| (error.to_string(), 1))?;
    if removed {
        println!("no longer trusted: {}", root.display());
    } else {
        println!("was not trusted: {}", root.display());
    }
    Ok(())
}

fn root_of(dir: &Path) -> Result<PathBuf, Failure> {
    workspace_root(dir).map_err(|error| (format!("{}: {error}", dir.display()), 2))
}
