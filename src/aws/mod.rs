//! The AWS adapter: reads everything a snapshot needs with the official SDK (`CheckSpec` → `Snapshot`).
//! Credentials and endpoints come from the standard AWS configuration (environment, profile, IRSA / EKS Pod
//! Identity web identity, `AWS_ENDPOINT_URL`); other accounts are read through the reader roles of the
//! check's `ReadAccess` (its scope's; in the CLI the manifest's `readRoleArns`), assumed with the scope's
//! `ExternalId` and a session named after the check's namespace. Reads are cached by the credentials that
//! made them as well as by their input, and a KMS key or VPC endpoint that the access does not allow is not
//! read. Every failed read becomes an `unavailable` entry; nothing here decides anything.

/// Every item of a paginated listing, through the SDK's paginator: a listing that cannot be read to its end
/// is an error, never a silently partial answer.
macro_rules! every {
    ($r:expr, $api:literal, $request:expr) => {
        $r.call($api, async {
            let mut stream = $request.into_paginator().items().send();
            let mut items = Vec::new();
            while let Some(item) = stream.next().await {
                items.push(item?);
            }
            Ok(items)
        })
    };
    // Paginators without `items()`: the items of each page, through `$items`.
    ($r:expr, $api:literal, $request:expr, $items:expr) => {
        $r.call($api, async {
            let mut stream = $request.into_paginator().send();
            let mut items = Vec::new();
            while let Some(page) = stream.next().await {
                items.extend($items(page?));
            }
            Ok(items)
        })
    };
}

pub mod assume;
pub mod cache;
pub mod ec2;
pub mod error;
pub mod iam;
pub mod kms;
pub mod metrics;
pub mod organizations;
pub mod s3;

use crate::access::ReadAccess;
use crate::spec::CheckSpec;
use aws_config::{retry::RetryConfig, timeout::TimeoutConfig, BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use cache::ReadCache;
use error::{from_sdk, outcome_label, ReadError};
use iam_policy::arn::Arn;
use metrics::AwsMetrics;
use s3_diagnosis::snapshot::{
    NamedPolicy, Organization, PrincipalData, Snapshot, SnapshotLayer, Unavailable, VpcEndpoint,
    SNAPSHOT_VERSION,
};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// How the collector behaves.
#[derive(Debug, Clone)]
pub struct CollectorOptions {
    /// How long a read is reused (default 5 minutes).
    pub ttl: Duration,
    /// How long a failed read is reused before it is tried again (default 30 s).
    pub failure_ttl: Duration,
    /// AWS calls in flight at once, over all checks (default 16).
    pub concurrency: usize,
    /// Attempts per call, with adaptive retry for throttling (default 5).
    pub max_attempts: u32,
    /// Time for one call, retries included (default 30 s).
    pub operation_timeout: Duration,
}

impl Default for CollectorOptions {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(300),
            failure_ttl: Duration::from_secs(30),
            concurrency: 16,
            max_attempts: 5,
            operation_timeout: Duration::from_secs(30),
        }
    }
}

/// SDK clients for one account (credentials) and one Region, with the call accounting.
pub struct Reader {
    iam: aws_sdk_iam::Client,
    s3: aws_sdk_s3::Client,
    s3control: aws_sdk_s3control::Client,
    kms: aws_sdk_kms::Client,
    ec2: ec2::Ec2Client,
    organizations: aws_sdk_organizations::Client,
    sts: aws_sdk_sts::Client,
    /// The account of these credentials (`sts:GetCallerIdentity`), read once.
    account: tokio::sync::OnceCell<Result<String, ReadError>>,
    metrics: Arc<AwsMetrics>,
    limit: Arc<Semaphore>,
    /// The namespace these reads are made for (counted by namespace in the metrics).
    namespace: Option<String>,
}

impl Reader {
    fn new(
        config: &SdkConfig,
        metrics: Arc<AwsMetrics>,
        limit: Arc<Semaphore>,
        namespace: Option<String>,
    ) -> Self {
        Self {
            iam: aws_sdk_iam::Client::new(config),
            s3: aws_sdk_s3::Client::new(config),
            s3control: aws_sdk_s3control::Client::new(config),
            kms: aws_sdk_kms::Client::new(config),
            ec2: ec2::Ec2Client::new(config),
            organizations: aws_sdk_organizations::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
            account: tokio::sync::OnceCell::new(),
            metrics,
            limit,
            namespace,
        }
    }

