//! The request: who calls (principal), what (action), on what (resource), and the request context keys. Keys
//! are case-insensitive; values keep their case.

use super::arn::{is_account_id, Arn};
use std::borrow::Cow;
use std::sync::Arc;

/// The value of a context key: one string, or a set for multi-valued keys (`aws:TagKeys`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextValue {
    /// A single-valued key.
    One(String),
    /// A multi-valued key (possibly empty).
    Many(Vec<String>),
}

/// One key with its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextEntry {
    /// The key as given (the standard keys are static text: no allocation).
    pub key: Cow<'static, str>,
    /// The value.
    pub value: ContextValue,
}

impl ContextEntry {
    /// The values as a slice (one element for a single-valued key).
    pub fn values(&self) -> &[String] {
        match &self.value {
            ContextValue::One(v) => std::slice::from_ref(v),
            ContextValue::Many(vs) => vs,
        }
    }
}

/// What is not known about a key that has no value in the context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unknown {
    /// Every real request carries the key; its value is not known (the source address, the time).
    Value,
    /// The request may or may not carry the key (a tag of a resource whose tags were not read): neither its
    /// presence nor its value is known, so not even `Null` can be decided.
    Presence,
}

/// The request context. Keys are compared case-insensitively; a request has a few dozen keys at most, so a
/// vector scanned linearly beats hashing (and allocates once per key). A key is in one of four states:
/// present with a value (`insert`), absent (nothing said), present with a value nobody told us
/// (`insert_unknown`), or not known to be present at all (`insert_unknown_presence`). A condition whose truth
/// depends on an unknown is undecided; the truth tables are in docs/causes.md.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    entries: Vec<ContextEntry>,
    unknown: Vec<(Cow<'static, str>, Unknown)>,
}

impl Context {
    fn position(&self, key: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.key.eq_ignore_ascii_case(key))
    }

    /// Marks `key` as present in every real request, with a value the request does not give (replacing any
    /// value it had).
    pub fn insert_unknown(&mut self, key: impl Into<Cow<'static, str>>) {
        let key = key.into();
        self.remove(&key);
        self.unknown.push((key, Unknown::Value));
    }

    /// Marks `key` as one the request may or may not carry, with a value not known either (replacing any value
    /// it had): the tag of a resource whose tags were not read.
    pub fn insert_unknown_presence(&mut self, key: impl Into<Cow<'static, str>>) {
        let key = key.into();
        self.remove(&key);
        self.unknown.push((key, Unknown::Presence));
    }

    /// What is unknown about `key`, if anything.
    pub fn unknown(&self, key: &str) -> Option<Unknown> {
        self.unknown
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, state)| *state)
    }

    /// Whether `key`'s value is unknown (present with an unknown value, or not known to be present).
    pub fn is_unknown(&self, key: &str) -> bool {
        self.unknown(key).is_some()
    }

    /// The keys whose values are unknown, in either state.
    pub fn unknown_keys(&self) -> impl Iterator<Item = &str> {
        self.unknown.iter().map(|(k, _)| k.as_ref())
    }

    /// Sets `key`, replacing any earlier value.
    pub fn insert(&mut self, key: impl Into<Cow<'static, str>>, value: ContextValue) {
        let key = key.into();
        if !self.unknown.is_empty() {
            self.unknown.retain(|(k, _)| !k.eq_ignore_ascii_case(&key));
        }
        match self.position(&key) {
            Some(i) => {
                if let Some(entry) = self.entries.get_mut(i) {
                    entry.value = value;
                }
            }
            None => {
                // A request context holds a few dozen keys: one allocation rather than doubling from four.
                if self.entries.capacity() == 0 {
                    self.entries.reserve(32);
                }
                self.entries.push(ContextEntry { key, value });
            }
        }
    }

    /// Sets `key` only when it has no value yet.
    pub fn insert_default(&mut self, key: &'static str, value: &str) {
        if self.position(key).is_none() {
            self.entries.push(ContextEntry {
                key: Cow::Borrowed(key),
                value: ContextValue::One(value.to_owned()),
            });
        }
    }

    /// Looks up a key (in any case).
    pub fn get(&self, key: &str) -> Option<&ContextEntry> {
        self.entries
            .iter()
            .find(|e| e.key.eq_ignore_ascii_case(key))
    }

    /// The value of a single-valued key (in any case).
    pub fn single(&self, key: &str) -> Option<&str> {
        match self.get(key).map(|e| &e.value) {
            Some(ContextValue::One(v)) => Some(v),
            _ => None,
        }
    }

    /// Removes a key given in any case (its value, or its being unknown).
    pub fn remove(&mut self, key: &str) {
        self.entries.retain(|e| !e.key.eq_ignore_ascii_case(key));
        self.unknown.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
    }

    /// Every entry, in insertion order.
    pub fn entries(&self) -> impl Iterator<Item = &ContextEntry> {
        self.entries.iter()
    }
}

