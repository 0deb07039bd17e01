//! Whether a statement's `Principal` or `NotPrincipal` names the caller, and how specifically (AWS checks the
//! account, the role and the session).

use crate::context::Principal;
use crate::model::{PrincipalElement, PrincipalEntry};
use crate::outcome::PrincipalMatch;

/// How a `Principal`/`NotPrincipal` element matches the caller; `None` when it does not.
pub(crate) fn principal_matches(
    element: &PrincipalElement,
    caller: &Principal,
    has_boundary: bool,
) -> Option<PrincipalMatch> {
    if element.negated {
        // NotPrincipal with Deny: the caller escapes only when every identity AWS checks for it is listed
        // (account, then role or user, then session), and never when it has a permissions boundary.
        let excluded = !has_boundary && not_principal_excludes(&element.entries, caller);
        return (!excluded).then_some(PrincipalMatch::NotExcluded);
    }
    // The most specific form wins: it decides whether implicit denies elsewhere bound the grant.
    let mut best: Option<PrincipalMatch> = None;
    for entry in &element.entries {
        if let Some(m) = entry_matches(entry, caller) {
            best = Some(match best {
                Some(previous) if specificity(previous) >= specificity(m) => previous,
                _ => m,
            });
        }
    }
    best
}

pub(crate) fn specificity(m: PrincipalMatch) -> u8 {
    match m {
        PrincipalMatch::NotNamed | PrincipalMatch::NotExcluded => 0,
        PrincipalMatch::Account => 1,
        PrincipalMatch::Everyone => 2,
        PrincipalMatch::Role => 3,
        PrincipalMatch::User | PrincipalMatch::FederatedUser | PrincipalMatch::RoleSession => 4,
    }
}

pub(crate) fn entry_matches(entry: &PrincipalEntry, caller: &Principal) -> Option<PrincipalMatch> {
    match (entry, caller) {
        (PrincipalEntry::Everyone, _) => Some(PrincipalMatch::Everyone),
        (PrincipalEntry::Account(account), caller)
            if caller.account() == Some(account.as_str()) =>
        {
            Some(PrincipalMatch::Account)
        }
        (
            PrincipalEntry::Role { account, name, .. },
            Principal::RoleSession {
                account: caller_account,
                role,
                ..
            },
        ) if account == caller_account && name == role => Some(PrincipalMatch::Role),
        (
            PrincipalEntry::User { arn },
            Principal::User {
                arn: caller_arn, ..
            },
        ) if arn == caller_arn => Some(PrincipalMatch::User),
        (
            PrincipalEntry::RoleSession {
                account,
                role,
                session,
            },
            Principal::RoleSession {
                account: caller_account,
                role: caller_role,
                session: Some(caller_session),
                ..
            },
        ) if account == caller_account && role == caller_role && session == caller_session => {
            Some(PrincipalMatch::RoleSession)
        }
        (
            PrincipalEntry::FederatedUser { arn },
            Principal::FederatedUser {
                arn: caller_arn, ..
            },
        ) if arn == caller_arn => Some(PrincipalMatch::FederatedUser),
        _ => None,
    }
}

pub(crate) fn not_principal_excludes(entries: &[PrincipalEntry], caller: &Principal) -> bool {
    let listed = |wanted: PrincipalMatch| {
        entries
            .iter()
            .any(|e| *e == PrincipalEntry::Everyone || entry_matches(e, caller) == Some(wanted))
    };
    match caller {
        Principal::Anonymous => entries.contains(&PrincipalEntry::Everyone),
        Principal::Root { .. } => listed(PrincipalMatch::Account),
        Principal::User { .. } => listed(PrincipalMatch::Account) && listed(PrincipalMatch::User),
        Principal::FederatedUser { .. } => {
            listed(PrincipalMatch::Account) && listed(PrincipalMatch::FederatedUser)
        }
        Principal::RoleSession { .. } => {
            listed(PrincipalMatch::Account)
                && listed(PrincipalMatch::Role)
                && listed(PrincipalMatch::RoleSession)
        }
    }
}
