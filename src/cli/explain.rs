//! `explain NAME [-n NAMESPACE] | -A [-o text|json|yaml] [--context C] [--kubeconfig F]`: a cluster check's
//! status as readable text, the way `diagnose` prints a
//! diagnosis: verdict and summary, the requests, each cause with its remediation, the whole-check fix, what
//! was assumed or not seen, and the scope. Also the kubectl plugin `kubectl bac explain NAME` (the binary
//! installed as `kubectl-bac`: the plugin's arguments are this command's).

use super::exit;
use crate::controller::status::{verdict_name, BucketAccessCheckStatus};
use crate::spec::BucketAccessCheck;
use kube::{Api, Client};
use s3_diagnosis::Verdict;
use std::io::Write;

/// Where the checks are read and how they are printed.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ExplainArgs {
    /// The check's name.
    #[arg(required_unless_present = "all_namespaces")]
    pub name: Option<String>,
    /// Its namespace (default: the kubeconfig context's).
    #[arg(short = 'n', long, conflicts_with = "all_namespaces")]
    pub namespace: Option<String>,
    /// Every check of every namespace (the exit code is the worst verdict's).
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// `text`, `json` or `yaml` (the status objects).
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    pub output: Output,
    /// The kubeconfig context.
    #[arg(long)]
    pub context: Option<String>,
    /// The kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster).
    #[arg(long)]
    pub kubeconfig: Option<std::path::PathBuf>,
}

/// The printed form.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Readable text, as `diagnose` prints a diagnosis.
    #[default]
    Text,
    /// The status (one object, or a list with `-A`), as JSON.
    Json,
    /// The same as YAML.
    Yaml,
}

/// Why nothing could be explained.
#[derive(Debug, thiserror::Error)]
enum Failure {
    /// No cluster to ask (no kubeconfig, no such context, the API server does not answer).
    #[error("cannot reach the cluster: {0}")]
    Cluster(String),
    /// The cluster answered, but not with the check.
    #[error("{0}")]
    Check(String),
}

impl Failure {
    fn exit_code(&self) -> u8 {
        match self {
            Self::Cluster(_) => exit::CLUSTER,
            Self::Check(_) => exit::INVALID_INPUT,
        }
    }
}

/// A client for the kubeconfig and context asked for (or the usual inference, in-cluster included).
async fn client(args: &ExplainArgs) -> Result<Client, Failure> {
    use kube::config::{KubeConfigOptions, Kubeconfig};
    let options = KubeConfigOptions {
        context: args.context.clone(),
        ..KubeConfigOptions::default()
    };
    let unreachable = |e: &dyn std::fmt::Display| Failure::Cluster(e.to_string());
    let config = match (&args.kubeconfig, &args.context) {
        (Some(path), _) => {
            let file = Kubeconfig::read_from(path)
                .map_err(|e| Failure::Cluster(format!("kubeconfig `{}`: {e}", path.display())))?;
            kube::Config::from_custom_kubeconfig(file, &options)
                .await
                .map_err(|e| unreachable(&e))?
        }
        (None, Some(_)) => kube::Config::from_kubeconfig(&options)
            .await
            .map_err(|e| unreachable(&e))?,
        (None, None) => kube::Config::infer().await.map_err(|e| unreachable(&e))?,
    };
    Client::try_from(config).map_err(|e| Failure::Cluster(e.to_string()))
}

/// The checks asked for.
async fn fetch(args: &ExplainArgs, client: Client) -> Result<Vec<BucketAccessCheck>, Failure> {
    let reached = |e: kube::Error| match &e {
        kube::Error::Api(_) => Failure::Check(e.to_string()),
        _ => Failure::Cluster(e.to_string()),
    };
    if args.all_namespaces {
        let api: Api<BucketAccessCheck> = Api::all(client);
        let list = api.list(&Default::default()).await.map_err(reached)?;
        return Ok(list.items);
    }
    let Some(name) = args.name.as_deref() else {
        return Err(Failure::Check(
            "name a check, or give `-A` for every check of every namespace".to_owned(),
        ));
    };
    let api: Api<BucketAccessCheck> = match &args.namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::default_namespaced(client),
    };
    api.get(name).await.map(|c| vec![c]).map_err(|e| match e {
        kube::Error::Api(_) => {
            Failure::Check(format!("cannot read BucketAccessCheck `{name}`: {e}"))
        }
        other => Failure::Cluster(other.to_string()),
    })
}

/// The exit code of a check's verdict (as `diagnose`'s), and of several: the worst.
fn verdict_code(verdict: Option<Verdict>) -> u8 {
    match verdict {
        Some(Verdict::Allowed) => exit::OK,
        Some(Verdict::Denied) => exit::DENIED,
        Some(Verdict::Invalid) => exit::INVALID_INPUT,
        Some(Verdict::Unknown) | None => exit::UNKNOWN,
    }
}

