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

/// A collector against `moto` that reads an account at once from `threshold` principals on.
fn collector(moto: &Moto, threshold: usize) -> Collector {
    Collector::from_config(
        &moto_sdk_config(moto),
        CollectorOptions {
            account_read_threshold: threshold,
            ..CollectorOptions::default()
        },
        true,
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(16 * 1024 * 1024)
        .build()
        .unwrap()
}

#[test]
fn an_account_read_at_once_gives_every_principal_as_its_own_read_does() {
    let moto = Moto::start();
    moto.seed(&[]);
    let one_by_one = collector(&moto, 0);
    let at_once = collector(&moto, 1);
    let runtime = runtime();
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
        // An event that spells the name in other letters drops the same cached read (IAM folds names).
        at_once.invalidate(&Change::Principal {
            account: A.into(),
            kind: iam_policy::PrincipalKind::Role,
            name: "UpLoader".into(),
        });
        at_once
            .collect(&principals()[0].target().unwrap(), &access)
            .await;
        assert_eq!(
            at_once.metrics().count("iam:GetRole"),
            roles + 2,
            "the changed role, spelled otherwise"
        );
    });
}

/// What switches an account to one whole read is only what exists and is checked: names IAM does not have,
/// and one role written in several letter cases, never do; a requested fresh read re-reads its principal, not
/// the account; and the whole read is the operator's, not charged to the namespace whose check crossed the
/// threshold.
#[test]
fn only_principals_that_exist_count_towards_an_account_read() {
    let moto = Moto::start();
    moto.seed(&[]);
    let collector = collector(&moto, 3);
    let runtime = runtime();
    let role = |name: &str| {
        CheckSpec {
            role_arn: Some(format!("arn:aws:iam::{A}:role/{name}")),
            bucket: "plain-bucket".into(),
            ..CheckSpec::default()
        }
        .target()
        .unwrap()
    };
    let access = ReadAccess {
        on_behalf_of: Some("tenant".into()),
        ..ReadAccess::default()
    };
    let whole_reads = |c: &Collector| c.metrics().count("iam:GetAccountAuthorizationDetails");
    runtime.block_on(async {
        for n in 0..10 {
            collector
                .collect(&role(&format!("no-such-role-{n}")), &access)
                .await;
        }
        for name in ["uploader", "Uploader", "UPLOADER", "upLoader", "uploadeR"] {
            collector.collect(&role(name), &access).await;
        }
        assert_eq!(
            whole_reads(&collector),
            0,
            "names nobody has, one role in five cases"
        );
        collector.collect(&role("acl-uploader"), &access).await;
        assert_eq!(whole_reads(&collector), 0, "two roles that exist");
        // One short of the threshold, a name nobody has does not cross it.
        collector
            .collect(&role("no-such-role-again"), &access)
            .await;
        assert_eq!(whole_reads(&collector), 0, "a name nobody has, one short");
        // A third role that exists reaches the threshold: the next check reads the account at once.
        collector.collect(&role("kms-uploader"), &access).await;
        assert_eq!(whole_reads(&collector), 0, "three roles read on their own");
        let tenant_before = tenant_calls(&collector);
        let all_before = collector.metrics().total();
        let served = collector.collect(&role("downloader"), &access).await;
        assert!(served.principal.is_some());
        assert!(
            whole_reads(&collector) >= 1,
            "the account is read at once now"
        );
        let tenant_spent = tenant_calls(&collector) - tenant_before;
        let all_spent = collector.metrics().total() - all_before;
        assert!(
            tenant_spent + whole_reads(&collector) <= all_spent,
            "the whole read is the operator's: the tenant spent {tenant_spent} of {all_spent}"
        );
        // A requested fresh read of one check re-reads that role, not the account.
        let (reads, roles) = (
            whole_reads(&collector),
            collector.metrics().count("iam:GetRole"),
        );
        let fresh = ReadAccess {
            fresh: true,
            ..access.clone()
        };
        let again = collector.collect(&role("downloader"), &fresh).await;
        assert!(again.principal.is_some());
        assert_eq!(whole_reads(&collector), reads);
        assert_eq!(collector.metrics().count("iam:GetRole"), roles + 1);
    });
}

fn tenant_calls(collector: &Collector) -> u64 {
    collector
        .metrics()
        .calls_by_namespace()
        .into_iter()
        .filter(|(ns, _)| ns == "tenant")
        .map(|(_, n)| n)
        .sum()
}
