//! Finding the configuration files: the workspace `baton.toml` by walking up from the
//! document, the user's file at `$BATON_CONFIG`, else under `$XDG_CONFIG_HOME`, else under
//! `~/.config`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::load::{load, Loaded};

/// The name of the workspace configuration file.
pub const WORKSPACE_FILE: &str = "baton.toml";

/// The path of the first `baton.toml` found walking up from `start` (a file or a folder).
pub fn find_workspace_config(start: &Path) -> Option<PathBuf> {
    let first = if start.is_dir() {
        Some(start)
    } else {
        start.parent()
    };
    first?
        .ancestors()
        .map(|dir| dir.join(WORKSPACE_FILE))
        .find(|candidate| candidate.is_file())
}

/// Where the user's configuration file is, whether or not it exists.
pub fn user_config_path() -> Option<PathBuf> {
    user_config_path_from(
        std::env::var_os("BATON_CONFIG"),
        std::env::var_os("XDG_CONFIG_HOME"),
        std::env::var_os("HOME"),
    )
}

/// The rule of [`user_config_path`], given the environment's values. Empty values count as
/// unset, as the XDG specification asks.
fn user_config_path_from(
    baton_config: Option<OsString>,
    xdg_config_home: Option<OsString>,
    home: Option<OsString>,
) -> Option<PathBuf> {
    let set = |value: Option<OsString>| value.filter(|v| !v.is_empty()).map(PathBuf::from);
    set(baton_config)
        .or_else(|| set(xdg_config_home).map(|dir| dir.join("baton").join("config.toml")))
        .or_else(|| set(home).map(|dir| dir.join(".config").join("baton").join("config.toml")))
}

/// The configuration for the document or folder `start`: its workspace file and the user's.
pub fn discover(start: &Path) -> Loaded {
    let workspace = find_workspace_config(start);
    load(workspace.as_deref(), user_config_path().as_deref())
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::config::load::tests::scratch;

    #[test]
    fn the_workspace_file_is_found_walking_up() {
        let dir = scratch("walk");
        fs::create_dir_all(dir.join("ws/a/b")).unwrap();
        fs::write(dir.join("ws/baton.toml"), "").unwrap();
        fs::write(dir.join("ws/a/b/brief.md"), "# x").unwrap();
        let found = Some(dir.join("ws/baton.toml"));
        assert_eq!(find_workspace_config(&dir.join("ws/a/b/brief.md")), found);
        assert_eq!(find_workspace_config(&dir.join("ws/a")), found);
        assert_eq!(find_workspace_config(&dir.join("ws")), found);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_user_file_follows_baton_config_then_xdg_then_home() {
        let os = |s: &str| Some(OsString::from(s));
        let path = |a, b, c| user_config_path_from(a, b, c);
        assert_eq!(
            path(os("/b.toml"), os("/x"), os("/h")),
            Some("/b.toml".into())
        );
        assert_eq!(
            path(None, os("/x"), os("/h")),
            Some("/x/baton/config.toml".into())
        );
        assert_eq!(
            path(os(""), os(""), os("/h")),
            Some("/h/.config/baton/config.toml".into())
        );
        assert_eq!(path(None, None, None), None);
    }
}
