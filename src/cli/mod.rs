//! The terminal commands. The only code allowed to print to stdout besides the LSP transport.

pub mod check;
pub mod init;
