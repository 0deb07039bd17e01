//! `check` (collect from live AWS, diagnose, report) and `snapshot -f CHECK.yaml` (collect only, print the
//! snapshot JSON). `check` takes many manifests at once (files, directories, `-`), or one check given by
//! flags; every check shares one collector (one read per distinct input) and runs concurrently within the
//! collector's bound on AWS calls; the exit code is the worst verdict. With `--with LAYER=FILE` each check is
//! diagnosed on the live documents and again with the proposed ones.

use super::diagnose::{write_fixed, write_json};
use super::report::{worst, write, CheckFormat, Outcome, Report, Summary};
use super::whatif::{self, Proposal};
use super::{CliError, Exit};
use bucket_access_api::manifests::load_manifest;
use bucket_access_api::manifests::{read_all, Found, FoundCheck, Location, Unreadable};
use bucket_access_api::spec::CheckSpec;
use bucket_access_aws::{Collector, CollectorOptions};
use s3_diagnosis::client::Client;
use s3_diagnosis::snapshot::{Network, Snapshot, Upload};
use s3_diagnosis::source::ReadAccess;
use s3_diagnosis::{diagnose, diagnose_with_fix, Verdict};
use std::io::Write;
use std::path::PathBuf;
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
    /// The access point the requests go through (its ARN, or its alias); `--bucket` may then be left out.
    #[arg(long)]
    pub access_point: Option<String>,
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
    /// `--if-none-match` of the upload (`*`: a conditional write).
    #[arg(long)]
    pub if_none_match: Option<String>,
    /// The address the requests come from.
    #[arg(long)]
    pub source_ip: Option<String>,
    /// The VPC endpoint the requests go through.
    #[arg(long)]
    pub vpc_endpoint_id: Option<String>,
    /// The workload's AWS client (`aws-cli-v2`, `boto3`, `aws-sdk-java-v2`, `aws-sdk-go-v2`, `aws-sdk-js-v3`,
    /// `aws-sdk-rust`, `unknown`), whose default request keys are then known.
    #[arg(long, value_parser = parse_client)]
    pub client: Option<Client>,
}

/// A client name as the check's `client` spells it.
fn parse_client(text: &str) -> Result<Client, String> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).map_err(|_| {
        let names: Vec<&str> = <Client as strum::VariantArray>::VARIANTS
            .iter()
            .map(|c| c.name())
            .collect();
        format!("`{text}` is not a client; one of {}", names.join(", "))
    })
}

impl FlagCheck {
    fn given(&self) -> bool {
        self.bucket.is_some()
            || self.access_point.is_some()
            || self.role_arn.is_some()
            || self.user_arn.is_some()
    }

