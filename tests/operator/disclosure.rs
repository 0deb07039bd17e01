//! What a tenant reads, for every diagnosis scenario at both detail levels: every string of the status is
//! walked. At `Full` no account id or ARN outside the scope's accounts and no session ARN appears; at
//! `Summary`, in addition, no condition value of any policy, no value of the upload or network, no policy id
//! and no input digest.

use bucket_access_api::status::{build, project, Detail, Owners, Stamp, View};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use s3_diagnosis::snapshot::Snapshot;
use s3_diagnosis::snapshot::SnapshotLayer;
use s3_diagnosis::{diagnose, CauseId};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// The diagnosis's scenario snapshots, with the diagnosis's own loader.
#[path = "../../crates/s3-diagnosis/tests/diagnosis/scenarios.rs"]
#[expect(
    dead_code,
    reason = "the diagnosis's own tests use `snapshots`; these, `snapshots_in`"
)]
mod diagnosis_scenarios;

fn scenarios() -> Vec<(String, Value)> {
    diagnosis_scenarios::snapshots_in(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/s3-diagnosis/tests/scenarios"),
    )
}

fn strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// The accounts a scope allowing this check lists: the principal's, the bucket's and the keys'.
fn scope_accounts(snapshot: &Value) -> BTreeSet<String> {
    let principal = snapshot["request"]["principalArn"]
        .as_str()
        .unwrap_or_default();
    let mut accounts: BTreeSet<String> = principal
        .split(':')
        .nth(4)
        .map(str::to_owned)
        .into_iter()
        .collect();
    accounts.extend(snapshot["bucket"]["accountId"].as_str().map(str::to_owned));
    for key in snapshot["kmsKeys"].as_array().into_iter().flatten() {
        accounts.extend(key["accountId"].as_str().map(str::to_owned));
    }
    accounts
}

