//! `baton init`: start a workspace.

use std::path::Path;
use std::process::ExitCode;

pub fn run(_dir: &Path) -> ExitCode {
    unimplemented!("written by the CLI change")
}
