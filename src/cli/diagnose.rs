//! `diagnose SNAPSHOT.json [-o text|json] [--fixed-snapshot-out FILE]`: offline diagnosis of a snapshot, with
//! the whole-check fix of a denial (and, on request, the snapshot with that fix applied). Exit 0 Allowed,
//! 1 Denied, 3 Unknown, 4 invalid input (unreadable file, bad JSON, invalid request).

use super::{CliError, Exit};
use s3_diagnosis::causes::Severity;
use s3_diagnosis::remediation::RemediationKind;
use s3_diagnosis::snapshot::Snapshot;
use s3_diagnosis::{diagnose_with_fix, Diagnosis, Verdict};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For a person in a terminal.
    Text,
    /// The diagnosis JSON of the spec.
    Json,
}

/// `diagnose`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct DiagnoseArgs {
    /// The snapshot file (the snapshot format).
    pub snapshot: PathBuf,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    pub output: Format,
    /// Also write the snapshot with the whole-check fix applied to this file (re-run `diagnose` on it).
    #[arg(long = "fixed-snapshot-out")]
    pub fixed_snapshot_out: Option<PathBuf>,
}

/// Reads a snapshot file.
pub fn read_snapshot(path: &Path) -> Result<Snapshot, CliError> {
    let text = std::fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.to_owned(),
        source,
    })?;
    s3_diagnosis::snapshot::from_json(&text).map_err(|e| CliError::Snapshot {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// Writes the snapshot with the whole fix applied (for `--fixed-snapshot-out`); a diagnosis that is not
/// `Denied` has no fix, and the snapshot is written unchanged.
pub fn write_fixed(
    path: &Path,
    snapshot: &Snapshot,
    fixed: Option<&Snapshot>,
) -> Result<(), CliError> {
    write_json(path, fixed.unwrap_or(snapshot))
}

/// Writes a snapshot as pretty JSON.
pub fn write_json(path: &Path, snapshot: &Snapshot) -> Result<(), CliError> {
    let write = |source| CliError::Write {
        path: path.to_owned(),
        source,
    };
    let text =
        serde_json::to_string_pretty(snapshot).map_err(|e| write(std::io::Error::other(e)))?;
    std::fs::write(path, text + "\n").map_err(write)
}

/// Runs the command: the verdict's exit code.
pub fn run(args: &DiagnoseArgs, out: &mut impl Write) -> Result<Exit, CliError> {
    let snapshot = read_snapshot(&args.snapshot)?;
    let (diagnosis, fixed) = diagnose_with_fix(&snapshot);
    if let Some(file) = &args.fixed_snapshot_out {
        write_fixed(file, &snapshot, fixed.as_ref())?;
    }
    print(&diagnosis, args.output, super::colour_on_stdout(), out).map_err(CliError::Output)?;
    Ok(Exit::of(diagnosis.verdict))
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
            write_cause(i + 1, c, &p, out)?;
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

/// One cause: its number, id, layer, action and statement, its message, and each remediation.
fn write_cause(
    number: usize,
    c: &s3_diagnosis::Cause,
    p: &Paint,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let tag = if c.severity == Severity::Warning {
        p.wrap("33", " (warning)")
    } else {
        String::new()
    };
    let at = c
        .statement
        .as_ref()
        .map_or_else(String::new, |s| format!(", statement {s}"));
    let action = if c.action.is_empty() {
        String::new()
    } else {
        format!(", {}", c.action)
    };
    writeln!(
        out,
        "  {number}. {}{tag}  {}",
        p.bold(c.id.as_str()),
        p.dim(&format!("[{}{action}{at}]", c.layer.name()))
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
