//! The outputs of `check` for people and for CI systems: `text`, `json`, `yaml`, `junit` (one test case per
//! check), `sarif` (one result per cause, at the manifest's location) and `github` (workflow-command
//! annotations at the manifest's file and line). XML and SARIF are written by hand here: both are small, fixed
//! shapes, and a crate for either would cost more build time than the forty lines it saves.

use super::diagnose::write_text;
use bucket_access_api::manifests::Location;
use s3_diagnosis::causes::Severity;
use s3_diagnosis::{Diagnosis, Verdict};
use serde::Serialize;
use serde_json::{json, Value};
use std::io::Write;

/// Output format of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    /// For a person in a terminal.
    Text,
    /// The diagnosis JSON (one check), or every check with a summary.
    Json,
    /// The same as YAML.
    Yaml,
    /// JUnit XML: one test case per check.
    Junit,
    /// SARIF 2.1.0: one result per cause.
    Sarif,
    /// GitHub Actions workflow commands: one annotation per check that is not allowed.
    Github,
}

/// The result of one check.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The manifest file.
    pub file: String,
    /// The first line of its document.
    pub line: usize,
    /// The verdict (with the proposed documents, when there are).
    pub verdict: Verdict,
    /// With `--with`: the verdict on the live documents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Verdict>,
    /// Why the manifest cannot be checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The diagnosis.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<Diagnosis>,
}

impl Outcome {
    /// `namespace/name`, or `name`.
    pub fn label(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }

    fn at(&self) -> Location {
        Location {
            file: self.file.clone(),
            line: self.line,
        }
    }

    fn summary(&self) -> String {
        self.error.clone().unwrap_or_else(|| {
            self.diagnosis
                .as_ref()
                .map(|d| d.summary.clone())
                .unwrap_or_default()
        })
    }
}

/// Counts and costs of the run.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Checks run.
    pub checks: usize,
    /// Allowed.
    pub allowed: usize,
    /// Denied.
    pub denied: usize,
    /// Unknown.
    pub unknown: usize,
    /// Invalid (manifests that could not be checked included).
    pub invalid: usize,
    /// Documents of other kinds, skipped.
    pub skipped_documents: usize,
    /// AWS calls made.
    pub aws_calls: u64,
    /// Wall time.
    pub seconds: f64,
    /// The proposed documents (`--with`), as given.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub proposed: Vec<String>,
}

impl Summary {
    /// Counts the verdicts.
    pub fn count(outcomes: &[Outcome]) -> Self {
        let n = |v: Verdict| outcomes.iter().filter(|o| o.verdict == v).count();
        Self {
            checks: outcomes.len(),
            allowed: n(Verdict::Allowed),
            denied: n(Verdict::Denied),
            unknown: n(Verdict::Unknown),
            invalid: n(Verdict::Invalid),
            ..Self::default()
        }
    }

    /// One line.
    pub fn line(&self) -> String {
        let mut line = format!(
            "{} checks: {} Allowed, {} Denied, {} Unknown, {} Invalid",
            self.checks, self.allowed, self.denied, self.unknown, self.invalid
        );
        if self.skipped_documents > 0 {
            line.push_str(&format!(
                "; {} documents of other kinds skipped",
                self.skipped_documents
            ));
        }
        line.push_str(&format!(
            "; {} AWS calls in {:.1} s",
            self.aws_calls, self.seconds
        ));
        if !self.proposed.is_empty() {
            line.push_str(&format!("; with proposed {}", self.proposed.join(", ")));
        }
        line
    }
}

/// The worst verdict, in the order a gate cares about: Invalid > Denied > Unknown > Allowed.
pub fn worst(outcomes: &[Outcome]) -> Verdict {
    super::Exit::worst(outcomes.iter().map(|o| o.verdict))
}

/// What one run of `check` reports, and how.
pub struct Report<'a> {
    /// One outcome per check, in input order.
    pub outcomes: &'a [Outcome],
    /// The totals.
    pub summary: &'a Summary,
    /// One check from one file: JSON and YAML give the diagnosis itself, text has no per-check header.
    pub single: bool,
    /// Colour in the text format.
    pub color: bool,
}

