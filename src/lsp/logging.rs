//! Logs go to stderr, never stdout: stdout is the transport. `BATON_LOG` sets the filter
//! (`tracing` directives, e.g. `baton=debug`); without it, the editor's `logLevel` option does,
//! once `initialize` has been read.

use std::sync::OnceLock;

use tracing_subscriber::EnvFilter;

/// The environment variable that sets the log filter; it wins over the editor's option.
pub const LOG_ENV: &str = "BATON_LOG";

/// The level when neither the environment nor the editor says.
const DEFAULT_LEVEL: &str = "warn";

type SetFilter = Box<dyn Fn(EnvFilter) + Send + Sync>;

/// Changes the filter after start-up; set only when `BATON_LOG` is unset.
static SET_FILTER: OnceLock<SetFilter> = OnceLock::new();

/// Installs the stderr logger. A second call (tests running the server in-process) is a no-op.
pub fn init() {
    let from_env = std::env::var(LOG_ENV)
        .ok()
        .and_then(|value| EnvFilter::try_new(value).ok());
    let fixed = from_env.is_some();
    let filter = from_env.unwrap_or_else(|| EnvFilter::new(DEFAULT_LEVEL));
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(filter)
        .with_filter_reloading();
    let handle = builder.reload_handle();
    if builder.try_init().is_err() || fixed {
        return;
    }
    let _ = SET_FILTER.set(Box::new(move |filter| {
        let _ = handle.reload(filter);
    }));
}

/// Applies the editor's `logLevel`, unless `BATON_LOG` already decided.
pub fn set_level(level: Option<&str>) {
    let (Some(level), Some(set)) = (level, SET_FILTER.get()) else {
        return;
    };
    match EnvFilter::try_new(level) {
        Ok(filter) => set(filter),
        Err(error) => tracing::warn!("ignoring logLevel `{level}`: {error}"),
    }
}
