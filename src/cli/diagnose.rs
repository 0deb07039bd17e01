//! `diagnose SNAPSHOT.json [-o text|json] [--fixed-snapshot-out FILE]`: offline diagnosis of a snapshot, with
//! the whole-check fix of a denial (and, on request, the snapshot with that fix applied). Exit 0 Allowed,
//! 1 Denied, 3 Unknown, 4 invalid input (unreadable file, bad JSON, invalid request).

use super::exit;
use s3_diagnosis::causes::Severity;
use s3_diagnosis::remediation::RemediationKind;
use s3_diagnosis::snapshot::Snapshot;
use s3_diagnosis::{diagnose_with_fix, Diagnosis, Verdict};
use std::io::Write;
use std::path::Path;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For a person in a terminal.
    Text,
    /// The diagnosis JSON of the spec.
    Json,
}

/// The exit code of a verdict.
pub fn exit_code(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Allowed => exit::OK,
        Verdict::Denied => exit::DENIED,
        Verdict::Unknown => exit::UNKNOWN,
        Verdict::Invalid => exit::INVALID_INPUT,
    }
}

/// Reads a snapshot file.
pub fn read_snapshot(path: &Path) -> Result<Snapshot, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    s3_diagnosis::snapshot::from_json(&text)
        .map_err(|e| format!("`{}` is not a valid snapshot: {e}", path.display()))
}

/// Writes the snapshot with the whole fix applied (for `--fixed-snapshot-out`); a diagnosis that is not
/// `Denied` has no fix, and the snapshot is written unchanged.
pub fn write_fixed(
    path: &Path,
    snapshot: &Snapshot,
    fixed: Option<&Snapshot>,
) -> Result<(), String> {
    let text = serde_json::to_string_pretty(fixed.unwrap_or(snapshot))
        .map_err(|e| format!("cannot serialise the fixed snapshot: {e}"))?;
    std::fs::write(path, text + "\n").map_err(|e| format!("cannot write `{}`: {e}", path.display()))
}

/// Runs the command.
pub fn run(
    path: &Path,
    format: Format,
    color: bool,
    fixed_out: Option<&Path>,
    out: &mut impl Write,
    err: &mut impl Write,
) -> u8 {
    let snapshot = match read_snapshot(path) {
        Ok(s) => s,
        Err(message) => {
            let _ = writeln!(err, "error: {message}");
            return exit::INVALID_INPUT;
        }
    };
    let (diagnosis, fixed) = diagnose_with_fix(&snapshot);
    if let Some(file) = fixed_out {
        if let Err(message) = write_fixed(file, &snapshot, fixed.as_ref()) {
            let _ = writeln!(err, "error: {message}");
            return exit::INVALID_INPUT;
        }
    }
    if let Err(e) = print(&diagnosis, format, color, out) {
        let _ = writeln!(err, "error: cannot write the diagnosis: {e}");
        return exit::INVALID_INPUT;
    }
    exit_code(diagnosis.verdict)
}

/// Prints a diagnosis in the chosen format.
pub fn print(
    diagnosis: &Diagnosis,
    format: Format,
    color: bool,
    out: &mut impl Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => {
            let text = serde_json::to_string_pretty(diagnosis).map_err(std::io::Error::other)?;
            writeln!(out, "{text}")
        }
        Format::Text => write_text(diagnosis, color, out),
    }
}

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    fn bold(&self, t: &str) -> String {
        self.wrap("1", t)
    }
    fn dim(&self, t: &str) -> String {
        self.wrap("2", t)
    }
}

