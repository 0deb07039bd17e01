//! What a tenant sees of its check: the status cut to the scope's detail level (`Summary` keeps the verdict,
//! cause ids, statement Sids and the fixes' words, and drops condition values, policy text and patched
//! documents), and AWS error text cleaned of the operator's own session ARN and of account ids outside the
//! scope. Pure functions of a status.

use super::resource::Detail;
use crate::controller::status::BucketAccessCheckStatus;
use iam_policy::arn::Arn;
use s3_diagnosis::causes::StatementPointer;
use std::collections::BTreeSet;

/// What replaces an ARN of the operator's own session.
pub const OPERATOR_SESSION: &str = "<the operator's session>";
/// What replaces an ARN in an account outside the scope.
pub const OUTSIDE_ARN: &str = "<an ARN outside the scope>";
/// What replaces an account id outside the scope.
pub const OUTSIDE_ACCOUNT: &str = "<an account outside the scope>";

/// Whether `c` ends an ARN in running text.
fn ends_arn(c: char) -> bool {
    c.is_whitespace() || matches!(c, '`' | '"' | '\'' | ',' | ';' | ')' | '(' | '<' | '>')
}

/// `text` with every STS session ARN replaced (the operator's identity, or its reader role's session), every
/// other ARN of an account not in `allowed` replaced, and every other 12-digit account id not in `allowed`
/// replaced.
pub fn scrub(text: &str, allowed: &BTreeSet<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("arn:") {
        let (before, from) = rest.split_at(start);
        out.push_str(&scrub_accounts(before, allowed));
        let end = from.find(ends_arn).unwrap_or(from.len());
        let (arn, after) = from.split_at(end);
        let arn_trimmed = arn.trim_end_matches(['.', ':']);
        let tail = arn.get(arn_trimmed.len()..).unwrap_or_default();
        match Arn::parse(arn_trimmed) {
            Ok(a) if a.service == "sts" => out.push_str(OPERATOR_SESSION),
            Ok(a) if !a.account.is_empty() && !allowed.contains(a.account) => {
                out.push_str(OUTSIDE_ARN);
            }
            Ok(_) => out.push_str(arn_trimmed),
            Err(_) => out.push_str(&scrub_accounts(arn_trimmed, allowed)),
        }
        out.push_str(tail);
        rest = after;
    }
    out.push_str(&scrub_accounts(rest, allowed));
    out
}

/// `text` with each run of exactly 12 digits that is not an allowed account replaced.
fn scrub_accounts(text: &str, allowed: &BTreeSet<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if digits.len() == 12 && !allowed.contains(digits.as_str()) {
            out.push_str(OUTSIDE_ACCOUNT);
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

/// The status a tenant sees: AWS error text scrubbed, and at `Summary` only the verdict, cause ids, statement
/// Sids and the fixes' words.
pub fn present(
    mut status: BucketAccessCheckStatus,
    detail: Detail,
    allowed: &BTreeSet<String>,
) -> BucketAccessCheckStatus {
    for note in &mut status.unknown {
        note.text = scrub(&note.text, allowed);
    }
    match detail {
        Detail::Full => {
            status.summary = status.summary.map(|s| scrub(&s, allowed));
            for cause in &mut status.causes {
                cause.message = scrub(&cause.message, allowed);
            }
        }
        Detail::Summary => {
            for cause in &mut status.causes {
                cause.message = format!(
                    "{} ({} layer, {}): details withheld (detail level Summary)",
                    cause.id, cause.layer, cause.action
                );
                cause.statement = cause.statement.take().map(|s| StatementPointer {
                    policy_id: "withheld".to_owned(),
                    sid: s.sid,
                    statement_index: s.statement_index,
                });
                for r in &mut cause.remediation {
                    r.command = None;
                    r.policy_patch = None;
                    r.text = scrub(&r.text, allowed);
                }
            }
            if let Some(fix) = status.fix.as_mut() {
                let n = fix.policies.len();
                fix.policies = if n == 0 {
                    Vec::new()
                } else {
                    vec![format!(
                        "{n} policy documents to change (withheld: detail level Summary)"
                    )]
                };
                fix.remaining = fix
                    .remaining
                    .iter()
                    .map(|r| r.split(':').next().unwrap_or_default().to_owned())
                    .collect();
            }
            let ids: Vec<&str> = status.causes.iter().map(|c| c.id.as_str()).collect();
            let verdict = status.verdict.clone().unwrap_or_default();
            if !verdict.is_empty() {
                status.summary = Some(if ids.is_empty() {
                    format!("{verdict} (detail level Summary)")
                } else {
                    format!("{verdict}: {} (detail level Summary)", ids.join(", "))
                });
            }
        }
    }
    let summary = status.summary.clone().unwrap_or_default();
    for condition in &mut status.conditions {
        condition.message = match detail {
            Detail::Summary => summary.clone(),
            Detail::Full => scrub(&condition.message, allowed),
        };
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> BTreeSet<String> {
        BTreeSet::from(["111122223333".to_owned()])
    }

    #[test]
    fn sessions_and_foreign_accounts_are_scrubbed() {
        let text = "AccessDenied calling s3:GetBucketPolicy: User: arn:aws:sts::999988887777:assumed-role/operator/i-123 is not authorized to perform: s3:GetBucketPolicy on resource: \"arn:aws:s3:::media\" because account 444455556666 says no; role arn:aws:iam::444455556666:role/x, own arn:aws:iam::111122223333:role/uploader.";
        let out = scrub(text, &allowed());
        assert!(!out.contains("999988887777"), "{out}");
        assert!(!out.contains("444455556666"), "{out}");
        assert!(!out.contains("assumed-role"), "{out}");
        assert!(out.contains("arn:aws:s3:::media"), "{out}");
        assert!(
            out.contains("arn:aws:iam::111122223333:role/uploader."),
            "{out}"
        );
        assert!(
            out.contains(OPERATOR_SESSION)
                && out.contains(OUTSIDE_ARN)
                && out.contains(OUTSIDE_ACCOUNT)
        );
    }

    #[test]
    fn longer_digit_runs_and_allowed_accounts_stay() {
        let out = scrub("id 1234567890123 and 111122223333 and 12345", &allowed());
        assert_eq!(out, "id 1234567890123 and 111122223333 and 12345");
    }
}
