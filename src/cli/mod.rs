//! The commands of the one binary. `main.rs` only parses arguments and calls `run`.

#[cfg(feature = "aws")]
pub mod check;
pub mod diagnose;
#[cfg(feature = "kube")]
pub mod explain;
#[cfg(feature = "kube")]
pub mod operator;
pub mod pages;
#[cfg(feature = "aws")]
pub mod report;
pub mod simulate;
#[cfg(feature = "aws")]
pub mod whatif;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Exit codes shared by the commands.
pub mod exit {
    /// Allowed / success.
    pub const OK: u8 = 0;
    /// Denied.
    pub const DENIED: u8 = 1;
    /// Usage error (clap's own code).
    pub const USAGE: u8 = 2;
    /// Unknown.
    pub const UNKNOWN: u8 = 3;
    /// Invalid input: bad file, bad JSON, invalid spec, no such check.
    pub const INVALID_INPUT: u8 = 4;
    /// The cluster cannot be reached (`explain`): no kubeconfig or context, or the API server does not answer.
    pub const CLUSTER: u8 = 5;
    /// The process could not start what it needs (its async runtime).
    pub const RUNTIME: u8 = 6;

    /// The table `--help` and the man pages show.
    pub const TABLE: &str = "Exit codes:\n  0  Allowed (or success)\n  1  Denied\n  2  usage error\n  3  Unknown: something could not be read or decided\n  4  Invalid: a bad file, snapshot or spec, or no such check\n  5  the cluster cannot be reached (explain)\n  6  the process could not start its runtime";
}

/// Can this IAM role upload to this S3 bucket, and if not, why and what to change.
#[derive(Debug, Parser)]
#[command(
    name = "bucket-access-operator",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("BAO_GIT_REVISION"), ")"),
    about,
    after_help = exit::TABLE
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
    Simulate {
        /// Case files.
        #[arg(required = true)]
        cases: Vec<PathBuf>,
    },
    /// Check live AWS for BucketAccessCheck manifests (files, directories, `-`) or one check given by flags:
    /// collect, diagnose, report; the exit code is the worst verdict.
    #[cfg(feature = "aws")]
    Check {
        /// Manifests: files (several YAML documents each; other kinds are skipped), directories (their
        /// *.yaml, *.yml, *.json), `-` for standard input. Repeatable.
        #[arg(short = 'f', long = "filename", num_args = 1..)]
        files: Vec<PathBuf>,
        /// Read directories recursively.
        #[arg(short = 'R', long = "recursive")]
        recursive: bool,
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
        output: report::CheckFormat,
        /// What if: replace a live document by a proposed one before the diagnosis (LAYER=FILE:
        /// bucketPolicy, identity:NAME-OR-ARN, permissionsBoundary, kmsKeyPolicy[:KEY-ARN],
        /// vpcEndpointPolicy, scp:ID). Repeatable.
        #[arg(long = "with", value_name = "LAYER=FILE")]
        with: Vec<String>,
        /// One check by flags instead of manifests.
        #[command(flatten)]
        flags: Box<check::FlagCheck>,
        /// Also write the snapshot that was diagnosed to this file.
        #[arg(long = "snapshot-out")]
        snapshot_out: Option<PathBuf>,
        /// Also write the snapshot with the whole-check fix applied to this file (re-run `diagnose` on it).
        #[arg(long = "fixed-snapshot-out")]
        fixed_snapshot_out: Option<PathBuf>,
    },
    /// Read live AWS for a BucketAccessCheck manifest and print the snapshot JSON (no diagnosis).
    #[cfg(feature = "aws")]
    Snapshot {
        /// The BucketAccessCheck manifest (YAML or JSON).
        #[arg(short = 'f', long = "filename")]
        file: PathBuf,
    },
    /// Run the controller: watch BucketAccessChecks, serve /metrics, /healthz, /readyz, lead through a Lease.
    #[cfg(feature = "kube")]
    Run(operator::RunArgs),
    /// Print a cluster check's status as readable text (also `kubectl bac explain NAME` with the binary
    /// installed as `kubectl-bac`). Exit codes as `diagnose`.
    #[cfg(feature = "kube")]
    #[command(after_help = exit::TABLE)]
    Explain(explain::ExplainArgs),
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): the command's, or one subcommand's (`man explain`).
    Man {
        /// The subcommand (`check`, `diagnose`, `explain`, ...).
        subcommand: Option<String>,
    },
    /// Print the CustomResourceDefinitions (YAML): BucketAccessCheck and BucketAccessScope.
    #[cfg(feature = "kube")]
    Crd {
        /// Only this one.
        #[arg(long, value_enum)]
        kind: Option<CrdKind>,
    },
    /// Diagnose a snapshot offline: verdict, every cause, and what to change.
    Diagnose {
        /// The snapshot file (the snapshot format).
        snapshot: PathBuf,
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
        output: diagnose::Format,
        /// Also write the snapshot with the whole-check fix applied to this file (re-run `diagnose` on it).
        #[arg(long = "fixed-snapshot-out")]
        fixed_snapshot_out: Option<PathBuf>,
    },
}

/// Which CRD `crd --kind` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CrdKind {
    /// `BucketAccessCheck`.
    Check,
    /// `BucketAccessScope`.
    Scope,
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
            files,
            recursive,
            output,
            with,
            flags,
            snapshot_out,
            fixed_snapshot_out,
        } => {
            use std::io::IsTerminal;
            let stdout = std::io::stdout();
            let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let stderr = std::io::stderr();
            let args = check::CheckArgs {
                files,
                recursive,
                flags: *flags,
                output,
                color,
                snapshot_out,
                fixed_snapshot_out,
                with,
            };
            check::check(&args, &mut stdout.lock(), &mut stderr.lock())
        }
        #[cfg(feature = "aws")]
        Command::Snapshot { file } => {
            let stdout = std::io::stdout();
            let stderr = std::io::stderr();
            check::snapshot(&file, &mut stdout.lock(), &mut stderr.lock())
        }
        #[cfg(feature = "kube")]
        Command::Run(args) => operator::run(args),
        #[cfg(feature = "kube")]
        Command::Crd { kind } => pages::crds(kind),
        #[cfg(feature = "kube")]
        Command::Explain(args) => {
            let stdout = std::io::stdout();
            let stderr = std::io::stderr();
            explain::run(&args, &mut stdout.lock(), &mut stderr.lock())
        }
        Command::Completions { shell } => pages::completions(shell),
        Command::Man { subcommand } => pages::man(subcommand.as_deref()),
        Command::Diagnose {
            snapshot,
            output,
            fixed_snapshot_out,
        } => {
            use std::io::IsTerminal;
            let stdout = std::io::stdout();
            let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let stderr = std::io::stderr();
            diagnose::run(
                &snapshot,
                output,
                color,
                fixed_snapshot_out.as_deref(),
                &mut stdout.lock(),
                &mut stderr.lock(),
            )
        }
    }
}