/// The text form: verdict first, then each cause with its fixes.
pub fn write_text(d: &Diagnosis, color: bool, out: &mut impl Write) -> std::io::Result<()> {
    let p = Paint(color);
    let (label, code) = match d.verdict {
        Verdict::Allowed => ("ALLOWED", "1;32"),
        Verdict::Denied => ("DENIED", "1;31"),
        Verdict::Unknown => ("UNKNOWN", "1;33"),
        Verdict::Invalid => ("INVALID", "1;35"),
    };
    writeln!(out, "{} {}", p.wrap(code, label), d.summary)?;
    if !d.evaluations.is_empty() {
        writeln!(out, "\n{}", p.bold("Requests"))?;
        for e in &d.evaluations {
            let statements: Vec<String> = e
                .determining_statements
                .iter()
                .map(|s| {
                    format!(
                        "{} {}",
                        s.layer.name(),
                        s.statement.sid.clone().map_or_else(
                            || format!("#{}", s.statement.statement_index),
                            |sid| format!("`{sid}`")
                        )
                    )
                })
                .collect();
            writeln!(
                out,
                "  {:<22} {:<13} {}",
                e.action,
                e.decision,
                p.dim(&statements.join(", "))
            )?;
        }
    }
    if !d.causes.is_empty() {
        // An allowed upload's causes are warnings: nothing to fix first.
        let heading = if d.verdict == Verdict::Allowed {
            "Warnings"
        } else {
            "Causes, in the order to fix them"
        };
        writeln!(out, "\n{}", p.bold(heading))?;
        for (i, c) in d.causes.iter().enumerate() {
            let tag = if c.severity == Severity::Warning {
                p.wrap("33", " (warning)")
            } else {
                String::new()
            };
            let at = c
                .statement
                .as_ref()
                .map_or_else(String::new, |s| format!(", statement {s}"));
            writeln!(
                out,
                "  {}. {}{tag}  {}",
                i + 1,
                p.bold(c.id.as_str()),
                p.dim(&format!(
                    "[{}{}{at}]",
                    c.layer.name(),
                    if c.action.is_empty() {
                        String::new()
                    } else {
                        format!(", {}", c.action)
                    }
                ))
            )?;
            writeln!(out, "     {}", c.message)?;
            for r in &c.remediation {
                let kind = match r.kind {
                    RemediationKind::Request => "change the request",
                    RemediationKind::Policy => "change the policy",
                    RemediationKind::Config => "change the configuration",
                };
                writeln!(out, "     → {}: {}", kind, r.text)?;
                if let Some(cmd) = &r.command {
                    writeln!(out, "       $ {cmd}")?;
                }
                if let Some(patch) = &r.policy_patch {
                    let json = serde_json::to_string_pretty(patch).unwrap_or_default();
                    for line in json.lines() {
                        writeln!(out, "       {}", p.dim(line))?;
                    }
                }
            }
        }
    }
    if let Some(fix) = &d.fix {
        write_fix(fix, &p, out)?;
    }
    if !d.assumptions.is_empty() {
        writeln!(out, "\n{}", p.bold("Assumptions"))?;
        for a in &d.assumptions {
            writeln!(out, "  {}: {}", a.layer.name(), a.text)?;
        }
    }
    if !d.unknown.is_empty() {
        writeln!(out, "\n{}", p.bold("Not seen"))?;
        for u in &d.unknown {
            writeln!(out, "  {}: {}", u.layer.name(), u.reason)?;
        }
    }
    Ok(())
}

/// The whole-check fix: the request, each document whole with its command, the settings, and whether
/// re-diagnosing with all of it applied gives `Allowed`.
fn write_fix(fix: &s3_diagnosis::fix::Fix, p: &Paint, out: &mut impl Write) -> std::io::Result<()> {
    let title = if fix.verified {
        p.wrap(
            "1;32",
            "Fix for the whole check (verified: the snapshot with all of it applied is allowed)",
        )
    } else {
        p.wrap(
            "1;33",
            "Fix for the whole check (not verified: see what remains)",
        )
    };
    writeln!(out, "\n{title}")?;
    if let Some(r) = &fix.request {
        writeln!(out, "  the request: {}", r.changes.join("; "))?;
        writeln!(out, "    $ {}", r.command)?;
        for c in &r.conflicts {
            writeln!(out, "    {}", p.dim(c))?;
        }
    }
    for policy in &fix.policies {
        let account = policy
            .account
            .as_ref()
            .map_or_else(String::new, |a| format!(" in account {a}"));
        writeln!(out, "  `{}`{account}:", policy.policy_id)?;
        for c in &policy.changes {
            writeln!(out, "    - {c}")?;
        }
        writeln!(out, "    $ {}", policy.command)?;
        let json = serde_json::to_string_pretty(&policy.document).unwrap_or_default();
        for line in json.lines() {
            writeln!(out, "      {}", p.dim(line))?;
        }
    }
    for c in &fix.config {
        writeln!(out, "  setting: {}", c.text)?;
        if let Some(cmd) = &c.command {
            writeln!(out, "    $ {cmd}")?;
        }
    }
    for r in &fix.remaining {
        writeln!(out, "  still failing: {r}")?;
    }
    Ok(())
}
