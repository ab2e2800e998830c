//! Attacks a cloned repository (or a hostile client) could try, each through the real binary,
//! each asserting that it fails and that the user is told why (DESIGN §7, SECURITY.md).

mod support;

#[allow(dead_code)]
#[path = "agents/server.rs"]
mod server;

#[path = "security/files.rs"]
mod files;
#[path = "security/hosts.rs"]
mod hosts;
#[path = "security/keys.rs"]
mod keys;
#[path = "security/scope.rs"]
mod scope;
#[path = "security/transport.rs"]
mod transport;
