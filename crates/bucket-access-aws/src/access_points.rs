//! An S3 access point, read in its own account with s3control: `GetAccessPoint` (its bucket, the bucket's
//! account, its network origin and VPC, its own Block Public Access) and `GetAccessPointPolicy`. An alias
//! names no account: it is looked up with `ListAccessPoints` in the account the check gives.

use super::cache::credentials_key;
use super::error::ReadError;
use super::record::Lost;
use super::s3::{absent_as_none, block_from_s3control};
use super::{Collector, Reader};
use s3_diagnosis::access_point_ref::AccessPointRef;
use s3_diagnosis::snapshot::{AccessPointData, Snapshot, SnapshotLayer, SNAPSHOT_VERSION};
use s3_diagnosis::source::{ReadAccess, Target};

/// What was read of an access point: itself, and why its policy could not be read (if it could not).
pub type AccessPointRead = (AccessPointData, Option<ReadError>);

/// The access point `name` of `account`, with its policy (`None`: it has none, or it could not be read, and
/// then the error is returned beside it). `Err` when the access point cannot be read; `NoSuchAccessPoint`
/// when there is none of that name.
pub async fn read(r: &Reader, account: &str, name: &str) -> Result<AccessPointRead, ReadError> {
    let answer = r
        .call(
            "s3control:GetAccessPoint",
            r.s3control
                .get_access_point()
                .account_id(account)
                .name(name)
                .send(),
        )
        .await?;
    let (policy, policy_error) = match absent_as_none(
        r.call(
            "s3control:GetAccessPointPolicy",
            r.s3control
                .get_access_point_policy()
                .account_id(account)
                .name(name)
                .send(),
        )
        .await,
    ) {
        Ok(policy) => (policy, None),
        Err(e) => (None, Some(e)),
    };
    let bucket = answer.bucket().unwrap_or_default().to_owned();
    if bucket.is_empty() {
        return Err(ReadError::other(
            "s3control:GetAccessPoint",
            "the answer names no bucket",
        ));
    }
    // AWS always says an access point's network origin: an answer without it is no answer.
    let Some(network_origin) = answer.network_origin().map(|o| o.as_str().to_owned()) else {
        return Err(ReadError::other(
            "s3control:GetAccessPoint",
            "the answer has no network origin",
        ));
    };
    let public_access_block = match answer.public_access_block_configuration() {
        None => None,
        Some(config) => Some(block_from_s3control(config).ok_or_else(|| {
            ReadError::other(
                "s3control:GetAccessPoint",
                "the answer has an incomplete Block Public Access configuration",
            )
        })?),
    };
    let data = AccessPointData {
        arn: answer.access_point_arn().unwrap_or_default().to_owned(),
        alias: answer.alias().unwrap_or_default().to_owned(),
        name: answer.name().unwrap_or(name).to_owned(),
        account_id: account.to_owned(),
        bucket,
        bucket_account_id: answer
            .bucket_account_id()
            .filter(|b| *b != account)
            .unwrap_or_default()
            .to_owned(),
        network_origin,
        vpc_id: answer
            .vpc_configuration()
            .map(|v| v.vpc_id().to_owned())
            .filter(|v| !v.is_empty()),
        public_access_block,
        policy: policy
            .and_then(|p| p.policy().map(super::policy_document))
            .filter(|p| !p.is_null()),
    };
    Ok((data, policy_error))
}

/// The name of the access point of `account` whose alias is `alias` (`ListAccessPoints`, every page); a
/// `NoSuchAccessPoint` error when none has it.
pub async fn name_of_alias(r: &Reader, account: &str, alias: &str) -> Result<String, ReadError> {
    let mut next: Option<String> = None;
    loop {
        let page = r
            .call(
                "s3control:ListAccessPoints",
                r.s3control
                    .list_access_points()
                    .account_id(account)
                    .set_next_token(next.clone())
                    .send(),
            )
            .await?;
        if let Some(found) = page
            .access_point_list()
            .iter()
            .find(|a| a.alias() == Some(alias))
        {
            return Ok(found.name().to_owned());
        }
        next = page
            .next_token()
            .map(str::to_owned)
            .filter(|t| !t.is_empty());
        if next.is_none() {
            return Err(ReadError {
                code: Some("NoSuchAccessPoint".to_owned()),
                ..ReadError::other(
                    "s3control:ListAccessPoints",
                    format!("account `{account}` has no access point with alias `{alias}`"),
                )
            });
        }
    }
}