/// The caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An unsigned request.
    Anonymous,
    /// The account root user.
    Root {
        /// The account.
        account: String,
    },
    /// An IAM user.
    User {
        /// `arn:aws:iam::ACCOUNT:user/path/name`.
        arn: String,
        /// The account.
        account: String,
        /// The user name (without path).
        name: String,
    },
    /// A session of an IAM role: given as the role ARN (session name unknown) or as the session ARN.
    RoleSession {
        /// `arn:aws:iam::ACCOUNT:role/path/name` when the role ARN was given, else `...:role/name`.
        role_arn: String,
        /// The account.
        account: String,
        /// The role name (without path).
        role: String,
        /// The session name, when known.
        session: Option<String>,
        /// The role's path, e.g. `/aws-service-role/...` for service-linked roles.
        path: String,
    },
    /// An STS federated-user session.
    FederatedUser {
        /// `arn:aws:sts::ACCOUNT:federated-user/name`.
        arn: String,
        /// The account.
        account: String,
        /// The federated user name.
        name: String,
    },
}

/// Why a principal text cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrincipalError {
    /// Not an ARN or `anonymous`.
    #[error("principal `{0}` is not an IAM role, user, assumed-role session, federated user or account root ARN, nor `anonymous`")]
    Unsupported(String),
}

impl Principal {
    /// Parses a caller: a role, user, assumed-role session, federated-user or root ARN, or `anonymous`.
    pub fn parse(text: &str) -> Result<Self, PrincipalError> {
        let bad = || PrincipalError::Unsupported(text.to_owned());
        if text == "anonymous" {
            return Ok(Self::Anonymous);
        }
        let arn = Arn::parse(text).map_err(|_| bad())?;
        if !is_account_id(arn.account) {
            return Err(bad());
        }
        let account = arn.account.to_owned();
        match (arn.service, arn.resource.split_once('/')) {
            ("iam", None) if arn.resource == "root" => Ok(Self::Root { account }),
            ("iam", Some(("role", rest))) if !rest.is_empty() => {
                let (path, name) = split_path(rest);
                Ok(Self::RoleSession {
                    role_arn: text.to_owned(),
                    account,
                    role: name.to_owned(),
                    session: None,
                    path,
                })
            }
            ("iam", Some(("user", rest))) if !rest.is_empty() => Ok(Self::User {
                arn: text.to_owned(),
                account,
                name: split_path(rest).1.to_owned(),
            }),
            ("sts", Some(("assumed-role", rest))) => match rest.split_once('/') {
                Some((role, session)) if !role.is_empty() && !session.is_empty() => {
                    Ok(Self::RoleSession {
                        role_arn: format!("arn:{}:iam::{}:role/{}", arn.partition, account, role),
                        account,
                        role: role.to_owned(),
                        session: Some(session.to_owned()),
                        path: "/".to_owned(),
                    })
                }
                _ => Err(bad()),
            },
            ("sts", Some(("federated-user", name))) if !name.is_empty() => {
                Ok(Self::FederatedUser {
                    arn: text.to_owned(),
                    account,
                    name: name.to_owned(),
                })
            }
            _ => Err(bad()),
        }
    }

    /// The caller's account; `None` for anonymous callers.
    pub fn account(&self) -> Option<&str> {
        match self {
            Self::Anonymous => None,
            Self::Root { account }
            | Self::User { account, .. }
            | Self::RoleSession { account, .. }
            | Self::FederatedUser { account, .. } => Some(account),
        }
    }

    /// The value AWS puts in `aws:PrincipalArn`: the role ARN for role sessions.
    pub fn principal_arn(&self) -> Option<String> {
        match self {
            Self::Anonymous => None,
            Self::Root { account } => Some(format!("arn:aws:iam::{account}:root")),
            Self::User { arn, .. } | Self::FederatedUser { arn, .. } => Some(arn.clone()),
            Self::RoleSession { role_arn, .. } => Some(role_arn.clone()),
        }
    }

