//! Which checks to re-evaluate when the boundary moves: a scope created, edited or deleted affects the
//! namespaces it selected before or selects now; a namespace relabelled affects its own checks. The state
//! (each scope's last spec, each namespace's last labels) is kept here, fed with the watchers' events, so
//! that a status-only write of a scope or an annotation on a namespace re-evaluates nothing. Pure: the
//! caller maps namespaces to checks.

use bucket_access_api::scope::resource::{BucketAccessScope, ScopeSpec};
use k8s_openapi::api::core::v1::Namespace;
use kube::core::PartialObjectMeta;
use kube::runtime::watcher::Event;
use kube::ResourceExt;
use std::collections::{BTreeMap, BTreeSet};

/// The last scope specs and namespace labels seen.
#[derive(Debug, Default)]
pub struct Triggers {
    scopes: BTreeMap<String, ScopeSpec>,
    namespaces: BTreeMap<String, BTreeMap<String, String>>,
    /// The scopes seen during a re-list (the others were deleted meanwhile).
    relisted: Option<BTreeSet<String>>,
}

impl Triggers {
    fn selected(&self, scope: Option<&ScopeSpec>) -> BTreeSet<String> {
        let Some(scope) = scope else {
            return BTreeSet::new();
        };
        self.namespaces
            .iter()
            .filter(|(name, labels)| scope.selects(name, labels))
            .map(|(name, _)| name.clone())
            .collect()
    }

    fn scope_changed(&mut self, name: &str, new: Option<ScopeSpec>) -> BTreeSet<String> {
        let old = match &new {
            Some(spec) => self.scopes.insert(name.to_owned(), spec.clone()),
            None => self.scopes.remove(name),
        };
        if old == new {
            return BTreeSet::new();
        }
        let mut affected = self.selected(old.as_ref());
        affected.extend(self.selected(new.as_ref()));
        affected
    }

    /// The namespaces whose checks a scope event affects.
    pub fn on_scope(&mut self, event: &Event<BucketAccessScope>) -> BTreeSet<String> {
        match event {
            Event::Apply(scope) => self.scope_changed(&scope.name_any(), Some(scope.spec.clone())),
            Event::Delete(scope) => self.scope_changed(&scope.name_any(), None),
            Event::Init => {
                self.relisted = Some(BTreeSet::new());
                BTreeSet::new()
            }
            Event::InitApply(scope) => {
                let name = scope.name_any();
                if let Some(seen) = &mut self.relisted {
                    seen.insert(name.clone());
                }
                self.scope_changed(&name, Some(scope.spec.clone()))
            }
            Event::InitDone => {
                let seen = self.relisted.take().unwrap_or_default();
                let gone: Vec<String> = self
                    .scopes
                    .keys()
                    .filter(|n| !seen.contains(*n))
                    .cloned()
                    .collect();
                gone.iter()
                    .flat_map(|name| self.scope_changed(name, None))
                    .collect()
            }
        }
    }

    /// The namespaces whose checks a namespace event affects: the namespace itself when its labels changed.
    pub fn on_namespace(
        &mut self,
        event: &Event<PartialObjectMeta<Namespace>>,
    ) -> BTreeSet<String> {
        match event {
            Event::Apply(ns) | Event::InitApply(ns) => {
                let name = ns.name_any();
                let labels = ns.labels().clone();
                let old = self.namespaces.insert(name.clone(), labels.clone());
                if old.as_ref() == Some(&labels) {
                    BTreeSet::new()
                } else {
                    BTreeSet::from([name])
                }
            }
            Event::Delete(ns) => {
                self.namespaces.remove(&ns.name_any());
                BTreeSet::new()
            }
            Event::Init | Event::InitDone => BTreeSet::new(),
        }
    }

    /// How many known namespaces `scope` selects.
    pub fn selected_count(&self, scope: &ScopeSpec) -> usize {
        self.selected(Some(scope)).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bucket_access_api::scope::resource::ScopeAccount;
    use kube::api::ObjectMeta;

    fn namespace(name: &str, team: &str) -> PartialObjectMeta<Namespace> {
        PartialObjectMeta {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some(BTreeMap::from([("team".to_owned(), team.to_owned())])),
                ..ObjectMeta::default()
            },
            ..PartialObjectMeta::default()
        }
    }

    fn scope(name: &str, team: &str) -> BucketAccessScope {
        let mut s = BucketAccessScope::new(
            name,
            ScopeSpec {
                namespace_selector: Some(
                    k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector {
                        match_labels: Some(BTreeMap::from([("team".to_owned(), team.to_owned())])),
                        match_expressions: None,
                    },
                ),
                principals: vec!["*".into()],
                buckets: vec!["*".into()],
                accounts: vec![ScopeAccount {
                    id: "111122223333".into(),
                    ..ScopeAccount::default()
                }],
                ..ScopeSpec::default()
            },
        );
        s.status = None;
        s
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn scope_changes_affect_the_namespaces_selected_before_or_after() {
        let mut t = Triggers::default();
        for ns in [
            namespace("a", "media"),
            namespace("b", "video"),
            namespace("c", "ops"),
        ] {
            t.on_namespace(&Event::Apply(ns));
        }
        assert_eq!(t.on_scope(&Event::Apply(scope("s", "media"))), set(&["a"]));
        // A status-only write: the spec is the same, nothing to re-evaluate.
        let mut with_status = scope("s", "media");
        with_status.status = Some(Default::default());
        assert_eq!(t.on_scope(&Event::Apply(with_status)), set(&[]));
        // Moved from media to video: both sides.
        assert_eq!(
            t.on_scope(&Event::Apply(scope("s", "video"))),
            set(&["a", "b"])
        );
        assert_eq!(t.on_scope(&Event::Delete(scope("s", "video"))), set(&["b"]));
        assert_eq!(t.selected_count(&scope("x", "ops").spec), 1);
    }

    #[test]
    fn a_scope_deleted_while_not_watching_is_found_at_the_relist() {
        let mut t = Triggers::default();
        t.on_namespace(&Event::Apply(namespace("a", "media")));
        t.on_scope(&Event::Apply(scope("gone", "media")));
        t.on_scope(&Event::Apply(scope("kept", "ops")));
        assert_eq!(t.on_scope(&Event::Init), set(&[]));
        assert_eq!(
            t.on_scope(&Event::InitApply(scope("kept", "ops"))),
            set(&[])
        );
        assert_eq!(t.on_scope(&Event::InitDone), set(&["a"]));
    }

    #[test]
    fn relabelling_a_namespace_affects_its_checks_only_when_labels_change() {
        let mut t = Triggers::default();
        assert_eq!(
            t.on_namespace(&Event::Apply(namespace("a", "media"))),
            set(&["a"])
        );
        assert_eq!(
            t.on_namespace(&Event::Apply(namespace("a", "media"))),
            set(&[])
        );
        assert_eq!(
            t.on_namespace(&Event::Apply(namespace("a", "video"))),
            set(&["a"])
        );
        assert_eq!(
            t.on_namespace(&Event::Delete(namespace("a", "video"))),
            set(&[])
        );
    }
}
