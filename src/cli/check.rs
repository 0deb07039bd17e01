//! `check` (collect from live AWS, diagnose, report) and `snapshot -f CHECK.yaml` (collect only, print the
//! snapshot JSON). `check` takes many manifests at once (files, directories, `-`), or one check given by
//! flags; every check shares one collector (one read per distinct input) and runs concurrently within the
//! collector's bound on AWS calls; the exit code is the worst verdict. With `--with LAYER=FILE` each check is
//! diagnosed on the live documents and again with the proposed ones.

use super::diagnose::{exit_code, write_fixed};
use super::exit;
use super::report::{worst, write, CheckFormat, Outcome, Report, Summary};
use super::whatif::{self, Proposal};
use crate::access::ReadAccess;
use crate::aws::{Collector, CollectorOptions};
use crate::manifests::{read_all, Found, FoundCheck, Location};
use crate::spec::{load_manifest, CheckSpec};
use s3_diagnosis::snapshot::{Network, Snapshot, Upload};
use s3_diagnosis::{diagnose, diagnose_with_fix, Verdict};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One check given by flags (`check --role-arn ARN --bucket NAME ...`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FlagCheck {
    /// The role that uploads.
    #[arg(long)]
    pub role_arn: Option<String>,
    /// The user that uploads.
    #[arg(long)]
    pub user_arn: Option<String>,
    /// The bucket.
    #[arg(long)]
    pub bucket: Option<String>,
    /// The account that owns the bucket (default: the principal's).
    #[arg(long)]
    pub bucket_account_id: Option<String>,
    /// The object key.
    #[arg(long)]
    pub key: Option<String>,
    /// `--storage-class` of the upload.
    #[arg(long)]
    pub storage_class: Option<String>,
    /// `--acl` of the upload.
    #[arg(long)]
    pub acl: Option<String>,
    /// `--server-side-encryption` of the upload (`AES256`, `aws:kms`, `aws:kms:dsse`).
    #[arg(long)]
    pub sse: Option<String>,
    /// `--ssekms-key-id` of the upload.
    #[arg(long)]
    pub kms_key_id: Option<String>,
    /// A multipart upload.
    #[arg(long)]
    pub multipart: bool,
    /// The address the requests come from.
    #[arg(long)]
    pub source_ip: Option<String>,
    /// The VPC endpoint the requests go through.
    #[arg(long)]
    pub vpc_endpoint_id: Option<String>,
}

impl FlagCheck {
    fn given(&self) -> bool {
        self.bucket.is_some() || self.role_arn.is_some() || self.user_arn.is_some()
    }

    fn spec(&self) -> CheckSpec {
        CheckSpec {
            role_arn: self.role_arn.clone(),
            user_arn: self.user_arn.clone(),
            bucket: self.bucket.clone().unwrap_or_default(),
            bucket_account_id: self.bucket_account_id.clone(),
            key: self.key.clone(),
            upload: Some(Upload {
                storage_class: self.storage_class.clone(),
                acl: self.acl.clone(),
                server_side_encryption: self.sse.clone(),
                sse_kms_key_id: self.kms_key_id.clone(),
                multipart: self.multipart,
                ..Upload::default()
            }),
            network: Some(Network {
                source_ip: self.source_ip.clone(),
                vpc_endpoint_id: self.vpc_endpoint_id.clone(),
                ..Network::default()
            }),
            ..CheckSpec::default()
        }
    }
}

/// Everything `check` is given.
#[derive(Debug, Clone)]
pub struct CheckArgs {
    /// Files, directories, `-`.
    pub files: Vec<PathBuf>,
    /// Into subdirectories.
    pub recursive: bool,
    /// One check by flags.
    pub flags: FlagCheck,
    /// Output format.
    pub output: CheckFormat,
    /// Colour in text output.
    pub color: bool,
    /// Write the snapshot (one check only).
    pub snapshot_out: Option<PathBuf>,
    /// Write the fixed snapshot (one check only).
    pub fixed_snapshot_out: Option<PathBuf>,
    /// Proposed documents, `LAYER=FILE`.
    pub with: Vec<String>,
}

/// The async runtime, or the exit code after saying why there is none.
fn runtime(err: &mut impl Write) -> Result<tokio::runtime::Runtime, u8> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Collections nest deep futures: room to spare on the worker threads.
        .thread_stack_size(16 * 1024 * 1024)
        .build()
        .map_err(|e| {
            let _ = writeln!(err, "error: cannot start the async runtime: {e}");
            exit::RUNTIME
        })
}

