//! Any bytes in, no panic out: the bytes are read as a snapshot and diagnosed.
#![no_main]

use s3_diagnosis::diagnose;
use s3_diagnosis::snapshot::Snapshot;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(snapshot) = serde_json::from_slice::<Snapshot>(data) {
        let d = diagnose(&snapshot);
        let _ = serde_json::to_string(&d);
    }
});
