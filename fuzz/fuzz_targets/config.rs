//! agentctl.toml parsing and checks.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    agentctl::fuzzing::config(data);
});
