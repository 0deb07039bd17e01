//! A request through an S3 access point: the ARNs it is authorized on, and the context keys it carries. How a
//! check names the access point is `access_point_ref`'s.

use super::snapshot::{AccessPointData, Snapshot, SnapshotLayer};
use iam_policy::context::{Context, ContextValue};
use std::borrow::Cow;

impl AccessPointData {
    /// The ARN pattern of every object through the access point.
    pub fn objects_arn(&self) -> String {
        format!("{}/object/*", self.arn)
    }

    /// The ARN of one object through the access point.
    pub fn object_arn(&self, key: &str) -> String {
        format!("{}/object/{key}", self.arn)
    }

    /// The account that owns the bucket (the access point's when not said).
    pub fn bucket_account(&self) -> &str {
        if self.bucket_account_id.is_empty() {
            &self.account_id
        } else {
            &self.bucket_account_id
        }
    }

    /// Whether only requests from one VPC are admitted.
    pub fn vpc_only(&self) -> bool {
        self.network_origin.eq_ignore_ascii_case("VPC")
    }
}

/// The access point the check's requests go through, when the check names one and it was read.
pub fn used(snapshot: &Snapshot) -> Option<&AccessPointData> {
    snapshot
        .request
        .access_point
        .as_ref()
        .and(snapshot.access_point.as_ref())
}

/// The snapshot with the request's bucket taken from the access point read, when the check names none.
pub fn with_bucket(snapshot: &Snapshot) -> Cow<'_, Snapshot> {
    match (&snapshot.request.access_point, &snapshot.access_point) {
        (Some(_), Some(ap)) if snapshot.request.bucket.is_empty() => {
            let mut s = snapshot.clone();
            s.request.bucket = ap.bucket.clone();
            Cow::Owned(s)
        }
        _ => Cow::Borrowed(snapshot),
    }
}

/// Why the access point the check names is not in the snapshot (`None`: it is, or none is named).
pub fn unread(snapshot: &Snapshot) -> Option<String> {
    let named = snapshot.request.access_point.as_ref()?;
    if snapshot.access_point.is_some() {
        return None;
    }
    let why = snapshot
        .unavailable
        .iter()
        .find(|u| u.layer == SnapshotLayer::AccessPoint)
        .map_or_else(
            || "it is not in the snapshot".to_owned(),
            |u| u.reason.clone(),
        );
    Some(format!(
        "access point `{named}` could not be read ({why}): neither its policy nor the bucket behind it is known"
    ))
}

/// The keys every request through the access point carries, in the access point's and the bucket's
/// evaluation alike: `s3:DataAccessPointArn`, `s3:DataAccessPointAccount`, `s3:AccessPointNetworkOrigin`.
pub fn context(snapshot: &Snapshot, context: &mut Context) {
    let Some(ap) = used(snapshot) else {
        return;
    };
    context.insert("s3:DataAccessPointArn", ContextValue::One(ap.arn.clone()));
    context.insert(
        "s3:DataAccessPointAccount",
        ContextValue::One(ap.account_id.clone()),
    );
    let origin = if ap.vpc_only() { "VPC" } else { "Internet" };
    context.insert(
        "s3:AccessPointNetworkOrigin",
        ContextValue::One(origin.to_owned()),
    );
}
