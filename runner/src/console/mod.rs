//! The operator's console: the web dashboard `shoal serve` answers under `/` beside the
//! API. Server-rendered HTML (templates and assets compiled into the binary), readable
//! without JavaScript; one small script follows logs live through server-sent events.
//! Nothing is shown without logging in; every action goes to the dispatcher as the API's
//! do, with the name of who asked.

mod access;
#[expect(
    clippy::module_inception,
    reason = "the module is named after its main type, Console"
)]
mod console;
mod console_routes;
mod dispatch_form;
mod environments_view;
mod live_log;
mod page_templates;
mod plan_view;
mod shared_reader;
mod stack_health;

pub use access::{AccessTokens, AccessTokensError, Identity, Role, Sessions, constant_time_equal};
pub use console::{CommitDescriber, Console, ConsoleSettings, MirrorCommits, Viewer};
pub use console_routes::respond;
pub use environments_view::{EnvironmentView, environment_views};
pub use live_log::{LiveLogs, LogEvent, LogSource};
pub use shared_reader::SharedReader;
pub use stack_health::{
    EnvironmentHealth, HealthFuture, HealthReader, ServiceHealth, SwarmHealthReader,
};
