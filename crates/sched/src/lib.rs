//! Single-machine tardiness scheduling (work in progress).

pub mod instance;
pub mod rules;

pub use instance::{Instance, InstanceError, Job, Objective};
