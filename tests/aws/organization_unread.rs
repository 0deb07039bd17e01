//! An operator with neither a role in the management account nor a delegation policy may accept the
//! organization's SCPs and RCPs unread (`run --organization-unread`): no Organizations call is made, and
//! each check lists both layers among its assumptions with that setting as the reason, never as Unknown.

use crate::support::{moto_sdk_config, target, Moto};
use bucket_access_api::spec::CheckSpec;
use bucket_access_aws::{Collector, CollectorOptions};
use s3_diagnosis::snapshot::SnapshotLayer;
use s3_diagnosis::source::ReadAccess;
use s3_diagnosis::Verdict;

#[test]
fn the_organization_accepted_unread_is_an_assumption_and_never_read() {
    let moto = Moto::start();
    moto.seed(&[]);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(16 * 1024 * 1024)
        .build()
        .unwrap();
    let spec = CheckSpec {
        role_arn: Some("arn:aws:iam::123456789012:role/uploader".into()),
        bucket: "plain-bucket".into(),
        ..CheckSpec::default()
    };
    let collect = |unread: bool| {
        let collector = Collector::from_config(
            &moto_sdk_config(&moto),
            CollectorOptions {
                organization_unread: unread,
                ..CollectorOptions::default()
            },
            true,
        );
        let snapshot = runtime.block_on(collector.collect(
            &target(&spec),
            &ReadAccess::unrestricted(&Default::default()),
        ));
        let organization_calls: u64 = collector
            .metrics()
            .calls()
            .iter()
            .filter(|((service, _, _), _)| service == "organizations")
            .map(|(_, n)| n)
            .sum();
        (snapshot, organization_calls)
    };
    let (read, calls) = collect(false);
    assert!(calls > 0, "by default the organization is read");
    assert!(read.request.skip_layers.is_empty());
    let (unread, calls) = collect(true);
    assert_eq!(calls, 0, "accepted unread: not one Organizations call");
    assert!(unread.organization.is_none());
    let diagnosis = s3_diagnosis::diagnose(&unread);
    assert_eq!(diagnosis.verdict, Verdict::Allowed, "{}", diagnosis.summary);
    for layer in [SnapshotLayer::Scp, SnapshotLayer::Rcp] {
        let assumption = diagnosis
            .assumptions
            .iter()
            .find(|a| a.layer == layer)
            .unwrap_or_else(|| {
                panic!(
                    "{layer:?} is not an assumption: {:?}",
                    diagnosis.assumptions
                )
            });
        assert!(
            assumption.text.contains("--organization-unread"),
            "{}",
            assumption.text
        );
    }
    assert!(diagnosis.unknown.is_empty(), "{:?}", diagnosis.unknown);
}
