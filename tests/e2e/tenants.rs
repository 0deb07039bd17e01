//! The trust boundary on the real API server: two tenant namespaces with scopes of their own, a tenant who
//! holds only the built-in `edit` role (aggregated from deploy/base/rbac-people.yaml by the real aggregation
//! controller), checks in and out of scope, relabelling and scope edits moving checks across the boundary
//! without a restart, and `--scope-mode off`.

use crate::cluster::{
    condition, evaluated, events_in, lease_holder, lease_holder_of, metric, wait_for, Operator,
};
use crate::Env;
use serde_json::Value;

const TENANT: &str = "alice";

fn scopes_and_tenants() -> String {
    r#"{"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "tenant-a", "labels": {"team": "a"}}},
  {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "tenant-b", "labels": {"team": "b"}}},
  {"apiVersion": "bucketaccess.io/v1alpha1", "kind": "BucketAccessScope", "metadata": {"name": "team-a"},
   "spec": {"namespaceSelector": {"matchLabels": {"team": "a"}},
            "principals": ["arn:aws:iam::123456789012:role/uploader", "arn:aws:iam::123456789012:role/upload*"],
            "buckets": ["seed-storage-class"],
            "accounts": [{"id": "123456789012", "readerRoleArn": "arn:aws:iam::123456789012:role/bucket-access-reader",
                          "externalId": "team-a-ext"}],
            "detail": "Summary"}},
  {"apiVersion": "bucketaccess.io/v1alpha1", "kind": "BucketAccessScope", "metadata": {"name": "team-b"},
   "spec": {"namespaceSelector": {"matchLabels": {"team": "b"}},
            "principals": ["arn:aws:iam::123456789012:role/acl-*"], "buckets": ["seed-acl"],
            "accounts": [{"id": "123456789012"}]}},
  {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
   "metadata": {"name": "alice-edit", "namespace": "tenant-a"},
   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
   "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}]}
]}"#
    .to_owned()
}

fn check(name: &str, role: &str, bucket: &str) -> String {
    format!(
        r#"{{"apiVersion": "bucketaccess.io/v1alpha1", "kind": "BucketAccessCheck",
            "metadata": {{"name": "{name}", "namespace": "tenant-a"}},
            "spec": {{"roleArn": "arn:aws:iam::123456789012:role/{role}", "bucket": "{bucket}", "interval": "1h"}}}}"#
    )
}

fn out_of_scope(c: &Value) -> bool {
    c["status"]["verdict"] == "Invalid" && condition(c, "Ready")["reason"] == "OutOfScope"
}

fn in_scope_of(c: &Value, scope: &str) -> bool {
    evaluated(c) && c["status"]["scope"]["name"] == scope && c["status"]["verdict"] == "Denied"
}

/// Two tenants, a tenant user with `edit` only, checks in and out of scope, the boundary moved.
pub(crate) fn tenants_are_bounded_by_their_scopes(env: &Env) {
    let cluster = &env.cluster;
    let dir = &env.dir.0;
    let leader = lease_holder(cluster).unwrap();
    let setup = dir.join("tenants.json");
    std::fs::write(&setup, scopes_and_tenants()).unwrap();
    cluster.ok(&["apply", "-f", setup.to_str().unwrap()]);
    a_tenant_may_write_checks_and_nothing_else(env);
    // The scopes' own status: valid, and how many namespaces they select.
    wait_for("the scopes are Valid", 30, || {
        let s = cluster.json(&["get", "bas", "team-a"]);
        Some(condition(&s, "Valid")["status"] == "True" && s["status"]["selectedNamespaces"] == 1)
    });

    a_check_in_scope_is_shown_at_summary(env);
    let calls = the_path_trick_reads_nothing(env);
    out_of_scope_costs_no_call(env, calls);
    re_creating_a_check_reads_aws_once(env);
    creating_and_deleting_checks_leaves_the_leader_s_memory_bounded(env);
    the_boundary_moves_without_a_restart(env, &leader);
}