/// Writes the report in `format`.
pub fn write(
    format: CheckFormat,
    report: &Report<'_>,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let Report {
        outcomes,
        summary,
        single,
        ..
    } = *report;
    match format {
        CheckFormat::Text => text(report, out),
        CheckFormat::Json | CheckFormat::Yaml => {
            let value = match (single, outcomes) {
                (true, [only]) if only.diagnosis.is_some() => {
                    serde_json::to_value(&only.diagnosis).map_err(std::io::Error::other)?
                }
                _ => json!({"checks": outcomes, "summary": summary}),
            };
            if format == CheckFormat::Json {
                let text = serde_json::to_string_pretty(&value).map_err(std::io::Error::other)?;
                writeln!(out, "{text}")
            } else {
                let text = serde_saphyr::to_string(&value).map_err(std::io::Error::other)?;
                write!(out, "{text}")
            }
        }
        CheckFormat::Junit => junit(outcomes, summary, out),
        CheckFormat::Sarif => {
            let text =
                serde_json::to_string_pretty(&sarif(outcomes)).map_err(std::io::Error::other)?;
            writeln!(out, "{text}")
        }
        CheckFormat::Github => github(outcomes, summary, out),
    }
}

fn text(report: &Report<'_>, out: &mut impl Write) -> std::io::Result<()> {
    let Report {
        outcomes,
        summary,
        single,
        color,
    } = *report;
    for o in outcomes {
        if !single {
            writeln!(out, "== {} {} ({})", o.label(), o.verdict_word(), o.at())?;
        }
        if let Some(before) = o.before {
            writeln!(
                out,
                "what if ({}): {before:?} with the live documents, {:?} with the proposed ones",
                summary.proposed.join(", "),
                o.verdict
            )?;
        }
        match (&o.diagnosis, &o.error) {
            (Some(d), _) => write_text(d, color, out)?,
            (None, Some(e)) => writeln!(out, "INVALID {e}")?,
            (None, None) => {}
        }
        if !single {
            writeln!(out)?;
        }
    }
    if !single || outcomes.len() != 1 {
        writeln!(out, "{}", summary.line())?;
    }
    Ok(())
}

impl Outcome {
    fn verdict_word(&self) -> &'static str {
        match self.verdict {
            Verdict::Allowed => "ALLOWED",
            Verdict::Denied => "DENIED",
            Verdict::Unknown => "UNKNOWN",
            Verdict::Invalid => "INVALID",
        }
    }
}

/// XML text and attribute escaping.
fn xml(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => s.push(c),
        }
    }
    s
}

fn causes_text(d: &Diagnosis) -> String {
    let mut lines: Vec<String> = d
        .causes
        .iter()
        .map(|c| format!("{} [{}]: {}", c.id, c.layer.name(), c.message))
        .collect();
    if let Some(fix) = &d.fix {
        if let Some(r) = &fix.request {
            lines.push(format!("fix (request): {}", r.command));
        }
        for p in &fix.policies {
            lines.push(format!("fix ({}): {}", p.policy_id, p.command));
        }
        lines.push(format!("fix verified: {}", fix.verified));
    }
    lines.join("\n")
}

fn junit(outcomes: &[Outcome], summary: &Summary, out: &mut impl Write) -> std::io::Result<()> {
    let failures = summary.denied;
    let errors = summary.unknown + summary.invalid;
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="bucket-access-operator" tests="{}" failures="{failures}" errors="{errors}" time="{:.3}">"#,
        summary.checks, summary.seconds
    )?;
    writeln!(
        out,
        r#"  <testsuite name="bucket-access-checks" tests="{}" failures="{failures}" errors="{errors}" skipped="0">"#,
        summary.checks
    )?;
    for o in outcomes {
        write!(
            out,
            r#"    <testcase name="{}" classname="{}" file="{}" line="{}""#,
            xml(&o.label()),
            xml(&o.file),
            xml(&o.file),
            o.line
        )?;
        let body = o
            .diagnosis
            .as_ref()
            .map(causes_text)
            .unwrap_or_else(|| o.summary());
        match o.verdict {
            Verdict::Allowed => writeln!(out, "/>")?,
            Verdict::Denied => writeln!(
                out,
                ">\n      <failure type=\"Denied\" message=\"{}\">{}</failure>\n    </testcase>",
                xml(&o.summary()),
                xml(&body)
            )?,
            Verdict::Unknown | Verdict::Invalid => writeln!(
                out,
                ">\n      <error type=\"{:?}\" message=\"{}\">{}</error>\n    </testcase>",
                o.verdict,
                xml(&o.summary()),
                xml(&body)
            )?,
        }
    }
    writeln!(out, "  </testsuite>\n</testsuites>")
}

