//! allowed_signers parsing.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    agentctl::fuzzing::allowed_signers(data);
});