/// Every value a condition of any policy of the snapshot compares with, and the request's own values.
fn condition_values(snapshot: &Value) -> BTreeSet<String> {
    fn conditions(value: &Value, out: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    if key == "Condition" {
                        let mut found = Vec::new();
                        strings(v, &mut found);
                        out.extend(found.into_iter().map(str::to_owned));
                    } else {
                        conditions(v, out);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| conditions(v, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    conditions(snapshot, &mut out);
    for part in ["upload", "network", "context"] {
        let mut found = Vec::new();
        strings(&snapshot["request"][part], &mut found);
        out.extend(found.into_iter().map(str::to_owned));
    }
    // What the tenant wrote itself, and words too short or too common to be a secret.
    let own = [
        snapshot["request"]["principalArn"]
            .as_str()
            .unwrap_or_default(),
        snapshot["request"]["bucket"].as_str().unwrap_or_default(),
    ];
    out.retain(|v| v.len() >= 4 && !own.contains(&v.as_str()) && v != "true" && v != "false");
    out
}

/// The 12-digit runs of a text.
fn account_ids(text: &str) -> Vec<&str> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|run| run.len() == 12)
        .collect()
}

#[test]
fn a_tenant_reads_nothing_its_scope_and_level_do_not_grant() {
    let now = Time("2026-11-28T10:00:00Z".parse().unwrap());
    let mut checked = 0;
    let mut withheld = 0;
    for (name, value) in scenarios() {
        let snapshot: Snapshot = serde_json::from_value(value.clone()).unwrap();
        let diagnosis = diagnose(&snapshot);
        let accounts = scope_accounts(&value);
        // The scope's own account ids are the tenant's to read at every level.
        let secrets: BTreeSet<String> = condition_values(&value)
            .into_iter()
            .filter(|v| !accounts.contains(v))
            .collect();
        let principal = snapshot.request.principal_arn.clone();
        for detail in [Detail::Full, Detail::Summary] {
            let view = View {
                detail,
                accounts: accounts.clone(),
            };
            let projection = project(
                &diagnosis,
                &Owners::of(&snapshot),
                Some("sha256:digest"),
                Some(&view),
            );
            let status = build(
                None,
                projection.into(),
                &Stamp {
                    generation: Some(1),
                    principal: &principal,
                    requested: None,
                    now: now.clone(),
                },
            );
            let json = serde_json::to_value(&status).unwrap();
            let mut texts = Vec::new();
            strings(&json, &mut texts);
            for text in &texts {
                for account in account_ids(text) {
                    assert!(
                        accounts.contains(account),
                        "{name} {detail:?}: account `{account}` outside {accounts:?} in `{text}`"
                    );
                }
                assert!(
                    !text.contains("arn:aws:sts::") && !text.contains("assumed-role/"),
                    "{name} {detail:?}: a session ARN in `{text}`"
                );
            }
            if detail == Detail::Summary {
                assert!(
                    status.input_digest.is_none(),
                    "{name}: the digest is an oracle"
                );
                // The catalog's general words are the same for every check: an example value in them
                // (`bucket-owner-full-control`) is not this check's.
                let catalog: BTreeSet<&str> = CauseId::ALL
                    .iter()
                    .flat_map(|id| [id.meaning(), id.general_remediation()])
                    .collect();
                for text in texts.iter().filter(|t| !catalog.contains(*t)) {
                    for secret in &secrets {
                        assert!(
                            !text.contains(secret.as_str()),
                            "{name} Summary: the condition value `{secret}` in `{text}`"
                        );
                    }
                }
                for cause in &status.causes {
                    if let Some(statement) = &cause.statement {
                        assert_eq!(statement.policy_id, "withheld", "{name}");
                    }
                    assert!(cause
                        .remediation
                        .iter()
                        .all(|r| r.command.is_none() && r.policy_patch.is_none()));
                }
                withheld += secrets.len();
            }
            checked += 1;
        }
    }
    assert!(checked >= 300, "{checked} statuses walked");
    assert!(
        withheld >= 150,
        "only {withheld} condition values were looked for"
    );
}

/// A statement's Sid is shown by one rule at both levels: an account outside the scope in an SCP's Sid is
/// replaced at `Summary` as at `Full`.
#[test]
fn a_sid_is_shown_by_one_rule_at_both_levels() {
    let (_, mut value) = scenarios()
        .into_iter()
        .find(|(name, _)| name.starts_with("scp-explicit-deny"))
        .unwrap();
    value["organization"]["scps"][1][1]["document"]["Statement"][0]["Sid"] =
        Value::from("NoPutFrom999988887777");
    let snapshot: Snapshot = serde_json::from_value(value.clone()).unwrap();
    let diagnosis = diagnose(&snapshot);
    let accounts = scope_accounts(&value);
    assert!(!accounts.contains("999988887777"));
    let sids: Vec<Option<String>> = [Detail::Full, Detail::Summary]
        .into_iter()
        .map(|detail| {
            let view = View {
                detail,
                accounts: accounts.clone(),
            };
            let projection = project(&diagnosis, &Owners::of(&snapshot), None, Some(&view));
            let sid = projection
                .causes
                .iter()
                .find_map(|c| c.statement.as_ref().and_then(|s| s.sid.clone()));
            let text = serde_json::to_string(&projection.causes).unwrap();
            assert!(!text.contains("999988887777"), "{detail:?}: {text}");
            sid
        })
        .collect();
    assert!(
        sids[0]
            .as_deref()
            .is_some_and(|s| s.starts_with("NoPutFrom")),
        "{sids:?}"
    );
    assert_eq!(sids[0], sids[1], "one rule for both levels");
}

/// `Full` shows a layer's texts only when its owner is an account the scope lists: read by a scope that
/// lists none of the check's accounts, every cause is in the catalog's general words (but for a request that
/// quotes nothing of another account), and no condition value of any policy, no account id, no reason a layer
/// was not read and no digest appears; read by a scope that lists only the principal's account, the bucket's
/// layers of another account are in general words; the organization's SCPs and RCPs are never shown in full.
#[test]
fn full_shows_only_the_layers_of_the_scope_s_accounts() {
    let mut checked = 0;
    let mut shown_in_full = 0;
    let catalog: BTreeSet<&str> = CauseId::ALL
        .iter()
        .flat_map(|id| [id.meaning(), id.general_remediation()])
        .collect();
    for (name, value) in scenarios() {
        let snapshot: Snapshot = serde_json::from_value(value.clone()).unwrap();
        let diagnosis = diagnose(&snapshot);
        let owners = Owners::of(&snapshot);
        let own_request = value["bucket"].is_null() && value["accessPoint"].is_null();
        let secrets = full_secrets(&value);
        let view = |accounts: BTreeSet<String>| View {
            detail: Detail::Full,
            accounts,
        };
        let projection = project(
            &diagnosis,
            &owners,
            Some("sha256:x"),
            Some(&view(BTreeSet::new())),
        );
        assert!(projection.input_digest.is_none(), "{name}: the digest");
        for cause in &projection.causes {
            if !(own_request && cause.layer == SnapshotLayer::Request) {
                assert_eq!(cause.message, cause.id.meaning(), "{name}: {cause:?}");
            }
        }
        let shown = serde_json::to_value((
            &projection.summary,
            projection
                .causes
                .iter()
                .filter(|c| !(own_request && c.layer == SnapshotLayer::Request))
                .collect::<Vec<_>>(),
            &projection.unknown,
            &projection.assumptions,
            &projection.fix,
        ))
        .unwrap();
        let mut texts = Vec::new();
        strings(&shown, &mut texts);
        for text in texts.iter().filter(|t| !catalog.contains(*t)) {
            for secret in &secrets {
                assert!(
                    !text.contains(secret.as_str()),
                    "{name}: `{secret}` in `{text}`"
                );
            }
        }
        shown_in_full += full_where_in_scope(&name, &value, &diagnosis, &owners);
        checked += 1;
    }
    assert!(checked >= 150, "{checked} scenarios");
    // The scope's own layers are still shown in full.
    assert!(shown_in_full >= 150, "{shown_in_full} causes shown in full");
}

/// What `Full` must not show for a scope that lists none of the check's accounts: every condition value of a
/// policy (the request's own values are the tenant's), and why each unread layer was not read.
fn full_secrets(value: &Value) -> BTreeSet<String> {
    let mut request_values = Vec::new();
    for part in ["upload", "network", "context"] {
        strings(&value["request"][part], &mut request_values);
    }
    let mut secrets: BTreeSet<String> = condition_values(value)
        .into_iter()
        .filter(|v| !request_values.contains(&v.as_str()))
        .collect();
    for unread in value["unavailable"].as_array().into_iter().flatten() {
        secrets.extend(unread["reason"].as_str().map(str::to_owned));
    }
    secrets
}

/// Read by a scope of the principal's account only, a bucket of another account is shown in general words;
/// read by a scope of every account of the check, each layer but the organization's in full. Returns how many
/// causes were shown in full.
fn full_where_in_scope(
    name: &str,
    value: &Value,
    diagnosis: &s3_diagnosis::Diagnosis,
    owners: &Owners,
) -> usize {
    let view = |accounts: BTreeSet<String>| View {
        detail: Detail::Full,
        accounts,
    };
    let principal_account = value["request"]["principalArn"]
        .as_str()
        .and_then(|a| a.split(':').nth(4))
        .unwrap_or_default()
        .to_owned();
    let bucket_account = value["bucket"]["accountId"].as_str().unwrap_or_default();
    if !bucket_account.is_empty() && bucket_account != principal_account {
        let projection = project(
            diagnosis,
            owners,
            None,
            Some(&view(BTreeSet::from([principal_account.clone()]))),
        );
        for cause in &projection.causes {
            if cause.layer == SnapshotLayer::BucketPolicy {
                assert_eq!(cause.message, cause.id.meaning(), "{name}: {cause:?}");
            }
        }
    }
    let projection = project(diagnosis, owners, None, Some(&view(scope_accounts(value))));
    let mut shown = 0;
    for cause in &projection.causes {
        if matches!(cause.layer, SnapshotLayer::Scp | SnapshotLayer::Rcp) {
            assert_eq!(cause.message, cause.id.meaning(), "{name}: {cause:?}");
        } else if cause.message != cause.id.meaning() {
            shown += 1;
        }
    }
    shown
}
