//! SSHSIG verification of arbitrary signature files.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    agentctl::fuzzing::sshsig(data);
});
