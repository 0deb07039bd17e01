//! Reads the S3 VPC endpoint a workload uses: by id, or the S3 endpoints of a VPC.

use super::error::ReadError;
use super::Reader;
use aws_sdk_ec2::types::Filter;
use s3_diagnosis::snapshot::VpcEndpoint;

/// Reads an endpoint by id, or the S3 endpoint of `vpc_id` in `region`. `Ok(None)`: none found. A VPC with
/// several S3 endpoints is an error naming them: which one the workload uses depends on its routes and its
/// endpoint URL, which the check must then say (`network.vpcEndpointId`).
pub async fn read_endpoint(
    r: &Reader,
    id: Option<&str>,
    vpc_id: Option<&str>,
    region: &str,
) -> Result<Option<VpcEndpoint>, ReadError> {
    let mut request = r.ec2.describe_vpc_endpoints();
    match (id, vpc_id) {
        (Some(id), _) => request = request.vpc_endpoint_ids(id),
        (None, Some(vpc)) => {
            request = request
                .filters(Filter::builder().name("vpc-id").values(vpc).build())
                .filters(
                    Filter::builder()
                        .name("service-name")
                        .values(format!("com.amazonaws.{region}.s3"))
                        .build(),
                )
        }
        (None, None) => return Ok(None),
    }
    let endpoints = every!(r, "ec2:DescribeVpcEndpoints", request).await?;
    if let ([_, _, ..], Some(vpc)) = (endpoints.as_slice(), vpc_id) {
        let ids: Vec<&str> = endpoints
            .iter()
            .filter_map(|e| e.vpc_endpoint_id())
            .collect();
        return Err(ReadError::other(
            "ec2:DescribeVpcEndpoints",
            format!(
                "VPC `{vpc}` has {} S3 endpoints ({}): set `network.vpcEndpointId` to the one the workload uses",
                ids.len(),
                ids.join(", ")
            ),
        ));
    }
    Ok(endpoints.first().map(|e| VpcEndpoint {
        id: e.vpc_endpoint_id().unwrap_or_default().to_owned(),
        vpc_id: e.vpc_id().unwrap_or_default().to_owned(),
        service_name: e.service_name().unwrap_or_default().to_owned(),
        kind: e
            .vpc_endpoint_type()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        policy: e.policy_document().map(super::policy_document),
        dns_names: e
            .dns_entries()
            .iter()
            .filter_map(|d| d.dns_name().map(str::to_owned))
            .collect(),
    }))
}
