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

/// The queue policy of `events.yaml`, evaluated by the engine: a principal of the queue's own account whose
/// identity policy allows `sqs:SendMessage` is denied explicitly unless the message comes from the rule
/// (`aws:SourceArn`): nobody can forge change events.
#[test]
fn only_the_rule_may_send_to_the_events_queue() {
    let text = std::fs::read_to_string(root().join(TEMPLATES[0])).unwrap();
    let start = text.find("      PolicyDocument:\n").unwrap();
    let end = text[start..].find("\n\n").unwrap() + start;
    let queue = "arn:aws:sqs:us-east-1:111122223333:bucket-access-events";
    let rule = "arn:aws:events:us-east-1:111122223333:rule/bucket-access-changes";
    let block: String = text[start..end]
        .lines()
        .skip(1)
        .map(|l| l.get(8..).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
        .replace("!GetAtt EventsQueue.Arn", &format!("\"{queue}\""))
        .replace("!GetAtt ChangeEventsRule.Arn", &format!("\"{rule}\""));
    let policy: serde_json::Value = serde_saphyr::from_str(&block).unwrap();
    let case = |context: serde_json::Value| {
        let case = serde_json::json!({
            "name": "send",
            "principal": "arn:aws:iam::111122223333:role/anyone",
            "action": "sqs:SendMessage",
            "resource": queue,
            "resourceAccount": "111122223333",
            "context": context,
            "identityPolicies": [{"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]}],
            "resourcePolicy": policy,
        });
        let case = iam_policy::case::load_case_value(&case, "send").unwrap();
        iam_policy::case::CaseResult::evaluate(&case).decision
    };
    assert_eq!(
        case(serde_json::json!({})),
        iam_policy::Decision::ExplicitDeny,
        "{policy}"
    );
    assert_eq!(
        case(
            serde_json::json!({"aws:SourceArn": "arn:aws:events:us-east-1:111122223333:rule/other"})
        ),
        iam_policy::Decision::ExplicitDeny
    );
    assert_eq!(
        case(serde_json::json!({"aws:SourceArn": rule})),
        iam_policy::Decision::Allowed
    );
}