    /// The account these credentials belong to.
    pub async fn account(&self) -> Result<String, ReadError> {
        self.account
            .get_or_init(|| async {
                let who = self
                    .call(
                        "sts:GetCallerIdentity",
                        self.sts.get_caller_identity().send(),
                    )
                    .await?;
                who.account().map(str::to_owned).ok_or_else(|| {
                    ReadError::other("sts:GetCallerIdentity", "the answer names no account")
                })
            })
            .await
            .clone()
    }

    /// Runs one SDK call within the concurrency limit, counts it, and converts its error.
    pub async fn call<O, E>(
        &self,
        api: &'static str,
        call: impl Future<Output = Result<O, SdkError<E, HttpResponse>>>,
    ) -> Result<O, ReadError>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let permit = self.limit.acquire().await;
        let result = call.await.map_err(|e| from_sdk(api, &e));
        drop(permit);
        self.metrics.record_for(
            api,
            &outcome_label(&result.as_ref().map(|_| ())),
            self.namespace.as_deref(),
        );
        result
    }
}

type Shared<T> = ReadCache<Result<T, ReadError>>;

/// Reads snapshots; shared by every check of a process so that reads are cached and coalesced.
pub struct Collector {
    base: SdkConfig,
    metrics: Arc<AwsMetrics>,
    limit: Arc<Semaphore>,
    readers: Mutex<HashMap<ReaderKey, Arc<Reader>>>,
    regions: Shared<String>,
    principals: Shared<(PrincipalData, Option<ReadError>)>,
    buckets: ReadCache<s3::BucketRead>,
    keys: ReadCache<kms::KeyRead>,
    orgs: Shared<Option<OrgRead>>,
    endpoints: Shared<Option<VpcEndpoint>>,
}

/// SDK clients are shared by everything read with the same credentials, session and Region.
type ReaderKey = (Option<crate::access::ReaderRole>, Option<String>, String);

/// The credentials that read `account` for `access`, as a cache key prefix: a read made with one reader role
/// (and `ExternalId`) is never served to a check that reads that account with other credentials.
fn credentials_key(access: &ReadAccess, account: &str) -> String {
    match access.reader(account) {
        Some(r) => format!(
            "{}|{}",
            r.role_arn,
            r.external_id.as_deref().unwrap_or_default()
        ),
        None => "own".to_owned(),
    }
}

/// The organization as one check needs it.
#[derive(Debug, Clone)]
pub struct OrgRead {
    id: String,
    scps: Result<Vec<Vec<NamedPolicy>>, ReadError>,
    rcps: Result<Vec<Vec<NamedPolicy>>, ReadError>,
}

fn account_of(arn: &str) -> String {
    Arn::parse(arn)
        .map(|a| a.account.to_owned())
        .unwrap_or_default()
}

/// A policy document's text as JSON; the text itself when it is not strict JSON (not JSON, or a key given
/// twice, which a plain JSON reader would drop silently): the policy parser then reports it, and the
/// document fails closed.
pub(crate) fn policy_document(text: &str) -> serde_json::Value {
    iam_policy::strict_json::from_str(text)
        .unwrap_or_else(|_| serde_json::Value::String(text.to_owned()))
}

impl Collector {
    /// A collector on the standard AWS configuration chain. Retries are adaptive (client-side rate limiting
    /// on throttling) unless `AWS_RETRY_MODE` / `AWS_MAX_ATTEMPTS` say otherwise.
    pub async fn from_env(options: CollectorOptions) -> Self {
        let retry_from_env = std::env::var_os("AWS_RETRY_MODE").is_some()
            || std::env::var_os("AWS_MAX_ATTEMPTS").is_some();
        Self::from_loader(
            aws_config::defaults(BehaviorVersion::latest()),
            options,
            !retry_from_env,
        )
        .await
    }

    /// A collector on a configuration loader (the standard chain, or one a caller built), with the
    /// operator's timeouts and, when `adaptive_retry`, adaptive retries of `options.max_attempts`.
    pub async fn from_loader(
        loader: aws_config::ConfigLoader,
        options: CollectorOptions,
        adaptive_retry: bool,
    ) -> Self {
        Self::from_config(&loader.load().await, options, adaptive_retry)
    }

    /// A collector on a loaded SDK configuration, with the operator's timeouts and, when `adaptive_retry`,
    /// adaptive retries of `options.max_attempts` (the configuration's own otherwise).
    pub fn from_config(
        config: &SdkConfig,
        options: CollectorOptions,
        adaptive_retry: bool,
    ) -> Self {
        let mut builder = config.to_builder();
        if adaptive_retry {
            builder.set_retry_config(Some(
                RetryConfig::adaptive().with_max_attempts(options.max_attempts),
            ));
        }
        builder.set_timeout_config(Some(
            TimeoutConfig::builder()
                .operation_timeout(options.operation_timeout)
                .operation_attempt_timeout(options.operation_timeout / 2)
                .connect_timeout(Duration::from_secs(5))
                .build(),
        ));
        Self::with_config(builder.build(), options)
    }