/// What the tenant may do: checks in its namespace (through the aggregated `edit` role), nothing else.
fn a_tenant_may_write_checks_and_nothing_else(env: &Env) {
    let cluster = &env.cluster;
    let dir = &env.dir.0;
    wait_for("the edit role aggregates the checks", 30, || {
        Some(cluster.user_can(
            TENANT,
            &[
                "create",
                "bucketaccesschecks.bucketaccess.io",
                "-n",
                "tenant-a",
            ],
        ))
    });
    for (allowed, args) in [
        (
            true,
            &[
                "update",
                "bucketaccesschecks.bucketaccess.io",
                "-n",
                "tenant-a",
            ][..],
        ),
        (
            true,
            &[
                "delete",
                "bucketaccesschecks.bucketaccess.io",
                "-n",
                "tenant-a",
            ],
        ),
        (
            false,
            &[
                "get",
                "bucketaccesschecks.bucketaccess.io",
                "-n",
                "tenant-b",
            ],
        ),
        (
            false,
            &[
                "list",
                "bucketaccesschecks.bucketaccess.io",
                "-n",
                "default",
            ],
        ),
        (false, &["create", "bucketaccessscopes.bucketaccess.io"]),
        (false, &["update", "bucketaccessscopes.bucketaccess.io"]),
        (false, &["delete", "bucketaccessscopes.bucketaccess.io"]),
        (false, &["get", "bucketaccessscopes.bucketaccess.io"]),
        (false, &["patch", "namespaces"]),
    ] {
        assert_eq!(
            cluster.user_can(TENANT, args),
            allowed,
            "{TENANT} can {}",
            args.join(" ")
        );
    }
    let own_scope = dir.join("own-scope.json");
    std::fs::write(
        &own_scope,
        r#"{"apiVersion": "bucketaccess.io/v1alpha1", "kind": "BucketAccessScope", "metadata": {"name": "mine"},
            "spec": {"namespaces": ["tenant-a"], "principals": ["*"], "buckets": ["*"], "accounts": [{"id": "123456789012"}]}}"#,
    )
    .unwrap();
    let refused = cluster.run(&["--as", TENANT, "apply", "-f", own_scope.to_str().unwrap()]);
    assert!(!refused.status.success(), "a tenant created a scope");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("forbidden"));
}

/// In scope, created by the tenant: evaluated, read through team-a's reader role, shown at Summary.
fn a_check_in_scope_is_shown_at_summary(env: &Env) {
    let cluster = &env.cluster;
    let dir = &env.dir.0;
    let upload = dir.join("upload.json");
    std::fs::write(&upload, check("upload", "uploader", "seed-storage-class")).unwrap();
    cluster.ok(&["--as", TENANT, "apply", "-f", upload.to_str().unwrap()]);
    wait_for("upload is evaluated under team-a", 60, || {
        Some(in_scope_of(
            &cluster.check_in("tenant-a", "upload"),
            "team-a",
        ))
    });
    // Read as the tenant reads it: Summary shows the catalog's general words, and neither the storage class
    // the bucket policy wants (in the remediation and the fix's command before), nor a command, a patch or
    // the input digest.
    let c: Value = serde_json::from_str(&cluster.ok(&[
        "--as", TENANT, "get", "bac", "upload", "-n", "tenant-a", "-o", "json",
    ]))
    .unwrap();
    assert_eq!(c["status"]["scope"]["detail"], "Summary");
    let first = &c["status"]["causes"][0];
    assert_eq!(
        first["id"], "BUCKET_POLICY_CONDITION_STORAGE_CLASS",
        "{first}"
    );
    assert!(
        first["message"]
            .as_str()
            .unwrap()
            .starts_with("A condition on `s3:x-amz-storage-class`"),
        "{first}"
    );
    let status = c["status"].to_string();
    for withheld in [
        "STANDARD_IA",
        "policyPatch",
        "\"command\"",
        "inputDigest",
        "put-object",
    ] {
        assert!(
            !status.contains(withheld),
            "{withheld} at Summary: {status}"
        );
    }
}

/// The path trick: `role/upload*` admits roles named upload... at the path `/`, not a role of another name
/// under a made-up path `/uploadX/`. Out of scope, nothing read, nothing of kms-uploader shown. Returns the
/// AWS calls made for the namespace so far.
fn the_path_trick_reads_nothing(env: &Env) -> u64 {
    let cluster = &env.cluster;
    let dir = &env.dir.0;
    let trick = dir.join("trick.json");
    std::fs::write(
        &trick,
        check("trick", "uploadX/kms-uploader", "seed-storage-class"),
    )
    .unwrap();
    cluster.ok(&["--as", TENANT, "apply", "-f", trick.to_str().unwrap()]);
    wait_for("the path trick is out of scope", 60, || {
        Some(out_of_scope(&cluster.check_in("tenant-a", "trick")))
    });
    let c: Value = serde_json::from_str(&cluster.ok(&[
        "--as", TENANT, "get", "bac", "trick", "-n", "tenant-a", "-o", "json",
    ]))
    .unwrap();
    let status = c["status"].to_string();
    assert!(
        status.contains("matches none of its `principals`"),
        "{status}"
    );
    assert!(
        c["status"]["causes"].as_array().is_none_or(Vec::is_empty),
        "{status}"
    );
    cluster.ok(&["delete", "bac", "trick", "-n", "tenant-a"]);
    let sessions = env.moto.data();
    let issued = sessions["sts"]["AssumedRole"].as_array().unwrap();
    assert!(
        issued
            .iter()
            .any(|s| s["session_name"] == "bucket-access.tenant-a"
                && s["external_id"] == "team-a-ext"),
        "the reader role was assumed for tenant-a with team-a's ExternalId"
    );
    std::thread::sleep(std::time::Duration::from_secs(2));
    let metrics = env.leader_metrics();
    let series = r#"bucket_access_aws_calls_by_namespace_total{namespace="tenant-a"}"#;
    let calls = metric(&metrics, series);
    assert!(calls > 0, "{metrics}");
    calls
}

