//! The manifest loader: bytes → text checks → YAML → typed manifest → readiness.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    agentctl::fuzzing::manifest(data);
});
