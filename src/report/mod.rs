//! Rendering findings for people and machines.
//!
//! Renderers write to a writer they are handed; they never pick stdout or
//! stderr themselves.

pub mod ci;
pub mod diff;
pub mod human;

/// `"s"` unless `n` is 1, for "1 agent" / "3 agents".
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `"1 error"`, `"3 errors"`.
pub fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", plural(n))
}