    /// A collector on a given SDK configuration.
    pub fn with_config(base: SdkConfig, options: CollectorOptions) -> Self {
        Self {
            limit: Arc::new(Semaphore::new(options.concurrency.max(1))),
            metrics: Arc::new(AwsMetrics::default()),
            readers: Mutex::new(HashMap::new()),
            regions: ReadCache::new(options.ttl, options.failure_ttl),
            principals: ReadCache::new(options.ttl, options.failure_ttl),
            buckets: ReadCache::new(options.ttl, options.failure_ttl),
            keys: ReadCache::new(options.ttl, options.failure_ttl),
            orgs: ReadCache::new(options.ttl, options.failure_ttl),
            endpoints: ReadCache::new(options.ttl, options.failure_ttl),
            base,
        }
    }

    /// The call and cache counters.
    pub fn metrics(&self) -> Arc<AwsMetrics> {
        Arc::clone(&self.metrics)
    }

    /// Forgets every cached read (the next collection reads everything again).
    pub fn clear_cache(&self) {
        self.regions.clear();
        self.principals.clear();
        self.buckets.clear();
        self.keys.clear();
        self.orgs.clear();
        self.endpoints.clear();
    }

    fn home_region(&self) -> String {
        self.base
            .region()
            .map_or_else(|| "us-east-1".to_owned(), |r| r.to_string())
    }

