//! The commands of the one binary: one module and one function per subcommand, each with its own arguments
//! struct, each returning `Result<Exit, CliError>` (`error`). `main.rs` only parses arguments and calls
//! `run`, which prints an error once and turns the outcome into the exit code.

pub mod check;
pub mod diagnose;
pub mod error;
pub mod explain;
pub mod operator;
pub mod pages;
pub mod report;
pub mod simulate;
pub mod whatif;

pub use error::{CliError, Exit};

use clap::{Parser, Subcommand};
use std::io::Write;

/// Can this IAM role upload to this S3 bucket, and if not, why and what to change.
#[derive(Debug, Parser)]
#[command(
    name = "bucket-access-operator",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("BAO_GIT_REVISION"), ")"),
    about,
    after_help = Exit::TABLE
)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate raw IAM cases (the simulate case format); prints one JSON line per case.
    Simulate(simulate::SimulateArgs),
    /// Check live AWS for BucketAccessCheck manifests (files, directories, `-`) or one check given by flags:
    /// collect, diagnose, report; the exit code is the worst verdict.
    Check(Box<check::CheckArgs>),
    /// Read live AWS for a BucketAccessCheck manifest and print the snapshot JSON (no diagnosis).
    Snapshot(check::SnapshotArgs),
    /// Run the controller: watch BucketAccessChecks, serve /metrics, /healthz, /readyz, lead through a Lease.
    Run(operator::RunArgs),
    /// Print a cluster check's status as readable text (also `kubectl bac explain NAME` with the binary
    /// installed as `kubectl-bac`). Exit codes as `diagnose`.
    #[command(after_help = Exit::TABLE)]
    Explain(explain::ExplainArgs),
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions(pages::CompletionsArgs),
    /// Print the man page (roff): the command's, or one subcommand's (`man explain`).
    Man(pages::ManArgs),
    /// Print the CustomResourceDefinitions (YAML): BucketAccessCheck and BucketAccessScope.
    Crd(pages::CrdArgs),
    /// Print the JSON Schema of the snapshot format (what `snapshot` writes and `diagnose` reads).
    Schema,
    /// Diagnose a snapshot offline: verdict, every cause, and what to change.
    Diagnose(diagnose::DiagnoseArgs),
}

/// Whether text on standard output may be coloured: a terminal, and no `NO_COLOR`.
pub fn colour_on_stdout() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Runs a parsed command: its outcome, or its error printed once (`error: …`) and its exit code.
pub fn run(cli: Cli) -> Exit {
    // Standard error is not locked: the operator's log writes to it from every worker thread.
    let mut err = std::io::stderr();
    let outcome = match cli.command {
        Command::Run(args) => operator::run(args),
        command => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            match command {
                Command::Simulate(args) => simulate::run(&args, &mut out, &mut err),
                Command::Check(args) => check::run(&args, &mut out, &mut err),
                Command::Snapshot(args) => check::snapshot(&args, &mut out, &mut err),
                Command::Explain(args) => explain::run(&args, &mut out),
                Command::Completions(args) => pages::completions(&args, &mut out),
                Command::Man(args) => pages::man(&args, &mut out),
                Command::Crd(args) => pages::crds(&args, &mut out),
                Command::Schema => pages::schema(&mut out),
                Command::Diagnose(args) => diagnose::run(&args, &mut out),
                Command::Run(args) => operator::run(args),
            }
        }
    };
    outcome.unwrap_or_else(|e| {
        let _ = writeln!(err, "error: {e}");
        e.exit()
    })
}
