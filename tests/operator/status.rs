//! `status::build` for every row of the spec's condition table, `lastTransitionTime` kept when a condition's
//! status does not change, and Events only on transitions.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code"
)]

use bucket_access_api::spec::CheckSpec;
use bucket_access_api::status::{
    build, kept, same_result, transition, BucketAccessCheckStatus, Outcome, Projection, Stamp,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use s3_diagnosis::{diagnose, Verdict};

use crate::scenario;

fn t(s: &str) -> Time {
    Time(s.parse().unwrap())
}

fn cond<'a>(s: &'a BucketAccessCheckStatus, type_: &str) -> (&'a str, &'a str) {
    let c = s.conditions.iter().find(|c| c.type_ == type_).unwrap();
    assert_eq!(c.observed_generation, s.observed_generation);
    (c.status.as_str(), c.reason.as_str())
}

fn status_for(
    name: &str,
    old: Option<&BucketAccessCheckStatus>,
    at: &str,
) -> BucketAccessCheckStatus {
    let d = diagnose(&scenario(name));
    build(
        old,
        Projection::of(&d, Some("sha256:x")).into(),
        &Stamp {
            generation: Some(2),
            principal: "arn:aws:iam::111122223333:role/uploader",
            requested: None,
            now: t(at).clone(),
        },
    )
}

#[test]
fn every_row_of_the_table() {
    let evaluating = build(
        None,
        Outcome::Evaluating,
        &Stamp {
            generation: Some(2),
            principal: "p",
            requested: None,
            now: t("2026-11-28T10:00:00Z").clone(),
        },
    );
    assert_eq!(evaluating.verdict, None);
    assert_eq!(cond(&evaluating, "Ready"), ("Unknown", "Evaluating"));
    assert_eq!(cond(&evaluating, "Stalled"), ("False", "Evaluating"));
    assert_eq!(cond(&evaluating, "Reconciling"), ("True", "Evaluating"));

    let allowed = status_for("allowed-plain", None, "2026-11-28T10:00:00Z");
    assert_eq!(allowed.verdict, Some(Verdict::Allowed));
    assert_eq!(cond(&allowed, "Ready"), ("True", "AccessAllowed"));
    assert_eq!(cond(&allowed, "Stalled").0, "False");
    assert_eq!(cond(&allowed, "Reconciling"), ("False", "Evaluated"));
    assert_eq!(allowed.reason.map(|r| r.as_str()), Some("AccessAllowed"));

    let denied = status_for(
        "seed-source-ip-allow-condition-denied",
        None,
        "2026-11-28T10:00:00Z",
    );
    assert_eq!(denied.verdict, Some(Verdict::Denied));
    assert_eq!(cond(&denied, "Ready"), ("False", "AccessDenied"));
    assert_eq!(cond(&denied, "Stalled"), ("True", "AccessDenied"));
    assert_eq!(cond(&denied, "Reconciling"), ("False", "Evaluated"));
    assert_eq!(
        denied.reason.map(|r| r.as_str()),
        Some("BUCKET_POLICY_CONDITION_SOURCE_IP")
    );
    assert_eq!(
        denied.causes[0].statement.as_ref().unwrap().sid.as_deref(),
        Some("AllowWithCondition")
    );
    assert!(denied.causes[0].remediation.iter().any(|r| r.kind
        == s3_diagnosis::remediation::RemediationKind::Policy
        && r.policy_patch
            .as_deref()
            .unwrap_or("")
            .contains("203.0.113.9/32")));

    let unknown = status_for("unknown-scp-unreadable", None, "2026-11-28T10:00:00Z");
    assert_eq!(unknown.verdict, Some(Verdict::Unknown));
    assert_eq!(cond(&unknown, "Ready"), ("Unknown", "EvaluationIncomplete"));
    assert_eq!(cond(&unknown, "Stalled").0, "False");
    assert_eq!(
        cond(&unknown, "Reconciling"),
        ("True", "RetryingEvaluation")
    );
    assert_eq!(unknown.unknown[0].layer.name(), "scp");

    let problems = CheckSpec {
        bucket: "x".into(),
        ..CheckSpec::default()
    }
    .validate();
    let invalid = build(
        None,
        Outcome::InvalidSpec(&problems),
        &Stamp {
            generation: Some(2),
            principal: "",
            requested: None,
            now: t("2026-11-28T10:00:00Z").clone(),
        },
    );
    assert_eq!(invalid.verdict, Some(Verdict::Invalid));
    assert_eq!(cond(&invalid, "Ready"), ("False", "InvalidSpec"));
    assert_eq!(cond(&invalid, "Stalled"), ("True", "InvalidSpec"));
    assert_eq!(cond(&invalid, "Reconciling"), ("False", "Evaluated"));
    assert!(invalid.summary.as_deref().unwrap().contains("spec.roleArn"));
}