fn location(o: &Outcome) -> Value {
    json!([{"physicalLocation": {
        "artifactLocation": {"uri": o.file},
        "region": {"startLine": o.line}
    }}])
}

fn sarif(outcomes: &[Outcome]) -> Value {
    let mut rules: Vec<String> = Vec::new();
    let mut results = Vec::new();
    let rule = |id: &str, rules: &mut Vec<String>| {
        if !rules.iter().any(|r| r == id) {
            rules.push(id.to_owned());
        }
    };
    for o in outcomes {
        match &o.diagnosis {
            Some(d) if d.verdict == Verdict::Denied || !d.causes.is_empty() => {
                for c in &d.causes {
                    rule(c.id.as_str(), &mut rules);
                    let level = if c.severity == Severity::Error && d.verdict != Verdict::Allowed {
                        "error"
                    } else {
                        "warning"
                    };
                    results.push(json!({
                        "ruleId": c.id.as_str(),
                        "level": level,
                        "message": {"text": format!("{}: {}", o.label(), c.message)},
                        "locations": location(o),
                    }));
                }
            }
            Some(d) if d.verdict == Verdict::Unknown => {
                rule("EVALUATION_INCOMPLETE", &mut rules);
                results.push(json!({
                    "ruleId": "EVALUATION_INCOMPLETE",
                    "level": "warning",
                    "message": {"text": format!("{}: {}", o.label(), d.summary)},
                    "locations": location(o),
                }));
            }
            Some(_) => {}
            None => {
                rule("INVALID_MANIFEST", &mut rules);
                results.push(json!({
                    "ruleId": "INVALID_MANIFEST",
                    "level": "error",
                    "message": {"text": format!("{}: {}", o.label(), o.summary())},
                    "locations": location(o),
                }));
            }
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "bucket-access-operator",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.iter().map(|id| json!({"id": id, "shortDescription": {"text": id}})).collect::<Vec<_>>(),
            }},
            "results": results,
        }]
    })
}

/// A workflow command's data: `%`, CR and LF escaped.
fn gh_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property: also `:` and `,`.
fn gh_property(text: &str) -> String {
    gh_data(text).replace(':', "%3A").replace(',', "%2C")
}

fn github(outcomes: &[Outcome], summary: &Summary, out: &mut impl Write) -> std::io::Result<()> {
    for o in outcomes {
        let level = match o.verdict {
            Verdict::Allowed => continue,
            Verdict::Denied | Verdict::Invalid => "error",
            Verdict::Unknown => "warning",
        };
        let mut message = o.summary();
        if let Some(fix) = o.diagnosis.as_ref().and_then(|d| d.fix.as_ref()) {
            if let Some(r) = &fix.request {
                message.push_str(&format!("\nfix: {}", r.command));
            }
            for p in &fix.policies {
                message.push_str(&format!("\nfix: {}", p.command));
            }
        }
        writeln!(
            out,
            "::{level} file={},line={},title={}::{}",
            gh_property(&o.file),
            o.line,
            gh_property(&format!("{} {:?}", o.label(), o.verdict)),
            gh_data(&message)
        )?;
    }
    writeln!(
        out,
        "::notice title=bucket-access-operator::{}",
        gh_data(&summary.line())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(xml("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(gh_property("a:b,c%\nd"), "a%3Ab%2Cc%25%0Ad");
    }

    #[test]
    fn the_worst_verdict_decides() {
        let o = |verdict| Outcome {
            name: "c".into(),
            namespace: None,
            file: "f".into(),
            line: 1,
            verdict,
            before: None,
            error: None,
            diagnosis: None,
        };
        assert_eq!(
            worst(&[o(Verdict::Allowed), o(Verdict::Unknown)]),
            Verdict::Unknown
        );
        assert_eq!(
            worst(&[o(Verdict::Unknown), o(Verdict::Denied)]),
            Verdict::Denied
        );
        assert_eq!(
            worst(&[o(Verdict::Denied), o(Verdict::Invalid)]),
            Verdict::Invalid
        );
        assert_eq!(worst(&[]), Verdict::Allowed);
    }
}
