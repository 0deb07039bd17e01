//! The `run` command: its arguments, and its start (logging, the replica's identity, the options, the
//! runtime); the operator itself is `controller::run`.

use super::{CliError, Exit};
use crate::controller::leader::LeaseConfig;
use crate::controller::run::{run as run_operator, RunOptions};

/// The arguments of `run`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Watch only this namespace (default: all namespaces).
    #[arg(long)]
    pub namespace: Option<String>,
    /// Address of /metrics, /healthz and /readyz.
    #[arg(long, default_value = "0.0.0.0:8080")]
    pub listen: String,
    /// Namespace of the leader-election Lease (default: $POD_NAMESPACE, else `bucket-access-operator`).
    #[arg(long)]
    pub lease_namespace: Option<String>,
    /// Name of the Lease.
    #[arg(long, default_value = "bucket-access-operator")]
    pub lease_name: String,
    /// This replica's identity (default: $POD_NAME, else the host name and process id).
    #[arg(long)]
    pub identity: Option<String>,
    /// Seconds a Lease is valid without renewal (at least 2; the holder renews a third of it early).
    #[arg(long, default_value_t = 15)]
    pub lease_seconds: u64,
    /// Seconds AWS reads are reused.
    #[arg(long, default_value_t = 300)]
    pub cache_ttl_seconds: u64,
    /// Reconciles at once (most of them wait on AWS reads or on the API server).
    #[arg(long, default_value_t = 64)]
    pub concurrency: u16,
    /// Writes to the Kubernetes API (status patches, Events) in flight at most: the window starts at 8,
    /// grows while the API server answers promptly and halves on a `429` or a write slower than 2 s.
    #[arg(long, default_value_t = 32)]
    pub kube_writes: usize,
    /// AWS calls in flight at once, over all checks.
    #[arg(long, default_value_t = 16)]
    pub aws_concurrency: usize,
    /// Of those, how many the checks of one namespace may hold (its fair share: a namespace that floods the
    /// operator cannot delay the others).
    #[arg(long, default_value_t = 4)]
    pub namespace_aws_share: usize,
    /// The role that reads the organization's SCPs and RCPs, in its management or delegated-administrator
    /// account (needed when the operator runs in an ordinary member account).
    #[arg(long)]
    pub org_reader_role_arn: Option<String>,
    /// The `ExternalId` that role's trust policy requires.
    #[arg(long, requires = "org_reader_role_arn")]
    pub org_reader_external_id: Option<String>,
    /// Accept the organization's SCPs and RCPs unread, for an operator with neither a role in the
    /// management account nor the Organizations delegation policy: every check lists them among its
    /// assumptions (assumed to allow), with this setting as the reason.
    #[arg(long, conflicts_with = "org_reader_role_arn")]
    pub organization_unread: bool,
    /// Log as JSON lines.
    #[arg(long)]
    pub log_json: bool,
    /// `enforce`: every check must be allowed by a BucketAccessScope (multi-tenant safe); `off`: checks
    /// choose their reader roles with `spec.readRoleArns` (single-tenant clusters only).
    #[arg(long, value_enum, default_value = "enforce")]
    pub scope_mode: crate::controller::run::ScopeMode,
    /// The SQS queue an EventBridge rule fills with CloudTrail change events (deploy/aws/): a change
    /// re-evaluates the checks that read what changed within seconds, and the interval becomes the safety net.
    #[arg(long)]
    pub events_queue_url: Option<String>,
    /// Shard: watch only the checks this label selector selects (e.g. `shard=a`, `team in (media,ml)`), with
    /// a Lease of the shard's own (`--lease-name` followed by a digest of the selector). The shards' selectors
    /// must not overlap; docs/operations.md, "Sharding", says how to split.
    #[arg(long)]
    pub selector: Option<String>,
    /// From how many distinct principals of one account on (that exist and that checks in scope name), its
    /// IAM is read at once (`GetAccountAuthorizationDetails`) instead of principal by principal (0: never).
    #[arg(long, default_value_t = 10)]
    pub account_read_threshold: usize,
    /// Up to how many checks each one has `bucket_access_check_verdict` series of its own (four per check);
    /// above it, the counts by namespace and verdict alone (`bucket_access_checks_by_namespace`).
    #[arg(long, default_value_t = crate::controller::metrics::DEFAULT_PER_CHECK_LIMIT)]
    pub per_check_metrics_limit: usize,
}

/// Starts the operator; returns the exit code when it stops.
pub fn run(args: RunArgs) -> Result<Exit, CliError> {
    let RunArgs {
        namespace,
        listen,
        lease_namespace,
        lease_name,
        identity,
        lease_seconds,
        cache_ttl_seconds,
        concurrency,
        kube_writes,
        aws_concurrency,
        namespace_aws_share,
        org_reader_role_arn,
        org_reader_external_id,
        organization_unread,
        log_json,
        scope_mode,
        events_queue_url,
        selector,
        account_read_threshold,
        per_check_metrics_limit,
    } = args;

    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,bucket_access_operator=info"));
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
            shard_lease_name(&lease_name, selector.as_deref()),
            identity,
            lease_seconds,
        ),
        cache_ttl: std::time::Duration::from_secs(cache_ttl_seconds),
        concurrency,
        kube_writes,
        aws_concurrency,
        namespace_aws_share,
        organization_reader: org_reader_role_arn.map(|role_arn| s3_diagnosis::source::ReaderRole {
            role_arn,
            external_id: org_reader_external_id,
        }),
        organization_unread,
        scope_mode,
        events_queue_url,
        selector,
        account_read_threshold,
        per_check_metrics_limit,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Reconciles nest the controller's streams, the collection and the diagnosis: room to spare.
        .thread_stack_size(16 * 1024 * 1024)
        .build()
        .map_err(CliError::Runtime)?;
    runtime.block_on(run_operator(options)).map_err(|e| {
        tracing::error!(error = %e, "the operator stopped");
        CliError::Operator(e.to_string())
    })?;
    Ok(Exit::Ok)
}

/// The Lease of a shard: the Lease name followed by the first 10 hex digits of the selector's SHA-256 (a Lease
/// name is a DNS subdomain, and selectors hold characters it may not); the Lease name itself without one.
pub fn shard_lease_name(lease_name: &str, selector: Option<&str>) -> String {
    use sha2::{Digest, Sha256};
    match selector {
        None => lease_name.to_owned(),
        Some(selector) => {
            let digest = Sha256::digest(selector.trim().as_bytes());
            let hex: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
            format!("{lease_name}-{hex}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::shard_lease_name;

    #[test]
    fn each_shard_has_a_lease_of_its_own_named_from_its_selector() {
        assert_eq!(shard_lease_name("bao", None), "bao");
        let a = shard_lease_name("bao", Some("bucketaccess.io/shard=a"));
        let rest = shard_lease_name("bao", Some("bucketaccess.io/shard!=a"));
        assert_ne!(a, rest);
        assert_eq!(
            a,
            shard_lease_name("bao", Some(" bucketaccess.io/shard=a "))
        );
        for name in [&a, &rest] {
            assert!(
                name.starts_with("bao-") && name.len() == "bao-".len() + 10,
                "{name}"
            );
            assert!(name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
        }
    }
}
