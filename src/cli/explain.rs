//! `explain NAME [-n NAMESPACE] | -A [-o text|json|yaml] [--context C] [--kubeconfig F]`: a cluster check's
//! status as readable text, the way `diagnose` prints a
//! diagnosis: verdict and summary, the requests, each cause with its remediation, the whole-check fix, what
//! was assumed or not seen, and the scope. Also the kubectl plugin `kubectl bac explain NAME` (the binary
//! installed as `kubectl-bac`: the plugin's arguments are this command's).

use super::{CliError, Exit};
use bucket_access_api::spec::BucketAccessCheck;
use bucket_access_api::status::BucketAccessCheckStatus;
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

/// A client for the kubeconfig and context asked for (or the usual inference, in-cluster included).
async fn client(args: &ExplainArgs) -> Result<Client, CliError> {
    use kube::config::{KubeConfigOptions, Kubeconfig};
    let options = KubeConfigOptions {
        context: args.context.clone(),
        ..KubeConfigOptions::default()
    };
    let unreachable = |e: &dyn std::fmt::Display| CliError::Cluster(e.to_string());
    let config = match (&args.kubeconfig, &args.context) {
        (Some(path), _) => {
            let file = Kubeconfig::read_from(path)
                .map_err(|e| CliError::Cluster(format!("kubeconfig `{}`: {e}", path.display())))?;
            kube::Config::from_custom_kubeconfig(file, &options)
                .await
                .map_err(|e| unreachable(&e))?
        }
        (None, Some(_)) => kube::Config::from_kubeconfig(&options)
            .await
            .map_err(|e| unreachable(&e))?,
        (None, None) => kube::Config::infer().await.map_err(|e| unreachable(&e))?,
    };
    Client::try_from(config).map_err(|e| CliError::Cluster(e.to_string()))
}

/// The checks asked for.
async fn fetch(args: &ExplainArgs, client: Client) -> Result<Vec<BucketAccessCheck>, CliError> {
    let reached = |e: kube::Error| match &e {
        kube::Error::Api(_) => CliError::ClusterRefused(e.to_string()),
        _ => CliError::Cluster(e.to_string()),
    };
    if args.all_namespaces {
        let api: Api<BucketAccessCheck> = Api::all(client);
        let list = api.list(&Default::default()).await.map_err(reached)?;
        return Ok(list.items);
    }
    let Some(name) = args.name.as_deref() else {
        return Err(CliError::ClusterRefused(
            "name a check, or give `-A` for every check of every namespace".to_owned(),
        ));
    };
    let api: Api<BucketAccessCheck> = match &args.namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::default_namespaced(client),
    };
    api.get(name).await.map(|c| vec![c]).map_err(|e| match e {
        kube::Error::Api(_) => {
            CliError::ClusterRefused(format!("cannot read BucketAccessCheck `{name}`: {e}"))
        }
        other => CliError::Cluster(other.to_string()),
    })
}

/// Prints the checks asked for; the exit code is the verdict's (the worst of several, as `Exit::worst`
/// orders them; a check not evaluated yet counts as Unknown), `Cluster` when the cluster cannot be reached.
pub fn run(args: &ExplainArgs, out: &mut impl Write) -> Result<Exit, CliError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let checks = runtime.block_on(async {
        let client = client(args).await?;
        fetch(args, client).await
    })?;
    print(args, &checks, out).map_err(CliError::Output)?;
    let verdict = Exit::worst(checks.iter().map(|c| {
        c.status
            .as_ref()
            .and_then(|s| s.verdict)
            .unwrap_or(Verdict::Unknown)
    }));
    Ok(Exit::of(verdict))
}

/// The checks in the chosen form.
fn print(
    args: &ExplainArgs,
    checks: &[BucketAccessCheck],
    out: &mut impl Write,
) -> std::io::Result<()> {
    match args.output {
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
                serde_json::to_value(checks)
            } else {
                serde_json::to_value(checks.first())
            }
            .map_err(std::io::Error::other)?;
            let text = match args.output {
                Output::Yaml => serde_saphyr::to_string(&value).map_err(std::io::Error::other)?,
                _ => serde_json::to_string_pretty(&value).map_err(std::io::Error::other)? + "\n",
            };
            out.write_all(text.as_bytes())
        }
    }
}

/// The status as text.
pub fn write_status(s: &BucketAccessCheckStatus, out: &mut impl Write) -> std::io::Result<()> {
    let verdict = s
        .verdict
        .map_or("EVALUATING", Verdict::as_str)
        .to_uppercase();
    writeln!(
        out,
        "{verdict} {}",
        s.summary.as_deref().unwrap_or_default()
    )?;
    if let Some(principal) = &s.principal {
        writeln!(
            out,
            "  principal {principal}; result last confirmed {} (written when it changes, and hourly)",
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
        write_fix(fix, out)?;
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

/// The whole-check fix: whether it is verified, the request, the policies, the settings and what still fails.
fn write_fix(
    fix: &bucket_access_api::status::StatusFix,
    out: &mut impl Write,
) -> std::io::Result<()> {
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
    Ok(())
}
