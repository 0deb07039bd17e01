//! Reads the S3 VPC endpoint a workload uses (`ec2:DescribeVpcEndpoints`): by id, or the S3 endpoint of a VPC.
//!
//! Hand-written on the SDK's runtime rather than through `aws-sdk-ec2`: that crate is generated for EC2's
//! ~750 operations and was a quarter of every cold build (about 1 GB of `target/` and minutes of compile) for
//! this one call. The request goes through `aws-smithy-runtime`'s `Operation` (the SDK configuration's HTTP
//! client, timeouts and retries, as the SDK's own credential providers do), is signed with `aws-sigv4`, and
//! the answer is read with `aws-smithy-xml`; only the EC2 Query encoding and the fields the product uses are
//! ours.

use super::error::ReadError;
use super::Reader;
use aws_config::SdkConfig;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime::client::orchestrator::operation::Operation;
use aws_smithy_runtime::client::retries::classifiers::{
    HttpStatusCodeClassifier, TransientErrorClassifier,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse, OrchestratorError};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::error::ErrorMetadata;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_smithy_xml::decode::{try_data, Document, ScopedDecoder, XmlDecodeError};
use s3_diagnosis::snapshot::VpcEndpoint;
use std::time::SystemTime;

/// The EC2 Query API version the request and the answer's shape follow.
const VERSION: &str = "2016-11-15";

/// One signed page request: the form body and what signs it.
#[derive(Debug)]
struct PageRequest {
    body: String,
    credentials: aws_credential_types::Credentials,
}

/// One page of the answer.
#[derive(Debug, Default)]
struct Page {
    endpoints: Vec<VpcEndpoint>,
    next_token: Option<String>,
}

/// `ec2:DescribeVpcEndpoints` for one account (credentials) and Region.
#[derive(Debug)]
pub struct Ec2Client {
    operation: Operation<PageRequest, Page, ErrorMetadata>,
    credentials: Option<SharedCredentialsProvider>,
}

impl Ec2Client {
    /// A client on the SDK configuration's credentials, Region, endpoint, HTTP client, timeouts and retries.
    pub fn new(config: &SdkConfig) -> Self {
        let region = config
            .region()
            .map_or_else(|| "us-east-1".to_owned(), ToString::to_string);
        let endpoint = endpoint_url(config, &region);
        let url = format!("{}/", endpoint.trim_end_matches('/'));
        let mut builder = Operation::builder()
            .service_name("ec2")
            .operation_name("DescribeVpcEndpoints")
            .with_connection_poisoning()
            .endpoint_url(&endpoint)
            .no_auth()
            .timeout_config(
                config
                    .timeout_config()
                    .cloned()
                    .unwrap_or_else(TimeoutConfig::disabled),
            );
        if let Some(client) = config.http_client() {
            builder = builder.http_client(client);
        }
        if let Some(time) = config.time_source() {
            builder = builder.time_source(time);
        }
        builder = match config.sleep_impl() {
            Some(sleep) => builder
                .standard_retry(
                    &config
                        .retry_config()
                        .cloned()
                        .unwrap_or_else(RetryConfig::standard),
                )
                // Connection errors and timeouts, 5xx answers, and the throttling error codes every SDK client
                // retries (EC2's `RequestLimitExceeded` comes with HTTP 503 or 400): the same classification
                // as the SDK's clients.
                .retry_classifier(TransientErrorClassifier::<ErrorMetadata>::new())
                .retry_classifier(HttpStatusCodeClassifier::default())
                .retry_classifier(aws_runtime::retries::classifiers::AwsErrorCodeClassifier::<
                    ErrorMetadata,
                >::new())
                .sleep_impl(sleep),
            None => builder.no_retry(),
        };
        let operation = builder
            .serializer(move |request: PageRequest| signed(&url, &region, request))
            .deserializer(read_page)
            .build();
        Self {
            operation,
            credentials: config.credentials_provider(),
        }
    }