/// How a collection through an access point goes on: with the check's target on the bucket behind it, or
/// with the snapshot as it is (the access point could not be read, or its bucket may not be).
pub(crate) enum Through {
    /// Read the bucket behind the access point as this target, then add the access point.
    Bucket(Box<(Target, AccessPointRead)>),
    /// Nothing more is read.
    Stop(Box<Snapshot>),
}

impl Collector {
    /// Reads the access point a check names and decides what is read behind it: its bucket, when the check
    /// names none or the same one, and when the scope allows that bucket and its account.
    pub(crate) async fn through_access_point(
        &self,
        target: &Target,
        access: &ReadAccess,
        named: &str,
    ) -> Through {
        let stop = |lost: Lost, ap: Option<AccessPointData>| {
            Through::Stop(Box::new(Snapshot {
                version: SNAPSHOT_VERSION,
                request: target.request.clone(),
                access_point: ap,
                no_credentials: lost.only_credentials(),
                unavailable: lost.layers,
                ..Snapshot::default()
            }))
        };
        let mut lost = Lost::default();
        let read = match self.read_access_point(target, access, named).await {
            Ok(read) => read,
            Err(e) => {
                lost.add(SnapshotLayer::AccessPoint, &e);
                return stop(lost, None);
            }
        };
        let ap = &read.0;
        let request = &target.request;
        // Two buckets named: the diagnosis says so (`Invalid`); nothing behind the access point is read.
        if !request.bucket.is_empty() && request.bucket != ap.bucket {
            return stop(lost, Some(read.0));
        }
        let bucket_account = ap.bucket_account().to_owned();
        if let Some(refused) = refusal(target, access, ap, &bucket_account) {
            for layer in SnapshotLayer::BUCKET {
                lost.add(layer, &refused);
            }
            return stop(lost, Some(read.0));
        }
        let mut behind = target.clone();
        behind.request.bucket = ap.bucket.clone();
        behind.bucket_account = bucket_account;
        Through::Bucket(Box::new((behind, read)))
    }

    /// The access point, by ARN in its account and Region, or by alias in the account the check gives and
    /// the operator's Region; cached like every read.
    async fn read_access_point(
        &self,
        target: &Target,
        access: &ReadAccess,
        named: &str,
    ) -> Result<AccessPointRead, ReadError> {
        let (account, region, by) = match AccessPointRef::parse(named) {
            Ok(AccessPointRef::Arn {
                account,
                region,
                name,
                ..
            }) => (account, region, Ok(name)),
            Ok(AccessPointRef::Alias(alias)) => (
                target.bucket_account.clone(),
                self.home_region(),
                Err(alias),
            ),
            Ok(_) | Err(_) => {
                return Err(ReadError::not_called(
                    "s3control:GetAccessPoint",
                    format!("`{named}` is not a single-Region access point"),
                ))
            }
        };
        let reader = self.reader(&account, &region, access);
        let creds = credentials_key(access, &account);
        self.access_points
            .get_or_load(
                &format!("{creds}/{account}/{region}/{named}"),
                self.max_age(target, access),
                &self.metrics,
                Result::is_ok,
                || async {
                    let name = match by {
                        Ok(name) => name,
                        Err(alias) => name_of_alias(&reader, &account, &alias).await?,
                    };
                    read(&reader, &account, &name).await
                },
            )
            .await
    }
}

/// Why the bucket behind an access point may not be read for this check: the check named no bucket (so the
/// scope could not authorize one), and the bucket or its account is not among those the scope allows.
fn refusal(
    target: &Target,
    access: &ReadAccess,
    ap: &AccessPointData,
    bucket_account: &str,
) -> Option<ReadError> {
    let named_by_check = !target.request.bucket.is_empty();
    let account_ok =
        bucket_account == target.bucket_account || access.allows_account(bucket_account);
    let bucket_ok = named_by_check || access.allows_bucket(&ap.bucket);
    if account_ok && bucket_ok {
        return None;
    }
    let what = if bucket_ok {
        format!("its account `{bucket_account}` is not among the accounts")
    } else {
        "it matches none of the buckets".to_owned()
    };
    Some(ReadError::not_called(
        "s3:GetBucketLocation",
        format!(
            "the bucket `{}` behind access point `{}` is not read: {what} {} allows",
            ap.bucket,
            ap.arn,
            access.granted_by()
        ),
    ))
}
