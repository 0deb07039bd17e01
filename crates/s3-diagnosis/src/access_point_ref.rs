//! S3 access points as a check names them: the ARN (`arn:PARTITION:s3:REGION:ACCOUNT:accesspoint/NAME`) or
//! the alias (`NAME-…-s3alias`), parsed once; Multi-Region and Object Lambda access points are recognised so
//! that they are said to be not evaluated, never evaluated as something else.

use iam_policy::arn::{is_account_id, Arn, ArnError, PARTITIONS};

/// The shape of an access point ARN, as the errors say it.
const SHAPE: &str = "an access point ARN is arn:PARTITION:s3:REGION:ACCOUNT:accesspoint/NAME";

/// Why a text names no access point.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessPointRefError {
    /// Not an ARN, and not an alias either.
    #[error("`{0}` is neither an access point ARN (arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME) nor an access point alias (NAME-…-s3alias)")]
    NeitherArnNorAlias(String),
    /// Starts with `arn:` but is no ARN.
    #[error(transparent)]
    Arn(#[from] ArnError),
    /// An ARN of something else.
    #[error("`{0}` is not an access point ARN: {SHAPE}")]
    NotAccessPoint(String),
    /// A partition AWS does not have.
    #[error("`{text}` names partition `{partition}`, which AWS does not have")]
    Partition {
        /// The ARN.
        text: String,
        /// Its partition.
        partition: String,
    },
    /// An account that is not 12 digits.
    #[error("`{text}` has account `{account}`, not 12 digits: {SHAPE}")]
    Account {
        /// The ARN.
        text: String,
        /// Its account.
        account: String,
    },
    /// A Region that is not one.
    #[error("`{text}` has Region `{region}`")]
    Region {
        /// The ARN.
        text: String,
        /// Its Region.
        region: String,
    },
    /// A name access points cannot have.
    #[error(
        "`{text}` has access point name `{name}`: 3 to 50 lowercase letters, digits and hyphens"
    )]
    Name {
        /// The ARN.
        text: String,
        /// Its name.
        name: String,
    },
}

/// What `spec.accessPoint` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessPointRef {
    /// A single-Region access point by ARN.
    Arn {
        /// `aws`, `aws-cn`, ...
        partition: String,
        /// Its Region.
        region: String,
        /// Its account.
        account: String,
        /// Its name.
        name: String,
    },
    /// A single-Region access point by alias: its account is not in the text.
    Alias(String),
    /// A Multi-Region Access Point (ARN or `….mrap` alias): not evaluated yet.
    MultiRegion(String),
    /// An S3 Object Lambda access point (ARN or `…--ol-s3` alias): not evaluated yet.
    ObjectLambda(String),
}

/// Whether `name` is a valid access point name: 3 to 50 lowercase letters, digits and hyphens, starting and
/// ending with a letter or digit, and not ending in `-s3alias`.
fn valid_name(name: &str) -> bool {
    let edges_ok =
        |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (3..=50).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && edges_ok(name.chars().next())
        && edges_ok(name.chars().last())
        && !name.ends_with("-s3alias")
}

