//! End to end: a real kube-apiserver and etcd (built from Go modules by `tests/apiserver/`), a real moto
//! seeded with the seed article's situations, the CRD from `crds/` and the RBAC from `deploy/`, and the
//! operator binary running under its ServiceAccount's token. Everything is asserted through `kubectl`, as a
//! user would see it.
//!
//! One control plane, one moto and two operator replicas are started once and shared by independent trials,
//! each its own test, so that the first failure does not hide the others. The harness is libtest-mimic (the
//! shared environment is set up before the trials and torn down after them, which the standard harness
//! cannot do); trials run one at a time, in the order below, because some change the shared operators.
//!
//! Ignored by a plain `cargo test` because it needs the Go-built control plane; `make e2e` (part of
//! `make test`, and so of CI) builds it and runs these tests with `--ignored`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failed unwrap is a failed test"
)]

#[path = "../support/mod.rs"]
mod support;

mod chart;
mod cluster;
mod image;
mod install;
mod leader;
mod metrics;
mod release;
mod scale;
mod tenants;
mod verdicts;

use cluster::{
    evaluated, events, eventually, lease_holder, metric, moto_python, wait_for, Cluster, Operator,
    Registry, EXAMPLES, OPERATOR_NS,
};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use support::{root, Moto, TempDir};
use verdicts::{
    examples_reach_their_verdicts, printer_columns_and_describe, unknown_and_invalid_checks,
    wait_recipe_fails_on_denied_passes_on_allowed,
};

/// What the trials share. Dropped in field order: the operators, then the control plane, then moto.
pub(crate) struct Env {
    pub(crate) operators: Mutex<Vec<Operator>>,
    pub(crate) cluster: Cluster,
    pub(crate) moto: Moto,
    pub(crate) dir: TempDir,
    /// The local registry the image and the chart were pushed to, and the image's digest.
    pub(crate) registry: Registry,
    pub(crate) image: String,
}

impl Env {
    /// moto seeded, the control plane with the CRD and the operator's RBAC, two operator replicas, and the
    /// examples applied and evaluated.
    fn start() -> Self {
        let dir = TempDir::new("e2e");
        let moto = Moto::start();
        moto.seed(&[]);
        let cluster = Cluster::start(&dir.0);
        // The image and the chart, as a user gets them: from an OCI registry, the image pinned by digest.
        let registry = Registry::start(&cluster);
        let image = image::build_and_push(&dir.0, &registry);
        let chart = image::push_chart(&cluster, &registry, &dir.0);
        // The chart installs the CRDs (accepted: structural schemas, CEL rules within the cost budget), the
        // operator's and people's RBAC and its objects; the operator runs locally under the ServiceAccount
        // start.sh made (its token), so the chart does not create it.
        install::install_release(&cluster, &registry, &chart, &image);
        cluster.ok(&[
            "wait",
            "--for=condition=Established",
            "crd/bucketaccesschecks.bucketaccess.io",
            "crd/bucketaccessscopes.bucketaccess.io",
            "--timeout=60s",
        ]);
        // The scope that allows namespace `default` the examples.
        cluster.ok(&[
            "apply",
            "-f",
            root().join("deploy/scopes/examples.yaml").to_str().unwrap(),
        ]);
        // The change events queue the replicas follow (an EventBridge rule would fill it).
        moto_python(
            &moto,
            "import boto3,sys; boto3.client('sqs', endpoint_url=sys.argv[1], region_name='us-east-1', \
             aws_access_key_id='testing', aws_secret_access_key='testing').create_queue(QueueName='bucket-access-events')",
        );
        let operators = vec![
            Operator::start(&cluster, &moto, "op-a"),
            Operator::start(&cluster, &moto, "op-b"),
        ];
        wait_for("one replica holds the Lease", 30, || {
            Some(lease_holder(&cluster).is_some())
        });
        // The examples, applied as a user would.
        cluster.ok(&["apply", "-f", root().join("examples").to_str().unwrap()]);
        let applied = std::time::Instant::now();
        let all_evaluated = || {
            let list = cluster.json(&["get", "bac"]);
            let items = list["items"].as_array()?;
            Some(items.len() == EXAMPLES.len() && items.iter().all(evaluated))
        };
        if !eventually(180, all_evaluated) {
            // What a red CI needs to say why: each check's status and both replicas' logs.
            let statuses = cluster.json(&["get", "bac"]);
            for check in statuses["items"].as_array().into_iter().flatten() {
                eprintln!(
                    "{}: {}",
                    check["metadata"]["name"],
                    serde_json::to_string(&check["status"]).unwrap_or_default()
                );
            }
            for operator in &operators {
                eprintln!("--- log of {} ---\n{}", operator.identity, operator.log());
            }
            panic!("the examples were not all evaluated within 180 s (statuses and logs above)");
        }
        eprintln!(
            "every example evaluated {} s after it was applied",
            applied.elapsed().as_secs()
        );
        Self {
            operators: Mutex::new(operators),
            cluster,
            moto,
            dir,
            registry,
            image,
        }
    }

