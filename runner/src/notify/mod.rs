//! Notifications: announcing failures, drift and recoveries to a webhook (signed with
//! HMAC-SHA256), a Slack-compatible incoming webhook, or a command. A pure core decides
//! (`condition`: what to announce given what was last announced; `run_announcement`: one
//! message per run and target; `event_body`: what it says); `delivery` sends in the
//! background with retries through a `Transport`, the network one in
//! `network_transport`; `follower` is the edge that follows the dispatcher's notices and
//! remembers conditions in the store.

mod condition;
mod delivery;
mod event_body;
mod follower;
mod network_transport;
mod run_announcement;

pub use condition::{Condition, Decision, Outcome, decide};
pub use delivery::{Delivery, Notifier, Request, Transport, TryError, TryFuture};
pub use event_body::{EVENT_HEADER, EventBody, SIGNATURE_HEADER, signature};
pub use follower::{NotifySettings, start_notifying};
pub use network_transport::NetworkTransport;
pub use run_announcement::{EnvironmentResult, Message, RunAnnouncement, announce_run};
