//! The client model: what the workload's AWS client sends by default that a bucket policy may test. Since
//! the default data integrity protections of 2025 (AWS CLI v2 2.23.0, boto3 1.36.0, AWS SDK for Java 2.30.0,
//! for JavaScript 3.729.0, the Go and Rust SDKs' S3 clients of January 2025) every upload carries a CRC
//! checksum, and a streamed body carries it in a trailer, which changes `x-amz-content-sha256` from the
//! payload's hash to `STREAMING-UNSIGNED-PAYLOAD-TRAILER`. Where the value depends on how the application
//! hands over the body, the model lists every value the client may send, and the diagnosis decides the
//! request for each: the same decision for all is a decision, different ones are `Unknown`. Sources are
//! cited in `docs/causes.md` ("The client model").

use serde::{Deserialize, Serialize};

/// The condition key the client model gives.
pub const CONTENT_SHA256: &str = "s3:x-amz-content-sha256";

/// The value sent for a streamed body whose checksum travels in a trailer.
pub const STREAMING_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

/// The value sent when the payload is not signed.
pub const UNSIGNED: &str = "UNSIGNED-PAYLOAD";

/// A payload's SHA-256 in hex stands for "the body's own hash" (this one is the empty body's): no policy
/// names the hash of a body it has not seen, so any such value decides alike.
pub const BODY_DIGEST: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The workload's AWS client, as a check names it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
#[derive(strum::IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "kebab-case")]
pub enum Client {
    /// The AWS CLI version 2 (2.23.0 and later).
    AwsCliV2,
    /// boto3 / botocore (1.36.0 and later).
    Boto3,
    /// The AWS SDK for Java 2.x (2.30.0 and later).
    AwsSdkJavaV2,
    /// The AWS SDK for Go v2 (service/s3 1.73.0 and later).
    AwsSdkGoV2,
    /// The AWS SDK for JavaScript v3 (3.729.0 and later).
    AwsSdkJsV3,
    /// The AWS SDK for Rust (aws-sdk-s3 1.69.0 and later).
    AwsSdkRust,
    /// Not known: what the client sends is not assumed (a condition on it is `Unknown`).
    #[default]
    Unknown,
}

impl Client {
    /// The name, as a check writes it.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// The values of `x-amz-content-sha256` the client may send: `body` for the requests that carry the
    /// object's data (PutObject, UploadPart), else for those that carry none (CreateMultipartUpload,
    /// CompleteMultipartUpload). Empty: not known.
    pub fn content_sha256(self, body: bool) -> &'static [&'static str] {
        match (self, body) {
            // botocore: an operation with streaming input over HTTPS puts its checksum in a trailer; other
            // requests over HTTPS are not payload-signed.
            (Self::AwsCliV2 | Self::Boto3, true) => &[STREAMING_TRAILER],
            (Self::AwsCliV2 | Self::Boto3, false) => &[UNSIGNED],
            // The Rust and JavaScript SDKs: a streamed body gets a trailer, a body in memory a checksum
            // header and its own hash.
            (Self::AwsSdkRust | Self::AwsSdkJsV3, true) => &[STREAMING_TRAILER, BODY_DIGEST],
            (Self::AwsSdkRust | Self::AwsSdkJsV3, false) => &[BODY_DIGEST],
            // Java and Go: the documentation says a checksum is sent, not how the payload is signed, which
            // depends on the body and the HTTP client.
            (Self::AwsSdkJavaV2 | Self::AwsSdkGoV2, true) => {
                &[STREAMING_TRAILER, UNSIGNED, BODY_DIGEST]
            }
            (Self::AwsSdkJavaV2 | Self::AwsSdkGoV2, false) => &[UNSIGNED, BODY_DIGEST],
            (Self::Unknown, _) => &[],
        }
    }

    /// What the model assumes, for the diagnosis' assumptions (`None`: nothing).
    pub fn assumption(self) -> Option<String> {
        if self == Self::Unknown {
            return None;
        }
        let list = |values: &[&str]| {
            values
                .iter()
                .map(|v| {
                    if *v == BODY_DIGEST {
                        "the body's SHA-256".to_owned()
                    } else {
                        format!("`{v}`")
                    }
                })
                .collect::<Vec<_>>()
                .join(" or ")
        };
        Some(format!(
            "`{CONTENT_SHA256}` from the client model of `{}`: {} on PutObject and UploadPart, {} on CreateMultipartUpload and CompleteMultipartUpload (a value in `context` wins)",
            self.name(),
            list(self.content_sha256(true)),
            list(self.content_sha256(false))
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::Client;

    #[test]
    fn every_known_client_sends_a_value_and_unknown_sends_none() {
        for client in <Client as strum::VariantArray>::VARIANTS {
            let known = *client != Client::Unknown;
            assert_eq!(!client.content_sha256(true).is_empty(), known, "{client:?}");
            assert_eq!(
                !client.content_sha256(false).is_empty(),
                known,
                "{client:?}"
            );
            assert_eq!(client.assumption().is_some(), known);
            assert_eq!(
                serde_json::json!(client).as_str(),
                Some(client.name()),
                "serde and strum spell it alike"
            );
        }
    }
}
