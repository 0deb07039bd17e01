//! What a reader sees of a diagnosis: `project`, one pure function of (diagnosis, the scope's detail level, the
//! scope's accounts) that decides every field of the status. At `Summary` it is built from typed data alone
//! (ids, layers, actions, Sids, the catalog's general words); at `Full` it is the diagnosis, with the
//! operator's session ARN and the ARNs and account ids outside the scope replaced in every text (`scrub`).

use super::owners::Owners;
use super::types::{
    Detail, StatusCause, StatusEvaluation, StatusFix, StatusLayerNote, StatusRemediation,
    MAX_STATUS_CAUSES,
};
use iam_policy::arn::Arn;
use s3_diagnosis::causes::StatementPointer;
use s3_diagnosis::snapshot::SnapshotLayer;
use s3_diagnosis::{Diagnosis, Verdict};
use std::collections::BTreeSet;

/// Everything a status shows of a diagnosis, decided by `project` for its reader.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    /// The verdict.
    pub verdict: Verdict,
    /// One sentence (also every condition's message).
    pub summary: String,
    /// The first `MAX_STATUS_CAUSES` causes.
    pub causes: Vec<StatusCause>,
    /// How many were left out.
    pub causes_omitted: Option<u64>,
    /// One per implied request.
    pub evaluations: Vec<StatusEvaluation>,
    /// Layers assumed to allow.
    pub assumptions: Vec<StatusLayerNote>,
    /// Layers that made the verdict Unknown.
    pub unknown: Vec<StatusLayerNote>,
    /// The whole-check fix.
    pub fix: Option<StatusFix>,
    /// The snapshot's digest.
    pub input_digest: Option<String>,
}

/// The causes a status lists, each made by `cause`: the first `MAX_STATUS_CAUSES`, and how many are left out
/// (with those the diagnosis itself left out).
pub fn listed(
    d: &Diagnosis,
    cause: impl Fn(&s3_diagnosis::Cause) -> StatusCause,
) -> (Vec<StatusCause>, Option<u64>) {
    let omitted = d.causes.len().saturating_sub(MAX_STATUS_CAUSES) + d.causes_omitted;
    let causes = d.causes.iter().take(MAX_STATUS_CAUSES).map(cause).collect();
    (causes, (omitted > 0).then_some(omitted as u64))
}

/// One entry per implied IAM request (typed data only: shown at every level).
pub fn evaluations(d: &Diagnosis) -> Vec<StatusEvaluation> {
    d.evaluations
        .iter()
        .map(|e| StatusEvaluation {
            action: e.action.clone(),
            decision: e.decision,
        })
        .collect()
}

impl Projection {
    /// Everything the diagnosis says, as the operator itself (or the CLI) sees it.
    pub fn of(d: &Diagnosis, digest: Option<&str>) -> Self {
        let (causes, causes_omitted) = listed(d, |c| StatusCause {
            id: c.id,
            layer: c.layer,
            action: c.action.clone(),
            statement: c.statement.clone(),
            message: c.message.clone(),
            severity: c.severity,
            remediation: c
                .remediation
                .iter()
                .map(|r| StatusRemediation {
                    kind: r.kind,
                    text: r.text.clone(),
                    command: r.command.clone(),
                    policy_patch: r.policy_patch.as_ref().map(ToString::to_string),
                })
                .collect(),
        });
        let (assumptions, unknown) = layer_notes(d, |note| match note {
            LayerNote::Assumed(text) | LayerNote::Unknown(text) => text.to_owned(),
        });
        Self {
            verdict: d.verdict,
            summary: d.summary.clone(),
            causes,
            causes_omitted,
            evaluations: evaluations(d),
            assumptions,
            unknown,
            fix: d.fix.as_ref().map(StatusFix::of),
            input_digest: digest.map(str::to_owned),
        }
    }