/// `check`: returns the exit code (the worst verdict).
pub fn check(args: &CheckArgs, out: &mut impl Write, err: &mut impl Write) -> u8 {
    let started = Instant::now();
    let found = match (args.flags.given(), args.files.is_empty()) {
        (true, true) => Found {
            checks: vec![FoundCheck {
                at: Location {
                    file: "(flags)".to_owned(),
                    line: 1,
                },
                name: "flags".to_owned(),
                namespace: None,
                spec: args.flags.spec().validated(),
            }],
            ..Found::default()
        },
        (false, false) => read_all(&args.files, args.recursive, &mut std::io::stdin()),
        (true, false) => {
            let _ = writeln!(
                err,
                "error: give manifests (-f) or one check by flags, not both"
            );
            return exit::USAGE;
        }
        (false, true) => {
            let _ = writeln!(
                err,
                "error: give manifests (-f FILE|DIR|-) or one check by flags (--role-arn/--user-arn and --bucket)"
            );
            return exit::USAGE;
        }
    };
    for problem in &found.unreadable {
        let _ = writeln!(err, "error: {problem}");
    }
    for check in &found.checks {
        if let Err(message) = &check.spec {
            let _ = writeln!(err, "error: {} ({}): {message}", check.at, check.name);
        }
    }
    let proposals: Vec<Proposal> = match args.with.iter().map(|w| whatif::parse(w)).collect() {
        Ok(p) => p,
        Err(message) => {
            let _ = writeln!(err, "error: {message}");
            return exit::INVALID_INPUT;
        }
    };
    // The one-check shape (the diagnosis itself, as `diagnose` prints it) for one check given by flags or
    // one manifest file; every other run reports `{checks, summary}`, whatever it found.
    let one_file = args.files.len() == 1 && args.files.iter().all(|f| f.is_file());
    let single = (args.flags.given() || one_file)
        && found.checks.len() == 1
        && found.unreadable.is_empty()
        && proposals.is_empty();
    if (args.snapshot_out.is_some() || args.fixed_snapshot_out.is_some()) && found.checks.len() != 1
    {
        let _ = writeln!(
            err,
            "error: --snapshot-out and --fixed-snapshot-out need exactly one check ({} given)",
            found.checks.len()
        );
        return exit::USAGE;
    }
    if found.checks.is_empty() && found.unreadable.is_empty() {
        let _ = writeln!(
            err,
            "error: no BucketAccessCheck in the input ({} documents of other kinds)",
            found.skipped
        );
        return exit::INVALID_INPUT;
    }
    let runtime = match runtime(err) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let (results, aws_calls) = runtime.block_on(run_all(&found.checks));
    let mut outcomes = Vec::new();
    for (check, snapshot) in found.checks.iter().zip(results) {
        let base = Outcome {
            name: check.name.clone(),
            namespace: check.namespace.clone(),
            file: check.at.file.clone(),
            line: check.at.line,
            verdict: Verdict::Invalid,
            before: None,
            error: None,
            diagnosis: None,
        };
        let Some(snapshot) = snapshot else {
            outcomes.push(Outcome {
                error: check.spec.clone().err(),
                ..base
            });
            continue;
        };
        // One diagnosis of the live documents: the verdict (or, with proposals, the verdict before) and the fix.
        let (live, fixed) = diagnose_with_fix(&snapshot);
        if let Err(message) = write_snapshots(args, &snapshot, fixed.as_ref()) {
            let _ = writeln!(err, "error: {message}");
            return exit::INVALID_INPUT;
        }
        if proposals.is_empty() {
            outcomes.push(Outcome {
                verdict: live.verdict,
                diagnosis: Some(live),
                ..base
            });
            continue;
        }
        let before = live.verdict;
        match whatif::apply(&snapshot, &proposals) {
            Ok(proposed) => {
                let d = diagnose(&proposed);
                outcomes.push(Outcome {
                    verdict: d.verdict,
                    before: Some(before),
                    diagnosis: Some(d),
                    ..base
                });
            }
            Err(message) => outcomes.push(Outcome {
                error: Some(message),
                before: Some(before),
                ..base
            }),
        }
    }
    for problem in &found.unreadable {
        outcomes.push(Outcome {
            name: problem.file.clone(),
            namespace: None,
            file: problem.file.clone(),
            line: 1,
            verdict: Verdict::Invalid,
            before: None,
            error: Some(problem.to_string()),
            diagnosis: None,
        });
    }
    let summary = Summary {
        skipped_documents: found.skipped,
        aws_calls,
        seconds: started.elapsed().as_secs_f64(),
        proposed: proposals.iter().map(|p| p.given.clone()).collect(),
        ..Summary::count(&outcomes)
    };
    let report = Report {
        outcomes: &outcomes,
        summary: &summary,
        single,
        color: args.color,
    };
    if write(args.output, &report, out).is_err() {
        return exit::INVALID_INPUT;
    }
    if args.output != CheckFormat::Text {
        let _ = writeln!(err, "{}", summary.line());
    }
    exit_code(worst(&outcomes))
}

