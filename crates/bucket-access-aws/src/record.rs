//! Each read's result written into the snapshot: the data, or the layer it leaves unread (`Lost`, which keeps
//! the first reason per layer and whether everything was lost for want of credentials).

use super::error::ReadError;
use super::{iam, s3, OrgRead};
use s3_diagnosis::snapshot::{
    Organization, PrincipalData, Snapshot, SnapshotLayer, Unavailable, VpcEndpoint,
};
use s3_diagnosis::source::ReadAccess;

/// The layers that could not be read, each once, with the first reason; and whether every one of them was
/// lost for want of credentials (then one message says so, not one per layer).
#[derive(Default)]
pub(crate) struct Lost {
    pub(crate) layers: Vec<Unavailable>,
    no_credentials: Option<String>,
    other: bool,
}

impl Lost {
    pub(crate) fn add(&mut self, layer: SnapshotLayer, e: &ReadError) {
        if e.is_code(&[super::error::NO_CREDENTIALS]) {
            self.no_credentials.get_or_insert_with(|| e.message.clone());
        } else {
            self.other = true;
        }
        if !self.layers.iter().any(|u| u.layer == layer) {
            self.layers.push(Unavailable {
                layer,
                reason: e.reason(),
            });
        }
    }

    /// The message when nothing could be read for want of credentials.
    pub(crate) fn only_credentials(&self) -> Option<String> {
        self.no_credentials.clone().filter(|_| !self.other)
    }
}

pub(crate) type PrincipalRead = Result<(PrincipalData, Option<ReadError>), ReadError>;

/// The principal and its boundary; a principal IAM does not know is recorded as such (not as unreadable).
pub(crate) fn put_principal(snapshot: &mut Snapshot, lost: &mut Lost, read: Option<PrincipalRead>) {
    match read {
        Some(Ok((data, boundary_error))) => {
            if let Some(e) = boundary_error {
                lost.add(SnapshotLayer::PermissionsBoundary, &e);
            }
            snapshot.principal = Some(data);
        }
        Some(Err(e)) if e.is_code(&["NoSuchEntity"]) => {
            snapshot.principal_not_found = Some(iam::NOT_AT_THIS_ARN.to_owned());
        }
        Some(Err(e)) => lost.add(SnapshotLayer::Identity, &e),
        None => {}
    }
}

/// The bucket's layers; all of them lost when its Region could not be read.
pub(crate) fn put_bucket(
    snapshot: &mut Snapshot,
    lost: &mut Lost,
    read: Option<s3::BucketRead>,
    region_error: Option<&ReadError>,
) {
    match (read, region_error) {
        (Some(read), _) => {
            for (layer, e) in &read.unavailable {
                lost.add(*layer, e);
            }
            snapshot.bucket = Some(read.bucket);
        }
        (None, Some(e)) => {
            for layer in SnapshotLayer::BUCKET {
                lost.add(layer, e);
            }
        }
        (None, None) => {}
    }
}

/// The organization's SCPs and RCPs (none outside an organization).
pub(crate) fn put_org(
    snapshot: &mut Snapshot,
    lost: &mut Lost,
    read: Result<Option<OrgRead>, ReadError>,
) {
    match read {
        Ok(Some(org)) => {
            let mut organization = Organization {
                id: Some(org.id),
                ..Organization::default()
            };
            match org.scps {
                Ok(levels) => organization.scps = levels,
                Err(e) => lost.add(SnapshotLayer::Scp, &e),
            }
            match org.rcps {
                Ok(levels) => organization.rcps = levels,
                Err(e) => lost.add(SnapshotLayer::Rcp, &e),
            }
            snapshot.organization = Some(organization);
        }
        Ok(None) => {}
        Err(e) => {
            lost.add(SnapshotLayer::Scp, &e);
            lost.add(SnapshotLayer::Rcp, &e);
        }
    }
}

/// The VPC endpoint, when the check's network names one (`asked`) and the access allows its policy.
pub(crate) fn put_endpoint(
    snapshot: &mut Snapshot,
    lost: &mut Lost,
    read: Result<Option<VpcEndpoint>, ReadError>,
    asked: bool,
    access: &ReadAccess,
) {
    match read {
        Ok(Some(e)) if !access.allows_endpoint(&e.id) => lost.add(
            SnapshotLayer::VpcEndpointPolicy,
            &ReadError::withheld(
                "ec2:DescribeVpcEndpoints",
                format!(
                    "the check's VPC uses endpoint `{}`, whose policy {} does not allow to be read: add it to the scope's `vpcEndpoints`",
                    e.id,
                    access.granted_by()
                ),
            ),
        ),
        Ok(Some(e)) => snapshot.vpc_endpoint = Some(e),
        Ok(None) if asked => lost.add(
            SnapshotLayer::VpcEndpointPolicy,
            &ReadError::other(
                "ec2:DescribeVpcEndpoints",
                "no S3 VPC endpoint found for the check's network",
            ),
        ),
        Ok(None) => {}
        Err(e) => lost.add(SnapshotLayer::VpcEndpointPolicy, &e),
    }
}
