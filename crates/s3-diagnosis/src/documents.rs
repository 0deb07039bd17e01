//! Where a policy document lives in a snapshot, by the id the diagnosis knows it by (a named policy's id or
//! name, `session-policy`, `bucket-policy`, a VPC endpoint id, a key ARN): one look-up for reading a document
//! (patches) and for changing it (the whole-check fix).

use super::snapshot::{NamedPolicy, Snapshot};
use serde_json::Value;

/// The id of the bucket policy.
pub const BUCKET_POLICY_ID: &str = "bucket-policy";

/// The id of the session policy.
pub const SESSION_POLICY_ID: &str = "session-policy";

/// The place of a document in a snapshot.
#[derive(Debug, Clone, Copy)]
enum DocumentAt {
    Identity(usize),
    Boundary,
    Session,
    Scp(usize, usize),
    Rcp(usize, usize),
    Bucket,
    AccessPoint,
    Endpoint,
    Key(usize),
}

fn names(n: &NamedPolicy, id: &str) -> bool {
    n.id == id || (n.id.is_empty() && n.name == id)
}

/// The level and index of the policy `id` among organization policies.
fn in_levels(levels: &[Vec<NamedPolicy>], id: &str) -> Option<(usize, usize)> {
    levels
        .iter()
        .enumerate()
        .find_map(|(l, level)| Some((l, level.iter().position(|n| names(n, id))?)))
}

fn locate(s: &Snapshot, id: &str) -> Option<DocumentAt> {
    if let Some(p) = &s.principal {
        if let Some(i) = p.policies.iter().position(|n| names(n, id)) {
            return Some(DocumentAt::Identity(i));
        }
        if p.permissions_boundary
            .as_ref()
            .is_some_and(|n| names(n, id))
        {
            return Some(DocumentAt::Boundary);
        }
        if id == SESSION_POLICY_ID && p.session_policy.is_some() {
            return Some(DocumentAt::Session);
        }
    }
    if let Some(o) = &s.organization {
        if let Some((l, i)) = in_levels(&o.scps, id) {
            return Some(DocumentAt::Scp(l, i));
        }
        if let Some((l, i)) = in_levels(&o.rcps, id) {
            return Some(DocumentAt::Rcp(l, i));
        }
    }
    if id == BUCKET_POLICY_ID && s.bucket.as_ref().is_some_and(|b| b.policy.is_some()) {
        return Some(DocumentAt::Bucket);
    }
    if s.access_point
        .as_ref()
        .is_some_and(|a| a.arn == id && a.policy.is_some())
    {
        return Some(DocumentAt::AccessPoint);
    }
    if s.vpc_endpoint
        .as_ref()
        .is_some_and(|e| e.id == id && e.policy.is_some())
    {
        return Some(DocumentAt::Endpoint);
    }
    s.kms_keys
        .iter()
        .position(|k| k.arn == id && k.policy.is_some())
        .map(DocumentAt::Key)
}

/// The document of the policy `id` names, as the snapshot holds it (an object, or text).
pub(crate) fn document<'s>(s: &'s Snapshot, id: &str) -> Option<&'s Value> {
    let level = |levels: &'s [Vec<NamedPolicy>], l: usize, i: usize| {
        levels
            .get(l)
            .and_then(|level| level.get(i))
            .map(|n| &n.document)
    };
    match locate(s, id)? {
        DocumentAt::Identity(i) => s.principal.as_ref()?.policies.get(i).map(|n| &n.document),
        DocumentAt::Boundary => s
            .principal
            .as_ref()?
            .permissions_boundary
            .as_ref()
            .map(|n| &n.document),
        DocumentAt::Session => s.principal.as_ref()?.session_policy.as_ref(),
        DocumentAt::Scp(l, i) => level(&s.organization.as_ref()?.scps, l, i),
        DocumentAt::Rcp(l, i) => level(&s.organization.as_ref()?.rcps, l, i),
        DocumentAt::Bucket => s.bucket.as_ref()?.policy.as_ref(),
        DocumentAt::AccessPoint => s.access_point.as_ref()?.policy.as_ref(),
        DocumentAt::Endpoint => s.vpc_endpoint.as_ref()?.policy.as_ref(),
        DocumentAt::Key(k) => s.kms_keys.get(k)?.policy.as_ref(),
    }
}

/// The document of the policy `id` names, to change it.
pub(crate) fn document_mut<'s>(s: &'s mut Snapshot, id: &str) -> Option<&'s mut Value> {
    fn level(levels: &mut [Vec<NamedPolicy>], l: usize, i: usize) -> Option<&mut Value> {
        levels.get_mut(l)?.get_mut(i).map(|n| &mut n.document)
    }
    match locate(s, id)? {
        DocumentAt::Identity(i) => s
            .principal
            .as_mut()?
            .policies
            .get_mut(i)
            .map(|n| &mut n.document),
        DocumentAt::Boundary => s
            .principal
            .as_mut()?
            .permissions_boundary
            .as_mut()
            .map(|n| &mut n.document),
        DocumentAt::Session => s.principal.as_mut()?.session_policy.as_mut(),
        DocumentAt::Scp(l, i) => level(&mut s.organization.as_mut()?.scps, l, i),
        DocumentAt::Rcp(l, i) => level(&mut s.organization.as_mut()?.rcps, l, i),
        DocumentAt::Bucket => s.bucket.as_mut()?.policy.as_mut(),
        DocumentAt::AccessPoint => s.access_point.as_mut()?.policy.as_mut(),
        DocumentAt::Endpoint => s.vpc_endpoint.as_mut()?.policy.as_mut(),
        DocumentAt::Key(k) => s.kms_keys.get_mut(k)?.policy.as_mut(),
    }
}
