//! The identity of every read, against moto: a reader role is assumed with the scope's `ExternalId` and a
//! session (and source identity) that name the check's namespace; a read cached under one scope's
//! credentials is not served to a check read with other credentials; a KMS key in an account the scope does
//! not allow is not read at all, and the check says which scope to widen.

use crate::support::Moto;
use bucket_access_api::spec::CheckSpec;
use bucket_access_aws::{Collector, CollectorOptions};
use s3_diagnosis::snapshot::SnapshotLayer;
use s3_diagnosis::source::{ReadAccess, ReaderRole};
use s3_diagnosis::{diagnose, Verdict};
use std::collections::{BTreeMap, BTreeSet};

const A: &str = "123456789012";
const B: &str = "444455556666";

fn access(namespace: &str, scope: &str, external_id: &str, key_accounts: &[&str]) -> ReadAccess {
    ReadAccess {
        readers: BTreeMap::from([(
            B.to_owned(),
            ReaderRole {
                role_arn: format!("arn:aws:iam::{B}:role/bucket-access-reader"),
                external_id: Some(external_id.to_owned()),
            },
        )]),
        on_behalf_of: Some(namespace.to_owned()),
        kms_key_accounts: Some(key_accounts.iter().map(|a| (*a).to_owned()).collect()),
        vpc_endpoints: None,
        buckets: None,
        accounts: None,
        object_keys: None,
        scope: Some(scope.to_owned()),
        fresh: false,
        interval: None,
    }
}

/// A collector that talks to `moto` only.
fn collector(moto: &Moto) -> Collector {
    Collector::from_config(
        &crate::support::moto_sdk_config(moto),
        CollectorOptions::default(),
        true,
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `test` on a thread with room: the collection's futures are deep for a test thread's stack in a
/// debug build.
fn on_a_deep_stack(test: impl FnOnce() + Send) {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(32 * 1024 * 1024)
            .spawn_scoped(scope, test)
            .unwrap()
            .join()
            .unwrap();
    });
}

