//! S3 access points as a check names them: the ARN (`arn:PARTITION:s3:REGION:ACCOUNT:accesspoint/NAME`) or
//! the alias (`NAME-…-s3alias`), parsed once; Multi-Region and Object Lambda access points are recognised so
//! that they are said to be not evaluated, never evaluated as something else. Also the ARNs a request
//! through an access point is authorized on, and the context keys it carries.

use super::snapshot::{AccessPointData, Snapshot, SnapshotLayer};
use iam_policy::arn::{is_account_id, Arn, PARTITIONS};
use iam_policy::context::{Context, ContextValue};
use std::borrow::Cow;

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
    pub fn parse(text: &str) -> Result<Self, String> {
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
                Err(format!("`{text}` is neither an access point ARN (arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME) nor an access point alias (NAME-…-s3alias)"))
            };
        }
        let arn = Arn::parse(text).map_err(|e| e.to_string())?;
        if arn.service == "s3-object-lambda" {
            return Ok(Self::ObjectLambda(text.to_owned()));
        }
        let name = arn.resource.strip_prefix("accesspoint/");
        if arn.service == "s3" && arn.region.is_empty() && name.is_some() {
            return Ok(Self::MultiRegion(text.to_owned()));
        }
        let shape = "an access point ARN is arn:PARTITION:s3:REGION:ACCOUNT:accesspoint/NAME";
        let Some(name) = name.filter(|_| arn.service == "s3") else {
            return Err(format!("`{text}` is not an access point ARN: {shape}"));
        };
        if !PARTITIONS.iter().any(|(p, _)| *p == arn.partition) {
            return Err(format!(
                "`{text}` names partition `{}`, which AWS does not have",
                arn.partition
            ));
        }
        if !is_account_id(arn.account) {
            return Err(format!(
                "`{text}` has account `{}`, not 12 digits: {shape}",
                arn.account
            ));
        }
        let region_ok = arn
            .region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !region_ok {
            return Err(format!("`{text}` has Region `{}`", arn.region));
        }
        if !valid_name(name) {
            return Err(format!("`{text}` has access point name `{name}`: 3 to 50 lowercase letters, digits and hyphens"));
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
