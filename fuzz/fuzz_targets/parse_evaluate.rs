//! Any bytes in, no panic out: the bytes are read as a simulate case (policies, context, principal) and as a
//! bare policy document of every kind, then evaluated and explained.
#![no_main]

use iam_policy::case::{load_case, CaseResult};
use iam_policy::{parse_policy_text, PolicyKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(case) = load_case(text, "fuzz") {
        let result = CaseResult::evaluate(&case);
        let _ = serde_json::to_string(&result);
    }
    for kind in [PolicyKind::Identity, PolicyKind::Resource, PolicyKind::Scp, PolicyKind::Rcp, PolicyKind::VpcEndpoint] {
        let _ = parse_policy_text("fuzz", text, kind);
    }
    // The same text as the only identity policy and as the bucket policy of a fixed request.
    let wrapped = format!(
        r#"{{"name":"w","principal":"arn:aws:iam::111122223333:role/r","action":"s3:PutObject","resource":"arn:aws:s3:::b/k","resourceAccount":"111122223333","context":{{"aws:SourceIp":"1.2.3.4","s3:x-amz-acl":"private","aws:PrincipalTag/team":"a"}},"identityPolicies":[{}],"resourcePolicy":{}}}"#,
        serde_json::to_string(text).unwrap_or_default(),
        serde_json::to_string(text).unwrap_or_default()
    );
    if let Ok(case) = load_case(&wrapped, "fuzz") {
        let _ = CaseResult::evaluate(&case);
    }
});