/// The sessions moto issued for the reader role to the operator (the seeding script's own are not):
/// (session name, external id).
fn reader_sessions(moto: &Moto) -> BTreeSet<(String, String)> {
    let data = moto.data();
    data["sts"]["AssumedRole"]
        .as_array()
        .map(|sessions| {
            sessions
                .iter()
                .filter(|s| {
                    s["role_arn"] == format!("arn:aws:iam::{B}:role/bucket-access-reader")
                        && s["session_name"] != "seed"
                })
                .map(|s| {
                    (
                        s["session_name"].as_str().unwrap_or_default().to_owned(),
                        s["external_id"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn reader_roles_are_assumed_per_namespace_with_the_external_id_and_reads_stay_with_their_credentials(
) {
    let moto = Moto::start();
    let seeded = moto.seed(&[]);
    // The bucket's default key is in account B.
    let spec = CheckSpec {
        role_arn: Some(format!("arn:aws:iam::{A}:role/kms-uploader")),
        bucket: "cross-key-bucket".into(),
        ..CheckSpec::default()
    };
    let runtime = runtime();
    let test = || {
        runtime.block_on(async {
            let collector = collector(&moto);
            let described = key_read_through_the_reader_role(&moto, &collector, &spec).await;
            key_outside_the_scope_not_read(&collector, &spec, described).await;
            other_credentials_read_again(&moto, &collector, &spec, described).await;
            same_credentials_served_from_the_cache(&collector, &spec).await;
            endpoint_outside_the_scope_not_used(&collector, &spec, &seeded).await;
            bucket_behind_an_access_point_outside_the_scope_not_read(&collector, &seeded).await;
        })
    };
    on_a_deep_stack(test);
}

/// Scope `a` allows the key's account: the key is read through B's reader role, in a session named after the
/// namespace, with the scope's `ExternalId`. Returns the `kms:DescribeKey` calls so far.
async fn key_read_through_the_reader_role(
    moto: &Moto,
    collector: &Collector,
    spec: &CheckSpec,
) -> u64 {
    let m = collector.metrics();
    let in_a = access("tenant-a", "a", "ext-a", &[A, B]);
    let snapshot = Box::pin(collector.collect(&crate::support::target(spec), &in_a)).await;
    assert_eq!(snapshot.kms_keys.len(), 1, "{:?}", snapshot.unavailable);
    assert!(snapshot.kms_keys[0].arn.contains(B));
    let sessions = reader_sessions(moto);
    assert_eq!(
        sessions,
        BTreeSet::from([("bucket-access.tenant-a".to_owned(), "ext-a".to_owned())]),
        "the namespace names the session, the scope's ExternalId is sent"
    );
    let described = m.count("kms:DescribeKey");
    assert!(described >= 1);
    let by_namespace: BTreeMap<String, u64> = m.calls_by_namespace().into_iter().collect();
    assert!(
        by_namespace.get("tenant-a").copied().unwrap_or(0) > 0,
        "{by_namespace:?}"
    );
    described
}

/// Scope `b` does not allow account B's keys: nothing of the key is read (not even from the cache), and the
/// check cannot be Allowed.
async fn key_outside_the_scope_not_read(collector: &Collector, spec: &CheckSpec, described: u64) {
    let m = collector.metrics();
    let in_b = access("tenant-b", "b", "ext-a", &[A]);
    let snapshot = Box::pin(collector.collect(&crate::support::target(spec), &in_b)).await;
    assert!(
        snapshot.kms_keys.is_empty(),
        "a key outside the scope was served"
    );
    let refused = snapshot
        .unavailable
        .iter()
        .find(|u| u.layer == SnapshotLayer::KmsKey)
        .expect("the key is reported as not seen");
    assert!(
        refused.reason.contains("BucketAccessScope `b`")
            && refused
                .reason
                .starts_with("not read (kms:DescribeKey not called)"),
        "{}",
        refused.reason
    );
    assert!(
        refused.reason.contains("kmsKeyAccounts"),
        "{}",
        refused.reason
    );
    assert_eq!(
        m.count("kms:DescribeKey"),
        described,
        "no KMS call for a key out of scope"
    );
    assert_ne!(diagnose(&snapshot).verdict, Verdict::Allowed);
}

/// The same reader role with another ExternalId is other credentials: the read cached for `a` is not served;
/// the key is read again, in a session of its own.
async fn other_credentials_read_again(
    moto: &Moto,
    collector: &Collector,
    spec: &CheckSpec,
    described: u64,
) {
    let m = collector.metrics();
    let in_c = access("tenant-c", "c", "ext-c", &[A, B]);
    let snapshot = Box::pin(collector.collect(&crate::support::target(spec), &in_c)).await;
    assert_eq!(snapshot.kms_keys.len(), 1, "{:?}", snapshot.unavailable);
    assert!(
        m.count("kms:DescribeKey") > described,
        "served from another scope's cache"
    );
    assert!(
        reader_sessions(moto).contains(&("bucket-access.tenant-c".to_owned(), "ext-c".to_owned()))
    );
}

/// The same credentials again (scope `a`, another namespace of it): served from the cache; a requested
/// re-evaluation reads again, whatever the cache holds.
async fn same_credentials_served_from_the_cache(collector: &Collector, spec: &CheckSpec) {
    let m = collector.metrics();
    let calls = m.count("kms:DescribeKey");
    let again = access("tenant-a2", "a", "ext-a", &[A, B]);
    let snapshot = Box::pin(collector.collect(&crate::support::target(spec), &again)).await;
    assert_eq!(snapshot.kms_keys.len(), 1);
    assert_eq!(
        m.count("kms:DescribeKey"),
        calls,
        "same credentials, same input: one read"
    );
    // A requested re-evaluation reads again, whatever the cache holds.
    let fresh = ReadAccess {
        fresh: true,
        ..again.clone()
    };
    let snapshot = Box::pin(collector.collect(&crate::support::target(spec), &fresh)).await;
    assert_eq!(snapshot.kms_keys.len(), 1);
    assert!(
        m.count("kms:DescribeKey") > calls,
        "a fresh read was served from the cache"
    );
}

/// The VPC's endpoint, found by VPC id, is not one the scope allows: its policy is not used, and the check
/// names the scope to widen; allowed by its pattern, it is used.
async fn endpoint_outside_the_scope_not_used(
    collector: &Collector,
    spec: &CheckSpec,
    seeded: &serde_json::Value,
) {
    let mut through_vpc = spec.clone();
    through_vpc.network = Some(s3_diagnosis::snapshot::Network {
        vpc_id: seeded["vpcId"].as_str().map(str::to_owned),
        ..Default::default()
    });
    let mut narrow = access("tenant-a", "a", "ext-a", &[A, B]);
    narrow.vpc_endpoints = Some(vec!["vpce-0000*".into()]);
    let snapshot =
        Box::pin(collector.collect(&crate::support::target(&through_vpc), &narrow)).await;
    assert!(snapshot.vpc_endpoint.is_none());
    let refused = snapshot
        .unavailable
        .iter()
        .find(|u| u.layer == SnapshotLayer::VpcEndpointPolicy)
        .expect("the endpoint is reported as not seen");
    assert!(
        refused.reason.contains("BucketAccessScope `a`")
            && refused.reason.contains("vpcEndpoints")
            && refused
                .reason
                .starts_with("not used (ec2:DescribeVpcEndpoints answered)"),
        "{}",
        refused.reason
    );
    assert_ne!(diagnose(&snapshot).verdict, Verdict::Allowed);
    // Allowed by its pattern: used.
    narrow.vpc_endpoints = Some(vec!["vpce-*".into()]);
    let snapshot =
        Box::pin(collector.collect(&crate::support::target(&through_vpc), &narrow)).await;
    assert!(
        snapshot.vpc_endpoint.is_some(),
        "{:?}",
        snapshot.unavailable
    );
}

/// The principal that is read is the principal that is authorized: IAM is asked by name, and its answer is
/// held to the check's whole ARN. A path trick (a made-up path in front of another role's name) reads nothing
/// of that role and says the same as for a role that does not exist; the right path is read.
#[test]
fn the_principal_read_is_exactly_the_one_the_check_names() {
    let moto = Moto::start();
    let seeded = moto.seed(&[]);
    let pathed = seeded["pathedRole"].as_str().unwrap().to_owned();
    let runtime = runtime();
    let test = || {
        runtime.block_on(async {
            let collector = collector(&moto);
            // What a missing role gets: the one message every mismatch must repeat.
            let missing = format!("arn:aws:iam::{A}:role/no-such-role");
            let snapshot = Box::pin(collector.collect(
                &crate::support::target(&check_of(&missing)),
                &ReadAccess::default(),
            ))
            .await;
            let d = diagnose(&snapshot);
            assert_eq!(d.verdict, Verdict::Invalid, "{}", d.summary);
            let missing_message = d.causes[0].message.replace(&missing, "ARN");
            assert!(
                !missing_message.contains("cannot be found"),
                "IAM's own text: {missing_message}"
            );

            for trick in [
                // kms-uploader lives at `/`; the scope pattern `role/upload*` used to admit this text.
                format!("arn:aws:iam::{A}:role/uploadX/kms-uploader"),
                // finance-admin lives at `/finance/`: `role/media/*` must not reach it.
                format!("arn:aws:iam::{A}:role/media/finance-admin"),
                format!("arn:aws:iam::{A}:role/finance-admin"),
                // alice (a user at `/`) under a made-up path: neither her policies nor her groups are read.
                format!("arn:aws:iam::{A}:user/fake/alice"),
            ] {
                a_trick_reads_nothing(&collector, &trick, &missing_message).await;
            }

            // The role's own ARN: read, with IAM's ARN. (IAM also finds a name in another case; moto's look-up
            // is case-sensitive, so that case is the unit tests' of `PrincipalArn::same_entity`.)
            for own in [pathed.clone()] {
                let snapshot = Box::pin(collector.collect(
                    &crate::support::target(&check_of(&own)),
                    &ReadAccess::default(),
                ))
                .await;
                let principal = snapshot
                    .principal
                    .as_ref()
                    .unwrap_or_else(|| panic!("{own}: {:?}", snapshot.unavailable));
                assert_eq!(principal.arn, pathed, "{own}");
                assert!(
                    principal.policies.iter().any(|p| p.name == "admin"),
                    "{own}"
                );
            }
        })
    };
    on_a_deep_stack(test);
}

/// A check of `principal` (a role's or a user's ARN) on the plain bucket.
fn check_of(principal: &str) -> CheckSpec {
    let mut spec = CheckSpec {
        bucket: "plain-bucket".into(),
        ..CheckSpec::default()
    };
    if principal.contains(":user/") {
        spec.user_arn = Some(principal.to_owned());
    } else {
        spec.role_arn = Some(principal.to_owned());
    }
    spec
}

/// A principal ARN that names no principal at that path: nothing of it is read or listed, and the message is
/// the one of a missing role.
async fn a_trick_reads_nothing(collector: &Collector, trick: &str, missing_message: &str) {
    let m = collector.metrics();
    let listings = || {
        m.count("iam:ListRolePolicies")
            + m.count("iam:ListAttachedRolePolicies")
            + m.count("iam:ListUserPolicies")
            + m.count("iam:ListGroupsForUser")
    };
    let before = listings();
    let snapshot = Box::pin(collector.collect(
        &crate::support::target(&check_of(trick)),
        &ReadAccess::default(),
    ))
    .await;
    assert!(
        snapshot.principal.is_none(),
        "{trick}: read {:?}",
        snapshot.principal
    );
    assert_eq!(listings(), before, "{trick}: its policies were listed");
    let d = diagnose(&snapshot);
    assert_eq!(d.verdict, Verdict::Invalid, "{trick}: {}", d.summary);
    let ids: Vec<&str> = d.causes.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["PRINCIPAL_NOT_FOUND"], "{trick}");
    let kind = if trick.contains(":user/") {
        "user"
    } else {
        "role"
    };
    assert_eq!(
        d.causes[0]
            .message
            .replace(trick, "ARN")
            .replace("user", "role"),
        missing_message,
        "{trick}: the message tells a mismatch from a missing {kind}"
    );
    let text = serde_json::to_string(&d).unwrap();
    assert!(
        !text.contains("FinanceSecret") && !text.contains("/finance/"),
        "{trick}: {text}"
    );
}

/// Reads that AWS answers for the account of the credentials (a role by name, a VPC's endpoints, a key id)
/// are made only with credentials of the account in question: a member account's role read with the
/// operator's own credentials (another account, no reader role) is not read, and neither are its VPC's
/// endpoints; the texts say that nothing was called.
#[test]
fn reads_by_name_or_id_are_made_only_with_the_accounts_own_credentials() {
    let moto = Moto::start();
    let seeded = moto.seed(&[]);
    let member_role = seeded["memberUploader"].as_str().unwrap().to_owned();
    let runtime = runtime();
    on_a_deep_stack(|| {
        runtime.block_on(async {
            let collector = collector(&moto);
            let m = collector.metrics();
            let spec = CheckSpec {
                role_arn: Some(member_role.clone()),
                bucket: seeded["memberBucket"].as_str().unwrap().to_owned(),
                network: Some(s3_diagnosis::snapshot::Network {
                    vpc_id: seeded["vpcId"].as_str().map(str::to_owned),
                    ..Default::default()
                }),
                ..CheckSpec::default()
            };
            let snapshot =
                Box::pin(collector.collect(&crate::support::target(&spec), &ReadAccess::default()))
                    .await;
            assert!(snapshot.principal.is_none());
            assert_eq!(
                m.count("iam:GetRole"),
                0,
                "a role read by name in the wrong account"
            );
            assert_eq!(
                m.count("ec2:DescribeVpcEndpoints"),
                0,
                "endpoints read in the wrong account"
            );
            for layer in [SnapshotLayer::Identity, SnapshotLayer::VpcEndpointPolicy] {
                let lost = snapshot
                    .unavailable
                    .iter()
                    .find(|u| u.layer == layer)
                    .unwrap_or_else(|| panic!("{layer:?}: {:?}", snapshot.unavailable));
                assert!(
                    lost.reason.starts_with("not read (")
                        && lost.reason.contains("configure a reader role"),
                    "{}",
                    lost.reason
                );
            }
            assert_ne!(diagnose(&snapshot).verdict, Verdict::Allowed);
        })
    });
}

/// The organization is read through the organization reader role when one is configured (as an ordinary
/// member account's operator needs): assumed with its `ExternalId` in a session naming the namespace.
#[test]
fn the_organization_is_read_through_its_reader_role() {
    let moto = Moto::start();
    let seeded = moto.seed(&[]);
    let org_reader = seeded["orgReader"].as_str().unwrap().to_owned();
    let runtime = runtime();
    on_a_deep_stack(|| {
        runtime.block_on(async {
            let collector = Collector::from_config(
                &crate::support::moto_sdk_config(&moto),
                CollectorOptions {
                    organization_reader: Some(ReaderRole {
                        role_arn: org_reader.clone(),
                        external_id: Some("org-ext".into()),
                    }),
                    ..CollectorOptions::default()
                },
                true,
            );
            let spec = CheckSpec {
                role_arn: Some(format!("arn:aws:iam::{A}:role/kms-uploader")),
                bucket: "plain-bucket".into(),
                ..CheckSpec::default()
            };
            let access = ReadAccess {
                on_behalf_of: Some("tenant-a".into()),
                ..ReadAccess::default()
            };
            let snapshot =
                Box::pin(collector.collect(&crate::support::target(&spec), &access)).await;
            let organization = snapshot
                .organization
                .as_ref()
                .expect("the organization was read");
            assert!(organization.id.is_some(), "{organization:?}");
            assert!(
                !snapshot
                    .unavailable
                    .iter()
                    .any(|u| matches!(u.layer, SnapshotLayer::Scp | SnapshotLayer::Rcp)),
                "{:?}",
                snapshot.unavailable
            );
            let data = moto.data();
            let sessions: Vec<(String, String)> = data["sts"]["AssumedRole"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|s| s["role_arn"] == org_reader.as_str())
                .map(|s| {
                    (
                        s["session_name"].as_str().unwrap_or_default().to_owned(),
                        s["external_id"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect();
            assert_eq!(
                sessions,
                [("bucket-access.tenant-a".to_owned(), "org-ext".to_owned())],
                "the organization reader, with its ExternalId, for the namespace"
            );
        })
    });
}

/// A check that names only an access point: the bucket behind it is read only when the scope's `buckets`
/// allow it, and a refused one is named, never read.
async fn bucket_behind_an_access_point_outside_the_scope_not_read(
    collector: &Collector,
    seeded: &serde_json::Value,
) {
    let spec = CheckSpec {
        role_arn: Some(format!("arn:aws:iam::{A}:role/ap-uploader")),
        access_point: seeded["accessPoints"]["uploads"]["arn"]
            .as_str()
            .map(str::to_owned),
        ..CheckSpec::default()
    };
    let target = spec.target().unwrap();
    let mut refused = access("ap", "media", "ext-1", &[A]);
    refused.buckets = Some(vec!["media-*".to_owned()]);
    let snapshot = collector.collect(&target, &refused).await;
    assert_eq!(
        snapshot.access_point.as_ref().map(|a| a.bucket.as_str()),
        Some("ap-bucket")
    );
    assert!(snapshot.bucket.is_none(), "{:?}", snapshot.bucket);
    let why = snapshot
        .unavailable
        .iter()
        .find(|u| u.layer == SnapshotLayer::BucketPolicy)
        .map(|u| u.reason.clone())
        .unwrap_or_default();
    assert!(why.contains("matches none of the buckets"), "{why}");
    assert_eq!(diagnose(&snapshot).verdict, Verdict::Unknown);
    let mut allowed = refused.clone();
    allowed.buckets = Some(vec!["ap-*".to_owned()]);
    let snapshot = collector.collect(&target, &allowed).await;
    assert!(snapshot.bucket.is_some(), "{:?}", snapshot.unavailable);
    assert_eq!(diagnose(&snapshot).verdict, Verdict::Allowed);
}

/// A download reads its object only when the scope's `keys` list its key: otherwise nothing of the object is
/// read (no call), and the check is `Unknown`, naming the scope's `keys`.
#[test]
fn objects_are_read_only_for_the_keys_a_scope_lists() {
    let moto = Moto::start();
    moto.seed(&[]);
    let collector = collector(&moto);
    let download = CheckSpec {
        role_arn: Some(format!("arn:aws:iam::{A}:role/downloader")),
        bucket: "plain-bucket".into(),
        key: Some("archive/2019.csv".into()),
        actions: vec!["GetObject".into()],
        ..CheckSpec::default()
    }
    .target()
    .unwrap();
    let scoped = |keys: &[&str]| ReadAccess {
        object_keys: Some(keys.iter().map(|k| (*k).to_owned()).collect()),
        scope: Some("media".into()),
        ..ReadAccess::default()
    };
    on_a_deep_stack(|| {
        runtime().block_on(async {
            let object_calls = |c: &Collector| {
                c.metrics()
                    .calls()
                    .iter()
                    .filter(|((service, operation, _), _)| {
                        service == "s3"
                            && [
                                "ListObjectsV2",
                                "GetObjectTagging",
                                "GetObjectAcl",
                                "HeadObject",
                            ]
                            .contains(&operation.as_str())
                    })
                    .map(|(_, n)| n)
                    .sum::<u64>()
            };
            let refused = collector.collect(&download, &scoped(&["reports/*"])).await;
            assert!(refused.object.is_none());
            assert!(
                refused
                    .unavailable
                    .iter()
                    .any(|u| u.layer == SnapshotLayer::Object && u.reason.contains("`keys`")),
                "{:?}",
                refused.unavailable
            );
            assert_eq!(
                object_calls(&collector),
                0,
                "nothing of the object was read"
            );
            assert_eq!(diagnose(&refused).verdict, Verdict::Unknown);
            let allowed = collector.collect(&download, &scoped(&["archive/*"])).await;
            assert!(allowed.object.is_some(), "{:?}", allowed.unavailable);
            assert!(object_calls(&collector) > 0);
        });
    });
}
