//! Causes that only a request through an access point has: the bucket behind it that neither grants nor
//! delegates (`ACCESS_POINT_BUCKET_NOT_DELEGATED`), and a `VPC` network origin the request does not come from
//! (`ACCESS_POINT_NETWORK_ORIGIN_VPC`). The access point's policy and Block Public Access are decided with
//! the bucket's rules (`attribute`, `s3`), under ids of their own.

use super::super::access_point;
use super::super::causes::{Cause, CauseId};
use super::super::implied::Implied;
use super::super::remediation::{Edit, PolicyTarget, Remediation};
use super::super::snapshot::SnapshotLayer;
use super::Evaluated;
use serde_json::json;

/// The bucket's side of a request through an access point is not allowed: the bucket policy neither grants
/// the caller nor delegates to the access point. The fix is the narrowest delegation: this principal, this
/// action, the bucket's objects, through this access point only.
pub(super) fn not_delegated(e: &Evaluated<'_>) -> Cause {
    let request = &e.snapshot.request;
    let action = e.purpose.action();
    let (ap_arn, ap_account) = access_point::used(e.snapshot).map_or_else(
        || (String::new(), String::new()),
        |ap| (ap.arn.clone(), ap.account_id.clone()),
    );
    let mut actions = vec![action.to_owned()];
    if action == "s3:PutObject" {
        actions.push("s3:AbortMultipartUpload".to_owned());
    }
    let statement = json!({"Sid": "AllowThroughAccessPoint", "Effect": "Allow",
        "Principal": {"AWS": request.principal_arn}, "Action": actions, "Resource": request.objects_arn(),
        "Condition": {"StringEquals": {"s3:DataAccessPointArn": ap_arn}}});
    let edit = Edit::AddStatement {
        target: PolicyTarget::Bucket,
        statement: statement.clone(),
    };
    let message = format!(
        "bucket `{}` neither grants `{}` {action} on `{}` nor delegates to access point `{ap_arn}`: a request through an access point needs the bucket's permission as well as the access point's",
        request.bucket, request.principal_arn, e.request.resource
    );
    let delegation = format!(
        "or delegate the bucket's access control to every access point of account `{ap_account}` (AWS's recommended pattern: `\"Principal\": {{\"AWS\": \"*\"}}`, the bucket and its objects, `StringEquals` `s3:DataAccessPointAccount` = `{ap_account}`), and grant in the access points' policies; this admits whatever those policies admit"
    );
    Cause::error(
        CauseId::AccessPointBucketNotDelegated,
        SnapshotLayer::BucketPolicy,
        action,
        message,
    )
    .fix([
        Remediation::policy(
            "add to the bucket policy a grant to the caller through this access point only",
            Some(statement),
        )
        .with_edit(Some(edit)),
        Remediation::policy(delegation, None),
    ])
}

/// The VPC the requests come from, as the check says it (the VPC, else the endpoint's VPC).
fn request_vpc(implied: &Implied<'_>) -> Option<String> {
    let s = implied.snapshot;
    s.request.network.vpc_id.clone().or_else(|| {
        s.vpc_endpoint
            .as_ref()
            .filter(|_| implied.via_endpoint)
            .map(|e| e.vpc_id.clone())
            .filter(|v| !v.is_empty())
    })
}

/// An access point with network origin `VPC` admits only requests from its VPC (through an S3 VPC endpoint
/// there): S3 rejects any other request to it.
pub(super) fn network_origin(implied: &Implied<'_>) -> Option<Cause> {
    let s = implied.snapshot;
    let ap = access_point::used(s).filter(|ap| ap.vpc_only())?;
    let wanted = ap.vpc_id.clone().unwrap_or_default();
    // Only a request through an S3 VPC endpoint reaches S3 from its VPC: without one, traffic from the VPC
    // leaves through a NAT or internet gateway and S3 sees an internet request.
    let through_endpoint = s.request.network.vpc_endpoint_id.is_some() || s.vpc_endpoint.is_some();
    let from = request_vpc(implied).filter(|_| through_endpoint);
    if from.as_deref() == Some(wanted.as_str()) {
        return None;
    }
    let named_vpc = s
        .request
        .network
        .vpc_id
        .as_deref()
        .filter(|_| !through_endpoint);
    // The VPC's endpoint could not be read: whether the requests go through one is not known.
    let endpoint_unread = s
        .unavailable
        .iter()
        .any(|u| u.layer == crate::snapshot::SnapshotLayer::VpcEndpointPolicy);
    let action = s.request.actions().first().map_or("s3:PutObject", |a| {
        if a == "GetObject" {
            "s3:GetObject"
        } else {
            "s3:PutObject"
        }
    });
    let unknown_vpc = from.is_none() && through_endpoint;
    let origin = match (&from, unknown_vpc, named_vpc) {
        (Some(vpc), _, _) => format!("come from VPC `{vpc}`"),
        (None, true, _) => {
            "go through a VPC endpoint whose VPC is not known (give `network.vpcId`)".to_owned()
        }
        (None, false, Some(vpc)) => format!("come from VPC `{vpc}` through no S3 VPC endpoint (none is given or read), so they reach S3 from the internet"),
        (None, false, None) => "come from the internet (no VPC endpoint or VPC is given)".to_owned(),
    };
    let mut cause = Cause::error(
        CauseId::AccessPointNetworkOriginVpc,
        SnapshotLayer::AccessPoint,
        action,
        format!(
            "access point `{}` has network origin `VPC` and admits only requests from VPC `{wanted}`; the requests {origin}",
            ap.arn
        ),
    )
    .fix([
        Remediation::request(
            format!("make the requests from VPC `{wanted}`, through an S3 VPC endpoint there"),
            None,
        ),
        Remediation::config(
            "or use an access point with network origin `Internet` (the network origin is fixed when an access point is created)",
            None,
        ),
    ]);
    let endpoint_not_known = named_vpc.is_some() && endpoint_unread;
    cause.definite = !(unknown_vpc || endpoint_not_known);
    Some(cause)
}