/// Out of scope (team-a does not allow this role or bucket): Invalid/OutOfScope, one Warning Event, and not
/// one AWS call for it.
fn out_of_scope_costs_no_call(env: &Env, calls: u64) {
    let cluster = &env.cluster;
    let dir = &env.dir.0;
    let series = r#"bucket_access_aws_calls_by_namespace_total{namespace="tenant-a"}"#;
    let acl = dir.join("acl.json");
    std::fs::write(&acl, check("acl", "acl-uploader", "seed-acl")).unwrap();
    cluster.ok(&["--as", TENANT, "apply", "-f", acl.to_str().unwrap()]);
    wait_for("acl is out of scope", 60, || {
        let c = cluster.check_in("tenant-a", "acl");
        Some(out_of_scope(&c) && !events_in(cluster, "tenant-a", "acl").is_empty())
    });
    let c = cluster.check_in("tenant-a", "acl");
    assert_eq!(condition(&c, "Stalled")["status"], "True");
    let summary = c["status"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("`team-a`") && summary.contains("acl-uploader"),
        "{summary}"
    );
    let events = events_in(cluster, "tenant-a", "acl");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        (events[0].0.as_str(), events[0].1.as_str()),
        ("Warning", "OutOfScope")
    );
    let metrics = env.leader_metrics();
    assert_eq!(
        metric(&metrics, series),
        calls,
        "an AWS call was made for an out-of-scope check"
    );
    assert!(
        metric(
            &metrics,
            r#"bucket_access_out_of_scope_total{namespace="tenant-a"}"#
        ) >= 1
    );
    assert_eq!(
        metric(&metrics, r#"bucket_access_scope_mode{mode="enforce"}"#),
        1
    );
}

/// A check deleted and re-created with a new `requested-at` value, again and again: the first reads AWS
/// fresh, the others within a minute (the operator's default `minInterval`, team-a sets none) are answered
/// from cached reads, and the status says so.
fn re_creating_a_check_reads_aws_once(env: &Env) {
    let cluster = &env.cluster;
    let dir = &env.dir.0;
    let series = r#"bucket_access_aws_calls_by_namespace_total{namespace="tenant-a"}"#;
    let file = dir.join("again.json");
    let mut before = 0;
    for round in 0..4 {
        let at = format!("2026-12-07T10:00:0{round}Z");
        let mut manifest: Value =
            serde_json::from_str(&check("again", "uploader", "seed-storage-class")).unwrap();
        manifest["metadata"]["annotations"] =
            serde_json::json!({"bucketaccess.io/requested-at": at});
        std::fs::write(&file, manifest.to_string()).unwrap();
        cluster.ok(&["--as", TENANT, "create", "-f", file.to_str().unwrap()]);
        wait_for(&format!("round {round} is handled"), 60, || {
            let c = cluster.check_in("tenant-a", "again");
            Some(c["status"]["lastHandledRequestedAt"] == at.as_str())
        });
        let c = cluster.check_in("tenant-a", "again");
        assert_eq!(c["status"]["refreshedBy"], "requested");
        let calls = metric(&env.leader_metrics(), series);
        if round == 0 {
            before = calls;
        } else {
            let notes = c["status"]["scope"]["notes"].to_string();
            assert!(notes.contains("the operator's default"), "{notes}");
            assert_eq!(
                calls, before,
                "round {round}: a re-created check read AWS again"
            );
        }
        cluster.ok(&["--as", TENANT, "delete", "bac", "again", "-n", "tenant-a"]);
    }
}

