//! `explain NAME [-n NAMESPACE]`: a cluster check's status as readable text, the way `diagnose` prints a
//! diagnosis: verdict and summary, the requests, each cause with its remediation, the whole-check fix, what
//! was assumed or not seen, and the scope. Also the kubectl plugin `kubectl bac explain NAME` (the binary
//! installed as `kubectl-bac`: the plugin's arguments are this command's).

use super::exit;
use crate::controller::status::{verdict_name, BucketAccessCheckStatus};
use crate::spec::BucketAccessCheck;
use kube::{Api, Client};
use s3_diagnosis::Verdict;
use std::io::Write;

/// Prints the status of one check.
pub fn run(name: &str, namespace: Option<&str>, out: &mut impl Write, err: &mut impl Write) -> u8 {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(err, "error: cannot start the async runtime: {e}");
            return exit::INVALID_INPUT;
        }
    };
    let fetched = runtime.block_on(async {
        let client = Client::try_default()
            .await
            .map_err(|e| format!("kubernetes client: {e}"))?;
        let api: Api<BucketAccessCheck> = match namespace {
            Some(ns) => Api::namespaced(client, ns),
            None => Api::default_namespaced(client),
        };
        api.get(name)
            .await
            .map_err(|e| format!("cannot read BucketAccessCheck `{name}`: {e}"))
    });
    let check = match fetched {
        Ok(c) => c,
        Err(message) => {
            let _ = writeln!(err, "error: {message}");
            return exit::INVALID_INPUT;
        }
    };
    let Some(status) = check.status else {
        let _ = writeln!(out, "NOT EVALUATED YET `{name}` has no status");
        return exit::UNKNOWN;
    };
    if write_status(&status, out).is_err() {
        return exit::INVALID_INPUT;
    }
    match status.verdict {
        Some(Verdict::Allowed) => exit::OK,
        Some(Verdict::Denied) => exit::DENIED,
        Some(Verdict::Invalid) => exit::INVALID_INPUT,
        Some(Verdict::Unknown) | None => exit::UNKNOWN,
    }
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
