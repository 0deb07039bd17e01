//! Situations across networks and accounts against moto: VPC endpoints, a key of another account, an SCP of a
//! member account, users and groups.

use super::*;

/// VPC endpoints: the policy, the EC2 answers.
pub(super) fn vpc_endpoints(env: &Env<'_>, seeded: &Value) {
    let s = |k: &str| seeded[k].as_str().unwrap().to_owned();
    let uploader = s("uploader");
    // The VPC endpoint policy allows only another bucket: by endpoint id, and found from the VPC id.
    let endpoint = s("vpcEndpointId");
    for (name, network) in [
        ("vpce-by-id", json!({"vpcEndpointId": endpoint})),
        ("vpce-by-vpc", json!({"vpcId": s("vpcId")})),
    ] {
        let d = expect(
            name,
            env.check(
                name,
                json!({"roleArn": uploader, "bucket": s("plainBucket"), "network": network}),
            ),
            "Denied",
            &["VPCE_POLICY_NO_ALLOW"],
        );
        assert!(
            d["causes"][0]["message"]
                .as_str()
                .unwrap()
                .contains(&endpoint),
            "{name}"
        );
    }

    // The EC2 Query call as moto answers it: an interface endpoint's type and DNS names, a VPC with two S3
    // endpoints (an error naming both), and an endpoint that does not exist (EC2's error code, verdict Unknown).
    let snap = env.snapshot(
        "vpce-interface",
        json!({"roleArn": uploader, "bucket": s("plainBucket"), "network": {"vpcEndpointId": s("interfaceEndpointId")}}),
    );
    assert_eq!(snap["vpcEndpoint"]["id"], s("interfaceEndpointId"));
    assert_eq!(
        snap["vpcEndpoint"]["type"], "Interface",
        "{}",
        snap["vpcEndpoint"]
    );
    assert_eq!(snap["vpcEndpoint"]["vpcId"], s("vpcWithTwoEndpoints"));
    // Its owner (`aws:VpceAccount` of the requests through it).
    assert_eq!(
        snap["vpcEndpoint"]["ownerId"], "123456789012",
        "{}",
        snap["vpcEndpoint"]
    );
    assert_eq!(
        snap["vpcEndpoint"]["dnsNames"],
        json!([s("interfaceEndpointDns")])
    );
    let (_, two) = env.check(
        "vpce-two",
        json!({"roleArn": uploader, "bucket": s("plainBucket"), "network": {"vpcId": s("vpcWithTwoEndpoints")}}),
    );
    assert_eq!(two["verdict"], "Unknown", "{two}");
    let text = two.to_string();
    assert!(
        text.contains("has 2 S3 endpoints") && text.contains(&s("interfaceEndpointId")),
        "{text}"
    );
    let (_, missing) = env.check(
        "vpce-missing",
        json!({"roleArn": uploader, "bucket": s("plainBucket"), "network": {"vpcEndpointId": "vpce-0000000000000dead"}}),
    );
    assert_eq!(missing["verdict"], "Unknown", "{missing}");
    assert!(
        missing
            .to_string()
            .contains("InvalidVpcEndpointId.NotFound"),
        "{missing}"
    );
}

/// A key of another account whose key policy does not name the caller's account.
pub(super) fn a_key_of_another_account(env: &Env<'_>, seeded: &Value) {
    let s = |k: &str| seeded[k].as_str().unwrap().to_owned();
    let kms_uploader = s("kmsUploader");
    // A key of another account whose key policy does not name the caller's account (read with a reader role).
    let cross = json!({"roleArn": kms_uploader, "bucket": s("crossKeyBucket"), "readRoleArns": {"444455556666": s("readerB")}});
    let snap = env.snapshot("cross-key-snap", cross.clone());
    assert_eq!(snap["kmsKeys"][0]["arn"], s("keyB"));
    assert_eq!(snap["kmsKeys"][0]["accountId"], "444455556666");
    assert_eq!(
        snap["kmsKeys"][0]["policy"]["Statement"][0]["Sid"],
        "OwnerOnly"
    );
    expect(
        "cross-account key",
        env.check("cross-key", cross),
        "Denied",
        &["KMS_CROSS_ACCOUNT_KEY_POLICY_MISSING"],
    );
}

/// An SCP of the member account denies uploads.
pub(super) fn an_scp_of_the_member_account(env: &Env<'_>, seeded: &Value) {
    let s = |k: &str| seeded[k].as_str().unwrap().to_owned();
    // An SCP of the member account denies uploads (the organization is read with the operator's credentials,
    // the member account's role and bucket through its reader role).
    let member = s("memberAccount");
    let scp_spec = json!({"roleArn": s("memberUploader"), "bucket": s("memberBucket"), "bucketAccountId": member,
        "readRoleArns": {member.clone(): s("readerMember")}});
    let snap = env.snapshot("scp-snap", scp_spec.clone());
    let levels = snap["organization"]["scps"].as_array().unwrap();
    assert!(levels.len() >= 2, "root → account: {levels:?}");
    assert!(levels
        .last()
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "DenyUploads"));
    let d = expect(
        "scp deny",
        env.check("scp", scp_spec),
        "Denied",
        &["SCP_EXPLICIT_DENY"],
    );
    assert_eq!(d["causes"][0]["statement"]["sid"], "NoUploads");
}

/// A user whose group grants the upload, and one whose group does not exist.
pub(super) fn users_and_groups(env: &Env<'_>, seeded: &Value) {
    let s = |k: &str| seeded[k].as_str().unwrap().to_owned();
    // A user whose group grants the upload, and one whose group does not exist.
    let alice = json!({"userArn": s("userInGroup"), "bucket": s("plainBucket")});
    let snap = env.snapshot("alice-snap", alice.clone());
    assert_eq!(snap["principal"]["kind"], "user");
    assert_eq!(snap["principal"]["policies"][0]["source"], "groupInline");
    expect("user in group", env.check("alice", alice), "Allowed", &[]);
    expect(
        "user without",
        env.check(
            "bob",
            json!({"userArn": s("userWithout"), "bucket": s("plainBucket")}),
        ),
        "Denied",
        &["IDENTITY_NO_ALLOW"],
    );
}