/// `--snapshot-out` and `--fixed-snapshot-out` of a single check.
fn write_snapshots(
    args: &CheckArgs,
    snapshot: &Snapshot,
    fixed: Option<&Snapshot>,
) -> Result<(), String> {
    if let Some(path) = &args.snapshot_out {
        let text = serde_json::to_string_pretty(snapshot).map_err(|e| e.to_string())?;
        std::fs::write(path, text)
            .map_err(|e| format!("cannot write the snapshot to `{}`: {e}", path.display()))?;
    }
    if let Some(path) = &args.fixed_snapshot_out {
        write_fixed(path, snapshot, fixed)?;
    }
    Ok(())
}

/// Collects every valid check concurrently through one collector; `None` for invalid manifests. Returns the
/// snapshots in input order and the number of AWS calls made.
async fn run_all(checks: &[FoundCheck]) -> (Vec<Option<Snapshot>>, u64) {
    let collector = Arc::new(Collector::from_env(CollectorOptions::default()).await);
    let metrics = collector.metrics();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, check) in checks.iter().enumerate() {
        if let Ok(spec) = &check.spec {
            let (collector, spec) = (Arc::clone(&collector), spec.clone());
            tasks.spawn(async move {
                let access = ReadAccess::unrestricted(&spec.read_role_arns);
                (i, Box::pin(collector.collect(&spec, &access)).await)
            });
        }
    }
    let mut snapshots: Vec<Option<Snapshot>> = vec![None; checks.len()];
    let started = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs(5));
    ticker.tick().await;
    loop {
        tokio::select! {
            next = tasks.join_next() => match next {
                Some(Ok((i, snapshot))) => {
                    if let Some(slot) = snapshots.get_mut(i) {
                        *slot = Some(snapshot);
                    }
                }
                Some(Err(e)) => eprintln!("error: a collection failed: {e}"),
                None => break,
            },
            _ = ticker.tick() => {
                eprintln!("still reading AWS: {} checks left, {} calls, {:.0?}", tasks.len(), metrics.total(), started.elapsed());
            }
        }
    }
    (snapshots, metrics.total())
}

/// `snapshot -f CHECK.yaml`: collect one check, print the snapshot JSON.
pub fn snapshot(manifest: &Path, out: &mut impl Write, err: &mut impl Write) -> u8 {
    let manifest = match load_manifest(manifest) {
        Ok(m) => m,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return exit::INVALID_INPUT;
        }
    };
    let runtime = match runtime(err) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let found = FoundCheck {
        at: Location {
            file: String::new(),
            line: 1,
        },
        name: manifest.metadata.name.clone().unwrap_or_default(),
        namespace: None,
        spec: Ok(manifest.spec),
    };
    let (mut snapshots, _) = runtime.block_on(run_all(std::slice::from_ref(&found)));
    match snapshots
        .pop()
        .flatten()
        .map(|s| serde_json::to_string_pretty(&s))
    {
        Some(Ok(text)) if writeln!(out, "{text}").is_ok() => exit::OK,
        _ => exit::INVALID_INPUT,
    }
}