    /// The same with every text held to `accounts`: the operator's session ARN, and ARNs and account ids
    /// outside them, replaced (`scrub`), in every string field.
    pub fn scrubbed(self, accounts: &BTreeSet<String>) -> Self {
        let all = |texts: Vec<String>| -> Vec<String> {
            texts.iter().map(|t| scrub(t, accounts)).collect()
        };
        let notes = |notes: Vec<StatusLayerNote>| -> Vec<StatusLayerNote> {
            notes
                .into_iter()
                .map(|n| StatusLayerNote {
                    text: scrub(&n.text, accounts),
                    ..n
                })
                .collect()
        };
        Self {
            summary: scrub(&self.summary, accounts),
            causes: self
                .causes
                .into_iter()
                .map(|c| StatusCause {
                    action: scrub(&c.action, accounts),
                    statement: c.statement.map(|s| StatementPointer {
                        policy_id: scrub(&s.policy_id, accounts),
                        sid: s.sid.map(|sid| scrub(&sid, accounts)),
                        statement_index: s.statement_index,
                    }),
                    message: scrub(&c.message, accounts),
                    remediation: c
                        .remediation
                        .into_iter()
                        .map(|r| StatusRemediation {
                            text: scrub(&r.text, accounts),
                            command: r.command.map(|t| scrub(&t, accounts)),
                            policy_patch: r.policy_patch.map(|t| scrub(&t, accounts)),
                            ..r
                        })
                        .collect(),
                    ..c
                })
                .collect(),
            assumptions: notes(self.assumptions),
            unknown: notes(self.unknown),
            fix: self.fix.map(|f| StatusFix {
                verified: f.verified,
                request: f.request.map(|t| scrub(&t, accounts)),
                policies: all(f.policies),
                config: all(f.config),
                remaining: all(f.remaining),
            }),
            ..self
        }
    }
}

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

/// Who reads a check's status: the detail level of the scope that allows it, and the accounts that scope
/// lists (the only account ids and ARNs its status may name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// `Full` or `Summary`.
    pub detail: Detail,
    /// The scope's accounts (every account in `accounts` and `kmsKeyAccounts`).
    pub accounts: BTreeSet<String>,
}

/// What a tenant reads of a diagnosis: every field decided here, at the view's level. No view
/// (`--scope-mode off`, the CLI): everything the diagnosis says. `Full`: everything of the layers whose owner
/// (`Owners`) is an account the scope lists, with the operator's session and ARNs and account ids outside the
/// scope replaced in every text; the layers of other accounts and of the organization (SCPs, RCPs) in the
/// `Summary` form. `Summary`: the verdict, each cause's id, layer, action, severity and statement Sid, the
/// cause's meaning and remediation in the catalog's general words, the decisions, which layers were assumed or
/// not seen, and whether the fix is verified; no condition value, policy text, policy id, command, AWS error
/// text or input digest.
pub fn project(
    d: &Diagnosis,
    owners: &Owners,
    digest: Option<&str>,
    view: Option<&View>,
) -> Projection {
    match view {
        None => Projection::of(d, digest),
        Some(View {
            detail: Detail::Full,
            accounts,
        }) => full(d, owners, digest, accounts),
        Some(View {
            detail: Detail::Summary,
            accounts,
        }) => summary(d, accounts, SUMMARY),
    }
}

/// Why a text is withheld at `Summary`.
const SUMMARY: &str = "detail level Summary";

/// Why a text is withheld at `Full`.
const OUTSIDE: &str = "outside the scope's accounts";

/// The `Full` projection: each cause, assumption and unknown layer in full where its layer's owner is in the
/// scope, in the `Summary` form where it is not. The summary sentence quotes causes and unknown layers alike:
/// it is in full only when all of them are. The fix is in full only then too, and when every document it
/// changes is of a listed account; what it cannot remove (the re-diagnosis's own words) only when it is
/// verified. The digest (which the operator computes without the organization's policies when a scope reads
/// the check) is shown only when every account the snapshot holds is the scope's.
fn full(
    d: &Diagnosis,
    owners: &Owners,
    digest: Option<&str>,
    accounts: &BTreeSet<String>,
) -> Projection {
    let shown = |layer: SnapshotLayer| owners.in_scope(layer, accounts);
    let everything = Projection::of(d, digest).scrubbed(accounts);
    let general = summary(d, accounts, OUTSIDE);
    let pick =
        |full: Vec<StatusLayerNote>, general: Vec<StatusLayerNote>| -> Vec<StatusLayerNote> {
            full.into_iter()
                .zip(general)
                .map(|(f, g)| if shown(f.layer) { f } else { g })
                .collect()
        };
    let all_shown = d.causes.iter().map(|c| c.layer).all(shown)
        && d.unknown.iter().map(|u| u.layer).all(shown)
        && d.assumptions.iter().map(|a| a.layer).all(shown);
    let fix_shown = all_shown
        && d.fix.as_ref().is_none_or(|f| {
            f.policies
                .iter()
                .all(|p| p.account.as_ref().is_none_or(|a| accounts.contains(a)))
        });
    let fix = match (everything.fix, general.fix) {
        (Some(full), Some(general)) if fix_shown => Some(StatusFix {
            remaining: if full.verified {
                full.remaining
            } else {
                general.remaining
            },
            ..full
        }),
        (_, general) => general,
    };
    Projection {
        verdict: d.verdict,
        summary: if all_shown {
            everything.summary
        } else {
            general.summary
        },
        causes: everything
            .causes
            .into_iter()
            .zip(general.causes)
            .map(|(f, g)| if shown(f.layer) { f } else { g })
            .collect(),
        causes_omitted: everything.causes_omitted,
        evaluations: everything.evaluations,
        assumptions: pick(everything.assumptions, general.assumptions),
        unknown: pick(everything.unknown, general.unknown),
        fix,
        input_digest: everything
            .input_digest
            .filter(|_| owners.all_in_scope(accounts)),
    }
}

