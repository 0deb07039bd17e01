//! The ARN of an IAM role or user as a typed value: partition, account, kind, path and name, each held to
//! IAM's own grammar. A check names its principal with one; the scope authorizes it; the AWS adapter reads
//! exactly it and compares IAM's answer with it (`same_entity`). Parsing is strict and exact: a text that
//! parses prints back unchanged.

use super::arn::{is_account_id, Arn, PARTITIONS};
use std::fmt;

/// The longest IAM path (`/` included), as IAM documents it.
pub const MAX_PATH_LEN: usize = 512;
/// The longest role or user name.
pub const MAX_NAME_LEN: usize = 64;

/// A role or a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum PrincipalKind {
    /// An IAM role (`role/...`).
    Role,
    /// An IAM user (`user/...`).
    User,
}

impl PrincipalKind {
    /// `role` or `user`, as in the ARN.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl fmt::Display for PrincipalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME` or `...:user/PATH/NAME`, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PrincipalArn {
    partition: String,
    account: String,
    kind: PrincipalKind,
    /// `/` or `/a/b/`.
    path: String,
    name: String,
}

/// Why a text is not the ARN of an IAM role or user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrincipalArnError {
    /// Not `arn:` and six parts.
    #[error("`{0}` is not an ARN (arn:PARTITION:iam::ACCOUNT:role/NAME or arn:PARTITION:iam::ACCOUNT:user/NAME)")]
    NotArn(String),
    /// An unknown partition.
    #[error("`{arn}` is in partition `{partition}`, which is not an AWS partition ({known})")]
    Partition {
        /// The ARN.
        arn: String,
        /// Its partition.
        partition: String,
        /// The partitions known.
        known: String,
    },
    /// Another service, or a Region where IAM has none.
    #[error("`{0}` is not an IAM ARN: it must read `arn:PARTITION:iam::ACCOUNT:...` (service `iam`, no Region)")]
    NotIam(String),
    /// Not twelve digits.
    #[error("`{0}` does not name a 12-digit account id")]
    Account(String),
    /// Neither `role/` nor `user/`.
    #[error("`{0}` names neither a role (`role/NAME`) nor a user (`user/NAME`)")]
    Kind(String),
    /// A name IAM would refuse.
    #[error("`{arn}` has the name `{name}`, which is not an IAM name (1 to {MAX_NAME_LEN} letters, digits and `+=,.@_-`)")]
    Name {
        /// The ARN.
        arn: String,
        /// Its name part.
        name: String,
    },
    /// A path IAM would refuse.
    #[error("`{arn}` has the path `{path}`, which is not an IAM path (`/`, or up to {MAX_PATH_LEN} printable ASCII characters between `/`s)")]
    Path {
        /// The ARN.
        arn: String,
        /// Its path.
        path: String,
    },
}

/// IAM's name grammar: `[\w+=,.@-]{1,64}`.
fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
}

/// IAM's path grammar: `/` or `/[\x21-\x7E]+/`, at most 512 characters.
fn valid_path(path: &str) -> bool {
    path.len() <= MAX_PATH_LEN
        && path.starts_with('/')
        && path.ends_with('/')
        && path.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

impl PrincipalArn {
    /// Parses the ARN of an IAM role or user, refusing anything IAM itself would not print.
    pub fn parse(text: &str) -> Result<Self, PrincipalArnError> {
        let arn = Arn::parse(text).map_err(|_| PrincipalArnError::NotArn(text.to_owned()))?;
        if !PARTITIONS.iter().any(|(p, _)| *p == arn.partition) {
            return Err(PrincipalArnError::Partition {
                arn: text.to_owned(),
                partition: arn.partition.to_owned(),
                known: PARTITIONS.map(|(p, _)| p).join(", "),
            });
        }
        if arn.service != "iam" || !arn.region.is_empty() {
            return Err(PrincipalArnError::NotIam(text.to_owned()));
        }
        if !is_account_id(arn.account) {
            return Err(PrincipalArnError::Account(text.to_owned()));
        }
        let (kind, rest) = match arn.resource.split_once('/') {
            Some(("role", rest)) => (PrincipalKind::Role, rest),
            Some(("user", rest)) => (PrincipalKind::User, rest),
            _ => return Err(PrincipalArnError::Kind(text.to_owned())),
        };
        let (path, name) = match rest.rfind('/') {
            Some(at) => (
                format!("/{}", rest.get(..=at).unwrap_or_default()),
                rest.get(at + 1..).unwrap_or_default(),
            ),
            None => ("/".to_owned(), rest),
        };
        if !valid_name(name) {
            return Err(PrincipalArnError::Name {
                arn: text.to_owned(),
                name: name.to_owned(),
            });
        }
        if !valid_path(&path) {
            return Err(PrincipalArnError::Path {
                arn: text.to_owned(),
                path,
            });
        }
        Ok(Self {
            partition: arn.partition.to_owned(),
            account: arn.account.to_owned(),
            kind,
            path,
            name: name.to_owned(),
        })
    }

    /// `aws`, `aws-cn`, ...
    pub fn partition(&self) -> &str {
        &self.partition
    }

    /// The twelve-digit account id.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// Role or user.
    pub fn kind(&self) -> PrincipalKind {
        self.kind
    }

    /// `/`, or `/a/b/`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The name, without the path (what `GetRole` and `GetUser` take).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The resource part: `role/a/b/name`.
    pub fn resource(&self) -> String {
        format!("{}{}{}", self.kind, self.path, self.name)
    }

    /// Whether `other` is the same IAM entity: the same partition, account, kind and path (paths are case
    /// sensitive), and the same name ignoring ASCII case (IAM names are unique without regard to case).
    pub fn same_entity(&self, other: &Self) -> bool {
        self.partition == other.partition
            && self.account == other.account
            && self.kind == other.kind
            && self.path == other.path
            && self.name.eq_ignore_ascii_case(&other.name)
    }
}

impl fmt::Display for PrincipalArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:iam::{}:{}{}{}",
            self.partition, self.account, self.kind, self.path, self.name
        )
    }
}