/// Prints the checks asked for; the exit code is the verdict's (the worst of several: Denied, then
/// Invalid, then Unknown), `CLUSTER` when the cluster cannot be reached.
pub fn run(args: &ExplainArgs, out: &mut impl Write, err: &mut impl Write) -> u8 {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(err, "error: cannot start the async runtime: {e}");
            return exit::RUNTIME;
        }
    };
    let fetched = runtime.block_on(async {
        let client = client(args).await?;
        fetch(args, client).await
    });
    let checks = match fetched {
        Ok(c) => c,
        Err(failure) => {
            let _ = writeln!(err, "error: {failure}");
            return failure.exit_code();
        }
    };
    let written = match args.output {
        Output::Text => checks.iter().try_for_each(|check| {
            if args.all_namespaces {
                writeln!(
                    out,
                    "== {}/{}",
                    check.metadata.namespace.as_deref().unwrap_or_default(),
                    check.metadata.name.as_deref().unwrap_or_default()
                )?;
            }
            match &check.status {
                Some(status) => write_status(status, out),
                None => writeln!(out, "NOT EVALUATED YET: no status"),
            }
        }),
        Output::Json | Output::Yaml => {
            let value = if args.all_namespaces {
                serde_json::to_value(&checks)
            } else {
                serde_json::to_value(checks.first())
            }
            .unwrap_or_default();
            let text = match args.output {
                Output::Yaml => serde_saphyr::to_string(&value).unwrap_or_default(),
                _ => serde_json::to_string_pretty(&value).unwrap_or_default() + "\n",
            };
            out.write_all(text.as_bytes())
        }
    };
    if written.is_err() {
        return exit::INVALID_INPUT;
    }
    let rank = |code: u8| match code {
        exit::DENIED => 3,
        exit::INVALID_INPUT => 2,
        exit::UNKNOWN => 1,
        _ => 0,
    };
    checks
        .iter()
        .map(|c| verdict_code(c.status.as_ref().and_then(|s| s.verdict)))
        .max_by_key(|code| rank(*code))
        .unwrap_or(exit::OK)
}

/// The status as text.
pub fn write_status(s: &BucketAccessCheckStatus, out: &mut impl Write) -> std::io::Result<()> {
    let verdict = s.verdict.map_or("EVALUATING", verdict_name).to_uppercase();
    writeln!(
        out,
        "{verdict} {}",
        s.summary.as_deref().unwrap_or_default()
    )?;
    if let Some(principal) = &s.principal {
        writeln!(
            out,
            "  principal {principal}; last evaluated {}",
            s.last_evaluated.as_deref().unwrap_or("-")
        )?;
    }
    if !s.evaluations.is_empty() {
        writeln!(out, "\nRequests")?;
        for e in &s.evaluations {
            writeln!(out, "  {:<22} {}", e.action, e.decision)?;
        }
    }
    if !s.causes.is_empty() {
        let heading = if s.verdict == Some(Verdict::Allowed) {
            "Warnings"
        } else {
            "Causes, in the order to fix them"
        };
        writeln!(out, "\n{heading}")?;
        for (i, c) in s.causes.iter().enumerate() {
            let at = c
                .statement
                .as_ref()
                .map_or_else(String::new, |p| format!(", statement {p}"));
            writeln!(
                out,
                "  {}. {}  [{}, {}{at}]",
                i + 1,
                c.id,
                c.layer.name(),
                c.action
            )?;
            writeln!(out, "     {}", c.message)?;
            for r in &c.remediation {
                writeln!(out, "     → {:?}: {}", r.kind, r.text)?;
                if let Some(cmd) = &r.command {
                    writeln!(out, "       $ {cmd}")?;
                }
            }
        }
        if let Some(n) = s.causes_omitted {
            writeln!(
                out,
                "  ({n} more: `bucket-access-operator check` lists them all)"
            )?;
        }
    }
    if let Some(fix) = &s.fix {
        let verified = if fix.verified {
            "verified: with all of it applied the check is allowed"
        } else {
            "not verified"
        };
        writeln!(out, "\nFix for the whole check ({verified})")?;
        if let Some(r) = &fix.request {
            writeln!(out, "  $ {r}")?;
        }
        for p in &fix.policies {
            writeln!(out, "  {p}")?;
        }
        for c in &fix.config {
            writeln!(out, "  {c}")?;
        }
        for r in &fix.remaining {
            writeln!(out, "  still failing: {r}")?;
        }
    }
    for (title, notes) in [("Assumptions", &s.assumptions), ("Not seen", &s.unknown)] {
        if !notes.is_empty() {
            writeln!(out, "\n{title}")?;
            for n in notes {
                writeln!(out, "  {}: {}", n.layer.name(), n.text)?;
            }
        }
    }
    if let Some(scope) = &s.scope {
        writeln!(
            out,
            "\nScope `{}` (detail {:?}){}",
            scope.name,
            scope.detail,
            scope
                .notes
                .iter()
                .map(|n| format!("\n  {n}"))
                .collect::<String>()
        )?;
    }
    Ok(())
}