/// The `Summary` projection: built from the diagnosis's typed fields only, each withheld text saying `why`. A
/// statement's Sid is shown by the same rule as at `Full` (`scrub`, held to the scope's accounts): one rule
/// for both levels.
fn summary(d: &Diagnosis, accounts: &BTreeSet<String>, why: &str) -> Projection {
    let (causes, causes_omitted) = listed(d, |c| StatusCause {
        id: c.id,
        layer: c.layer,
        action: c.action.clone(),
        statement: c.statement.as_ref().map(|s| StatementPointer {
            policy_id: WITHHELD.to_owned(),
            sid: s.sid.as_ref().map(|sid| scrub(sid, accounts)),
            statement_index: s.statement_index,
        }),
        message: c.id.meaning().to_owned(),
        severity: c.severity,
        remediation: c
            .remediation
            .first()
            .map(|r| StatusRemediation {
                kind: r.kind,
                text: c.id.general_remediation().to_owned(),
                command: None,
                policy_patch: None,
            })
            .into_iter()
            .collect(),
    });
    let ids: Vec<&str> = causes.iter().map(|c| c.id.as_str()).collect();
    let verdict = d.verdict.as_str();
    let (assumptions, unknown) = layer_notes(d, |note| match note {
        LayerNote::Assumed(_) => "not read: assumed to allow (`skipLayers`)".to_owned(),
        LayerNote::Unknown(_) => format!("not seen, or not decided (details withheld: {why})"),
    });
    Projection {
        verdict: d.verdict,
        summary: if ids.is_empty() {
            format!("{verdict} ({why})")
        } else {
            format!("{verdict}: {} ({why})", ids.join(", "))
        },
        causes,
        causes_omitted,
        evaluations: evaluations(d),
        assumptions,
        unknown,
        fix: d.fix.as_ref().map(|f| StatusFix {
            verified: f.verified,
            request: f
                .request
                .as_ref()
                .map(|_| format!("the upload request changes (withheld: {why})")),
            policies: counted(f.policies.len(), "policy documents to change", why),
            config: counted(f.config.len(), "settings to change", why),
            remaining: counted(f.remaining.len(), "causes the fix cannot remove", why),
        }),
        input_digest: None,
    }
}

/// A layer the diagnosis notes, with its own text: assumed to allow, or not seen (Unknown).
enum LayerNote<'d> {
    Assumed(&'d str),
    Unknown(&'d str),
}

/// The layers assumed to allow and those that made the verdict Unknown, each with the text `text` gives it.
fn layer_notes<'d>(
    d: &'d Diagnosis,
    text: impl Fn(LayerNote<'d>) -> String,
) -> (Vec<StatusLayerNote>, Vec<StatusLayerNote>) {
    let assumed = d.assumptions.iter().map(|a| StatusLayerNote {
        layer: a.layer,
        text: text(LayerNote::Assumed(&a.text)),
    });
    let assumed = assumed.collect();
    let unknown = d.unknown.iter().map(|u| StatusLayerNote {
        layer: u.layer,
        text: text(LayerNote::Unknown(&u.reason)),
    });
    (assumed, unknown.collect())
}

/// What replaces a policy id at `Summary`.
pub const WITHHELD: &str = "withheld";

/// `["N what (withheld: WHY)"]`, or nothing for none.
fn counted(n: usize, what: &str, why: &str) -> Vec<String> {
    if n == 0 {
        Vec::new()
    } else {
        vec![format!("{n} {what} (withheld: {why})")]
    }
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
