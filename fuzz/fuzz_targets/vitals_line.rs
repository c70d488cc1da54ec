//! Differential fuzz target: every input, split into lines and read by one scanner, must be read
//! by `vitals_core::vitals_line` exactly as `parse_record` (serde) reads it, or left to serde.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(difference) = vitals_core::vitals_line::check_against_serde(data) {
        panic!("{difference}");
    }
});
