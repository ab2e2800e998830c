//! Which agents count as local (DESIGN §7): those whose `locality` says so, except that a
//! workspace the user has not trusted cannot declare an agent local whose endpoint leaves this
//! machine. Otherwise a cloned repository could mark `api.openai.com` (or its own host) "local"
//! and receive the confidential text that `[privacy]` and `confidential: true` keep back.

use std::net::IpAddr;

use crate::config::policy::defined_by_workspace;
use crate::config::{Config, Locality, Provider};

/// Whether `agent` (in force in `config`) may see confidential text. `trusted`: whether the
/// user trusts the workspace.
pub fn is_local(config: &Config, agent: &str, trusted: bool) -> bool {
    let Some(spec) = config.agent(agent) else {
        return false;
    };
    if spec.locality() != Locality::Local {
        return false;
    }
    if trusted || !defined_by_workspace(config, agent) {
        return true;
    }
    match spec.provider {
        // A program runs here (and needs trust to run at all).
        Provider::Command => true,
        _ => spec.proxy.is_none() && spec.base_url().is_some_and(stays_on_this_machine),
    }
}

/// Whether a URL's host is this machine: `localhost` or a loopback address.
fn stays_on_this_machine(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = match host.strip_prefix('[') {
        // `[::1]:port`
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn config(agents: &str) -> Config {
        let mut config = Config::from_toml(agents).unwrap();
        let workspace = PathBuf::from("/ws/baton.toml");
        for name in ["near", "far", "cloud", "tunnel"] {
            config
                .agent_locations
                .insert(name.into(), (workspace.clone(), 0..0));
        }
        config.workspace_path = Some(workspace);
        config
    }

    #[test]
    fn an_untrusted_workspace_cannot_call_a_distant_endpoint_local() {
        let config = config(
            "[agents.near]\nprovider = \"ollama\"\nmodel = \"m\"\n\
             [agents.far]\nprovider = \"ollama\"\nmodel = \"m\"\nbase_url = \"http://gpu.example.net:11434\"\n\
             [agents.cloud]\nprovider = \"openai\"\nmodel = \"m\"\nlocality = \"local\"\n\
             [agents.tunnel]\nprovider = \"openai\"\nmodel = \"m\"\nlocality = \"local\"\nbase_url = \"http://[::1]:8080/v1\"\n\
             [agents.mine]\nprovider = \"openai\"\nmodel = \"m\"\nlocality = \"local\"\n",
        );
        let local = |agent: &str, trusted: bool| is_local(&config, agent, trusted);
        assert!(local("near", false), "ollama on 127.0.0.1 by default");
        assert!(local("tunnel", false), "[::1] is this machine");
        assert!(!local("far", false) && !local("cloud", false));
        // Trusted, the workspace is taken at its word; the user's own file always is.
        assert!(local("far", true) && local("cloud", true));
        assert!(local("mine", false));
        assert!(!local("nobody", true));
        for url in [
            "http://localhost:1/v1",
            "http://127.0.0.2",
            "http://user@[::1]/",
        ] {
            assert!(stays_on_this_machine(url), "{url}");
        }
        for url in [
            "http://localhost.example.com",
            "https://10.0.0.1:443",
            "http://[::2]:1",
        ] {
            assert!(!stays_on_this_machine(url), "{url}");
        }
    }
}
