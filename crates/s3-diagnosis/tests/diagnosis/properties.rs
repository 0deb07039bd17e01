//! Properties of the diagnosis on arbitrary snapshots (scenario snapshots with random parts replaced by
//! random JSON): no panic; a snapshot round-trips through serde; the verdict rules hold.

use proptest::prelude::*;
use s3_diagnosis::causes::Severity;
use s3_diagnosis::snapshot::Snapshot;
use s3_diagnosis::{diagnose, Verdict};
use serde_json::{json, Value};
use std::sync::OnceLock;

fn seeds() -> &'static Vec<Value> {
    static SEEDS: OnceLock<Vec<Value>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        crate::scenarios::snapshots()
            .into_iter()
            .map(|(_, v)| v)
            .collect()
    })
}

/// Places worth breaking.
const PATHS: [&str; 22] = [
    "/request/principalArn",
    "/request/upload",
    "/request/upload/acl",
    "/request/upload/serverSideEncryption",
    "/request/upload/sseKmsKeyId",
    "/request/network",
    "/request/network/sourceIp",
    "/request/context",
    "/request/skipLayers",
    "/principal",
    "/principal/policies",
    "/principal/permissionsBoundary",
    "/principal/sessionPolicy",
    "/organization",
    "/bucket",
    "/bucket/policy",
    "/bucket/accountId",
    "/bucket/encryption",
    "/vpcEndpoint",
    "/kmsKeys",
    "/unavailable",
    "/bucket/ownership",
];

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        prop_oneof![
            Just("aws:kms".to_owned()),
            Just("arn:aws:iam::111122223333:role/x".to_owned()),
            Just("BucketOwnerEnforced".to_owned()),
            Just("*".to_owned()),
            Just("scp".to_owned()),
            ".{0,10}"
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("Version".to_owned()),
                    Just("Statement".to_owned()),
                    Just("Effect".to_owned()),
                    Just("layer".to_owned()),
                    Just("reason".to_owned()),
                    Just("document".to_owned()),
                    "[a-zA-Z]{1,8}"
                ],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_snapshots_never_panic_and_keep_the_verdict_rules(
        seed in 0usize..1000,
        edits in prop::collection::vec((0usize..PATHS.len(), value()), 0..4),
    ) {
        let seeds = seeds();
        let mut snapshot = seeds[seed % seeds.len()].clone();
        for (path, v) in edits {
            if let Some(slot) = snapshot.pointer_mut(PATHS[path]) {
                *slot = v;
            }
        }
        let Ok(parsed) = serde_json::from_value::<Snapshot>(snapshot) else { return Ok(()) };
        // Round trip.
        let again: Snapshot = serde_json::from_value(serde_json::to_value(&parsed).unwrap()).unwrap();
        prop_assert_eq!(&again, &parsed);
        let d = diagnose(&parsed);
        let errors = d.causes.iter().filter(|c| c.severity == Severity::Error).count();
        match d.verdict {
            Verdict::Allowed => {
                prop_assert_eq!(errors, 0, "{:?}", d.causes);
                prop_assert!(d.unknown.is_empty());
            }
            Verdict::Denied | Verdict::Invalid => prop_assert!(errors > 0),
            Verdict::Unknown => prop_assert!(!d.unknown.is_empty() || errors > 0 || d.evaluations.iter().any(|e| e.decision != s3_diagnosis::RequestDecision::Allowed)),
        }
        prop_assert!(serde_json::to_string(&d).is_ok());
    }
}

#[test]
fn every_scenario_snapshot_round_trips() {
    for seed in seeds() {
        let parsed: Snapshot = serde_json::from_value(seed.clone()).unwrap();
        let again: Snapshot =
            serde_json::from_value(serde_json::to_value(&parsed).unwrap()).unwrap();
        assert_eq!(again, parsed);
    }
}

#[test]
fn an_unreadable_layer_never_yields_allowed_unless_skipped() {
    for seed in seeds() {
        let parsed: Snapshot = serde_json::from_value(seed.clone()).unwrap();
        if diagnose(&parsed).verdict != Verdict::Allowed {
            continue;
        }
        for layer in [
            "identity",
            "permissionsBoundary",
            "scp",
            "rcp",
            "bucketPolicy",
        ] {
            let mut broken = seed.clone();
            broken["unavailable"] = json!([{"layer": layer, "reason": "AccessDenied"}]);
            broken["request"]["skipLayers"] = json!([]);
            let s: Snapshot = serde_json::from_value(broken.clone()).unwrap();
            assert_eq!(
                diagnose(&s).verdict,
                Verdict::Unknown,
                "{layer} unreadable in {}",
                broken["request"]
            );
            broken["request"]["skipLayers"] = json!([layer]);
            let s: Snapshot = serde_json::from_value(broken).unwrap();
            let d = diagnose(&s);
            assert_eq!(d.verdict, Verdict::Allowed, "{layer} skipped");
            // The skipped layer is assumed once (a client model's keys are assumptions of layer `request`).
            let skipped = d.assumptions.iter().filter(|a| a.layer.name() == layer);
            assert_eq!(skipped.count(), 1, "{:?}", d.assumptions);
        }
    }
}
