//! The AWS adapter: reads everything a snapshot needs with the official SDK (`Target` → `Snapshot`), the
//! domain's `SnapshotSource` over live AWS.
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

mod access_points;
mod account;
mod answers;
mod assume;
mod cache;
mod collect;
pub mod dependencies;
mod ec2;
pub mod error;
pub mod events;
mod iam;
mod invalidate;
mod kms;
mod limits;
pub mod metrics;
mod organizations;
pub mod queue;
mod record;
mod s3;

use aws_config::{retry::RetryConfig, timeout::TimeoutConfig, BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use cache::ReadCache;
use error::{from_sdk, outcome_label, ReadError};
use limits::CallLimits;
use metrics::AwsMetrics;
use s3_diagnosis::snapshot::{PrincipalData, Snapshot, VpcEndpoint};
use s3_diagnosis::source::ReadAccess;
use s3_diagnosis::source::Target;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How the collector behaves.
#[derive(Debug, Clone)]
pub struct CollectorOptions {
    /// How long a read is reused (default 5 minutes).
    pub ttl: Duration,
    /// How long a failed read is reused before it is tried again (default 30 s).
    pub failure_ttl: Duration,
    /// AWS calls in flight at once, over all checks (default 16).
    pub concurrency: usize,
    /// Of those, how many the checks of one namespace may hold (default a quarter of `concurrency`, at
    /// least 1): a namespace that floods the operator cannot hold the pool.
    pub namespace_share: usize,
    /// Attempts per call, with standard retries for throttling and 5xx answers (default 5).
    pub max_attempts: u32,
    /// Time for one call, retries included (default 30 s).
    pub operation_timeout: Duration,
    /// The role (and `ExternalId`) that reads the organization's SCPs and RCPs, in its management or
    /// delegated-administrator account; none: the operator's own credentials (which must then be that
    /// account's).
    pub organization_reader: Option<s3_diagnosis::source::ReaderRole>,
    /// From how many distinct checked principals of one account on, the account's IAM is read at once
    /// (`GetAccountAuthorizationDetails`) and every principal of it served from that read (default 10;
    /// 0: never). Below it, each principal is read on its own (`GetRole` and its policies), which costs
    /// fewer calls for an account with few checked principals.
    pub account_read_threshold: usize,
    /// Accept the organization's SCPs and RCPs unread (for an operator that has neither a role in the
    /// management account nor a delegation policy): they are not read, and each check lists them among its
    /// assumptions, with this setting as the reason (default false).
    pub organization_unread: bool,
}

impl Default for CollectorOptions {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(300),
            failure_ttl: Duration::from_secs(30),
            concurrency: 16,
            namespace_share: 4,
            max_attempts: 5,
            operation_timeout: Duration::from_secs(30),
            organization_reader: None,
            account_read_threshold: 10,
            organization_unread: false,
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
    limits: Arc<CallLimits>,
    /// The namespace these reads are made for (counted by namespace in the metrics, and held to its share of
    /// the calls in flight).
    namespace: Option<String>,
}

impl Reader {
    /// Whether these credentials answer for `account`: AWS answers a call about an id, a name or the caller's
    /// own resources (a KMS key id or alias, a VPC's endpoints, a role by name) for the account of the
    /// credentials, so they must be that account's, whether the scope's reader role or the operator's own
    /// (`sts:GetCallerIdentity`, once per set of credentials). Otherwise another account's answer would be read
    /// as this one's.
    pub(crate) async fn answers_for(
        &self,
        account: &str,
        api: &'static str,
    ) -> Result<(), ReadError> {
        if self.account().await? == account {
            Ok(())
        } else {
            Err(ReadError::not_called(
                api,
                format!(
                    "the credentials that would read account `{account}` belong to another account; configure a reader role for account `{account}`"
                ),
            ))
        }
    }

    fn new(
        config: &SdkConfig,
        metrics: Arc<AwsMetrics>,
        limits: Arc<CallLimits>,
        namespace: Option<String>,
    ) -> Self {
        // Every answer's body is checked before it is read (`answers`): an empty or cut-off answer is a
        // failed read, not "none".
        let xml = answers::WellFormedAnswers(answers::Format::Xml);
        let json = answers::WellFormedAnswers(answers::Format::Json);
        Self {
            iam: aws_sdk_iam::Client::from_conf(
                aws_sdk_iam::config::Builder::from(config)
                    .interceptor(xml)
                    .build(),
            ),
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(config)
                    .interceptor(xml)
                    .build(),
            ),
            s3control: aws_sdk_s3control::Client::from_conf(
                aws_sdk_s3control::config::Builder::from(config)
                    .interceptor(xml)
                    .build(),
            ),
            kms: aws_sdk_kms::Client::from_conf(
                aws_sdk_kms::config::Builder::from(config)
                    .interceptor(json)
                    .build(),
            ),
            ec2: ec2::Ec2Client::new(config),
            organizations: aws_sdk_organizations::Client::from_conf(
                aws_sdk_organizations::config::Builder::from(config)
                    .interceptor(json)
                    .build(),
            ),
            sts: aws_sdk_sts::Client::from_conf(
                aws_sdk_sts::config::Builder::from(config)
                    .interceptor(xml)
                    .build(),
            ),
            account: tokio::sync::OnceCell::new(),
            metrics,
            limits,
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

    /// Runs one SDK call within the limits (its namespace's share, then the pool), counts it, and converts its
    /// error.
    pub async fn call<O, E>(
        &self,
        api: &'static str,
        call: impl Future<Output = Result<O, SdkError<E, HttpResponse>>>,
    ) -> Result<O, ReadError>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let place = self.limits.place(self.namespace.as_deref()).await;
        let result = call.await.map_err(|e| from_sdk(api, &e));
        drop(place);
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
    limits: Arc<CallLimits>,
    /// Clients per credentials, session and Region: bounded, and dropped after an hour unused (a tenant's
    /// namespace names a session; namespaces come and go).
    readers: moka::sync::Cache<ReaderKey, Arc<Reader>>,
    /// Held while a set of clients is looked up and, when missing, built and stored (a few microseconds, no
    /// await inside): two checks asking at once get one set, which reads its account's identity once.
    building: std::sync::Mutex<()>,
    regions: Shared<String>,
    principals: Shared<(PrincipalData, Option<ReadError>)>,
    buckets: ReadCache<s3::BucketRead>,
    keys: ReadCache<kms::KeyRead>,
    orgs: Shared<Option<OrgRead>>,
    /// A VPC endpoint by id, or a VPC's S3 endpoints: everything `DescribeVpcEndpoints` answered (what a
    /// scope may see of it is decided after the cache, per check).
    endpoints: Shared<Vec<VpcEndpoint>>,
    /// A bucket's tags and whether ABAC is enabled on it.
    bucket_tags: Shared<(std::collections::BTreeMap<String, String>, bool)>,
    /// A KMS key's tags.
    key_tags: Shared<std::collections::BTreeMap<String, String>>,
    /// A bucket's ACL.
    bucket_acls: Shared<s3_diagnosis::snapshot::BucketAcl>,
    /// An account's canonical user id.
    canonical_ids: Shared<String>,
    /// The object a download reads.
    objects: Shared<s3_diagnosis::snapshot::ObjectData>,
    /// An access point, with its policy.
    access_points: Shared<access_points::AccessPointRead>,
    /// An account's IAM, read at once.
    accounts: Shared<Arc<account::AccountView>>,
    /// The distinct principals checked per account (up to the threshold), to choose how to read them.
    principals_seen:
        moka::sync::Cache<String, Arc<std::sync::Mutex<std::collections::BTreeSet<String>>>>,
    account_read_threshold: usize,
    organization_reader: Option<s3_diagnosis::source::ReaderRole>,
    organization_unread: bool,
}

/// The most sets of reader clients kept (credentials × namespace × Region).
const MAX_READERS: u64 = 4096;

/// SDK clients are shared by everything read with the same credentials, session and Region.
type ReaderKey = (
    Option<s3_diagnosis::source::ReaderRole>,
    Option<String>,
    String,
);

/// The organization as one check needs it.
#[derive(Debug, Clone)]
pub struct OrgRead {
    id: String,
    scps: Result<organizations::Levels, ReadError>,
    rcps: Result<organizations::Levels, ReadError>,
}

/// A policy document's text as JSON; the text itself when it is not strict JSON (not JSON, or a key given
/// twice, which a plain JSON reader would drop silently): the policy parser then reports it, and the
/// document fails closed.
pub(crate) fn policy_document(text: &str) -> serde_json::Value {
    iam_policy::strict_json::from_str(text)
        .unwrap_or_else(|_| serde_json::Value::String(text.to_owned()))
}

impl Collector {
    /// A collector on the standard AWS configuration chain. Retries are standard (exponential backoff,
    /// throttling and 5xx retried) unless `AWS_RETRY_MODE` / `AWS_MAX_ATTEMPTS` say otherwise.
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
    /// operator's timeouts and, when `own_retry`, standard retries of `options.max_attempts`.
    pub async fn from_loader(
        loader: aws_config::ConfigLoader,
        options: CollectorOptions,
        own_retry: bool,
    ) -> Self {
        Self::from_config(&loader.load().await, options, own_retry)
    }

    /// A collector on a loaded SDK configuration, with the operator's timeouts and, when `own_retry`,
    /// standard retries of `options.max_attempts` (the configuration's own otherwise).
    pub fn from_config(config: &SdkConfig, options: CollectorOptions, own_retry: bool) -> Self {
        let mut builder = config.to_builder();
        // Standard retries (exponential backoff with jitter, throttling and 5xx retried): two throttled
        // answers in a row clear in seconds. Adaptive retries' client-side rate limiting held the third
        // attempt back for most of the operation timeout.
        if own_retry {
            builder.set_retry_config(Some(
                RetryConfig::standard().with_max_attempts(options.max_attempts),
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
            limits: Arc::new(CallLimits::new(
                options.concurrency,
                options.namespace_share,
            )),
            metrics: Arc::new(AwsMetrics::default()),
            building: std::sync::Mutex::new(()),
            readers: moka::sync::Cache::builder()
                .max_capacity(MAX_READERS)
                .time_to_idle(Duration::from_secs(3600))
                .build(),
            regions: ReadCache::new(options.ttl, options.failure_ttl),
            principals: ReadCache::new(options.ttl, options.failure_ttl),
            buckets: ReadCache::new(options.ttl, options.failure_ttl),
            keys: ReadCache::new(options.ttl, options.failure_ttl),
            orgs: ReadCache::new(options.ttl, options.failure_ttl),
            endpoints: ReadCache::new(options.ttl, options.failure_ttl),
            bucket_tags: ReadCache::new(options.ttl, options.failure_ttl),
            key_tags: ReadCache::new(options.ttl, options.failure_ttl),
            bucket_acls: ReadCache::new(options.ttl, options.failure_ttl),
            canonical_ids: ReadCache::new(options.ttl, options.failure_ttl),
            objects: ReadCache::new(options.ttl, options.failure_ttl),
            access_points: ReadCache::new(options.ttl, options.failure_ttl),
            accounts: ReadCache::bounded(options.ttl, options.failure_ttl, 1_000),
            principals_seen: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_idle(Duration::from_secs(3600))
                .build(),
            account_read_threshold: options.account_read_threshold,
            organization_reader: options.organization_reader,
            organization_unread: options.organization_unread,
            base,
        }
    }

    /// The call and cache counters.
    pub fn metrics(&self) -> Arc<AwsMetrics> {
        Arc::clone(&self.metrics)
    }

    /// The process's own AWS identity: its account and ARN (`sts:GetCallerIdentity`), logged at start-up.
    pub async fn caller(&self) -> Result<(String, String), ReadError> {
        let r = self.reader("", &self.home_region(), &ReadAccess::default());
        let who = r
            .call("sts:GetCallerIdentity", r.sts.get_caller_identity().send())
            .await?;
        Ok((
            who.account().unwrap_or_default().to_owned(),
            who.arn().unwrap_or_default().to_owned(),
        ))
    }

    /// The limits on calls in flight (the pool, and each namespace's share of it).
    pub fn limits(&self) -> Arc<CallLimits> {
        Arc::clone(&self.limits)
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
        // A poisoned lock only means another thread panicked while building: the cache is still sound.
        let _building = self
            .building
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(reader) = self.readers.get(&key) {
            return reader;
        }
        let reader = {
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
                    assume::session_name(access),
                    Arc::clone(&self.metrics),
                    access.on_behalf_of.clone(),
                );
                builder = builder.credentials_provider(
                    aws_credential_types::provider::SharedCredentialsProvider::new(provider),
                );
            }
            Arc::new(Reader::new(
                &builder.build(),
                Arc::clone(&self.metrics),
                Arc::clone(&self.limits),
                access.on_behalf_of.clone(),
            ))
        };
        self.readers.insert(key, Arc::clone(&reader));
        reader
    }
}

impl s3_diagnosis::source::SnapshotSource for Collector {
    fn snapshot(
        &self,
        target: &Target,
        access: &ReadAccess,
    ) -> impl Future<Output = Snapshot> + Send {
        Collector::collect(self, target, access)
    }

    async fn collect(
        &self,
        target: &Target,
        access: &ReadAccess,
    ) -> s3_diagnosis::source::Collected {
        let (snapshot, aws_calls) =
            metrics::counting_calls(Collector::collect(self, target, access)).await;
        s3_diagnosis::source::Collected {
            snapshot,
            aws_calls,
        }
    }
}