/// 250 checks with a large `requested-at` value (200 KiB) created and deleted, 25 at a time, in a namespace no
/// scope selects: the leader keeps a digest of each value, not the value, and its memory does not grow with
/// them once warm (kept, the 200 values of the last eight rounds would be 39 MiB; a round's objects are 5 MiB,
/// and the allocator's resident size moves by up to 10 MiB between runs).
fn creating_and_deleting_checks_leaves_the_leader_s_memory_bounded(env: &Env) {
    let cluster = &env.cluster;
    let dir = &env.dir.0;
    cluster.ok(&["create", "namespace", "churn"]);
    let value = "x".repeat(200 * 1024);
    // Measured from the third round on: the first rounds raise the allocator's high-water mark (watch
    // events, status writes and their answers each hold a copy of an object in flight), which it keeps.
    let mut rss_before = 0;
    for round in 0..10 {
        if round == 2 {
            rss_before = env.leader_rss_kib().unwrap();
        }
        let items: Vec<Value> = (0..25)
            .map(|n| {
                let mut c: Value =
                    serde_json::from_str(&check(&format!("churn-{n}"), "uploader", "seed-acl"))
                        .unwrap();
                c["metadata"]["namespace"] = Value::from("churn");
                c["metadata"]["annotations"] =
                    serde_json::json!({"bucketaccess.io/requested-at": format!("{round}{value}")});
                c
            })
            .collect();
        let file = dir.join("churn.json");
        let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items});
        std::fs::write(&file, list.to_string()).unwrap();
        cluster.ok(&["create", "-f", file.to_str().unwrap()]);
        wait_for(&format!("churn round {round} is out of scope"), 120, || {
            let list = cluster.json(&["get", "bac", "-n", "churn"]);
            let items = list["items"].as_array()?;
            Some(items.len() == 25 && items.iter().all(out_of_scope))
        });
        cluster.ok(&["delete", "bac", "--all", "-n", "churn", "--wait"]);
    }
    let rss_after = env.leader_rss_kib().unwrap();
    let grown = rss_after.saturating_sub(rss_before) / 1024;
    eprintln!(
        "leader RSS {} MiB after two rounds, {} MiB after ten (250 checks with 200 KiB values created and deleted)",
        rss_before / 1024,
        rss_after / 1024
    );
    assert!(grown < 18, "the leader grew {grown} MiB over eight rounds");
    let remembered = metric(&env.leader_metrics(), "bucket_access_remembered_checks");
    assert!(remembered > 0, "the memory's size is shown");
    cluster.ok(&["delete", "namespace", "churn", "--wait=false"]);
}

/// Relabelled to team b: acl enters scope (evaluated under team-b), upload leaves it; a scope edited, a scope
/// deleted. No restart.
fn the_boundary_moves_without_a_restart(env: &Env, leader: &str) {
    let cluster = &env.cluster;
    cluster.ok(&["label", "namespace", "tenant-a", "team=b", "--overwrite"]);
    wait_for("the relabel moves both checks", 60, || {
        Some(
            in_scope_of(&cluster.check_in("tenant-a", "acl"), "team-b")
                && out_of_scope(&cluster.check_in("tenant-a", "upload")),
        )
    });
    // And back.
    cluster.ok(&["label", "namespace", "tenant-a", "team=a", "--overwrite"]);
    wait_for("relabelled back", 60, || {
        Some(
            in_scope_of(&cluster.check_in("tenant-a", "upload"), "team-a")
                && out_of_scope(&cluster.check_in("tenant-a", "acl")),
        )
    });
    // A scope edit widens team-a to acl too; deleting team-a puts both out of scope.
    cluster.ok(&[
        "patch",
        "bas",
        "team-a",
        "--type=merge",
        "-p",
        r#"{"spec":{"principals":["arn:aws:iam::123456789012:role/uploader","arn:aws:iam::123456789012:role/acl-uploader"],"buckets":["seed-storage-class","seed-acl"]}}"#,
    ]);
    wait_for("the widened scope allows acl", 60, || {
        Some(in_scope_of(&cluster.check_in("tenant-a", "acl"), "team-a"))
    });
    cluster.ok(&["delete", "bas", "team-a"]);
    wait_for("the deleted scope leaves both out of scope", 60, || {
        Some(
            out_of_scope(&cluster.check_in("tenant-a", "acl"))
                && out_of_scope(&cluster.check_in("tenant-a", "upload")),
        )
    });
    assert_eq!(
        lease_holder(cluster).unwrap(),
        leader,
        "no restart, no failover"
    );
    cluster.ok(&["delete", "bac", "--all", "-n", "tenant-a"]);
    cluster.ok(&["delete", "bas", "team-b"]);
}