    /// One page of endpoints for the query `parameters` (`NextToken` included when paging).
    async fn page(
        &self,
        parameters: &[(String, String)],
    ) -> Result<Page, SdkError<ErrorMetadata, HttpResponse>> {
        let credentials = match &self.credentials {
            Some(provider) => provider
                .provide_credentials()
                .await
                .map_err(SdkError::construction_failure)?,
            None => {
                return Err(SdkError::construction_failure(
                    "no AWS credentials are configured",
                ))
            }
        };
        let body = {
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.append_pair("Action", "DescribeVpcEndpoints");
            form.append_pair("Version", VERSION);
            for (name, value) in parameters {
                form.append_pair(name, value);
            }
            form.finish()
        };
        self.operation
            .invoke(PageRequest { body, credentials })
            .await
    }
}

/// The endpoint URL as the SDK would choose it for EC2: `AWS_ENDPOINT_URL_EC2` (or the profile's), then the
/// configuration's global endpoint URL, then the Region's public endpoint.
fn endpoint_url(config: &SdkConfig, region: &str) -> String {
    let key = aws_types::service_config::ServiceConfigKey::builder()
        .service_id("EC2")
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build();
    key.ok()
        .and_then(|key| config.service_config()?.load_config(key))
        .or_else(|| config.endpoint_url().map(str::to_owned))
        .unwrap_or_else(|| format!("https://ec2.{region}.amazonaws.com"))
}

/// The HTTP request of one page, signed (SigV4, service `ec2`).
fn signed(
    url: &str,
    region: &str,
    request: PageRequest,
) -> Result<HttpRequest, aws_smithy_runtime_api::box_error::BoxError> {
    let mut http = http::Request::builder()
        .method("POST")
        .uri(url)
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(request.body.clone())?;
    let identity = request.credentials.into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("ec2")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()?
        .into();
    let headers: Vec<(&str, &str)> = http
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
        .collect();
    let signable = SignableRequest::new(
        "POST",
        url,
        headers.into_iter(),
        SignableBody::Bytes(request.body.as_bytes()),
    )?;
    let (instructions, _) = sign(signable, &params)?.into_parts();
    instructions.apply_to_request_http1x(&mut http);
    Ok(HttpRequest::try_from(http.map(SdkBody::from))?)
}

/// An error answer's code and message (`<Response><Errors><Error><Code>…`), or the HTTP status.
fn error_of(text: &str, status: u16) -> ErrorMetadata {
    let mut builder = ErrorMetadata::builder();
    let mut doc = Document::new(text);
    if let Ok(mut root) = doc.root_element() {
        while let Some(mut errors) = root.next_tag() {
            while let Some(mut error) = errors.next_tag() {
                while let Some(mut field) = error.next_tag() {
                    let name = field.start_el().local().to_owned();
                    if let Ok(value) = try_data(&mut field) {
                        builder = match name.as_str() {
                            "Code" => builder.code(value.into_owned()),
                            "Message" => builder.message(value.into_owned()),
                            _ => builder,
                        };
                    }
                }
            }
        }
    }
    let error = builder.build();
    if error.code().is_none() && error.message().is_none() {
        return ErrorMetadata::builder()
            .message(format!("HTTP {status}"))
            .build();
    }
    error
}

/// Reads one page of the answer (or its error).
fn read_page(response: &HttpResponse) -> Result<Page, OrchestratorError<ErrorMetadata>> {
    let text = response
        .body()
        .bytes()
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    if !response.status().is_success() {
        return Err(OrchestratorError::operation(error_of(
            &text,
            response.status().as_u16(),
        )));
    }
    // An empty or cut-off answer is a failed read, not "no endpoint".
    if let Err(why) = crate::answers::check(
        crate::answers::Format::Xml,
        response.body().bytes().unwrap_or_default(),
    ) {
        return Err(OrchestratorError::operation(
            ErrorMetadata::builder()
                .message(format!("the answer of `DescribeVpcEndpoints` {why}"))
                .build(),
        ));
    }
    parse_page(&text).map_err(|e| {
        OrchestratorError::operation(
            ErrorMetadata::builder()
                .message(format!("cannot read the answer: {e}"))
                .build(),
        )
    })
}

/// The endpoints and the next token of a `DescribeVpcEndpointsResponse`.
fn parse_page(text: &str) -> Result<Page, XmlDecodeError> {
    let mut page = Page::default();
    let mut doc = Document::new(text);
    let mut root = doc.root_element()?;
    while let Some(mut tag) = root.next_tag() {
        if tag.start_el().matches("vpcEndpointSet") {
            while let Some(mut item) = tag.next_tag() {
                page.endpoints.push(parse_endpoint(&mut item)?);
            }
        } else if tag.start_el().matches("nextToken") {
            page.next_token = Some(try_data(&mut tag)?.into_owned()).filter(|t| !t.is_empty());
        }
    }
    Ok(page)
}

