//! The Lease: one replica leads and the other stands by; killing the leader loses nothing (the follower takes
//! over, keeps every status and evaluates new edits); a restarted replica takes the Lease handed over.

use crate::cluster::{condition, evaluated, events, lease_holder, wait_for, Operator, EXAMPLES};
use crate::Env;
use std::time::Duration;

/// The replica holding the Lease and another one.
fn leader_and_follower<'o>(
    operators: &'o [Operator],
    holder: &str,
) -> (&'o Operator, &'o Operator) {
    let leader = operators.iter().find(|o| o.identity == holder).unwrap();
    let follower = operators.iter().find(|o| o.identity != holder).unwrap();
    (leader, follower)
}

/// Two replicas: one holds the Lease and reconciles, the other stands by; the verdict gauge counts the examples.
pub(crate) fn one_replica_leads_the_other_stands_by(env: &Env) {
    let cluster = &env.cluster;
    let holder = lease_holder(cluster).unwrap();
    let operators = env.operators();
    let (leader, follower) = leader_and_follower(&operators, &holder);
    assert_eq!(leader.identity, holder);
    assert!(
        leader.reconciles() >= EXAMPLES.len() as u64,
        "{}",
        leader.metrics()
    );
    assert_eq!(
        follower.reconciles(),
        0,
        "the follower reconciled: {}",
        follower.metrics()
    );
    assert!(!follower.log().contains("leading: starting the controller"));
    // The verdict gauge counts the examples by the verdict each must reach.
    let gauge = leader.metrics();
    for verdict in ["Denied", "Allowed"] {
        let count = EXAMPLES.iter().filter(|(_, v, _)| *v == verdict).count();
        assert!(
            gauge.contains(&format!(
                "bucket_access_checks{{verdict=\"{verdict}\"}} {count}"
            )),
            "{gauge}"
        );
    }
}

/// Killing the leader loses nothing; a restarted replica stands by; SIGTERM hands the Lease over.
pub(crate) fn leader_failover_and_handover(env: &Env) {
    let cluster = &env.cluster;
    // Killing the leader loses nothing: the follower takes the Lease once it expires, keeps every status
    // (no new Event, lastTransitionTime kept) and evaluates new edits.
    let before = cluster.json(&["get", "bac"]);
    let events_before = events(cluster, "put-object-acl");
    let leader_name = lease_holder(cluster).unwrap();
    let mut operators = env.operators();
    operators
        .iter_mut()
        .find(|o| o.identity == leader_name)
        .unwrap()
        .kill();
    wait_for("the follower takes the Lease", 30, || {
        Some(lease_holder(cluster).is_some_and(|h| h != leader_name))
    });
    cluster.ok(&[
        "patch",
        "bac",
        "acl",
        "--type=merge",
        "-p",
        r#"{"spec":{"upload":{"acl":"bucket-owner-full-control"}}}"#,
    ]);
    let started = std::time::Instant::now();
    let seen = crate::cluster::eventually(120, || {
        let c = cluster.check("acl");
        Some(evaluated(&c) && c["status"]["verdict"] == "Allowed")
    });
    let follower = operators
        .iter()
        .find(|o| o.identity != leader_name)
        .unwrap();
    // A failure says what the new leader did: the check's status and the end of its log.
    let log = follower.log();
    let tail: Vec<&str> = log.lines().rev().take(40).collect();
    assert!(
        seen,
        "the new leader did not evaluate the edit within 120 s; status {}; its log ends:\n{}",
        cluster.check("acl")["status"],
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
    println!(
        "the new leader evaluated the edit {:.1?} after it was made",
        started.elapsed()
    );
    assert!(follower.reconciles() > 0);
    let check_unchanged = |name: &str| {
        let now = cluster.check(name);
        let old = before["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["metadata"]["name"] == name)
            .unwrap();
        for kind in ["Ready", "Stalled"] {
            assert_eq!(
                condition(&now, kind)["lastTransitionTime"],
                condition(old, kind)["lastTransitionTime"],
                "{name} {kind}"
            );
        }
        assert_eq!(now["status"]["verdict"], old["status"]["verdict"], "{name}");
    };
    check_unchanged("put-object-acl");
    check_unchanged("user-in-group");
    assert_eq!(events(cluster, "put-object-acl"), events_before);

    handover_to_a_restarted_replica(env, &leader_name, &mut operators, &check_unchanged);
    assert_eq!(events(cluster, "put-object-acl"), events_before);
}

/// A replica started again stands by; SIGTERM makes the leader exit 0 and hand the Lease over at once, and the
/// restarted replica reconciles every example, changing nothing.
fn handover_to_a_restarted_replica(
    env: &Env,
    leader_name: &str,
    operators: &mut [Operator],
    check_unchanged: &dyn Fn(&str),
) {
    let (cluster, moto) = (&env.cluster, &env.moto);
    let mut again = Operator::start(cluster, moto, &format!("{leader_name}-again"));
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(again.reconciles(), 0);
    let status = operators
        .iter_mut()
        .find(|o| o.identity != leader_name && o.identity != again.identity)
        .unwrap()
        .terminate();
    assert!(status.success(), "SIGTERM exit: {status}");
    wait_for("the restarted replica takes the Lease", 20, || {
        Some(lease_holder(cluster).as_deref() == Some(again.identity.as_str()))
    });
    let started = std::time::Instant::now();
    let reconciled =
        crate::cluster::eventually(120, || Some(again.reconciles() >= EXAMPLES.len() as u64));
    let log = again.log();
    let tail: Vec<&str> = log.lines().rev().take(40).collect();
    assert!(
        reconciled,
        "the restarted replica reconciled {} of {} checks in 120 s; its log ends:\n{}",
        again.reconciles(),
        EXAMPLES.len(),
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
    println!(
        "the restarted replica reconciled every example {:.1?} after it led",
        started.elapsed()
    );
    check_unchanged("put-object-acl");
    again.terminate();
}