/// Whether `alias` has the shape of an access point alias: at most 63 lowercase letters, digits and hyphens,
/// ending in `-s3alias`.
fn valid_alias(alias: &str) -> bool {
    alias.len() <= 63
        && alias.len() > "-s3alias".len() + 2
        && alias.ends_with("-s3alias")
        && alias
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

impl AccessPointRef {
    /// Parses what a check names, or says what is wrong.
    pub fn parse(text: &str) -> Result<Self, AccessPointRefError> {
        if text.ends_with(".mrap") {
            return Ok(Self::MultiRegion(text.to_owned()));
        }
        if text.ends_with("--ol-s3") {
            return Ok(Self::ObjectLambda(text.to_owned()));
        }
        if !text.starts_with("arn:") {
            return if valid_alias(text) {
                Ok(Self::Alias(text.to_owned()))
            } else {
                Err(AccessPointRefError::NeitherArnNorAlias(text.to_owned()))
            };
        }
        let arn = Arn::parse(text)?;
        if arn.service == "s3-object-lambda" {
            return Ok(Self::ObjectLambda(text.to_owned()));
        }
        let name = arn.resource.strip_prefix("accesspoint/");
        if arn.service == "s3" && arn.region.is_empty() && name.is_some() {
            return Ok(Self::MultiRegion(text.to_owned()));
        }
        let Some(name) = name.filter(|_| arn.service == "s3") else {
            return Err(AccessPointRefError::NotAccessPoint(text.to_owned()));
        };
        if !PARTITIONS.iter().any(|(p, _)| *p == arn.partition) {
            return Err(AccessPointRefError::Partition {
                text: text.to_owned(),
                partition: arn.partition.to_owned(),
            });
        }
        if !is_account_id(arn.account) {
            return Err(AccessPointRefError::Account {
                text: text.to_owned(),
                account: arn.account.to_owned(),
            });
        }
        let region_ok = arn
            .region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !region_ok {
            return Err(AccessPointRefError::Region {
                text: text.to_owned(),
                region: arn.region.to_owned(),
            });
        }
        if !valid_name(name) {
            return Err(AccessPointRefError::Name {
                text: text.to_owned(),
                name: name.to_owned(),
            });
        }
        Ok(Self::Arn {
            partition: arn.partition.to_owned(),
            region: arn.region.to_owned(),
            account: arn.account.to_owned(),
            name: name.to_owned(),
        })
    }

    /// What is not evaluated yet about this kind of access point, said for the user; `None` for a
    /// single-Region access point.
    pub fn not_evaluated(&self) -> Option<String> {
        match self {
            Self::MultiRegion(text) => Some(format!("`{text}` is a Multi-Region Access Point, whose requests are authorized by its own policy and each underlying bucket's in every Region: this is not evaluated yet, so nothing is claimed (check each bucket behind it, or a single-Region access point)")),
            Self::ObjectLambda(text) => Some(format!("`{text}` is an S3 Object Lambda access point, whose requests go through a Lambda function: this is not evaluated yet, so nothing is claimed (check the access point behind it)")),
            Self::Arn { .. } | Self::Alias(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AccessPointRef;

    #[test]
    fn parses_arns_and_aliases_and_recognises_what_is_not_evaluated() {
        assert_eq!(
            AccessPointRef::parse("arn:aws:s3:us-east-1:111122223333:accesspoint/uploads"),
            Ok(AccessPointRef::Arn {
                partition: "aws".into(),
                region: "us-east-1".into(),
                account: "111122223333".into(),
                name: "uploads".into()
            })
        );
        assert!(matches!(
            AccessPointRef::parse("uploads-abcdef0123456789abcdef0123456789ab-s3alias"),
            Ok(AccessPointRef::Alias(_))
        ));
        for mrap in [
            "arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap",
            "mfzwi23gnjvgw.mrap",
        ] {
            let parsed = AccessPointRef::parse(mrap);
            assert!(
                matches!(parsed, Ok(AccessPointRef::MultiRegion(_))),
                "{mrap}"
            );
            assert!(parsed.ok().and_then(|p| p.not_evaluated()).is_some());
        }
        assert!(matches!(
            AccessPointRef::parse(
                "arn:aws:s3-object-lambda:us-east-1:111122223333:accesspoint/olap"
            ),
            Ok(AccessPointRef::ObjectLambda(_))
        ));
        for bad in [
            "arn:aws:s3:::bucket",
            "arn:aws:s3:us-east-1:1111:accesspoint/uploads",
            "arn:aws:s3:us-east-1:111122223333:accesspoint/Up_loads",
            "arn:nope:s3:us-east-1:111122223333:accesspoint/uploads",
            "arn:aws:s3:us-east-1:111122223333:accesspoint/../other",
            "uploads",
        ] {
            assert!(AccessPointRef::parse(bad).is_err(), "{bad}");
        }
    }
}