    /// The operator replicas (a trial that failed holding them does not fail the others).
    pub(crate) fn operators(&self) -> std::sync::MutexGuard<'_, Vec<Operator>> {
        self.operators
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The metrics of the replica that holds the Lease.
    /// The leader's resident memory (KiB).
    pub(crate) fn leader_rss_kib(&self) -> Option<u64> {
        let holder = lease_holder(&self.cluster).unwrap_or_default();
        let operators = self.operators();
        operators
            .iter()
            .find(|o| o.identity == holder)
            .and_then(Operator::rss_kib)
    }

    pub(crate) fn leader_metrics(&self) -> String {
        let holder = lease_holder(&self.cluster).unwrap_or_default();
        let operators = self.operators();
        operators
            .iter()
            .find(|o| o.identity == holder)
            .map(Operator::metrics)
            .unwrap_or_default()
    }
}

/// The CRD's CEL rule refuses a check with both `roleArn` and `userArn`.
fn crd_cel_rule_refuses_role_and_user(env: &Env) {
    let cluster = &env.cluster;
    let dir = &env.dir;
    let both = dir.0.join("both.yaml");
    std::fs::write(
        &both,
        r#"{"apiVersion": "bucketaccess.io/v1alpha1", "kind": "BucketAccessCheck",
            "metadata": {"name": "both", "namespace": "default"},
            "spec": {"roleArn": "arn:aws:iam::123456789012:role/uploader",
                     "userArn": "arn:aws:iam::123456789012:user/alice", "bucket": "plain-bucket"}}"#,
    )
    .unwrap();
    let refused = cluster.run(&["apply", "-f", both.to_str().unwrap()]);
    assert!(
        !refused.status.success(),
        "roleArn and userArn together must be refused"
    );
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("set exactly one of roleArn and userArn"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

/// The RBAC of `deploy/` grants the operator what it needs and nothing more.
fn operator_rbac_is_enough_and_no_wider(env: &Env) {
    let cluster = &env.cluster;
    for (allowed, args) in [
        (
            true,
            &["watch", "bucketaccesschecks.bucketaccess.io", "-A"][..],
        ),
        (
            true,
            &[
                "patch",
                "bucketaccesschecks.bucketaccess.io",
                "--subresource=status",
                "-n",
                "default",
            ],
        ),
        (true, &["create", "events.events.k8s.io", "-n", "default"]),
        (
            true,
            &["patch", "leases.coordination.k8s.io", "-n", OPERATOR_NS],
        ),
        (
            false,
            &[
                "update",
                "bucketaccesschecks.bucketaccess.io",
                "-n",
                "default",
            ],
        ),
        (
            false,
            &[
                "delete",
                "bucketaccesschecks.bucketaccess.io",
                "-n",
                "default",
            ],
        ),
        (
            false,
            &[
                "create",
                "bucketaccesschecks.bucketaccess.io",
                "-n",
                "default",
            ],
        ),
        (
            false,
            &["patch", "leases.coordination.k8s.io", "-n", "default"],
        ),
        (true, &["watch", "bucketaccessscopes.bucketaccess.io"]),
        (
            true,
            &[
                "patch",
                "bucketaccessscopes.bucketaccess.io",
                "--subresource=status",
            ],
        ),
        (false, &["update", "bucketaccessscopes.bucketaccess.io"]),
        (false, &["create", "bucketaccessscopes.bucketaccess.io"]),
        (true, &["watch", "namespaces"]),
        (false, &["update", "namespaces"]),
        (false, &["get", "secrets", "-n", OPERATOR_NS]),
        (false, &["get", "configmaps", "-n", "default"]),
    ] {
        assert_eq!(
            cluster.operator_can(args),
            allowed,
            "operator can {}",
            args.join(" ")
        );
    }
}

/// A spec edit is re-evaluated, with a second Event.
fn spec_edit_is_reevaluated(env: &Env) {
    let cluster = &env.cluster;
    // A spec edit is re-evaluated: the storage-class check with the class the policy requires.
    cluster.ok(&[
        "patch",
        "bac",
        "storage-class",
        "--type=merge",
        "-p",
        r#"{"spec":{"upload":{"storageClass":"STANDARD_IA"}}}"#,
    ]);
    wait_for("the edited check is Allowed", 60, || {
        let c = cluster.check("storage-class");
        Some(evaluated(&c) && c["status"]["verdict"] == "Allowed")
    });
    assert_eq!(
        events(cluster, "storage-class")
            .iter()
            .map(|e| e.1.as_str())
            .collect::<Vec<_>>(),
        ["AccessDenied", "AccessAllowed"]
    );
    // A re-evaluation asked for with the annotation is handled now and echoed in the status.
    cluster.ok(&[
        "annotate",
        "bac",
        "storage-class",
        "bucketaccess.io/requested-at=2026-11-28T21:00:00Z",
        "--overwrite",
    ]);
    wait_for("the requested re-evaluation is echoed", 30, || {
        let c = cluster.check("storage-class");
        Some(c["status"]["lastHandledRequestedAt"] == "2026-11-28T21:00:00Z")
    });
}

/// A policy fixed in AWS flips a 30 s check within its interval.
fn policy_fixed_in_aws_flips_the_check(env: &Env) {
    let cluster = &env.cluster;
    let moto = &env.moto;
    let dir = &env.dir;
    // A policy fixed in AWS flips a check within its interval (30 s; reads are at most half of it old). The
    // bucket is the check's own: a read shared with another check may be up to half an interval older.
    moto_python(
        moto,
        "import boto3,json,sys; s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', \
         aws_access_key_id='testing', aws_secret_access_key='testing'); s3.create_bucket(Bucket='e2e-fix'); \
         s3.put_bucket_policy(Bucket='e2e-fix', Policy=json.dumps({'Version': '2012-10-17', 'Statement': [{ \
         'Sid': 'SourceIpOnly', 'Effect': 'Deny', 'Principal': '*', 'Action': 's3:PutObject', \
         'Resource': 'arn:aws:s3:::e2e-fix/*', 'Condition': {'NotIpAddress': {'aws:SourceIp': '54.240.143.0/24'}}}]}))",
    );
    let fix = dir.0.join("fix.yaml");
    std::fs::write(
        &fix,
        r#"{"apiVersion": "bucketaccess.io/v1alpha1", "kind": "BucketAccessCheck",
            "metadata": {"name": "fix-in-aws", "namespace": "default"},
            "spec": {"roleArn": "arn:aws:iam::123456789012:role/uploader", "bucket": "e2e-fix",
                     "network": {"sourceIp": "203.0.113.9"}, "interval": "30s"}}"#,
    )
    .unwrap();
    cluster.ok(&["apply", "-f", fix.to_str().unwrap()]);
    wait_for("fix-in-aws is Denied", 60, || {
        let c = cluster.check("fix-in-aws");
        Some(evaluated(&c) && c["status"]["verdict"] == "Denied")
    });
    moto_python(
        moto,
        "import boto3,sys; boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', \
         aws_access_key_id='testing', aws_secret_access_key='testing').delete_bucket_policy(Bucket='e2e-fix')",
    );
    let fixed_at = Instant::now();
    wait_for("fix-in-aws is Allowed after the policy fix", 45, || {
        Some(cluster.check("fix-in-aws")["status"]["verdict"] == "Allowed")
    });
    eprintln!("policy fix seen after {:?}", fixed_at.elapsed());
}