/// `--scope-mode off`: today's behaviour, for single-tenant clusters. Runs last: it replaces the replicas.
pub(crate) fn scope_mode_off_keeps_todays_behaviour(env: &Env) {
    let cluster = &env.cluster;
    let mut operators = env.operators();
    for o in operators.iter_mut() {
        o.kill();
    }
    let off = Operator::start_with(cluster, &env.moto, "op-off", &["--scope-mode", "off"]);
    wait_for("the off-mode replica leads", 30, || {
        Some(lease_holder(cluster).as_deref() == Some("op-off"))
    });
    assert!(
        off.log().contains("scopes are not enforced"),
        "{}",
        off.log()
    );
    assert_eq!(
        metric(&off.metrics(), r#"bucket_access_scope_mode{mode="off"}"#),
        1
    );
    // A namespace no scope selects, a check choosing its own reader role: evaluated as before scopes.
    let dir = &env.dir.0;
    let file = dir.join("unscoped.json");
    std::fs::write(
        &file,
        r#"{"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "unscoped"}},
  {"apiVersion": "bucketaccess.io/v1alpha1", "kind": "BucketAccessCheck",
   "metadata": {"name": "kms-cross-account-key", "namespace": "unscoped"},
   "spec": {"roleArn": "arn:aws:iam::123456789012:role/kms-uploader", "bucket": "cross-key-bucket",
            "readRoleArns": {"444455556666": "arn:aws:iam::444455556666:role/bucket-access-reader"}}}]}"#,
    )
    .unwrap();
    cluster.ok(&["apply", "-f", file.to_str().unwrap()]);
    wait_for("the unscoped check is evaluated", 60, || {
        let c = cluster.check_in("unscoped", "kms-cross-account-key");
        Some(evaluated(&c))
    });
    let c = cluster.check_in("unscoped", "kms-cross-account-key");
    assert_eq!(
        c["status"]["verdict"], "Denied",
        "{}",
        c["status"]["summary"]
    );
    assert!(c["status"].get("scope").is_none());
    assert_ne!(condition(&c, "Ready")["reason"], "OutOfScope");
    operators.push(off);
}

/// Sharding: two replicas with disjoint selectors each hold a Lease of their own and evaluate only their
/// checks. Runs last: it replaces the replicas.
pub(crate) fn shards_divide_the_checks(env: &Env) {
    let cluster = &env.cluster;
    let mut operators = env.operators();
    for o in operators.iter_mut() {
        o.kill();
    }
    let (a, b) = ("bucketaccess.io/shard=a", "bucketaccess.io/shard!=a");
    let shard_a = Operator::start_with(cluster, &env.moto, "op-shard-a", &["--selector", a]);
    let shard_b = Operator::start_with(cluster, &env.moto, "op-shard-b", &["--selector", b]);
    let lease = |selector| {
        bucket_access_operator::cli::operator::shard_lease_name(
            "bucket-access-operator",
            Some(selector),
        )
    };
    wait_for("each shard holds its own Lease", 30, || {
        Some(
            lease_holder_of(cluster, &lease(a)).as_deref() == Some("op-shard-a")
                && lease_holder_of(cluster, &lease(b)).as_deref() == Some("op-shard-b"),
        )
    });
    let file = env.dir.0.join("sharded.json");
    std::fs::write(
        &file,
        r#"{"apiVersion": "bucketaccess.io/v1alpha1", "kind": "BucketAccessCheck",
   "metadata": {"name": "sharded-a", "namespace": "default", "labels": {"bucketaccess.io/shard": "a"}},
   "spec": {"userArn": "arn:aws:iam::123456789012:user/alice", "bucket": "plain-bucket"}}"#,
    )
    .unwrap();
    cluster.ok(&["apply", "-f", file.to_str().unwrap()]);
    wait_for("shard a evaluates its check", 60, || {
        Some(evaluated(&cluster.check("sharded-a")))
    });
    let series =
        r#"bucket_access_check_verdict{namespace="default",name="sharded-a",verdict="Allowed"}"#;
    assert_eq!(
        metric(&shard_a.metrics(), series),
        1,
        "{}",
        shard_a.metrics()
    );
    assert!(
        !shard_b.metrics().contains("name=\"sharded-a\""),
        "shard b sees shard a's check"
    );
    // Shard b has every other check: the examples, among them.
    assert!(
        shard_b.metrics().contains("name=\"sse-fixed\""),
        "{}",
        shard_b.metrics()
    );
    assert!(
        !shard_a.metrics().contains("name=\"sse-fixed\""),
        "{}",
        shard_a.metrics()
    );
    operators.push(shard_a);
    operators.push(shard_b);
}
