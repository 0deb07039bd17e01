//! The whole-check fix (`Diagnosis::fix`), over every scenario and every information-losing mutation of
//! them: a fix called verified diagnoses `Allowed` when applied; every denial whose causes all have a
//! computable fix is verified (unless the fixed snapshot itself cannot be decided); and no fix widens
//! access: another principal, another bucket and another action stay as denied as before.

use crate::monotone::mutations;
use crate::scenarios::snapshots;
use s3_diagnosis::fix::Fix;
use s3_diagnosis::snapshot::Snapshot;
use s3_diagnosis::{diagnose, diagnose_with_fix, Diagnosis, RequestDecision, Severity, Verdict};
use serde_json::Value;

/// Every scenario and every mutation of it, as snapshots that load.
fn corpus() -> Vec<(String, Snapshot)> {
    let mut out = Vec::new();
    for (name, value) in snapshots() {
        for (what, mutated) in
            std::iter::once((String::new(), value.clone())).chain(mutations(&value))
        {
            if let Ok(s) = serde_json::from_value::<Snapshot>(mutated) {
                let label = if what.is_empty() {
                    name.clone()
                } else {
                    format!("{name}: {what}")
                };
                out.push((label, s));
            }
        }
    }
    out
}

fn error_ids(d: &Diagnosis) -> Vec<String> {
    d.causes
        .iter()
        .filter(|c| c.severity == Severity::Error)
        .map(|c| c.id.to_string())
        .collect()
}

#[test]
fn a_verified_fix_is_allowed_when_applied_and_an_unverified_one_says_why() {
    let (mut verified, mut denied) = (0, 0);
    let (mut scenarios_verified, mut scenarios_denied) = (0, 0);
    for (name, snapshot) in corpus() {
        let scenario = !name.contains(' ');
        let (d, fixed) = diagnose_with_fix(&snapshot);
        match d.verdict {
            Verdict::Denied => {}
            _ => {
                assert!(
                    d.fix.is_none() && fixed.is_none(),
                    "{name}: a fix for a {:?} check",
                    d.verdict
                );
                continue;
            }
        }
        denied += 1;
        scenarios_denied += usize::from(scenario);
        let fix = d.fix.as_ref().unwrap();
        let again = diagnose(fixed.as_ref().unwrap());
        if fix.verified {
            verified += 1;
            scenarios_verified += usize::from(scenario);
            assert_eq!(
                again.verdict,
                Verdict::Allowed,
                "{name}: verified, but {}",
                again.summary
            );
            assert!(fix.remaining.is_empty(), "{name}");
            assert!(
                fix.request.is_some() || !fix.policies.is_empty() || !fix.config.is_empty(),
                "{name}: verified without changing anything"
            );
        } else {
            assert_ne!(again.verdict, Verdict::Allowed, "{name}");
            assert!(
                !fix.remaining.is_empty(),
                "{name}: unverified without saying why"
            );
        }
        // Each patched document is whole (a document, not a fragment) and comes with its command.
        for p in &fix.policies {
            assert!(
                p.document["Statement"].is_array(),
                "{name}: {}",
                p.policy_id
            );
            assert!(p.command.starts_with("aws "), "{name}: {}", p.command);
        }
    }
    println!(
        "verified fixes: {scenarios_verified} of {scenarios_denied} denied scenarios, {verified} of {denied} with the mutations (which lose information on purpose)"
    );
    assert!(
        scenarios_verified * 10 >= scenarios_denied * 8,
        "{scenarios_verified} of {scenarios_denied}"
    );
}

#[test]
fn every_denial_whose_causes_all_have_a_fix_is_verified() {
    let mut fixable = 0;
    for (name, value) in snapshots() {
        let snapshot: Snapshot = serde_json::from_value(value).unwrap();
        let d = diagnose(&snapshot);
        if d.verdict != Verdict::Denied {
            continue;
        }
        let all_fixable = d
            .causes
            .iter()
            .filter(|c| c.severity == Severity::Error)
            .all(|c| c.remediation.iter().any(|r| r.edit.is_some()));
        if !all_fixable {
            continue;
        }
        fixable += 1;
        let fix = d.fix.as_ref().unwrap();
        // Unverified only when the fixed snapshot cannot be decided (a layer not read, a policy with errors).
        assert!(
            fix.verified
                || fix
                    .remaining
                    .iter()
                    .any(|r| r.contains("the fixed snapshot is Unknown")),
            "{name}: causes {:?}, remaining {:?}",
            error_ids(&d),
            fix.remaining
        );
    }
    assert!(fixable >= 70, "{fixable}");
}

/// The snapshot with another principal of the same account that has no identity policies of its own: only
/// what the fix changes outside the checked principal's own policies (bucket, key and endpoint policies,
/// SCPs, settings) can reach it.
fn other_principal(s: &Snapshot) -> Snapshot {
    let mut v = s.clone();
    let rename = |arn: &str| match arn.rsplit_once('/') {
        Some((prefix, _)) => format!("{prefix}/someone-else"),
        None => arn.to_owned(),
    };
    v.request.principal_arn = rename(&v.request.principal_arn);
    v.principal = v.principal.take().map(|mut p| {
        p.arn = rename(&p.arn);
        p.unique_id = None;
        p.policies.clear();
        p
    });
    v
}