/// A change in AWS shows within seconds through its CloudTrail event, though the check's interval is an
/// hour: the event drops the bucket's cached reads and re-evaluates the check, whose status says so.
fn change_event_flips_the_check_within_seconds(env: &Env) {
    let cluster = &env.cluster;
    let moto = &env.moto;
    moto_python(
        moto,
        "import boto3,json,sys; s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', \
         aws_access_key_id='testing', aws_secret_access_key='testing'); s3.create_bucket(Bucket='e2e-events'); \
         s3.put_bucket_policy(Bucket='e2e-events', Policy=json.dumps({'Version': '2012-10-17', 'Statement': [{ \
         'Sid': 'NoUploads', 'Effect': 'Deny', 'Principal': '*', 'Action': 's3:PutObject', \
         'Resource': 'arn:aws:s3:::e2e-events/*'}]}))",
    );
    let file = env.dir.0.join("events.yaml");
    std::fs::write(
        &file,
        r#"{"apiVersion": "bucketaccess.io/v1alpha1", "kind": "BucketAccessCheck",
            "metadata": {"name": "follows-events", "namespace": "default"},
            "spec": {"roleArn": "arn:aws:iam::123456789012:role/uploader", "bucket": "e2e-events", "interval": "1h"}}"#,
    )
    .unwrap();
    cluster.ok(&["apply", "-f", file.to_str().unwrap()]);
    wait_for("follows-events is Denied", 60, || {
        let c = cluster.check("follows-events");
        Some(evaluated(&c) && c["status"]["verdict"] == "Denied")
    });
    // The policy goes, and its CloudTrail event arrives through EventBridge's queue.
    moto_python(
        moto,
        "import boto3,json,sys; kw = dict(endpoint_url=sys.argv[1], region_name='us-east-1', \
         aws_access_key_id='testing', aws_secret_access_key='testing'); \
         boto3.client('s3', **kw).delete_bucket_policy(Bucket='e2e-events'); \
         sqs = boto3.client('sqs', **kw); url = sqs.get_queue_url(QueueName='bucket-access-events')['QueueUrl']; \
         sqs.send_message(QueueUrl=url, MessageBody=json.dumps({'version': '0', 'id': 'e2e', \
         'detail-type': 'AWS API Call via CloudTrail', 'source': 'aws.s3', 'account': '123456789012', \
         'time': '2026-12-05T10:00:00Z', 'region': 'us-east-1', 'detail': {'eventSource': 's3.amazonaws.com', \
         'eventName': 'DeleteBucketPolicy', 'recipientAccountId': '123456789012', \
         'requestParameters': {'bucketName': 'e2e-events'}}}))",
    );
    let sent = Instant::now();
    let flipped = eventually(10, || {
        Some(cluster.check("follows-events")["status"]["verdict"] == "Allowed")
    });
    if !flipped {
        let leader = lease_holder(cluster).unwrap_or_default();
        for operator in env.operators().iter().filter(|o| o.identity == leader) {
            let log = operator.log();
            let tail: Vec<&str> = log.lines().rev().take(60).collect();
            eprintln!("--- end of the leader's log ---");
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
        panic!("follows-events was not Allowed within 10 s of the event (the leader's log above)");
    }
    eprintln!("the change event was applied after {:?}", sent.elapsed());
    let status = &cluster.check("follows-events")["status"];
    assert_eq!(status["refreshedBy"], "event", "{status}");
    let leader = lease_holder(cluster).unwrap();
    let operators = env.operators();
    let metrics = operators
        .iter()
        .find(|o| o.identity == leader)
        .unwrap()
        .metrics();
    assert!(
        metric(&metrics, "bucket_access_events_total{outcome=\"applied\"}") >= 1,
        "{metrics}"
    );
}