/// One `<item>` of `vpcEndpointSet`.
fn parse_endpoint(item: &mut ScopedDecoder<'_, '_>) -> Result<VpcEndpoint, XmlDecodeError> {
    let mut endpoint = VpcEndpoint::default();
    while let Some(mut field) = item.next_tag() {
        let name = field.start_el().local().to_owned();
        match name.as_str() {
            "vpcEndpointId" => endpoint.id = try_data(&mut field)?.into_owned(),
            "vpcId" => endpoint.vpc_id = try_data(&mut field)?.into_owned(),
            "serviceName" => endpoint.service_name = try_data(&mut field)?.into_owned(),
            "vpcEndpointType" => endpoint.kind = try_data(&mut field)?.into_owned(),
            "ownerId" => endpoint.owner_id = try_data(&mut field)?.into_owned(),
            "policyDocument" => {
                endpoint.policy = Some(super::policy_document(&try_data(&mut field)?));
            }
            "dnsEntrySet" => {
                while let Some(mut entry) = field.next_tag() {
                    while let Some(mut part) = entry.next_tag() {
                        if part.start_el().matches("dnsName") {
                            endpoint.dns_names.push(try_data(&mut part)?.into_owned());
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(endpoint)
}

/// Reads an endpoint by id, or the S3 endpoints of `vpc_id` in `region` (see `chosen`).
pub async fn read_endpoints(
    r: &Reader,
    id: Option<&str>,
    vpc_id: Option<&str>,
    region: &str,
) -> Result<Vec<VpcEndpoint>, ReadError> {
    let parameters: Vec<(String, String)> = match (id, vpc_id) {
        (Some(id), _) => vec![("VpcEndpointId.1".into(), id.into())],
        (None, Some(vpc)) => vec![
            ("Filter.1.Name".into(), "vpc-id".into()),
            ("Filter.1.Value.1".into(), vpc.into()),
            ("Filter.2.Name".into(), "service-name".into()),
            (
                "Filter.2.Value.1".into(),
                format!("com.amazonaws.{region}.s3"),
            ),
        ],
        (None, None) => return Ok(Vec::new()),
    };
    let endpoints = r
        .call("ec2:DescribeVpcEndpoints", async {
            let mut endpoints = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let mut page_parameters = parameters.clone();
                if let Some(t) = token.take() {
                    page_parameters.push(("NextToken".into(), t));
                }
                let page = r.ec2.page(&page_parameters).await?;
                endpoints.extend(page.endpoints);
                match page.next_token {
                    Some(t) => token = Some(t),
                    None => return Ok(endpoints),
                }
            }
        })
        .await?;
    Ok(endpoints)
}

/// The endpoint a check's network uses, among those read; `Ok(None)`: none found. Only endpoints `allowed`
/// (the scope's `vpcEndpoints`) are ever named or kept: an endpoint the scope does not allow is `refused`
/// (its policy, read with the others, is dropped here), and a VPC with several S3 endpoints is an error that
/// names the allowed ones and counts the others: which one the workload uses depends on its routes and its
/// endpoint URL, which the check must then say (`network.vpcEndpointId`).
pub fn chosen(
    endpoints: Vec<VpcEndpoint>,
    vpc_id: Option<&str>,
    allowed: impl Fn(&str) -> bool,
    refused: impl FnOnce() -> ReadError,
) -> Result<Option<VpcEndpoint>, ReadError> {
    if let ([_, _, ..], Some(vpc)) = (endpoints.as_slice(), vpc_id) {
        let (shown, hidden): (Vec<&str>, Vec<&str>) = endpoints
            .iter()
            .map(|e| e.id.as_str())
            .partition(|id| allowed(id));
        let others = match hidden.len() {
            0 => String::new(),
            n => format!(
                "{}{n} the scope does not allow reading",
                if shown.is_empty() { "" } else { "; " }
            ),
        };
        return Err(ReadError::other(
            "ec2:DescribeVpcEndpoints",
            format!(
                "VPC `{vpc}` has {} S3 endpoints ({}{others}): set `network.vpcEndpointId` to the one the workload uses",
                endpoints.len(),
                shown.join(", "),
            ),
        ));
    }
    match endpoints.into_iter().next() {
        Some(endpoint) if !allowed(&endpoint.id) => Err(refused()),
        endpoint => Ok(endpoint),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only endpoints the scope allows are named or kept: several endpoints of a VPC name the allowed ones and
    /// count the others; one endpoint the scope does not allow is refused, its policy dropped.
    #[test]
    fn only_allowed_endpoints_are_named_or_kept() {
        let endpoint = |id: &str| VpcEndpoint {
            id: id.to_owned(),
            vpc_id: "vpc-1".to_owned(),
            policy: Some(serde_json::json!({"Statement": []})),
            ..VpcEndpoint::default()
        };
        let allowed = |id: &str| id.starts_with("vpce-0a");
        let refused = || ReadError::withheld("ec2:DescribeVpcEndpoints", "refused");
        let several = chosen(
            vec![
                endpoint("vpce-0a1"),
                endpoint("vpce-9z2"),
                endpoint("vpce-9z3"),
            ],
            Some("vpc-1"),
            allowed,
            refused,
        )
        .unwrap_err()
        .to_string();
        assert!(several.contains("vpce-0a1"), "{several}");
        assert!(!several.contains("vpce-9z"), "{several}");
        assert!(
            several.contains("2 the scope does not allow reading"),
            "{several}"
        );
        let one = chosen(vec![endpoint("vpce-9z2")], Some("vpc-1"), allowed, refused);
        assert!(one.is_err_and(|e| e.to_string().contains("refused")));
        let kept = chosen(vec![endpoint("vpce-0a1")], Some("vpc-1"), allowed, refused);
        assert_eq!(kept.unwrap().map(|e| e.id), Some("vpce-0a1".to_owned()));
        assert!(chosen(Vec::new(), Some("vpc-1"), allowed, refused)
            .unwrap()
            .is_none());
    }

    #[test]
    fn reads_a_page_as_ec2_writes_it() {
        let page = parse_page(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeVpcEndpointsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>r-1</requestId>
  <vpcEndpointSet>
    <item>
      <vpcEndpointId>vpce-1a2b</vpcEndpointId>
      <vpcEndpointType>Interface</vpcEndpointType>
      <vpcId>vpc-9</vpcId>
      <ownerId>111122223333</ownerId>
      <serviceName>com.amazonaws.eu-west-1.s3</serviceName>
      <state>available</state>
      <policyDocument>{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}</policyDocument>
      <routeTableIdSet/>
      <dnsEntrySet>
        <item><dnsName>*.vpce-1a2b.s3.eu-west-1.vpce.amazonaws.com</dnsName><hostedZoneId>Z1</hostedZoneId></item>
      </dnsEntrySet>
      <tagSet><item><key>a</key><value>b</value></item></tagSet>
    </item>
  </vpcEndpointSet>
  <nextToken>t-2</nextToken>
</DescribeVpcEndpointsResponse>"#,
        );
        let page = page.ok();
        let endpoint = page.as_ref().and_then(|p| p.endpoints.first());
        assert_eq!(endpoint.map(|e| e.id.as_str()), Some("vpce-1a2b"));
        assert_eq!(endpoint.map(|e| e.kind.as_str()), Some("Interface"));
        assert_eq!(endpoint.map(|e| e.vpc_id.as_str()), Some("vpc-9"));
        assert_eq!(endpoint.map(|e| e.owner_id.as_str()), Some("111122223333"));
        assert_eq!(
            endpoint.map(|e| e.dns_names.clone()),
            Some(vec![
                "*.vpce-1a2b.s3.eu-west-1.vpce.amazonaws.com".to_owned()
            ])
        );
        assert!(endpoint.is_some_and(|e| e.policy.as_ref().is_some_and(|p| p.is_object())));
        assert_eq!(page.and_then(|p| p.next_token).as_deref(), Some("t-2"));
    }

    #[test]
    fn an_error_answer_keeps_its_code_and_message() {
        let error = error_of(
            "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized</Message></Error></Errors><RequestID>x</RequestID></Response>",
            403,
        );
        assert_eq!(error.code(), Some("UnauthorizedOperation"));
        assert_eq!(error.message(), Some("You are not authorized"));
        assert_eq!(error_of("<html>", 503).message(), Some("HTTP 503"));
    }
}
