//! Stage 1, the snapshot's own facts (what was read, not what the check asks): each enumerated field exactly
//! as AWS spells it, and the facts that name one thing twice consistent with each other. A near miss
//! (`bucketOwnerEnforced`, `glacier`) would otherwise be read as another value or as none: a wrong case of
//! `BucketOwnerEnforced` made ACLs act, a lowercase storage class skipped the archived-object refusal. Any
//! problem makes the verdict `Invalid`, naming the field and the values it takes.

use super::access_point_ref::AccessPointRef;
use super::formats::{
    one_of, ACL_GRANTEE_TYPES, ACL_PERMISSIONS, ENDPOINT_TYPES, KEY_MANAGERS, KEY_STATES,
    NETWORK_ORIGINS, OBJECT_STORAGE_CLASSES, OWNERSHIPS, POLICY_SOURCES, PRINCIPAL_KINDS,
    SSE_ALGORITHMS,
};
use super::problem::Problem;
use super::snapshot::Snapshot;

/// One enumerated fact: its path, its value (`None` or empty: not given), the values AWS uses.
struct Enumerated<'a> {
    field: String,
    value: Option<&'a str>,
    allowed: &'a [&'a str],
}

/// Every enumerated field of the snapshot's facts, with its path.
fn enumerated(snapshot: &Snapshot) -> Vec<Enumerated<'_>> {
    let mut fields: Vec<Enumerated<'_>> = Vec::new();
    if let Some(principal) = &snapshot.principal {
        fields.push(Enumerated {
            field: "principal.kind".into(),
            value: Some(principal.kind.as_str()),
            allowed: &PRINCIPAL_KINDS,
        });
        for (i, policy) in principal.policies.iter().enumerate() {
            fields.push(Enumerated {
                field: format!("principal.policies[{i}].source"),
                value: policy.source.as_deref(),
                allowed: &POLICY_SOURCES,
            });
        }
    }
    if let Some(bucket) = &snapshot.bucket {
        fields.push(Enumerated {
            field: "bucket.ownership".into(),
            value: bucket.ownership.as_deref(),
            allowed: &OWNERSHIPS,
        });
        if let Some(encryption) = &bucket.encryption {
            fields.push(Enumerated {
                field: "bucket.encryption.sseAlgorithm".into(),
                value: Some(encryption.sse_algorithm.as_str()),
                allowed: &SSE_ALGORITHMS,
            });
        }
        for (i, grant) in bucket.acl.iter().flat_map(|a| a.grants.iter()).enumerate() {
            acl_grant(&mut fields, format!("bucket.acl.grants[{i}]"), grant);
        }
    }
    for (i, grant) in snapshot
        .object
        .iter()
        .flat_map(|o| o.acl.iter().flatten())
        .enumerate()
    {
        acl_grant(&mut fields, format!("object.acl[{i}]"), grant);
    }
    if let Some(object) = &snapshot.object {
        fields.push(Enumerated {
            field: "object.storageClass".into(),
            value: object.storage_class.as_deref(),
            allowed: &OBJECT_STORAGE_CLASSES,
        });
    }
    for (i, key) in snapshot.kms_keys.iter().enumerate() {
        fields.push(Enumerated {
            field: format!("kmsKeys[{i}].keyManager"),
            value: Some(key.key_manager.as_str()),
            allowed: &KEY_MANAGERS,
        });
        fields.push(Enumerated {
            field: format!("kmsKeys[{i}].keyState"),
            value: Some(key.key_state.as_str()),
            allowed: &KEY_STATES,
        });
    }
    if let Some(endpoint) = &snapshot.vpc_endpoint {
        fields.push(Enumerated {
            field: "vpcEndpoint.type".into(),
            value: Some(endpoint.kind.as_str()),
            allowed: &ENDPOINT_TYPES,
        });
    }
    if let Some(ap) = &snapshot.access_point {
        fields.push(Enumerated {
            field: "accessPoint.networkOrigin".into(),
            value: Some(ap.network_origin.as_str()),
            allowed: &NETWORK_ORIGINS,
        });
    }
    fields
}

