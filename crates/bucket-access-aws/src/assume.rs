//! Credentials of a reader role, assumed with the check's `ExternalId`, a session name and a source
//! identity that name the check's namespace (so CloudTrail shows for whom every read was made).
//! Hand-written because `aws_config::sts::AssumeRoleProvider` cannot set `SourceIdentity`; the SDK's identity
//! cache (of the clients built on these credentials) reuses them until they expire.

use super::error::from_sdk;
use super::metrics::AwsMetrics;
use aws_credential_types::provider::{self, error::CredentialsError, future, ProvideCredentials};
use aws_credential_types::Credentials;
use s3_diagnosis::source::{ReadAccess, ReaderRole};
use std::sync::Arc;
use std::time::SystemTime;

/// The longest role session name and source identity STS accepts.
const MAX_SESSION_NAME: usize = 64;

/// The role session name (and source identity) for reads made on behalf of the access's namespace:
/// `bucket-access.NAMESPACE`; when that is longer than STS's 64 characters, the namespace is cut and a short
/// hash of the whole name follows, so that namespaces sharing a long prefix keep distinct sessions in
/// CloudTrail. `bucket-access-operator` without a namespace.
pub fn session_name(access: &ReadAccess) -> String {
    const PREFIX: &str = "bucket-access.";
    match &access.on_behalf_of {
        Some(ns) if PREFIX.len() + ns.len() <= MAX_SESSION_NAME => format!("{PREFIX}{ns}"),
        Some(ns) => {
            use sha2::{Digest, Sha256};
            let digest = Sha256::digest(ns.as_bytes());
            let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
            let room = MAX_SESSION_NAME - PREFIX.len() - hash.len() - 1;
            let head: String = ns.chars().take(room).collect();
            format!("{PREFIX}{head}-{hash}")
        }
        None => "bucket-access-operator".to_owned(),
    }
}

/// Assumes one reader role for one namespace.
#[derive(Debug)]
pub struct ReaderCredentials {
    sts: aws_sdk_sts::Client,
    role: ReaderRole,
    session_name: String,
    metrics: Arc<AwsMetrics>,
    namespace: Option<String>,
}

impl ReaderCredentials {
    /// A provider that assumes `role` with the credentials of `base`, naming `session_name` as the session and
    /// the source identity.
    pub fn new(
        base: &aws_config::SdkConfig,
        role: ReaderRole,
        session_name: String,
        metrics: Arc<AwsMetrics>,
        namespace: Option<String>,
    ) -> Self {
        Self {
            // Its answers are checked as every reader's are (`answers`).
            sts: aws_sdk_sts::Client::from_conf(
                aws_sdk_sts::config::Builder::from(base)
                    .interceptor(crate::answers::WellFormedAnswers(
                        crate::answers::Format::Xml,
                    ))
                    .build(),
            ),
            role,
            session_name,
            metrics,
            namespace,
        }
    }

    async fn assume(&self) -> provider::Result {
        let answer = self
            .sts
            .assume_role()
            .role_arn(&self.role.role_arn)
            .role_session_name(&self.session_name)
            .source_identity(&self.session_name)
            .set_external_id(self.role.external_id.clone())
            .send()
            .await;
        let outcome = match &answer {
            Ok(_) => "ok".to_owned(),
            Err(e) => from_sdk("sts:AssumeRole", e)
                .code
                .unwrap_or_else(|| "error".to_owned()),
        };
        self.metrics
            .record_for("sts:AssumeRole", &outcome, self.namespace.as_deref());
        let answer = answer.map_err(|e| {
            CredentialsError::provider_error(format!(
                "{} `{}`: {}",
                super::error::READER_ROLE_FAILED,
                self.role.role_arn,
                from_sdk("sts:AssumeRole", &e)
            ))
        })?;
        let Some(c) = answer.credentials() else {
            return Err(CredentialsError::provider_error(format!(
                "{} `{}`: the answer has no credentials",
                super::error::READER_ROLE_FAILED,
                self.role.role_arn
            )));
        };
        let expiry = SystemTime::try_from(*c.expiration()).ok();
        Ok(Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            expiry,
            "BucketAccessReader",
        ))
    }
}

impl ProvideCredentials for ReaderCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.assume())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_namespace_is_the_operator() {
        assert_eq!(
            session_name(&ReadAccess::default()),
            "bucket-access-operator"
        );
    }

    #[test]
    fn long_namespaces_keep_distinct_session_names_within_64_characters() {
        let session = |ns: &str| {
            session_name(&ReadAccess {
                on_behalf_of: Some(ns.to_owned()),
                ..ReadAccess::default()
            })
        };
        assert_eq!(session("media"), "bucket-access.media");
        let long = "team-platform-engineering-data-lake-ingest-production";
        let (a, b) = (session(&format!("{long}-a")), session(&format!("{long}-b")));
        assert_ne!(a, b, "a shared prefix shares a session name");
        for name in [&a, &b] {
            assert_eq!(name.len(), 64, "{name}");
            assert!(name.starts_with("bucket-access.team-platform"), "{name}");
        }
        let exact = "n".repeat(64 - "bucket-access.".len());
        assert_eq!(session(&exact), format!("bucket-access.{exact}"));
    }
}