fn other_bucket(s: &Snapshot) -> Snapshot {
    let mut v = s.clone();
    v.request.bucket = "not-the-checked-bucket".to_owned();
    if let Some(b) = v.bucket.as_mut() {
        b.name = v.request.bucket.clone();
    }
    v
}

fn other_action(s: &Snapshot) -> Snapshot {
    let mut v = s.clone();
    let get = v.request.actions.iter().any(|a| a == "GetObject");
    v.request.actions = vec![if get { "PutObject" } else { "GetObject" }.to_owned()];
    v
}

#[test]
fn no_fix_widens_access_beyond_the_checked_principal_action_and_bucket() {
    let mut compared = 0;
    for (name, original, fix, fixed) in verified_fixes() {
        for (what, before, after) in neighbours(&original, &fixed) {
            let was = diagnose(&before).verdict;
            if was == Verdict::Allowed || was == Verdict::Invalid {
                continue;
            }
            compared += 1;
            let now = diagnose(&after);
            assert_ne!(
                now.verdict,
                Verdict::Allowed,
                "{name}: the fix allows {what} ({was:?} before): {}",
                documents(&fix)
            );
        }
    }
    assert!(compared >= 100, "{compared}");
}

/// Every scenario whose fix is verified: its name, its snapshot, the fix and the fixed snapshot.
fn verified_fixes() -> Vec<(String, Snapshot, Fix, Snapshot)> {
    snapshots()
        .into_iter()
        .filter_map(|(name, value)| {
            let original: Snapshot = serde_json::from_value(value).unwrap();
            let (d, fixed) = diagnose_with_fix(&original);
            match (d.fix, fixed) {
                (Some(fix), Some(fixed)) if fix.verified => Some((name, original, fix, fixed)),
                _ => None,
            }
        })
        .collect()
}

/// The check made by another principal, on another bucket and for another action: before and after the fix.
fn neighbours(original: &Snapshot, fixed: &Snapshot) -> [(&'static str, Snapshot, Snapshot); 3] {
    [
        (
            "another principal",
            other_principal(original),
            other_principal(fixed),
        ),
        (
            "another bucket",
            other_bucket(original),
            other_bucket(fixed),
        ),
        (
            "another action",
            other_action(original),
            other_action(fixed),
        ),
    ]
}

/// The documents a fix changes, as JSON text.
fn documents(fix: &Fix) -> String {
    serde_json::to_string(
        &fix.policies
            .iter()
            .map(|p| &p.document)
            .collect::<Vec<&Value>>(),
    )
    .unwrap()
}

/// The (action, resource) pairs explicitly denied.
fn explicit_denies(d: &Diagnosis) -> Vec<(String, String)> {
    d.evaluations
        .iter()
        .filter(|e| e.decision == RequestDecision::ExplicitDeny)
        .map(|e| (e.action.clone(), e.resource.clone()))
        .collect()
}

/// An exemption is for the checked requests only (action and resource): a Deny that reached the caller's
/// other action or another bucket before the fix still reaches it after (a whole-statement exemption would
/// lift it, which no verified fix may do).
#[test]
fn the_caller_stays_denied_what_the_fix_does_not_need() {
    let mut compared = 0;
    for (name, original, fix, fixed) in verified_fixes() {
        // A `NotPrincipal` that names the caller meant to exclude it from the whole statement: the fix writes
        // it as AWS recommends, which does (and says so); no exemption of ours is involved.
        if not_principal_names_caller(&original) {
            continue;
        }
        // The checked requests: the fix may exempt the caller from exactly these (for another bucket, the KMS
        // requests are on the same key).
        let checked: Vec<(String, String)> = diagnose(&original)
            .evaluations
            .iter()
            .map(|e| (e.action.clone(), e.resource.clone()))
            .collect();
        for (what, before, after) in neighbours(&original, &fixed)
            .into_iter()
            .filter(|(what, _, _)| *what != "another principal")
        {
            let denied: Vec<(String, String)> = explicit_denies(&diagnose(&before))
                .into_iter()
                .filter(|pair| !checked.contains(pair))
                .collect();
            if denied.is_empty() {
                continue;
            }
            compared += 1;
            // The fix's documents and settings, with the request as it was: a request change (through the
            // VPC endpoint, with the header) is not an exemption.
            let mut after = after;
            after.request = before.request.clone();
            let still = explicit_denies(&diagnose(&after));
            for pair in &denied {
                assert!(
                    still.contains(pair),
                    "{name}: the fix lifts the caller's explicit deny of {pair:?} on {what}: {}",
                    documents(&fix)
                );
            }
        }
    }
    assert!(compared >= 10, "{compared}");
}

/// Whether a `NotPrincipal` of the bucket policy names the checked principal.
fn not_principal_names_caller(s: &Snapshot) -> bool {
    let Some(Value::Array(statements)) = s
        .bucket
        .as_ref()
        .and_then(|b| b.policy.as_ref())
        .and_then(|p| p.get("Statement"))
    else {
        return false;
    };
    statements.iter().any(|st| {
        st.get("NotPrincipal")
            .is_some_and(|np| np.to_string().contains(&s.request.principal_arn))
    })
}
