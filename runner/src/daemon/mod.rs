//! The runner daemon's parts: executing runs on the files of their exact commit. The
//! dispatcher loop, the HTTP server and `shoal serve` come next (see ARCHITECTURE.md).

mod dispatcher;
mod http_api;
mod run_executor;

pub use dispatcher::{DaemonEvent, Dispatcher};
pub use http_api::{ApiSettings, serve_http};
pub use run_executor::{EnvironmentOutcome, RunSettings, execute_environment};