impl std::str::FromStr for PrincipalArn {
    type Err = PrincipalArnError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_arns_parse_and_print_back_unchanged() {
        for text in [
            "arn:aws:iam::111122223333:role/uploader",
            "arn:aws:iam::111122223333:role/media/team-a/uploader",
            "arn:aws-cn:iam::111122223333:user/alice",
            "arn:aws-eusc:iam::111122223333:user/ops/bob+ci@example.com",
            "arn:aws:iam::111122223333:role/service-role/a=b,c.d_e-f",
        ] {
            let arn = PrincipalArn::parse(text).unwrap();
            assert_eq!(arn.to_string(), text);
            assert_eq!(arn.resource(), text.splitn(6, ':').nth(5).unwrap());
        }
        let arn =
            PrincipalArn::parse("arn:aws:iam::111122223333:role/media/team-a/uploader").unwrap();
        assert_eq!(
            (
                arn.partition(),
                arn.account(),
                arn.kind(),
                arn.path(),
                arn.name()
            ),
            (
                "aws",
                "111122223333",
                PrincipalKind::Role,
                "/media/team-a/",
                "uploader"
            )
        );
    }

    #[test]
    fn anything_iam_would_not_print_is_refused() {
        for (text, what) in [
            ("role/uploader", "not an ARN"),
            ("arn:aws:iam::111122223333", "not an ARN"),
            ("arn:*:iam::111122223333:role/x", "partition `*`"),
            (
                "arn:aws-moon:iam::111122223333:role/x",
                "partition `aws-moon`",
            ),
            ("arn:aws:s3:::bucket", "not an IAM ARN"),
            (
                "arn:aws:iam:us-east-1:111122223333:role/x",
                "not an IAM ARN",
            ),
            ("arn:aws:iam::*:role/x", "12-digit"),
            ("arn:aws:iam::11112222333:role/x", "12-digit"),
            ("arn:aws:iam::111122223333:group/x", "neither a role"),
            ("arn:aws:iam::111122223333:root", "neither a role"),
            ("arn:aws:iam::111122223333:role/", "not an IAM name"),
            ("arn:aws:iam::111122223333:role/upload*", "not an IAM name"),
            ("arn:aws:iam::111122223333:role/a b", "not an IAM name"),
            ("arn:aws:iam::111122223333:role/uploadX/", "not an IAM name"),
            ("arn:aws:iam::111122223333:role/pa th/x", "not an IAM path"),
            ("arn:aws:iam::111122223333:role/é/x", "not an IAM path"),
        ] {
            let error = PrincipalArn::parse(text).unwrap_err().to_string();
            assert!(error.contains(what), "{text}: {error}");
        }
        let long_name = format!("arn:aws:iam::111122223333:role/{}", "n".repeat(65));
        assert!(PrincipalArn::parse(&long_name).is_err());
        let long_path = format!("arn:aws:iam::111122223333:role/{}/x", "p".repeat(511));
        assert!(PrincipalArn::parse(&long_path).is_err());
    }

    #[test]
    fn the_same_entity_ignores_the_names_case_but_not_the_paths() {
        let a = PrincipalArn::parse("arn:aws:iam::111122223333:role/media/Uploader").unwrap();
        let same = PrincipalArn::parse("arn:aws:iam::111122223333:role/media/uploader").unwrap();
        assert!(a.same_entity(&same));
        for other in [
            "arn:aws:iam::111122223333:role/Media/Uploader",
            "arn:aws:iam::111122223333:role/Uploader",
            "arn:aws:iam::111122223333:role/uploadX/Uploader",
            "arn:aws:iam::111122223333:user/media/Uploader",
            "arn:aws:iam::444455556666:role/media/Uploader",
            "arn:aws-cn:iam::111122223333:role/media/Uploader",
        ] {
            assert!(
                !a.same_entity(&PrincipalArn::parse(other).unwrap()),
                "{other}"
            );
        }
    }
}
