//! How a command ends: `Exit`, the one table of exit codes every command shares (shown by `--help` and `man`),
//! and `CliError`, every reason a command stops early, each mapped to one exit code. Commands return
//! `Result<Exit, CliError>`; `cli::run` prints the error once, as `error: …` on standard error.

use bucket_access_api::manifests::ManifestError;
use s3_diagnosis::Verdict;
use std::path::PathBuf;

/// The process's exit code: the same meaning in every command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Allowed, or success.
    Ok = 0,
    /// Denied.
    Denied = 1,
    /// A usage error (clap's own code for its errors too).
    Usage = 2,
    /// Unknown: something could not be read or decided.
    Unknown = 3,
    /// Invalid: a bad file, snapshot or spec, or no such check.
    Invalid = 4,
    /// The cluster cannot be reached.
    Cluster = 5,
    /// The process could not start its runtime.
    Runtime = 6,
}

impl Exit {
    /// The table `--help` and the man pages show.
    pub const TABLE: &str = "Exit codes:\n  0  Allowed (or success)\n  1  Denied\n  2  usage error\n  3  Unknown: something could not be read or decided (or the operator stopped on an error)\n  4  Invalid: a bad file, snapshot or spec, or no such check\n  5  the cluster cannot be reached\n  6  the process could not start its runtime\nThey mean the same in every command; of several checks the worst verdict decides (Invalid, then Denied,\nthen Unknown).";

    /// The exit of one verdict.
    pub fn of(verdict: Verdict) -> Self {
        match verdict {
            Verdict::Allowed => Self::Ok,
            Verdict::Denied => Self::Denied,
            Verdict::Unknown => Self::Unknown,
            Verdict::Invalid => Self::Invalid,
        }
    }

    /// The worst of several verdicts (Invalid, then Denied, then Unknown, then Allowed); none: Allowed.
    pub fn worst(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
        let rank = |v: &Verdict| match v {
            Verdict::Allowed => 0,
            Verdict::Unknown => 1,
            Verdict::Denied => 2,
            Verdict::Invalid => 3,
        };
        verdicts
            .into_iter()
            .max_by_key(rank)
            .unwrap_or(Verdict::Allowed)
    }

    /// The numeric code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        Self::from(exit.code())
    }
}

/// Why a command stopped before its answer.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Arguments that do not go together (those clap cannot tell).
    #[error("{0}")]
    Usage(String),
    /// A file that cannot be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// A file read, but not a snapshot.
    #[error("`{}` is not a valid snapshot: {message}", path.display())]
    Snapshot {
        /// The file.
        path: PathBuf,
        /// The parser's words.
        message: String,
    },
    /// A file that cannot be written.
    #[error("cannot write `{}`: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// Standard output cannot be written (a closed pipe).
    #[error("cannot write the output: {0}")]
    Output(#[source] std::io::Error),
    /// A manifest that cannot be used.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// A `--with LAYER=FILE` proposal that cannot be used.
    #[error(transparent)]
    WhatIf(#[from] super::whatif::WhatIfError),
    /// The input holds nothing to do.
    #[error("{0}")]
    NothingToDo(String),
    /// No cluster to ask: no kubeconfig or context, or the API server does not answer.
    #[error("cannot reach the cluster: {0}")]
    Cluster(String),
    /// The cluster answered, but not with the check (no such check, forbidden).
    #[error("{0}")]
    ClusterRefused(String),
    /// The async runtime cannot start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The operator stopped on an error.
    #[error("the operator stopped: {0}")]
    Operator(String),
}

impl CliError {
    /// The exit code this error ends the command with.
    pub fn exit(&self) -> Exit {
        match self {
            Self::Usage(_) => Exit::Usage,
            Self::Read { .. }
            | Self::Snapshot { .. }
            | Self::Write { .. }
            | Self::Output(_)
            | Self::Manifest(_)
            | Self::WhatIf(_)
            | Self::NothingToDo(_)
            | Self::ClusterRefused(_) => Exit::Invalid,
            Self::Cluster(_) => Exit::Cluster,
            Self::Runtime(_) => Exit::Runtime,
            Self::Operator(_) => Exit::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_lists_every_code_once() {
        for exit in [
            Exit::Ok,
            Exit::Denied,
            Exit::Usage,
            Exit::Unknown,
            Exit::Invalid,
            Exit::Cluster,
            Exit::Runtime,
        ] {
            let line = format!("\n  {}  ", exit.code());
            assert_eq!(Exit::TABLE.matches(&line).count(), 1, "{exit:?}");
        }
    }

    #[test]
    fn the_worst_verdict_decides() {
        use Verdict::*;
        assert_eq!(Exit::worst([Allowed, Unknown, Denied]), Denied);
        assert_eq!(Exit::worst([Denied, Invalid, Allowed]), Invalid);
        assert_eq!(Exit::worst([]), Allowed);
        assert_eq!(Exit::of(Unknown).code(), 3);
    }
}
