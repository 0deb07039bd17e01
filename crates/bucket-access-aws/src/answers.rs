//! An answer is a fact only when it is one: every reader client checks the body of each successful answer
//! before the SDK's reader turns it into a value. The SDK's XML reader accepts a body that stops midway (an
//! unclosed element is read as far as it goes, and what is missing reads as "none"), and an empty body reads
//! as an answer with every field absent: "no bucket policy", "no permissions boundary", "not in an
//! organization". Here a successful answer whose body is empty, is not well-formed XML (REST-XML and query
//! services), or is not JSON (JSON services, and S3's bucket policy) fails the read instead, naming it; the
//! check is then `Unknown` for that read, never a wrong `Allowed`. Hand-written because it is a few rules on
//! the SDK's own interceptor seam; the XML tokenizer is the one the SDK's reader is built on.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// How a service writes its answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// REST-XML and query services (S3, S3 Control, IAM, STS): XML, but S3's bucket policy is its JSON text.
    Xml,
    /// JSON services (KMS, Organizations).
    Json,
}

/// The interceptor: checks the body of every successful, non-streaming answer.
#[derive(Debug, Clone, Copy)]
pub struct WellFormedAnswers(pub Format);

/// Why a body is not an answer.
#[derive(Debug, thiserror::Error)]
#[error("the answer of `{operation}` {why}: read as failed, not as \"none\"")]
pub struct NotAnAnswer {
    operation: String,
    why: String,
}

impl Intercept for WellFormedAnswers {
    fn name(&self) -> &'static str {
        "WellFormedAnswers"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response();
        if !response.status().is_success() || context.output_or_error().is_err() {
            return Ok(());
        }
        // A streaming body (an object's content) is not read here.
        let Some(body) = response.body().bytes() else {
            return Ok(());
        };
        let operation = cfg
            .load::<Metadata>()
            .map_or("an AWS call", Metadata::name)
            .to_owned();
        let format = match (self.0, operation.as_str()) {
            (Format::Xml, "GetBucketPolicy") => Format::Json,
            (format, _) => format,
        };
        let checked = check(format, body).and_then(|()| always_sent(format, &operation, body));
        match checked {
            Ok(()) => Ok(()),
            Err(why) => Err(Box::new(NotAnAnswer { operation, why })),
        }
    }
}

/// What AWS always sends in a successful answer of these operations (their API references: required
/// members). The SDK's reader fills a missing required member with a default (an empty tag set, an empty
/// owner, an empty key state): an answer without it is no answer.
const ALWAYS_SENT: [(&str, &[&str]); 13] = [
    ("GetAccessPointPolicy", &["Policy"]),
    ("GetObjectTagging", &["TagSet"]),
    ("GetBucketTagging", &["TagSet"]),
    ("GetBucketAcl", &["Owner", "AccessControlList"]),
    ("GetObjectAcl", &["Owner", "AccessControlList"]),
    ("GetRole", &["Arn", "RoleId"]),
    ("GetUser", &["Arn", "UserId"]),
    ("GetPolicy", &["DefaultVersionId"]),
    (
        "DescribeKey",
        &["KeyState", "KeyManager", "AWSAccountId", "Arn"],
    ),
    ("ListResourceTags", &["Tags"]),
    ("ListParents", &["Parents"]),
    ("ListPoliciesForTarget", &["Policies"]),
    ("DescribePolicy", &["Content"]),
];

/// Whether the answer holds every member AWS always sends for `operation` (an XML element, or a JSON key).
fn always_sent(format: Format, operation: &str, body: &[u8]) -> Result<(), String> {
    let Some((_, members)) = ALWAYS_SENT.iter().find(|(op, _)| *op == operation) else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(body);
    for member in members.iter() {
        let present = match format {
            Format::Xml => {
                text.contains(&format!("<{member}>"))
                    || text.contains(&format!("<{member}/>"))
                    || text.contains(&format!("<{member} "))
            }
            Format::Json => text.contains(&format!("\"{member}\"")),
        };
        if !present {
            return Err(format!("has no `{member}`, which AWS always sends"));
        }
    }
    Ok(())
}