    /// Clients with the credentials that read `account` for `access` (its reader role, assumed in a session
    /// named after the namespace, or the collector's own), in `region`.
    fn reader(&self, account: &str, region: &str, access: &ReadAccess) -> Arc<Reader> {
        let role = access.reader(account).cloned();
        let key = (role.clone(), access.on_behalf_of.clone(), region.to_owned());
        if let Ok(readers) = self.readers.lock() {
            if let Some(reader) = readers.get(&key) {
                return Arc::clone(reader);
            }
        }
        let mut builder = self
            .base
            .to_builder()
            .region(Region::new(region.to_owned()));
        if let Some(role) = role {
            let base = self
                .base
                .to_builder()
                .region(Region::new(region.to_owned()))
                .build();
            let provider = assume::ReaderCredentials::new(
                &base,
                role,
                access.session_name(),
                Arc::clone(&self.metrics),
                access.on_behalf_of.clone(),
            );
            builder = builder.credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(provider),
            );
        }
        let reader = Arc::new(Reader::new(
            &builder.build(),
            Arc::clone(&self.metrics),
            Arc::clone(&self.limit),
            access.on_behalf_of.clone(),
        ));
        if let Ok(mut readers) = self.readers.lock() {
            readers.insert(key, Arc::clone(&reader));
        }
        reader
    }

    /// Reads every input of one check with the credentials `access` names. Never fails: what cannot be read
    /// (or may not be) is listed in `unavailable`.
    pub async fn collect(&self, spec: &CheckSpec, access: &ReadAccess) -> Snapshot {
        let request = spec.request();
        let mut unavailable: Vec<Unavailable> = Vec::new();
        let mut lost = |layer: SnapshotLayer, e: &ReadError| {
            if !unavailable.iter().any(|u| u.layer == layer) {
                unavailable.push(Unavailable {
                    layer,
                    reason: e.reason(),
                });
            }
        };
        let skip = |layer: SnapshotLayer| request.skip_layers.contains(&layer);
        let principal_arn = request.principal_arn.clone();
        let principal_account = account_of(&principal_arn);
        let bucket_account = spec
            .bucket_account()
            .unwrap_or_else(|| principal_account.clone());
        let principal_creds = credentials_key(access, &principal_account);
        let bucket_creds = credentials_key(access, &bucket_account);
        let home = self.home_region();
        let metrics = &self.metrics;
        // Reads are shared between checks, but a check re-evaluated every `interval` sees reads at most half
        // an interval old: a policy fixed in AWS shows within one interval whatever the cache TTL.
        // A requested re-evaluation (`access.fresh`) reads everything again.
        let max_age = if access.fresh {
            Duration::ZERO
        } else {
            spec.interval() / 2
        };

        // The bucket's Region decides which endpoint serves it.
        let home_reader = self.reader(&bucket_account, &home, access);
        let region = self
            .regions
            .get_or_load(
                &format!("{bucket_creds}/{bucket_account}/{}", request.bucket),
                max_age,
                metrics,
                Result::is_ok,
                || s3::bucket_region(&home_reader, &request.bucket, &bucket_account),
            )
            .await;
        let bucket_reader = match &region {
            Ok(r) => self.reader(&bucket_account, r, access),
            Err(_) => Arc::clone(&home_reader),
        };
        let region_name = region.clone().unwrap_or_else(|_| home.clone());
        let principal_reader = self.reader(&principal_account, &region_name, access);
        // The organization is read with the operator's own credentials, for the two accounts in scope.
        let org_access = ReadAccess {
            on_behalf_of: access.on_behalf_of.clone(),
            ..ReadAccess::default()
        };
        let org_reader = self.reader("", &home, &org_access);

        let read_principal = async {
            if skip(SnapshotLayer::Identity) {
                return None;
            }
            Some(
                self.principals
                    .get_or_load(&format!("{principal_creds}/{principal_arn}"), max_age, metrics, Result::is_ok, || async {
                        // IAM answers by name for the account of the credentials: they must be the
                        // principal's account, or another account's role of the same name would answer.
                        let account = principal_reader.account().await?;
                        if account != principal_account {
                            return Err(ReadError::other(
                                "sts:GetCallerIdentity",
                                format!(
                                    "the credentials that read account `{principal_account}` belong to account `{account}`, where IAM would answer for a principal of the same name: configure a reader role for account `{principal_account}`"
                                ),
                            ));
                        }
                        iam::read_principal(&principal_reader, &principal_arn, &principal_account)
                            .await
                    })
                    .await,
            )
        };
        let read_bucket = async {
            match &region {
                Ok(r) => Some(
                    self.buckets
                        .get_or_load(
                            &format!("{bucket_creds}/{bucket_account}/{}", request.bucket),
                            max_age,
                            metrics,
                            |b| b.unavailable.is_empty(),
                            || s3::read_bucket(&bucket_reader, &request.bucket, &bucket_account, r),
                        )
                        .await,
                ),
                Err(_) => None,
            }
        };
        let read_org = async {
            if skip(SnapshotLayer::Scp) && skip(SnapshotLayer::Rcp) {
                return Ok(None);
            }
            self.orgs
                .get_or_load(
                    &format!("{principal_account}/{bucket_account}"),
                    max_age,
                    metrics,
                    Result::is_ok,
                    || async {
                        let Some((id, management)) =
                            organizations::organization_id(&org_reader).await?
                        else {
                            return Ok(None);
                        };
                        // SCPs never restrict principals of the management account, nor RCPs its resources.
                        let scps = async {
                            if principal_account == management {
                                return Ok(Vec::new());
                            }
                            let path = organizations::path(&org_reader, &principal_account).await?;
                            organizations::policies_along(
                                &org_reader,
                                &path,
                                aws_sdk_organizations::types::PolicyType::ServiceControlPolicy,
                            )
                            .await
                        }
                        .await;
                        let rcps = async {
                            if bucket_account == management {
                                return Ok(Vec::new());
                            }
                            let path = organizations::path(&org_reader, &bucket_account).await?;
                            organizations::policies_along(
                                &org_reader,
                                &path,
                                aws_sdk_organizations::types::PolicyType::ResourceControlPolicy,
                            )
                            .await
                        }
                        .await;
                        Ok(Some(OrgRead { id, scps, rcps }))
                    },
                )
                .await
        };
        let endpoint_id = request.network.vpc_endpoint_id.clone();
        let vpc_id = request.network.vpc_id.clone();
        let read_endpoint = async {
            if endpoint_id.is_none() && vpc_id.is_none() {
                return Ok(None);
            }
            let key = format!(
                "{principal_creds}/{}/{}",
                endpoint_id.as_deref().unwrap_or(""),
                vpc_id.as_deref().unwrap_or("")
            );
            self.endpoints
                .get_or_load(&key, max_age, metrics, Result::is_ok, || {
                    ec2::read_endpoint(
                        &principal_reader,
                        endpoint_id.as_deref(),
                        vpc_id.as_deref(),
                        &region_name,
                    )
                })
                .await
        };
        let (principal, bucket, org, endpoint) =
            tokio::join!(read_principal, read_bucket, read_org, read_endpoint);

        let mut snapshot = Snapshot {
            version: SNAPSHOT_VERSION,
            request: request.clone(),
            collected_at: Some(
                chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now())
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ),
            ..Snapshot::default()
        };
        match principal {
            Some(Ok((data, boundary_error))) => {
                if let Some(e) = boundary_error {
                    lost(SnapshotLayer::PermissionsBoundary, &e);
                }
                snapshot.principal = Some(data);
            }
            Some(Err(e)) if e.is_code(&["NoSuchEntity"]) => {
                snapshot.principal_not_found = Some(e.to_string());
            }
            Some(Err(e)) => lost(SnapshotLayer::Identity, &e),
            None => {}
        }
        match (bucket, &region) {
            (Some(read), _) => {
                for (layer, e) in &read.unavailable {
                    lost(*layer, e);
                }
                snapshot.bucket = Some(read.bucket);
            }
            (None, Err(e)) => {
                for layer in SnapshotLayer::BUCKET {
                    lost(layer, e);
                }
            }
            (None, Ok(_)) => {}
        }
        match org {
            Ok(Some(org)) => {
                let mut organization = Organization {
                    id: Some(org.id),
                    ..Organization::default()
                };
                match org.scps {
                    Ok(levels) => organization.scps = levels,
                    Err(e) => lost(SnapshotLayer::Scp, &e),
                }
                match org.rcps {
                    Ok(levels) => organization.rcps = levels,
                    Err(e) => lost(SnapshotLayer::Rcp, &e),
                }
                snapshot.organization = Some(organization);
            }
            Ok(None) => {}
            Err(e) => {
                lost(SnapshotLayer::Scp, &e);
                lost(SnapshotLayer::Rcp, &e);
            }
        }
        match endpoint {
            Ok(Some(e)) if !access.allows_endpoint(&e.id) => lost(
                SnapshotLayer::VpcEndpointPolicy,
                &ReadError::other(
                    "ec2:DescribeVpcEndpoints",
                    format!(
                        "the check's VPC uses endpoint `{}`, whose policy {} does not allow to be read: add it to the scope's `vpcEndpoints`",
                        e.id,
                        access.granted_by()
                    ),
                ),
            ),
            Ok(Some(e)) => snapshot.vpc_endpoint = Some(e),
            Ok(None) if endpoint_id.is_some() || vpc_id.is_some() => lost(
                SnapshotLayer::VpcEndpointPolicy,
                &ReadError::other(
                    "ec2:DescribeVpcEndpoints",
                    "no S3 VPC endpoint found for the check's network",
                ),
            ),
            Ok(None) => {}
            Err(e) => lost(SnapshotLayer::VpcEndpointPolicy, &e),
        }

        // The KMS key the upload would use: known only now that the bucket's default encryption is read.
        if let Some(choice) = s3_diagnosis::kms::key_choice(&snapshot) {
            let reference = choice.reference.clone();
            let (account, key_region) = match Arn::parse(&reference) {
                Ok(a) => (a.account.to_owned(), a.region.to_owned()),
                // Ids and aliases resolve in the caller's account.
                Err(_) => (principal_account.clone(), region_name.clone()),
            };
            let read = if access.allows_key_account(&account) {
                let key_reader = self.reader(&account, &key_region, access);
                let creds = credentials_key(access, &account);
                self.keys
                    .get_or_load(
                        &format!("{creds}/{account}/{key_region}/{reference}"),
                        max_age,
                        metrics,
                        |k| k.unavailable.is_empty(),
                        || kms::read_key(&key_reader, &reference),
                    )
                    .await
            } else {
                let refused = ReadError::other(
                    "kms:DescribeKey",
                    format!(
                        "the upload would use KMS key `{reference}` of account `{account}`, whose keys {} does not allow to be read: add the account to the scope's `kmsKeyAccounts`",
                        access.granted_by()
                    ),
                );
                kms::KeyRead {
                    key: None,
                    unavailable: vec![
                        (SnapshotLayer::KmsKey, refused.clone()),
                        (SnapshotLayer::KmsKeyPolicy, refused.clone()),
                        (SnapshotLayer::KmsGrants, refused),
                    ],
                }
            };
            for (layer, e) in &read.unavailable {
                lost(*layer, e);
            }
            if let Some(key) = read.key {
                snapshot.kms_keys.push(key);
            }
        }
        snapshot.unavailable = unavailable;
        snapshot
    }
}

impl crate::spec::SnapshotSource for Collector {
    fn snapshot(
        &self,
        spec: &CheckSpec,
        access: &ReadAccess,
    ) -> impl Future<Output = Snapshot> + Send {
        self.collect(spec, access)
    }
}