#[test]
fn last_transition_time_is_kept_when_status_does_not_change() {
    let first = status_for("allowed-plain", None, "2026-11-28T10:00:00Z");
    let again = status_for("allowed-plain", Some(&first), "2026-11-28T11:00:00Z");
    for (a, b) in first.conditions.iter().zip(&again.conditions) {
        assert_eq!(
            a.last_transition_time, b.last_transition_time,
            "{}",
            a.type_
        );
    }
    assert!(
        same_result(&first, &again),
        "only lastEvaluated differs: no write"
    );
    let denied = status_for(
        "seed-storage-class-deny-condition-denied",
        Some(&first),
        "2026-11-28T12:00:00Z",
    );
    let ready = |s: &BucketAccessCheckStatus| {
        s.conditions
            .iter()
            .find(|c| c.type_ == "Ready")
            .unwrap()
            .last_transition_time
            .clone()
    };
    assert_eq!(ready(&denied), t("2026-11-28T12:00:00Z"));
    let reconciling = |s: &BucketAccessCheckStatus| {
        s.conditions
            .iter()
            .find(|c| c.type_ == "Reconciling")
            .unwrap()
            .last_transition_time
            .clone()
    };
    assert_eq!(
        reconciling(&denied),
        t("2026-11-28T10:00:00Z"),
        "Reconciling stayed False"
    );
    assert!(!same_result(&first, &denied));
}

#[test]
fn events_only_on_transitions() {
    let allowed = status_for("allowed-plain", None, "2026-11-28T10:00:00Z");
    assert!(
        transition(None, &allowed).is_none(),
        "a new check found allowed is no news"
    );
    let first_denied = status_for(
        "seed-storage-class-deny-condition-denied",
        None,
        "2026-11-28T10:00:00Z",
    );
    assert_eq!(
        transition(None, &first_denied).map(|t| (t.warning, t.reason.as_str())),
        Some((true, "AccessDenied")),
        "a new check found denied is"
    );
    assert!(
        transition(Some(&allowed), &allowed).is_none(),
        "unchanged: no event"
    );
    let denied = status_for(
        "seed-storage-class-deny-condition-denied",
        Some(&allowed),
        "2026-11-28T11:00:00Z",
    );
    let t2 = transition(Some(&allowed), &denied).unwrap();
    let back = transition(Some(&denied), &allowed).unwrap();
    assert_eq!(
        (back.warning, back.reason.as_str()),
        (false, "AccessAllowed"),
        "allowed again is news"
    );
    assert_eq!((t2.warning, t2.reason.as_str()), (true, "AccessDenied"));
    assert!(t2.note.contains("s3:x-amz-storage-class"));
    // Same verdict, another cause set: an event.
    let other = status_for("bucket-tls", Some(&denied), "2026-11-28T12:00:00Z");
    assert_eq!(
        transition(Some(&denied), &other).unwrap().reason.as_str(),
        "AccessDenied"
    );
    // The evaluating status itself never makes an event.
    let evaluating = build(
        Some(&denied),
        Outcome::Evaluating,
        &Stamp {
            generation: Some(3),
            principal: "p",
            requested: None,
            now: t("2026-11-28T13:00:00Z").clone(),
        },
    );
    assert!(transition(Some(&denied), &evaluating).is_none());
    let unknown = status_for("unknown-scp-unreadable", None, "2026-11-28T10:00:00Z");
    assert_eq!(
        transition(Some(&allowed), &unknown)
            .unwrap()
            .reason
            .as_str(),
        "EvaluationIncomplete"
    );
}

/// What the controller keeps of a watched status (`status::kept`) answers as the whole status does: the same
/// result, after the round trip through the API server's JSON too; the same status built over it for every
/// outcome (conditions keep their times); the same Event for every new status; and a different result is told
/// apart.
#[test]
fn a_kept_status_answers_as_the_whole_one() {
    let names = [
        "allowed-plain",
        "seed-storage-class-deny-condition-denied",
        "bucket-tls",
        "unknown-scp-unreadable",
    ];
    let statuses: Vec<BucketAccessCheckStatus> = names
        .iter()
        .map(|n| status_for(n, None, "2026-11-28T10:00:00Z"))
        .collect();
    let later = Stamp {
        generation: Some(3),
        principal: "arn:aws:iam::111122223333:role/uploader",
        requested: Some("again"),
        now: t("2026-11-28T12:00:00Z"),
    };
    for (name, whole) in names.iter().zip(&statuses) {
        let watched = kept(whole);
        assert!(watched.summary.is_none() && watched.causes.iter().all(|c| c.message.is_empty()));
        assert!(same_result(&watched, whole), "{name}");
        let through_json: BucketAccessCheckStatus =
            serde_json::from_value(serde_json::to_value(whole).unwrap()).unwrap();
        assert!(
            same_result(&watched, &through_json),
            "{name}: after the round trip"
        );
        assert!(
            same_result(&kept(&through_json), whole),
            "{name}: kept after the round trip"
        );
        for other in &statuses {
            assert_eq!(
                same_result(&watched, other),
                same_result(whole, other),
                "{name}"
            );
            assert_eq!(
                transition(Some(&watched), other),
                transition(Some(whole), other),
                "{name}"
            );
        }
        let outcomes = [
            Outcome::Evaluating,
            Outcome::OutOfScope("no scope allows it"),
            Projection::of(&diagnose(&scenario("allowed-plain")), Some("sha256:y")).into(),
        ];
        for outcome in outcomes {
            assert_eq!(
                build(Some(&watched), outcome.clone(), &later),
                build(Some(whole), outcome, &later),
                "{name}"
            );
        }
    }
}
