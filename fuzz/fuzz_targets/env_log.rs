//! The environment log and state readers.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    agentctl::fuzzing::env_log(data);
});