/// The Helm chart the environment installs.
pub(crate) const CHART: &str = "deploy/helm/bucket-access-operator";

type TrialFn = fn(&Env);

/// The trials, in the order they run.
fn trials() -> [(&'static str, TrialFn); 18] {
    [
        (
            "crd_cel_rule_refuses_role_and_user",
            crd_cel_rule_refuses_role_and_user,
        ),
        (
            "operator_rbac_is_enough_and_no_wider",
            operator_rbac_is_enough_and_no_wider,
        ),
        (
            "helm_chart_installs_what_the_kustomize_base_holds",
            install::helm_chart_installs_what_the_kustomize_base_holds,
        ),
        (
            "one_replica_leads_the_other_stands_by",
            leader::one_replica_leads_the_other_stands_by,
        ),
        (
            "examples_reach_their_verdicts",
            examples_reach_their_verdicts,
        ),
        (
            "metrics_scraped_from_both_replicas",
            metrics::metrics_scraped_from_both_replicas,
        ),
        ("printer_columns_and_describe", printer_columns_and_describe),
        (
            "wait_recipe_fails_on_denied_passes_on_allowed",
            wait_recipe_fails_on_denied_passes_on_allowed,
        ),
        ("unknown_and_invalid_checks", unknown_and_invalid_checks),
        ("spec_edit_is_reevaluated", spec_edit_is_reevaluated),
        (
            "policy_fixed_in_aws_flips_the_check",
            policy_fixed_in_aws_flips_the_check,
        ),
        (
            "change_event_flips_the_check_within_seconds",
            change_event_flips_the_check_within_seconds,
        ),
        (
            "tenants_are_bounded_by_their_scopes",
            tenants::tenants_are_bounded_by_their_scopes,
        ),
        (
            "leader_failover_and_handover",
            leader::leader_failover_and_handover,
        ),
        (
            "scope_mode_off_keeps_todays_behaviour",
            tenants::scope_mode_off_keeps_todays_behaviour,
        ),
        (
            "shards_divide_the_checks",
            tenants::shards_divide_the_checks,
        ),
        (
            "the_release_workflow_lints_and_calls_what_exists",
            release::the_release_workflow_lints_and_calls_what_exists,
        ),
        // Last: it hands the Lease from the environment's replicas to the operator run from the image.
        (
            "the_image_runs_the_operator",
            image::the_image_runs_the_operator,
        ),
    ]
}

fn main() -> std::process::ExitCode {
    // The scale trial runs alone, only when asked for (`make scale`): not part of `make test`.
    if let Ok(steps) = std::env::var("SCALE_STEPS") {
        let steps: Vec<usize> = steps
            .split(',')
            .map(|s| {
                s.trim()
                    .parse()
                    .expect("SCALE_STEPS: check counts, e.g. 10000,30000")
            })
            .collect();
        scale::run(&steps);
        return std::process::ExitCode::SUCCESS;
    }
    let mut args = libtest_mimic::Arguments::from_args();
    // The trials share operators and change them: one at a time, in order.
    args.test_threads = Some(1);
    let trials = trials();
    let runs = args.ignored || args.include_ignored;
    let selected = trials
        .iter()
        .any(|(name, _)| args.filter.as_deref().is_none_or(|f| name.contains(f)));
    let env = (runs && selected && !args.list).then(|| Arc::new(Env::start()));
    let tests = trials
        .into_iter()
        .enumerate()
        .map(|(i, (name, run))| {
            let env = env.clone();
            libtest_mimic::Trial::test(format!("{:02}_{name}", i + 1), move || {
                match env {
                    Some(env) => run(&env),
                    None => return Err("the shared environment did not start".into()),
                }
                Ok(())
            })
            .with_ignored_flag(true)
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, tests);
    // The trials have dropped their references: this drops the environment (operators, control plane,
    // moto) before the process exits.
    drop(env);
    conclusion.exit_code()
}
