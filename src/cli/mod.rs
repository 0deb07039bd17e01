//! The commands of the one binary. `main.rs` only parses arguments and calls `run`.

#[cfg(feature = "aws")]
pub mod check;
pub mod diagnose;
pub mod simulate;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Exit codes shared by the commands (`shared/spec/snapshot.md`).
pub mod exit {
    /// Allowed / success.
    pub const OK: u8 = 0;
    /// Denied.
    pub const DENIED: u8 = 1;
    /// Usage error (clap's own code).
    pub const USAGE: u8 = 2;
    /// Unknown.
    pub const UNKNOWN: u8 = 3;
    /// Invalid input: bad file, bad JSON, invalid spec.
    pub const INVALID_INPUT: u8 = 4;
}

/// Can this IAM role upload to this S3 bucket, and if not, why and what to change.
#[derive(Debug, Parser)]
#[command(name = "bucket-access-operator", version, about)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate raw IAM cases (shared/spec/simulate-case.md); prints one JSON line per case.
    Simulate {
        /// Case files.
        #[arg(required = true)]
        cases: Vec<PathBuf>,
    },
    /// Check live AWS for a BucketAccessCheck manifest: collect, diagnose, print.
    #[cfg(feature = "aws")]
    Check {
        /// The BucketAccessCheck manifest (YAML or JSON).
        #[arg(short = 'f', long = "filename")]
        file: PathBuf,
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
        output: diagnose::Format,
        /// Also write the snapshot that was diagnosed to this file.
        #[arg(long = "snapshot-out")]
        snapshot_out: Option<PathBuf>,
    },
    /// Read live AWS for a BucketAccessCheck manifest and print the snapshot JSON (no diagnosis).
    #[cfg(feature = "aws")]
    Snapshot {
        /// The BucketAccessCheck manifest (YAML or JSON).
        #[arg(short = 'f', long = "filename")]
        file: PathBuf,
    },
    /// Print the BucketAccessCheck CustomResourceDefinition (YAML).
    #[cfg(feature = "kube")]
    Crd,
    /// Diagnose a snapshot offline: verdict, every cause, and what to change.
    Diagnose {
        /// The snapshot file (shared/spec/snapshot.md).
        snapshot: PathBuf,
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
        output: diagnose::Format,
    },
}

/// Runs a parsed command; returns the process exit code.
pub fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Simulate { cases } => {
            let stdout = std::io::stdout();
            let stderr = std::io::stderr();
            simulate::run(&cases, &mut stdout.lock(), &mut stderr.lock())
        }
        #[cfg(feature = "aws")]
        Command::Check {
            file,
            output,
            snapshot_out,
        } => {
            use std::io::IsTerminal;
            let stdout = std::io::stdout();
            let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let stderr = std::io::stderr();
            check::check(
                &file,
                output,
                color,
                snapshot_out.as_deref(),
                &mut stdout.lock(),
                &mut stderr.lock(),
            )
        }
        #[cfg(feature = "aws")]
        Command::Snapshot { file } => {
            let stdout = std::io::stdout();
            let stderr = std::io::stderr();
            check::snapshot(&file, &mut stdout.lock(), &mut stderr.lock())
        }
        #[cfg(feature = "kube")]
        Command::Crd => {
            use kube::CustomResourceExt;
            match serde_yaml::to_string(&crate::spec::BucketAccessCheck::crd()) {
                Ok(yaml) => {
                    print!("{yaml}");
                    exit::OK
                }
                Err(e) => {
                    eprintln!("error: cannot render the CRD: {e}");
                    exit::INVALID_INPUT
                }
            }
        }
        Command::Diagnose { snapshot, output } => {
            use std::io::IsTerminal;
            let stdout = std::io::stdout();
            let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let stderr = std::io::stderr();
            diagnose::run(
                &snapshot,
                output,
                color,
                &mut stdout.lock(),
                &mut stderr.lock(),
            )
        }
    }
}