    /// The value AWS puts in `aws:PrincipalType`.
    pub fn principal_type(&self) -> &'static str {
        match self {
            Self::Anonymous => "Anonymous",
            Self::Root { .. } => "Account",
            Self::User { .. } => "User",
            Self::RoleSession { .. } => "AssumedRole",
            Self::FederatedUser { .. } => "FederatedUser",
        }
    }

    /// Service-linked roles (path `/aws-service-role/`) are not restricted by SCPs or RCPs.
    pub fn is_service_linked_role(&self) -> bool {
        matches!(self, Self::RoleSession { path, .. } if path.starts_with("/aws-service-role/"))
    }

    /// Sets the context keys AWS derives from the caller, where the request did not give them.
    pub fn derive_context(&self, context: &mut Context) {
        if let Some(arn) = self.principal_arn() {
            context.insert_default("aws:PrincipalArn", &arn);
        }
        if let Some(account) = self.account() {
            context.insert_default("aws:PrincipalAccount", account);
        }
        context.insert_default("aws:PrincipalType", self.principal_type());
        match self {
            Self::User { name, .. } => context.insert_default("aws:username", name),
            Self::Root { account } => context.insert_default("aws:userid", account),
            Self::Anonymous => context.insert_default("aws:userid", "anonymous"),
            Self::RoleSession { .. } | Self::FederatedUser { .. } => {}
        }
    }
}

/// `path/to/name` → (`/path/to/`, `name`).
fn split_path(rest: &str) -> (String, &str) {
    match rest.rfind('/') {
        Some(at) => (
            format!("/{}", rest.get(..=at).unwrap_or("")),
            rest.get(at + 1..).unwrap_or(rest),
        ),
        None => ("/".to_owned(), rest),
    }
}

/// One IAM request to evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The caller.
    pub principal: Principal,
    /// `s3:PutObject`, as given.
    pub action: String,
    /// The action lowercased (actions are case-insensitive).
    pub action_lower: String,
    /// The resource ARN.
    pub resource: String,
    /// The account that owns the resource.
    pub resource_account: Option<String>,
    /// The request context, including the keys derived from the principal. Shared: the requests one upload
    /// implies differ in their action, not their context.
    pub context: Arc<Context>,
}

impl Request {
    /// Builds a request and derives the principal's context keys.
    pub fn new(
        principal: Principal,
        action: &str,
        resource: &str,
        resource_account: Option<String>,
        mut context: Context,
    ) -> Self {
        principal.derive_context(&mut context);
        Self {
            principal,
            action: action.to_owned(),
            action_lower: action.to_ascii_lowercase(),
            resource: resource.to_owned(),
            resource_account,
            context: Arc::new(context),
        }
    }

    /// The same caller, resource and (shared, not copied) context, for another action.
    pub fn with_action(&self, action: &str) -> Self {
        Self {
            principal: self.principal.clone(),
            action: action.to_owned(),
            action_lower: action.to_ascii_lowercase(),
            resource: self.resource.clone(),
            resource_account: self.resource_account.clone(),
            context: Arc::clone(&self.context),
        }
    }

    /// The service prefix of the action (`s3`, `kms`).
    pub fn service(&self) -> &str {
        self.action_lower.split(':').next().unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_principal_form() {
        assert_eq!(Principal::parse("anonymous"), Ok(Principal::Anonymous));
        assert!(matches!(
            Principal::parse("arn:aws:iam::111122223333:role/team/uploader"),
            Ok(Principal::RoleSession { role, path, session: None, .. }) if role == "uploader" && path == "/team/"
        ));
        assert!(matches!(
            Principal::parse("arn:aws:sts::111122223333:assumed-role/uploader/pod-1"),
            Ok(Principal::RoleSession { session: Some(s), role_arn, .. })
                if s == "pod-1" && role_arn == "arn:aws:iam::111122223333:role/uploader"
        ));
        assert!(matches!(
            Principal::parse("arn:aws:iam::111122223333:root"),
            Ok(Principal::Root { .. })
        ));
        assert!(matches!(
            Principal::parse("arn:aws:iam::111122223333:user/alice"),
            Ok(Principal::User { .. })
        ));
        assert!(Principal::parse("arn:aws:iam::1111:role/x").is_err());
        assert!(Principal::parse("uploader").is_err());
        assert!(Principal::parse("arn:aws:sts::111122223333:assumed-role/uploader").is_err());
    }
}
