//! From the layers' results to one classification (an exhaustive `match` a reviewer can read line by line)
//! and the statements that determined it. Follows AWS's documented evaluation logic.

use crate::context::{Principal, Request};
use crate::layers::Layers;
use crate::outcome::{
    Classification, Grant, LayerOutcome, LayerResult, PrincipalMatch, StatementOutcome,
    StatementRef,
};

/// How the resource policy grants, split by whether implicit denies in the boundary or session policy still
/// limit the grant (AWS: grants to a role ARN or to everyone are limited; grants to a session ARN, a user
/// ARN, or to `*` with an `aws:PrincipalArn` condition are not; grants to the account delegate to IAM).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ResourceGrants {
    unbounded: bool,
    bounded: bool,
    account: bool,
}

pub(crate) fn resource_grants(layer: &LayerResult) -> ResourceGrants {
    let mut grants = ResourceGrants::default();
    for statement in layer.statements.iter().filter(|s| s.allows()) {
        match statement.outcome {
            StatementOutcome::Applies(
                PrincipalMatch::RoleSession | PrincipalMatch::User | PrincipalMatch::FederatedUser,
            ) => {
                grants.unbounded = true;
            }
            StatementOutcome::Applies(PrincipalMatch::Everyone)
                if statement.principal_arn_condition =>
            {
                grants.unbounded = true;
            }
            StatementOutcome::Applies(PrincipalMatch::Account) => grants.account = true,
            StatementOutcome::Applies(_) => grants.bounded = true,
            StatementOutcome::DoesNotApply(_) | StatementOutcome::Indeterminate(_) => {}
        }
    }
    grants
}

/// The single place where layer outcomes become a classification: a deny of any layer, a missing Allow of
/// the SCPs or the endpoint policy, then by who asks (anonymous, root, a principal of the resource's account
/// or of another) which grants are needed.
pub(crate) fn classify(request: &Request, layers: &Layers<LayerResult>) -> Classification {
    if layers
        .iter()
        .any(|l| l.outcome == LayerOutcome::ExplicitDeny)
    {
        return Classification::ExplicitDeny;
    }
    if layers.scp.outcome == LayerOutcome::ImplicitDeny {
        return Classification::ScpNoAllow;
    }
    if layers.vpc_endpoint_policy.outcome == LayerOutcome::ImplicitDeny {
        return Classification::VpcEndpointNoAllow;
    }
    let key_policy = request.service() == "kms";
    let same_account = match (
        request.principal.account(),
        request.resource_account.as_deref(),
    ) {
        (Some(caller), Some(owner)) => caller == owner,
        _ => false,
    };
    let f = Outcomes {
        grants: resource_grants(&layers.resource_policy),
        identity_allows: layers.identity.outcome == LayerOutcome::Allowed,
        boundary_denies: layers.permission_boundary.outcome == LayerOutcome::ImplicitDeny,
        session_denies: layers.session_policy.outcome == LayerOutcome::ImplicitDeny,
    };
    let grants = &f.grants;
    let any_resource_grant = grants.unbounded || grants.bounded || grants.account;
    match (&request.principal, same_account, key_policy) {
        (Principal::Anonymous, _, _) => {
            if grants.unbounded || grants.bounded {
                Classification::Allowed(Grant::ResourcePolicy)
            } else {
                Classification::ResourcePolicyNoAllow
            }
        }
        (Principal::Root { .. }, true, false) => Classification::Allowed(Grant::RootUser),
        (Principal::Root { .. }, _, _) => {
            if any_resource_grant {
                Classification::Allowed(Grant::ResourcePolicy)
            } else {
                Classification::ResourcePolicyNoAllow
            }
        }
        (_, true, false) => in_the_account(&f),
        (_, true, true) => key_in_the_account(&f),
        (_, false, _) => cross_account(&f, any_resource_grant),
    }
}

/// The layer outcomes that decide once no layer denies.
struct Outcomes {
    grants: ResourceGrants,
    identity_allows: bool,
    boundary_denies: bool,
    session_denies: bool,
}

/// The resource's account, not a key: either an unbounded resource-policy grant, or an Allow (identity or
/// resource policy) within the boundary and the session policy.
fn in_the_account(f: &Outcomes) -> Classification {
    let grants = &f.grants;
    if grants.unbounded {
        Classification::Allowed(Grant::ResourcePolicy)
    } else if !(f.identity_allows || grants.bounded) {
        Classification::NoAllow
    } else if f.boundary_denies {
        Classification::PermissionBoundaryNoAllow
    } else if f.session_denies {
        Classification::SessionPolicyNoAllow
    } else if f.identity_allows && grants.bounded {
        Classification::Allowed(Grant::IdentityAndResourcePolicy)
    } else if f.identity_allows {
        Classification::Allowed(Grant::IdentityPolicy)
    } else {
        Classification::Allowed(Grant::ResourcePolicy)
    }
}

/// A KMS key of the caller's account: the key policy must allow (the caller, or the account to delegate to
/// IAM, which must then allow too).
fn key_in_the_account(f: &Outcomes) -> Classification {
    let grants = &f.grants;
    if grants.unbounded {
        Classification::Allowed(Grant::ResourcePolicy)
    } else if !(grants.bounded || grants.account) {
        Classification::ResourcePolicyNoAllow
    } else if !grants.bounded && !f.identity_allows {
        Classification::IdentityNoAllow
    } else if f.boundary_denies {
        Classification::PermissionBoundaryNoAllow
    } else if f.session_denies {
        Classification::SessionPolicyNoAllow
    } else if grants.bounded && !f.identity_allows {
        Classification::Allowed(Grant::ResourcePolicy)
    } else {
        Classification::Allowed(Grant::IdentityAndResourcePolicy)
    }
}

/// Another account's resource: both an identity Allow (within the boundary and the session policy) and a
/// resource-policy grant.
fn cross_account(f: &Outcomes, any_resource_grant: bool) -> Classification {
    if !f.identity_allows {
        Classification::IdentityNoAllow
    } else if f.boundary_denies {
        Classification::PermissionBoundaryNoAllow
    } else if f.session_denies {
        Classification::SessionPolicyNoAllow
    } else if !any_resource_grant {
        Classification::ResourcePolicyNoAllow
    } else {
        Classification::Allowed(Grant::IdentityAndResourcePolicy)
    }
}

pub(crate) fn determining_statements(
    classification: Classification,
    layers: &Layers<LayerResult>,
) -> Vec<StatementRef> {
    let Layers {
        identity,
        resource_policy: resource,
        ..
    } = layers;
    let allowing = |layer: &LayerResult| {
        layer
            .statements
            .iter()
            .filter(|s| s.allows())
            .map(|s| s.at)
            .collect::<Vec<_>>()
    };
    match classification {
        Classification::ExplicitDeny => layers
            .iter()
            .flat_map(|l| l.statements.iter())
            .filter(|s| s.denies())
            .map(|s| s.at)
            .collect(),
        Classification::Allowed(Grant::IdentityPolicy) => allowing(identity),
        Classification::Allowed(Grant::ResourcePolicy) => allowing(resource),
        Classification::Allowed(Grant::IdentityAndResourcePolicy) => {
            let mut refs = allowing(identity);
            refs.extend(allowing(resource));
            refs
        }
        Classification::Allowed(Grant::RootUser)
        | Classification::ScpNoAllow
        | Classification::VpcEndpointNoAllow
        | Classification::NoAllow
        | Classification::IdentityNoAllow
        | Classification::ResourcePolicyNoAllow
        | Classification::PermissionBoundaryNoAllow
        | Classification::SessionPolicyNoAllow => Vec::new(),
    }
}