/// Whether a successful answer's body is one, in `format`.
pub fn check(format: Format, body: &[u8]) -> Result<(), String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err("is empty".to_owned());
    }
    match format {
        Format::Json => serde_json::from_slice::<serde_json::Value>(body)
            .map(|_| ())
            .map_err(|e| format!("is not JSON ({e})")),
        Format::Xml => well_formed_xml(body),
    }
}

/// Well-formed XML with one root element, every element closed by its own name.
fn well_formed_xml(body: &[u8]) -> Result<(), String> {
    use xmlparser::{ElementEnd, Token, Tokenizer};
    let text = std::str::from_utf8(body).map_err(|_| "is not UTF-8 text".to_owned())?;
    let mut open: Vec<(&str, &str)> = Vec::new();
    let mut roots = 0;
    for token in Tokenizer::from(text) {
        match token.map_err(|e| format!("is not well-formed XML ({e})"))? {
            Token::ElementStart { prefix, local, .. } => {
                if open.is_empty() {
                    roots += 1;
                }
                open.push((prefix.as_str(), local.as_str()));
            }
            Token::ElementEnd {
                end: ElementEnd::Empty,
                ..
            } => {
                open.pop();
            }
            Token::ElementEnd {
                end: ElementEnd::Close(prefix, local),
                ..
            } => match open.pop() {
                Some(name) if name == (prefix.as_str(), local.as_str()) => {}
                _ => {
                    return Err(format!(
                        "is not well-formed XML (`</{}>` closes no element of that name)",
                        local.as_str()
                    ))
                }
            },
            _ => {}
        }
    }
    if let Some((_, local)) = open.last() {
        return Err(format!("is cut off (`<{local}>` is never closed)"));
    }
    match roots {
        1 => Ok(()),
        0 => Err("has no XML element".to_owned()),
        _ => Err("has more than one root element".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_answers_pass() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<GetRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetRoleResult><Role><RoleName>a</RoleName><Tags/></Role></GetRoleResult></GetRoleResponse>"#;
        assert_eq!(check(Format::Xml, xml), Ok(()));
        assert_eq!(check(Format::Json, br#"{"KeyMetadata": {}}"#), Ok(()));
    }

    #[test]
    fn answers_without_what_aws_always_sends_fail() {
        assert!(always_sent(
            Format::Xml,
            "GetObjectTagging",
            b"<Tagging><TagSet/></Tagging>"
        )
        .is_ok());
        assert_eq!(
            always_sent(Format::Xml, "GetObjectTagging", b"<Tagging></Tagging>"),
            Err("has no `TagSet`, which AWS always sends".to_owned())
        );
        assert!(always_sent(
            Format::Json,
            "DescribeKey",
            br#"{"KeyMetadata":{"KeyId":"k"}}"#
        )
        .is_err());
        assert!(always_sent(Format::Json, "ListParents", br#"{"Parents":[]}"#).is_ok());
        assert!(always_sent(Format::Xml, "GetBucketPolicy", b"").is_ok());
    }

    #[test]
    fn empty_or_cut_off_answers_fail() {
        assert_eq!(check(Format::Xml, b""), Err("is empty".to_owned()));
        assert_eq!(check(Format::Json, b"  \n"), Err("is empty".to_owned()));
        let cut = b"<GetRoleResponse><GetRoleResult><Role><RoleName>a</RoleName>";
        assert_eq!(
            check(Format::Xml, cut),
            Err("is cut off (`<Role>` is never closed)".to_owned())
        );
        assert!(check(Format::Xml, b"<a><b></a></b>").is_err());
        assert!(check(Format::Xml, b"<a/><b/>").is_err());
        assert!(check(Format::Xml, b"not xml").is_err());
        assert!(check(Format::Json, br#"{"Policy": "{\"Version"#).is_err());
        assert!(check(Format::Xml, b"<a>\xff</a>").is_err());
    }
}
