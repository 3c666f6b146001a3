//! Rendering findings for people and machines.
//!
//! Renderers write to a writer they are handed; they never pick stdout or
//! stderr themselves.

pub mod ci;
pub mod diff;
pub mod human;
