//! The scenario snapshots of `tests/scenarios/`, by file name, in name order: the seeds of the properties.

use serde_json::Value;
use std::path::Path;

/// (file stem, snapshot) of every scenario.
pub fn snapshots() -> Vec<(String, Value)> {
    snapshots_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios"))
}

/// (file stem, snapshot) of every scenario file in `dir` (the operator's tests read them too).
pub fn snapshots_in(dir: &Path) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                v["snapshot"].clone(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}
