//! The commands of the one binary. `main.rs` only parses arguments and calls `run`.

#[cfg(feature = "aws")]
pub mod check;
pub mod diagnose;
#[cfg(feature = "kube")]
pub mod explain;
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
    Run {
        /// Watch only this namespace (default: all namespaces).
        #[arg(long)]
        namespace: Option<String>,
        /// Address of /metrics, /healthz and /readyz.
        #[arg(long, default_value = "0.0.0.0:8080")]
        listen: String,
        /// Namespace of the leader-election Lease (default: $POD_NAMESPACE, else `bucket-access-operator`).
        #[arg(long)]
        lease_namespace: Option<String>,
        /// Name of the Lease.
        #[arg(long, default_value = "bucket-access-operator")]
        lease_name: String,
        /// This replica's identity (default: $POD_NAME, else the host name and process id).
        #[arg(long)]
        identity: Option<String>,
        /// Seconds a Lease is valid without renewal (at least 2; the holder renews a third of it early).
        #[arg(long, default_value_t = 15)]
        lease_seconds: u64,
        /// Seconds AWS reads are reused.
        #[arg(long, default_value_t = 300)]
        cache_ttl_seconds: u64,
        /// Reconciles at once.
        #[arg(long, default_value_t = 8)]
        concurrency: u16,
        /// AWS calls in flight at once, over all checks.
        #[arg(long, default_value_t = 16)]
        aws_concurrency: usize,
        /// Of those, how many the checks of one namespace may hold (its fair share: a namespace that floods the
        /// operator cannot delay the others).
        #[arg(long, default_value_t = 4)]
        namespace_aws_share: usize,
        /// The role that reads the organization's SCPs and RCPs, in its management or delegated-administrator
        /// account (needed when the operator runs in an ordinary member account).
        #[arg(long)]
        org_reader_role_arn: Option<String>,
        /// The `ExternalId` that role's trust policy requires.
        #[arg(long, requires = "org_reader_role_arn")]
        org_reader_external_id: Option<String>,
        /// Log as JSON lines.
        #[arg(long)]
        log_json: bool,
        /// `enforce`: every check must be allowed by a BucketAccessScope (multi-tenant safe); `off`: checks
        /// choose their reader roles with `spec.readRoleArns` (single-tenant clusters only).
        #[arg(long, value_enum, default_value = "enforce")]
        scope_mode: crate::controller::run::ScopeMode,
    },
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
        Command::Run {
            namespace,
            listen,
            lease_namespace,
            lease_name,
            identity,
            lease_seconds,
            cache_ttl_seconds,
            concurrency,
            aws_concurrency,
            namespace_aws_share,
            org_reader_role_arn,
            org_reader_external_id,
            log_json,
            scope_mode,
        } => {
            use crate::controller::leader::LeaseConfig;
            use crate::controller::run::{run, RunOptions};
            let filter =
                tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                    tracing_subscriber::EnvFilter::new("warn,bucket_access_operator=info")
                });
            // No colour escapes in log files or collectors: only on a terminal.
            let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
            let builder = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_ansi(ansi)
                .with_writer(std::io::stderr);
            if log_json {
                builder.json().init();
            } else {
                builder.init();
            }
            let identity = identity
                .or_else(|| std::env::var("POD_NAME").ok())
                .unwrap_or_else(|| {
                    format!(
                        "{}-{}",
                        std::env::var("HOSTNAME").unwrap_or_else(|_| "operator".into()),
                        std::process::id()
                    )
                });
            let options = RunOptions {
                namespace,
                listen,
                lease: LeaseConfig::new(
                    lease_namespace
                        .or_else(|| std::env::var("POD_NAMESPACE").ok())
                        .unwrap_or_else(|| "bucket-access-operator".into()),
                    lease_name,
                    identity,
                    lease_seconds,
                ),
                cache_ttl: std::time::Duration::from_secs(cache_ttl_seconds),
                concurrency,
                aws_concurrency,
                namespace_aws_share,
                organization_reader: org_reader_role_arn.map(|role_arn| {
                    crate::access::ReaderRole {
                        role_arn,
                        external_id: org_reader_external_id,
                    }
                }),
                scope_mode,
            };
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                // Reconciles nest the controller's streams, the collection and the diagnosis: room to spare.
                .thread_stack_size(16 * 1024 * 1024)
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: cannot start the async runtime: {e}");
                    return exit::RUNTIME;
                }
            };
            match runtime.block_on(run(options)) {
                Ok(()) => exit::OK,
                Err(e) => {
                    tracing::error!(error = %e, "the operator stopped");
                    exit::UNKNOWN
                }
            }
        }
        #[cfg(feature = "kube")]
        Command::Crd { kind } => {
            use kube::CustomResourceExt;
            let check = crate::spec::BucketAccessCheck::crd();
            let scope = crate::controller::scope::BucketAccessScope::crd();
            let crds = match kind {
                Some(CrdKind::Check) => vec![check],
                Some(CrdKind::Scope) => vec![scope],
                None => vec![check, scope],
            };
            let mut out = String::new();
            for crd in crds {
                match serde_saphyr::to_string(&crd) {
                    Ok(yaml) => {
                        if !out.is_empty() {
                            out.push_str("---\n");
                        }
                        out.push_str(&yaml);
                    }
                    Err(e) => {
                        eprintln!("error: cannot render the CRD: {e}");
                        return exit::INVALID_INPUT;
                    }
                }
            }
            print!("{out}");
            exit::OK
        }
        #[cfg(feature = "kube")]
        Command::Explain(args) => {
            let stdout = std::io::stdout();
            let stderr = std::io::stderr();
            explain::run(&args, &mut stdout.lock(), &mut stderr.lock())
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut command = Cli::command();
            clap_complete::generate(
                shell,
                &mut command,
                "bucket-access-operator",
                &mut std::io::stdout(),
            );
            exit::OK
        }
        Command::Man { subcommand } => {
            use clap::CommandFactory;
            let command = Cli::command();
            let page = match subcommand {
                None => clap_mangen::Man::new(command),
                Some(name) => match command.find_subcommand(&name) {
                    // The page's title names the whole command line: `bucket-access-operator-explain`.
                    Some(sub) => clap_mangen::Man::new(sub.clone().after_help(exit::TABLE))
                        .title(format!("bucket-access-operator-{name}")),
                    None => {
                        eprintln!("error: no subcommand `{name}`");
                        return exit::USAGE;
                    }
                },
            };
            match page.render(&mut std::io::stdout()) {
                Ok(()) => exit::OK,
                Err(e) => {
                    eprintln!("error: cannot write the man page: {e}");
                    exit::INVALID_INPUT
                }
            }
        }
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
