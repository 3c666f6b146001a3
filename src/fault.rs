//! Fault injection for crash tests (feature `test-hooks` only; a shipped
//! binary compiles every call here to nothing).
//!
//! `AGENTCTL_FAULT=<name>` aborts the process at the named point of a
//! transaction (`objects`, `journal`, `ref`, `worktree`, `index`), as if
//! killed. `AGENTCTL_FAULT=step:N` aborts at the N-th write step of any
//! kind: each named point, and each temporary file written and each rename
//! of one into place, so a test can kill a command at every step in turn.

/// A named fault point; also one counted step.
#[cfg(feature = "test-hooks")]
pub fn point(name: &str) {
    if std::env::var("AGENTCTL_FAULT").is_ok_and(|v| v == name) {
        std::process::abort();
    }
    step();
}

/// One counted write step.
#[cfg(feature = "test-hooks")]
pub fn step() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let Ok(v) = std::env::var("AGENTCTL_FAULT") else {
        return;
    };
    let Some(n) = v.strip_prefix("step:").and_then(|n| n.parse::<u64>().ok()) else {
        return;
    };
    if COUNT.fetch_add(1, Ordering::SeqCst) + 1 == n {
        std::process::abort();
    }
}

/// No fault points outside test builds.
#[cfg(not(feature = "test-hooks"))]
#[inline(always)]
pub fn point(_name: &str) {}

/// No fault steps outside test builds.
#[cfg(not(feature = "test-hooks"))]
#[inline(always)]
pub fn step() {}
