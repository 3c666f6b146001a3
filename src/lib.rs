//! agentctl: ship AI agents the way good teams ship software.
//!
//! The library is the whole product; the binary (`src/main.rs`, `src/cli/`)
//! only parses arguments, calls one function here and renders what it
//! returns. Nothing in the library prints.
//!
//! - [`bundle`]: the manifest model v1, loading with positions, readiness checks
//! - [`digest`]: the canonical bundle digest (coreutils-compatible)
//! - [`schema`]: the JSON Schema generated from the manifest types
//! - [`validate`]: finding and checking bundles, in parallel
//! - [`fault`]: crash-test fault points (test builds only)
//! - [`files`]: reading and writing repository files without following links
//! - [`finding`]: findings with rule ids, positions and hints
//! - [`report`]: findings rendered as human text and JSON

pub mod bundle;
pub mod check;
pub mod diff;
pub mod digest;
pub mod evals;
pub mod fault;
pub mod files;
pub mod finding;
pub mod fuzzing;
pub mod ops;
pub mod policy;
pub mod render;
pub mod repo;
pub mod report;
pub mod schema;
pub mod signing;
pub mod validate;
