//! `simulate CASE.json...`: evaluates each case and prints one JSON line per case, in order.
//! Exit 0 when every case was evaluated, 4 when a file could not be read or is not a valid case.

use super::exit;
use iam_policy::case::{load_case, CaseResult};
use std::io::Write;
use std::path::PathBuf;

/// Evaluates the files; writes results to `out` and problems to `err`.
pub fn run(files: &[PathBuf], out: &mut impl Write, err: &mut impl Write) -> u8 {
    let mut code = exit::OK;
    for file in files {
        let name = file.display().to_string();
        let loaded = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read `{name}`: {e}"))
            .and_then(|text| load_case(&text, &name).map_err(|e| e.to_string()));
        let line = loaded.and_then(|case| {
            serde_json::to_string(&CaseResult::evaluate(&case))
                .map_err(|e| format!("cannot write the result of `{name}`: {e}"))
        });
        match line {
            Ok(line) => {
                if writeln!(out, "{line}").is_err() {
                    return exit::INVALID_INPUT;
                }
            }
            Err(message) => {
                let _ = writeln!(err, "error: {message}");
                code = exit::INVALID_INPUT;
            }
        }
    }
    code
}