    fn spec(&self) -> CheckSpec {
        CheckSpec {
            role_arn: self.role_arn.clone(),
            user_arn: self.user_arn.clone(),
            bucket: self.bucket.clone().unwrap_or_default(),
            bucket_account_id: self.bucket_account_id.clone(),
            access_point: self.access_point.clone(),
            client: self.client,
            key: self.key.clone(),
            upload: Some(Upload {
                storage_class: self.storage_class.clone(),
                acl: self.acl.clone(),
                server_side_encryption: self.sse.clone(),
                sse_kms_key_id: self.kms_key_id.clone(),
                multipart: self.multipart,
                if_none_match: self.if_none_match.clone(),
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

/// `check`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// Manifests: files (several YAML documents each; other kinds are skipped), directories (their
    /// *.yaml, *.yml, *.json), `-` for standard input. Repeatable.
    #[arg(short = 'f', long = "filename", num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// Read directories recursively.
    #[arg(short = 'R', long = "recursive")]
    pub recursive: bool,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    pub output: CheckFormat,
    /// What if: replace a live document by a proposed one before the diagnosis (LAYER=FILE:
    /// bucketPolicy, identity:NAME-OR-ARN, permissionsBoundary, kmsKeyPolicy[:KEY-ARN],
    /// vpcEndpointPolicy, scp:ID). Repeatable.
    #[arg(long = "with", value_name = "LAYER=FILE")]
    pub with: Vec<String>,
    /// One check by flags instead of manifests.
    #[command(flatten)]
    pub flags: FlagCheck,
    /// Also write the snapshot that was diagnosed to this file.
    #[arg(long = "snapshot-out")]
    pub snapshot_out: Option<PathBuf>,
    /// Also write the snapshot with the whole-check fix applied to this file (re-run `diagnose` on it).
    #[arg(long = "fixed-snapshot-out")]
    pub fixed_snapshot_out: Option<PathBuf>,
    /// The time one AWS call may take, its retries included (an attempt gets half of it); a read that
    /// takes longer fails, and the check is `Unknown` naming it.
    #[arg(long = "aws-timeout-seconds", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub aws_timeout_seconds: u64,
}

/// `snapshot`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct SnapshotArgs {
    /// The BucketAccessCheck manifest (YAML or JSON).
    #[arg(short = 'f', long = "filename")]
    pub file: PathBuf,
}

/// The async runtime.
fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Collections nest deep futures: room to spare on the worker threads.
        .thread_stack_size(16 * 1024 * 1024)
        .build()
        .map_err(CliError::Runtime)
}

/// `check`: collect, diagnose and report every check found; the exit code is the worst verdict.
pub fn run(args: &CheckArgs, out: &mut impl Write, err: &mut impl Write) -> Result<Exit, CliError> {
    let started = Instant::now();
    let found = find(args)?;
    // Unusable inputs are said at once, and reported with the others.
    for problem in &found.unreadable {
        let _ = writeln!(err, "error: {problem}");
    }
    for check in &found.checks {
        if let Err(problem) = &check.spec {
            let _ = writeln!(err, "error: {} ({}): {problem}", check.at, check.name);
        }
    }
    let proposals = args
        .with
        .iter()
        .map(|w| whatif::parse(w))
        .collect::<Result<Vec<Proposal>, _>>()?;
    // The one-check shape (the diagnosis itself, as `diagnose` prints it) for one check given by flags or
    // one manifest file; every other run reports `{checks, summary}`, whatever it found.
    let one_file = args.files.len() == 1 && args.files.iter().all(|f| f.is_file());
    let single = (args.flags.given() || one_file)
        && found.checks.len() == 1
        && found.unreadable.is_empty()
        && proposals.is_empty();
    if (args.snapshot_out.is_some() || args.fixed_snapshot_out.is_some()) && found.checks.len() != 1
    {
        return Err(CliError::Usage(format!(
            "--snapshot-out and --fixed-snapshot-out need exactly one check ({} given)",
            found.checks.len()
        )));
    }
    if found.checks.is_empty() && found.unreadable.is_empty() {
        return Err(CliError::NothingToDo(format!(
            "no BucketAccessCheck in the input ({} documents of other kinds)",
            found.skipped
        )));
    }
    let timeout = Duration::from_secs(args.aws_timeout_seconds);
    let (results, aws_calls) = runtime()?.block_on(run_all(&found.checks, timeout));
    let mut outcomes = Vec::new();
    for (check, snapshot) in found.checks.iter().zip(results) {
        outcomes.push(outcome(args, check, snapshot, &proposals)?);
    }
    outcomes.extend(found.unreadable.iter().map(unreadable));
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
        color: super::colour_on_stdout(),
    };
    write(args.output, &report, out).map_err(CliError::Output)?;
    if args.output != CheckFormat::Text {
        let _ = writeln!(err, "{}", summary.line());
    }
    Ok(Exit::of(worst(&outcomes)))
}

/// The checks to run: the one given by flags, or those of the manifests.
fn find(args: &CheckArgs) -> Result<Found, CliError> {
    match (args.flags.given(), args.files.is_empty()) {
        (true, true) => Ok(Found {
            checks: vec![FoundCheck {
                at: Location {
                    file: "(flags)".to_owned(),
                    line: 1,
                },
                name: "flags".to_owned(),
                namespace: None,
                spec: args.flags.spec().validated().map_err(Into::into),
            }],
            ..Found::default()
        }),
        (false, false) => Ok(read_all(
            &args.files,
            args.recursive,
            &mut std::io::stdin(),
        )),
        (true, false) => Err(CliError::Usage(
            "give manifests (-f) or one check by flags, not both".to_owned(),
        )),
        (false, true) => Err(CliError::Usage(
            "give manifests (-f FILE|DIR|-) or one check by flags (--role-arn/--user-arn and --bucket or --access-point)"
                .to_owned(),
        )),
    }
}

/// One check's outcome: its verdict on the live documents (and, with proposals, on the proposed ones), or
/// why it could not be checked.
fn outcome(
    args: &CheckArgs,
    check: &FoundCheck,
    snapshot: Option<Snapshot>,
    proposals: &[Proposal],
) -> Result<Outcome, CliError> {
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
        return Ok(Outcome {
            error: check.spec.as_ref().err().map(ToString::to_string),
            ..base
        });
    };
    // One diagnosis of the live documents: the verdict (or, with proposals, the verdict before) and the fix.
    let (live, fixed) = diagnose_with_fix(&snapshot);
    write_snapshots(args, &snapshot, fixed.as_ref())?;
    if proposals.is_empty() {
        return Ok(Outcome {
            verdict: live.verdict,
            diagnosis: Some(live),
            ..base
        });
    }
    let before = Some(live.verdict);
    Ok(match whatif::apply(&snapshot, proposals) {
        Ok(proposed) => {
            let d = diagnose(&proposed);
            Outcome {
                verdict: d.verdict,
                before,
                diagnosis: Some(d),
                ..base
            }
        }
        Err(problem) => Outcome {
            error: Some(problem.to_string()),
            before,
            ..base
        },
    })
}

