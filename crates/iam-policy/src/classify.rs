//! From the layers' results to one classification (an exhaustive `match` a reviewer can read line by line)
//! and the statements that determined it. Follows AWS's documented evaluation logic. Depends on `outcome`.

use super::context::{Principal, Request};
use super::eval::*;
use super::layers::Layers;

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

/// The single place where layer outcomes become a classification.
pub(crate) fn classify(request: &Request, layers: &Layers<LayerResult>) -> Classification {
    let Layers {
        identity,
        resource_policy: resource,
        scp,
        permission_boundary: boundary,
        session_policy: session,
        vpc_endpoint_policy: vpce,
        ..
    } = layers;
    if layers
        .iter()
        .any(|l| l.outcome == LayerOutcome::ExplicitDeny)
    {
        return Classification::ExplicitDeny;
    }
    if scp.outcome == LayerOutcome::ImplicitDeny {
        return Classification::ScpNoAllow;
    }
    if vpce.outcome == LayerOutcome::ImplicitDeny {
        return Classification::VpcEndpointNoAllow;
    }
    let grants = resource_grants(resource);
    let key_policy = request.service() == "kms";
    let same_account = match (
        request.principal.account(),
        request.resource_account.as_deref(),
    ) {
        (Some(caller), Some(owner)) => caller == owner,
        _ => false,
    };
    let identity_allows = identity.outcome == LayerOutcome::Allowed;
    let boundary_denies = boundary.outcome == LayerOutcome::ImplicitDeny;
    let session_denies = session.outcome == LayerOutcome::ImplicitDeny;
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
        (_, true, false) => {
            if grants.unbounded {
                Classification::Allowed(Grant::ResourcePolicy)
            } else if !(identity_allows || grants.bounded) {
                Classification::NoAllow
            } else if boundary_denies {
                Classification::PermissionBoundaryNoAllow
            } else if session_denies {
                Classification::SessionPolicyNoAllow
            } else if identity_allows && grants.bounded {
                Classification::Allowed(Grant::IdentityAndResourcePolicy)
            } else if identity_allows {
                Classification::Allowed(Grant::IdentityPolicy)
            } else {
                Classification::Allowed(Grant::ResourcePolicy)
            }
        }
        (_, true, true) => {
            if grants.unbounded {
                Classification::Allowed(Grant::ResourcePolicy)
            } else if !(grants.bounded || grants.account) {
                Classification::ResourcePolicyNoAllow
            } else if !grants.bounded && !identity_allows {
                Classification::IdentityNoAllow
            } else if boundary_denies {
                Classification::PermissionBoundaryNoAllow
            } else if session_denies {
                Classification::SessionPolicyNoAllow
            } else if grants.bounded && !identity_allows {
                Classification::Allowed(Grant::ResourcePolicy)
            } else {
                Classification::Allowed(Grant::IdentityAndResourcePolicy)
            }
        }
        (_, false, _) => {
            if !identity_allows {
                Classification::IdentityNoAllow
            } else if boundary_denies {
                Classification::PermissionBoundaryNoAllow
            } else if session_denies {
                Classification::SessionPolicyNoAllow
            } else if !any_resource_grant {
                Classification::ResourcePolicyNoAllow
            } else {
                Classification::Allowed(Grant::IdentityAndResourcePolicy)
            }
        }
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
