//! `simulate CASE.json...`: evaluates each case and prints one JSON line per case, in order.
//! Exit 0 when every case was evaluated, 4 when a file could not be read or is not a valid case (the others
//! are still evaluated).

use super::{CliError, Exit};
use iam_policy::case::{load_case, CaseResult};
use std::io::Write;
use std::path::PathBuf;

/// `simulate`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct SimulateArgs {
    /// Case files.
    #[arg(required = true)]
    pub cases: Vec<PathBuf>,
}

/// Evaluates the files; writes results to `out` and each unusable file's problem to `err`.
pub fn run(
    args: &SimulateArgs,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<Exit, CliError> {
    let mut exit = Exit::Ok;
    for file in &args.cases {
        let name = file.display().to_string();
        let loaded = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read `{name}`: {e}"))
            .and_then(|text| load_case(&text, &name).map_err(|e| e.to_string()));
        let line = loaded.and_then(|case| {
            serde_json::to_string(&CaseResult::evaluate(&case))
                .map_err(|e| format!("cannot write the result of `{name}`: {e}"))
        });
        match line {
            Ok(line) => writeln!(out, "{line}").map_err(CliError::Output)?,
            Err(message) => {
                // One unusable file does not stop the others: it is said here and decides the exit code.
                let _ = writeln!(err, "error: {message}");
                exit = Exit::Invalid;
            }
        }
    }
    Ok(exit)
}
