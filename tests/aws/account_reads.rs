//! Reads per account: an account's IAM read at once (`GetAccountAuthorizationDetails`) gives every principal
//! exactly as reading it on its own does (roles, a role at a path, users and their groups, managed and
//! inline policies, AWS managed ones, boundaries, tags, a principal that is not there), with far fewer IAM
//! calls for many principals; and a change event drops the account's read.

use crate::support::{moto_sdk_config, Moto};
use bucket_access_api::spec::CheckSpec;
use bucket_access_aws::events::Change;
use bucket_access_aws::{Collector, CollectorOptions};
use s3_diagnosis::source::ReadAccess;

const A: &str = "123456789012";

fn principals() -> Vec<CheckSpec> {
    let role = |name: &str| CheckSpec {
        role_arn: Some(format!("arn:aws:iam::{A}:role/{name}")),
        bucket: "plain-bucket".into(),
        ..CheckSpec::default()
    };
    let user = |name: &str| CheckSpec {
        user_arn: Some(format!("arn:aws:iam::{A}:user/{name}")),
        bucket: "plain-bucket".into(),
        ..CheckSpec::default()
    };
    vec![
        role("uploader"),
        role("acl-uploader"),
        role("kms-uploader"),
        role("downloader"),
        role("ap-uploader"),
        role("bounded-uploader"),
        role("finance/finance-admin"),
        role("finance-admin"),
        role("no-such-role"),
        user("alice"),
        user("bob"),
        user("carol"),
        user("limited-nobody"),
    ]
}

#[test]
fn an_account_read_at_once_gives_every_principal_as_its_own_read_does() {
    let moto = Moto::start();
    moto.seed(&[]);
    let config = moto_sdk_config(&moto);
    let one_by_one = Collector::from_config(
        &config,
        CollectorOptions {
            account_read_threshold: 0,
            ..CollectorOptions::default()
        },
        true,
    );
    let at_once = Collector::from_config(
        &config,
        CollectorOptions {
            account_read_threshold: 1,
            ..CollectorOptions::default()
        },
        true,
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(16 * 1024 * 1024)
        .build()
        .unwrap();
    runtime.block_on(async {
        let access = ReadAccess::default();
        for spec in principals() {
            let target = spec.target().unwrap();
            let own = one_by_one.collect(&target, &access).await;
            let shared = at_once.collect(&target, &access).await;
            assert_eq!(own.principal, shared.principal, "{}", target.principal);
            assert_eq!(
                own.principal_not_found, shared.principal_not_found,
                "{}",
                target.principal
            );
            assert_eq!(own.unavailable, shared.unavailable, "{}", target.principal);
        }
        let iam = |c: &Collector| {
            c.metrics()
                .calls()
                .iter()
                .filter(|((service, _, _), _)| service == "iam")
                .map(|(_, n)| n)
                .sum::<u64>()
        };
        let (own, shared) = (iam(&one_by_one), iam(&at_once));
        eprintln!(
            "IAM calls for {} principals: {own} one by one, {shared} at once",
            principals().len()
        );
        assert!(
            shared * 2 < own,
            "{shared} IAM calls at once, {own} one by one"
        );
        // A change event marks the role in the account's read, which stays: the role is read on its own, the
        // account is not read again, and the other principals are still served from it.
        let reads = at_once
            .metrics()
            .count("iam:GetAccountAuthorizationDetails");
        let roles = at_once.metrics().count("iam:GetRole");
        let change = Change::Principal {
            account: A.into(),
            kind: iam_policy::PrincipalKind::Role,
            name: "uploader".into(),
        };
        at_once.invalidate(&change);
        let uploader = at_once
            .collect(&principals()[0].target().unwrap(), &access)
            .await;
        let other = at_once
            .collect(&principals()[1].target().unwrap(), &access)
            .await;
        assert!(uploader.principal.is_some() && other.principal.is_some());
        assert_eq!(
            at_once
                .metrics()
                .count("iam:GetAccountAuthorizationDetails"),
            reads
        );
        assert_eq!(
            at_once.metrics().count("iam:GetRole"),
            roles + 1,
            "the changed role alone"
        );
    });
}