/// An ACL grant's grantee type and permission.
fn acl_grant<'a>(
    fields: &mut Vec<Enumerated<'a>>,
    at: String,
    grant: &'a crate::snapshot::AclGrant,
) {
    fields.push(Enumerated {
        field: format!("{at}.granteeType"),
        value: Some(grant.grantee_type.as_str()),
        allowed: &ACL_GRANTEE_TYPES,
    });
    fields.push(Enumerated {
        field: format!("{at}.permission"),
        value: Some(grant.permission.as_str()),
        allowed: &ACL_PERMISSIONS,
    });
}

/// The problems of the snapshot's facts: enumerations, then the facts that must agree.
pub fn problems(snapshot: &Snapshot) -> Vec<Problem> {
    let mut problems: Vec<Problem> = enumerated(snapshot)
        .into_iter()
        .filter_map(|e| {
            let value = e.value.filter(|v| !v.is_empty())?;
            (!e.allowed.contains(&value)).then(|| {
                Problem::new(
                    e.field,
                    format!(
                        "is `{value}`; AWS uses {} (case-sensitive)",
                        one_of(e.allowed)
                    ),
                )
            })
        })
        .collect();
    problems.extend(access_point_facts(snapshot));
    problems.extend(bucket_facts(snapshot));
    problems.extend(endpoint_facts(snapshot));
    problems
}

/// The VPC endpoint read is the one the check names, in the VPC it names.
fn endpoint_facts(snapshot: &Snapshot) -> Vec<Problem> {
    let Some(endpoint) = &snapshot.vpc_endpoint else {
        return Vec::new();
    };
    let network = &snapshot.request.network;
    let mut problems = Vec::new();
    if let Some(id) = network
        .vpc_endpoint_id
        .as_deref()
        .filter(|id| *id != endpoint.id)
    {
        problems.push(Problem::new(
            "vpcEndpoint.id",
            format!(
                "is `{}`, but the check names endpoint `{id}`: the snapshot describes another endpoint",
                endpoint.id
            ),
        ));
    }
    if let Some(vpc) = network
        .vpc_id
        .as_deref()
        .filter(|vpc| !endpoint.vpc_id.is_empty() && *vpc != endpoint.vpc_id)
    {
        problems.push(Problem::new(
            "vpcEndpoint.vpcId",
            format!(
                "is `{}`, but the check says the requests come from VPC `{vpc}`: an endpoint serves only its own VPC",
                endpoint.vpc_id
            ),
        ));
    }
    problems
}

/// The access point's account and name are those of its ARN.
fn access_point_facts(snapshot: &Snapshot) -> Vec<Problem> {
    let Some(ap) = &snapshot.access_point else {
        return Vec::new();
    };
    let Ok(AccessPointRef::Arn { account, name, .. }) = AccessPointRef::parse(&ap.arn) else {
        return vec![Problem::new(
            "accessPoint.arn",
            format!(
                "`{}` is not an access point ARN (arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME)",
                ap.arn
            ),
        )];
    };
    let mut problems = Vec::new();
    let mut agree = |field: &str, fact: &str, from_arn: &str| {
        if !fact.is_empty() && fact != from_arn {
            problems.push(Problem::new(
                field,
                format!(
                    "is `{fact}`, but the access point's ARN `{}` says `{from_arn}`",
                    ap.arn
                ),
            ));
        }
    };
    agree("accessPoint.accountId", &ap.account_id, &account);
    agree("accessPoint.name", &ap.name, &name);
    problems
}

/// The bucket read is the one the check names.
fn bucket_facts(snapshot: &Snapshot) -> Vec<Problem> {
    let (Some(bucket), requested) = (&snapshot.bucket, &snapshot.request.bucket) else {
        return Vec::new();
    };
    if requested.is_empty() || bucket.name.is_empty() || bucket.name == *requested {
        return Vec::new();
    }
    vec![Problem::new(
        "bucket.name",
        format!(
            "is `{}`, but the check names bucket `{requested}`: the snapshot describes another bucket",
            bucket.name
        ),
    )]
}
