//! Step kinds: one module per kind, which owns everything about it: its input as written
//! (serde type and schema), its load-time checks, the files it renders, its desired
//! state, how it is planned against the live swarm, how it is applied and how its step
//! is named. The stages keep the shared machinery (YAML, the template engine, the
//! planner's and the applier's loops, plan text for the objects steps share) and reach a
//! kind only through the closed enums listed here, each `match` naming every kind:
//!
//! - [`StepKindInput`]: the kind key of a step as decoded, and its checks;
//! - [`StepKind`]: a checked step's kind, its render and its desired state;
//! - [`Desired`]: what a step wants on the swarm, how it is planned and applied.
//!
//! Adding a kind is adding its folder here, its key to `config::StepInput`, and a variant
//! with its arms to these enums (see ARCHITECTURE.md, "Adding a step kind"); the
//! compiler lists every arm missing.

mod desired;
mod step_kind;
mod step_kind_input;

pub mod certs;
pub mod config;
pub mod network;
pub mod node;
pub mod remove;
pub mod secret;
pub mod service;
pub mod ssh;
pub mod stack;
pub mod swarm;
pub mod wait;

pub use desired::Desired;
pub use step_kind::StepKind;
pub use step_kind_input::StepKindInput;