/// An input that could not be read, as an `Invalid` outcome.
fn unreadable(problem: &Unreadable) -> Outcome {
    Outcome {
        name: problem.file.clone(),
        namespace: None,
        file: problem.file.clone(),
        line: 1,
        verdict: Verdict::Invalid,
        before: None,
        error: Some(problem.to_string()),
        diagnosis: None,
    }
}

/// `--snapshot-out` and `--fixed-snapshot-out` of a single check.
fn write_snapshots(
    args: &CheckArgs,
    snapshot: &Snapshot,
    fixed: Option<&Snapshot>,
) -> Result<(), CliError> {
    if let Some(path) = &args.snapshot_out {
        write_json(path, snapshot)?;
    }
    if let Some(path) = &args.fixed_snapshot_out {
        write_fixed(path, snapshot, fixed)?;
    }
    Ok(())
}

/// Collects every valid check concurrently through one collector; `None` for invalid manifests. Returns the
/// snapshots in input order and the number of AWS calls made.
async fn run_all(checks: &[FoundCheck], aws_timeout: Duration) -> (Vec<Option<Snapshot>>, u64) {
    let options = CollectorOptions {
        operation_timeout: aws_timeout,
        ..CollectorOptions::default()
    };
    let collector = Arc::new(Collector::from_env(options).await);
    let metrics = collector.metrics();
    // The user's own manifests, read with the user's own credentials: every principal they name counts
    // towards reading its account at once from the first check (the operator counts only what IAM has).
    for check in checks {
        if let Some(Ok(target)) = check.spec.as_ref().ok().map(|s| s.target()) {
            collector.note_trusted_principal(&target.principal);
        }
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (i, check) in checks.iter().enumerate() {
        // A manifest that read as valid parses; one that did not is reported, not collected.
        if let Some((spec, Ok(target))) = check.spec.as_ref().ok().map(|s| (s, s.target())) {
            let collector = Arc::clone(&collector);
            let access = ReadAccess::unrestricted(&spec.read_role_arns);
            tasks.spawn(async move { (i, Box::pin(collector.collect(&target, &access)).await) });
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
pub fn snapshot(
    args: &SnapshotArgs,
    out: &mut impl Write,
    _err: &mut impl Write,
) -> Result<Exit, CliError> {
    let manifest = load_manifest(&args.file)?;
    let found = FoundCheck {
        at: Location {
            file: String::new(),
            line: 1,
        },
        name: manifest.metadata.name.clone().unwrap_or_default(),
        namespace: None,
        spec: Ok(manifest.spec),
    };
    let timeout = CollectorOptions::default().operation_timeout;
    let (mut snapshots, _) = runtime()?.block_on(run_all(std::slice::from_ref(&found), timeout));
    let snapshot = snapshots.pop().flatten().ok_or_else(|| {
        CliError::NothingToDo("the manifest's check could not be collected".to_owned())
    })?;
    let text = serde_json::to_string_pretty(&snapshot)
        .map_err(|e| CliError::Output(std::io::Error::other(e)))?;
    writeln!(out, "{text}").map_err(CliError::Output)?;
    Ok(Exit::Ok)
}
