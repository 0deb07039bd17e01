//! The caches the scope decision reads (scopes, namespaces, and every check for the count cap), the checks a
//! moved boundary affected since their last evaluation, and whether scopes are enforced at all (`Boundary`).

use crate::controller::error::Error;
use bucket_access_api::scope::{authorize, Authorization, BucketAccessScope, CheckInNamespace};
use bucket_access_api::spec::BucketAccessCheck;
use k8s_openapi::api::core::v1::Namespace;
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Resource, ResourceExt};
use s3_diagnosis::source::Target;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The checks a namespace's count cap counts: the controller's own (one shard: every check), or, for a shard,
/// the metadata of every check of every shard.
#[derive(Clone)]
pub enum CheckList {
    /// The controller's store, which holds every check.
    Shard(Store<BucketAccessCheck>),
    /// Every check's metadata.
    Every(Store<PartialObjectMeta<BucketAccessCheck>>),
}

impl CheckList {
    /// Whether the list has filled (false: it never will).
    async fn wait_until_ready(&self) -> bool {
        match self {
            Self::Shard(store) => store.wait_until_ready().await.is_ok(),
            Self::Every(store) => store.wait_until_ready().await.is_ok(),
        }
    }

    /// How many checks of `namespace` are older than `obj` (by creation time, then name): the count cap keeps
    /// the oldest.
    fn older_in(&self, namespace: &str, obj: &BucketAccessCheck) -> usize {
        let key = |m: &kube::core::ObjectMeta| {
            (
                m.creation_timestamp.as_ref().map(|t| t.0),
                m.name.clone().unwrap_or_default(),
            )
        };
        let own = key(obj.meta());
        let older =
            |m: &kube::core::ObjectMeta| m.namespace.as_deref() == Some(namespace) && key(m) < own;
        match self {
            Self::Shard(store) => store.state().iter().filter(|c| older(c.meta())).count(),
            Self::Every(store) => store.state().iter().filter(|c| older(&c.metadata)).count(),
        }
    }
}

/// How checks are bounded: `Enforce` (the default) decides every check against the scopes before any AWS
/// call; `Off` keeps the single-tenant behaviour (the spec's `readRoleArns`, everything readable).
pub enum Boundary {
    /// No scopes.
    Off,
    /// Scopes enforced, from these caches.
    Enforce(ScopeCaches),
}

/// The caches the scope decision reads: scopes, namespaces (labels), and the checks (for the count cap).
pub struct ScopeCaches {
    /// Every `BucketAccessScope`.
    pub scopes: Store<BucketAccessScope>,
    /// Every namespace's metadata.
    pub namespaces: Store<PartialObjectMeta<Namespace>>,
    /// Every check (of every shard), for the count cap.
    pub checks: CheckList,
    /// True once all three have filled.
    ready: tokio::sync::watch::Receiver<bool>,
    /// Checks (`namespace/name`) a scope or namespace change affected since their last evaluation.
    changed: Arc<Mutex<HashSet<String>>>,
}

impl ScopeCaches {
    /// The caches, and one task that waits for all three to fill. Reconciles wait on that task's answer, not
    /// on the stores: a store's readiness wakes only the last of several concurrent waiters (a oneshot
    /// channel underneath), and the others slept until their timeout.
    pub fn new(
        scopes: Store<BucketAccessScope>,
        namespaces: Store<PartialObjectMeta<Namespace>>,
        checks: CheckList,
    ) -> Self {
        let (tx, ready) = tokio::sync::watch::channel(false);
        let stores = (scopes.clone(), namespaces.clone(), checks.clone());
        tokio::spawn(async move {
            let filled = stores.0.wait_until_ready().await.is_ok()
                && stores.1.wait_until_ready().await.is_ok()
                && stores.2.wait_until_ready().await;
            let _ = tx.send(filled);
            // Keep the sender while anyone listens: a dropped sender reads as "never ready".
            tx.closed().await;
        });
        Self {
            scopes,
            namespaces,
            checks,
            ready,
            changed: Arc::default(),
        }
    }

    /// Records that a scope or namespace change affects the check `namespace/name`: its next reconcile
    /// evaluates it, whatever else it holds.
    pub fn mark_changed(&self, namespace: &str, name: &str) {
        if let Ok(mut changed) = self.changed.lock() {
            changed.insert(format!("{namespace}/{name}"));
        }
    }

    /// The same, for a stream that outlives this borrow.
    pub fn changes(&self) -> Arc<Mutex<HashSet<String>>> {
        Arc::clone(&self.changed)
    }

    /// Whether a boundary change affected `namespace/name` since it was last asked (and forgets it).
    pub(crate) fn take_changed(&self, namespace: &str, name: &str) -> bool {
        self.changed
            .lock()
            .is_ok_and(|mut c| c.remove(&format!("{namespace}/{name}")))
    }

    /// The decision for one check (after the caches have filled).
    pub(crate) async fn authorize(
        &self,
        obj: &BucketAccessCheck,
        target: &Target,
        namespace: &str,
    ) -> Result<Authorization, Error> {
        let mut ready = self.ready.clone();
        let filled = tokio::time::timeout(Duration::from_secs(30), ready.wait_for(|r| *r)).await;
        if !matches!(filled, Ok(Ok(_))) {
            return Err(Error::ScopesNotReady);
        }
        let scopes = self.scopes.state();
        let labels = self
            .namespaces
            .get(&ObjectRef::new(namespace))
            .map(|ns| ns.labels().clone())
            .unwrap_or_default();
        let rank = self.checks.older_in(namespace, obj);
        Ok(authorize(
            scopes
                .iter()
                .map(|s| (s.metadata.name.as_deref().unwrap_or_default(), &s.spec)),
            &CheckInNamespace {
                spec: &obj.spec,
                target,
                namespace,
                labels: &labels,
                rank,
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    /// A shard counts a namespace's older checks over every shard, whatever their labels: the count cap holds
    /// against a tenant spreading its checks over shards.
    #[test]
    fn a_shard_counts_older_checks_of_every_shard() {
        use kube::core::PartialObjectMetaExt;
        use kube::runtime::watcher::Event;
        let meta = |name: &str, namespace: &str, second: u32, shard: &str| {
            kube::core::ObjectMeta {
                name: Some(name.to_owned()),
                namespace: Some(namespace.to_owned()),
                creation_timestamp: Some(Time(
                    format!("2026-12-05T10:00:{second:02}Z")
                        .parse()
                        .unwrap_or_default(),
                )),
                labels: Some([("bucketaccess.io/shard".to_owned(), shard.to_owned())].into()),
                ..kube::core::ObjectMeta::default()
            }
            .into_response_partial::<BucketAccessCheck>()
        };
        let (store, mut writer) = kube::runtime::reflector::store();
        for m in [
            meta("z-one", "team", 1, "a"),
            meta("z-two", "team", 2, "b"),
            meta("elsewhere", "other", 0, "a"),
            meta("a-four", "team", 4, "b"),
        ] {
            writer.apply_watcher_event(&Event::Apply(m));
        }
        let list = CheckList::Every(store);
        let mut third =
            BucketAccessCheck::new("m-three", bucket_access_api::spec::CheckSpec::default());
        third.metadata.namespace = Some("team".to_owned());
        third.metadata.creation_timestamp =
            Some(Time("2026-12-05T10:00:03Z".parse().unwrap_or_default()));
        assert_eq!(list.older_in("team", &third), 2);
    }
}
