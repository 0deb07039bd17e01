//! Credentials of a reader role, assumed with the check's `ExternalId`, a session name and a source
//! identity that name the check's namespace (so CloudTrail shows for whom every read was made).
//! Hand-written because `aws_config::sts::AssumeRoleProvider` cannot set `SourceIdentity`; the SDK's identity
//! cache (of the clients built on these credentials) reuses them until they expire.

use super::error::from_sdk;
use super::metrics::AwsMetrics;
use crate::access::ReaderRole;
use aws_credential_types::provider::{self, error::CredentialsError, future, ProvideCredentials};
use aws_credential_types::Credentials;
use std::sync::Arc;
use std::time::SystemTime;

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
            sts: aws_sdk_sts::Client::new(base),
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
                "cannot assume reader role `{}`: {}",
                self.role.role_arn,
                from_sdk("sts:AssumeRole", &e)
            ))
        })?;
        let Some(c) = answer.credentials() else {
            return Err(CredentialsError::provider_error(format!(
                "assuming `{}` returned no credentials",
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
