//! shoal: a GitOps workflow runner for Docker Swarm.
//!
//! One run flows through the modules in this order: [`load`] reads and checks the config
//! repo into a [`model::ConfigRepo`], [`render`] renders the files of a workflow for an
//! environment. The core does no I/O of its own: it reads files through
//! [`load::RepoFiles`]; the [`cli`] is the edge that talks to the terminal and the disk.

pub mod apply;
pub mod cli;
pub mod compose;
pub mod config;
pub mod console;
pub mod convert;
pub mod daemon;
pub mod deadline;
pub mod docker;
pub mod exit_code;
pub mod git;
pub mod github;
pub mod hosts;
pub mod known_hosts;
pub mod limits;
pub mod load;
pub mod model;
pub mod notify;
pub mod pipeline;
pub mod plan;
pub mod render;
pub mod schema;
pub mod secret_source;
pub mod secret_text;
pub mod source;
pub mod ssh;
pub mod steps;
pub mod store;
pub mod swarm;
pub mod trigger;
pub mod validation;
pub mod webhook;
pub mod yaml;
