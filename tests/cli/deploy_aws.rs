//! The CloudFormation templates of `deploy/aws/` (the change events rule, queue and dead-letter queue; the
//! member-account forwarder): valid for `cfn-lint` (installed in `.venv` by `make test-env`), and every event
//! their rules send is one the operator acts on, in both templates alike.

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

const TEMPLATES: [&str; 2] = ["deploy/aws/events.yaml", "deploy/aws/events-member.yaml"];

#[test]
fn the_templates_pass_cfn_lint() {
    let out = Command::new(root().join(".venv/bin/cfn-lint"))
        .args(TEMPLATES.iter().map(|t| root().join(t)))
        .output()
        .expect("cfn-lint is installed in .venv by `make test-env`");
    assert!(
        out.status.success(),
        "cfn-lint: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The event names a template's rule matches.
fn event_names(template: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join(template)).unwrap();
    let start = text.find("eventName:").unwrap();
    let end = text[start..].find("Targets:").unwrap() + start;
    text[start..end]
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_event_the_rules_send_is_acted_on() {
    let central = event_names(TEMPLATES[0]);
    assert!(central.len() > 60, "{central:?}");
    assert_eq!(
        central,
        event_names(TEMPLATES[1]),
        "both rules send the same events"
    );
    // Every parameter any handled event reads: each event the rule sends must name a change.
    let params = serde_json::json!({"roleName": "r", "userName": "u", "groupName": "g",
        "policyArn": "arn:aws:iam::111122223333:policy/p", "bucketName": "b", "accountId": "111122223333",
        "name": "ap", "keyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "vpcEndpointId": "vpce-0a1b2c3d"});
    for name in &central {
        let handled = ["iam", "s3", "kms", "organizations", "ec2"].iter().any(|source| {
            let body = serde_json::json!({"detail-type": "AWS API Call via CloudTrail", "account": "111122223333",
                "detail": {"eventSource": format!("{source}.amazonaws.com"), "eventName": name,
                    "recipientAccountId": "111122223333", "requestParameters": params}});
            matches!(
                bucket_access_aws::events::parse(&body.to_string()),
                Ok(bucket_access_aws::events::Message::Changes { .. })
            )
        });
        assert!(
            handled,
            "the rule sends `{name}`, which the operator ignores"
        );
    }
}
