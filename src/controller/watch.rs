//! The watch of checks the controller runs on, and what it keeps of each: no managed fields, labels or
//! annotations but `requested-at`, and of the status only what the next reconcile compares (`status::kept`): a
//! watched check costs its spec and a few hundred bytes, whatever its causes and fix say.

use super::REQUESTED_AT;
use bucket_access_api::spec::BucketAccessCheck;
use bucket_access_api::status::kept;
use futures::Stream;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::Api;

/// Drops from a watched check what the controller never reads: managed fields, labels (a shard's selector is
/// the API server's to apply; the creation time stays, for a scope's count cap), every annotation but `requested-at` (`kubectl apply`'s last-applied copy of the
/// object among them, and whatever a tenant writes there), and of the status all but what it compares.
pub fn keep(check: &mut BucketAccessCheck) {
    let meta = &mut check.metadata;
    meta.managed_fields = None;
    meta.labels = None;
    if let Some(annotations) = meta.annotations.as_mut() {
        annotations.retain(|key, _| key == REQUESTED_AT);
    }
    check.status = check.status.as_ref().map(kept);
}

/// The checks `api` and `config` select, kept (`keep`) in the returned store, and the stream of their
/// changes the controller is driven by.
pub fn checks(
    api: Api<BucketAccessCheck>,
    config: watcher::Config,
) -> (
    Store<BucketAccessCheck>,
    impl Stream<Item = Result<BucketAccessCheck, watcher::Error>> + Send + 'static,
) {
    let (store, writer) = reflector::store();
    // As `Controller::new` builds its own: no backoff of its own (the controller backs its triggers off).
    let stream = watcher(api, config)
        .modify(keep)
        .reflect(writer)
        .applied_objects();
    (store, stream)
}
