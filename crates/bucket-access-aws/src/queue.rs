//! The change events queue: one SQS queue an EventBridge rule fills with CloudTrail events, long-polled with
//! the operator's own credentials (`ReceiveMessage`, up to 10 messages, waiting up to 20 s) and emptied of
//! each message once it is handled (`DeleteMessageBatch`). What a message says is `events::parse`'s.

use super::error::{from_sdk, ReadError};
use super::Collector;

/// One message received: its body and the handle that deletes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The message body (an EventBridge event, as JSON text).
    pub body: String,
    /// The receipt handle.
    pub receipt: String,
}

/// The queue.
#[derive(Debug, Clone)]
pub struct EventQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

/// The Region of a queue URL (`https://sqs.REGION.amazonaws.com/ACCOUNT/NAME`; `None` for other forms, such as
/// a local endpoint's).
fn region_of(url: &str) -> Option<String> {
    let host = url.split("://").nth(1)?.split('/').next()?;
    let mut labels = host.split('.');
    (labels.next()? == "sqs")
        .then(|| labels.next().map(str::to_owned))
        .flatten()
}

impl Collector {
    /// The events queue at `url`, read with the collector's own credentials (in the queue's Region when the
    /// URL names one).
    pub fn event_queue(&self, url: &str) -> EventQueue {
        let mut config = aws_sdk_sqs::config::Builder::from(&self.base);
        // A long poll waits up to 20 s for its first message: the reads' timeouts (15 s an attempt) would cut
        // every quiet poll short and turn it into an error.
        config.set_timeout_config(Some(
            aws_smithy_types::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(std::time::Duration::from_secs(30))
                .operation_timeout(std::time::Duration::from_secs(60))
                .connect_timeout(std::time::Duration::from_secs(5))
                .build(),
        ));
        if let Some(region) = region_of(url) {
            config = config.region(aws_sdk_sqs::config::Region::new(region));
        }
        EventQueue {
            client: aws_sdk_sqs::Client::from_conf(config.build()),
            url: url.to_owned(),
        }
    }
}

impl EventQueue {
    /// One long poll: up to 10 messages, waiting up to `wait_seconds` (at most 20) for the first.
    pub async fn receive(&self, wait_seconds: i32) -> Result<Vec<Received>, ReadError> {
        let answer = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait_seconds.clamp(0, 20))
            .send()
            .await
            .map_err(|e| from_sdk("sqs:ReceiveMessage", &e))?;
        Ok(answer
            .messages()
            .iter()
            .filter_map(|m| {
                Some(Received {
                    body: m.body()?.to_owned(),
                    receipt: m.receipt_handle()?.to_owned(),
                })
            })
            .collect())
    }

    /// Deletes handled messages (at most 10 per call, as SQS takes them).
    pub async fn delete(&self, receipts: &[String]) -> Result<(), ReadError> {
        for batch in receipts.chunks(10) {
            let entries: Vec<_> = batch
                .iter()
                .enumerate()
                .filter_map(|(i, receipt)| {
                    aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(receipt)
                        .build()
                        .ok()
                })
                .collect();
            self.client
                .delete_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| from_sdk("sqs:DeleteMessage", &e))?;
        }
        Ok(())
    }

    /// How many messages wait in the queue, and whether it has a dead-letter queue (`RedrivePolicy`): what
    /// the operator says when it starts following it.
    pub async fn describe(&self) -> Result<(u64, bool), ReadError> {
        use aws_sdk_sqs::types::QueueAttributeName as Name;
        let answer = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(Name::ApproximateNumberOfMessages)
            .attribute_names(Name::RedrivePolicy)
            .send()
            .await
            .map_err(|e| from_sdk("sqs:GetQueueAttributes", &e))?;
        let attributes = answer.attributes();
        let waiting = attributes
            .and_then(|a| a.get(&Name::ApproximateNumberOfMessages))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let dead_letter = attributes.is_some_and(|a| a.contains_key(&Name::RedrivePolicy));
        Ok((waiting, dead_letter))
    }

    /// The queue's URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

#[cfg(test)]
mod tests {
    use super::region_of;

    #[test]
    fn a_quiet_long_poll_is_not_cut_short_by_the_reads_timeouts() {
        let base = aws_types::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        let collector =
            crate::Collector::from_config(&base, crate::CollectorOptions::default(), true);
        let queue = collector.event_queue("https://sqs.us-east-1.amazonaws.com/111122223333/q");
        let config = queue.client.config();
        let attempt = config
            .timeout_config()
            .and_then(|t| t.operation_attempt_timeout());
        assert!(
            attempt.is_some_and(|t| t > std::time::Duration::from_secs(20)),
            "{attempt:?}"
        );
        assert_eq!(config.region().map(|r| r.as_ref()), Some("us-east-1"));
    }

    #[test]
    fn a_queue_url_names_its_region() {
        assert_eq!(
            region_of("https://sqs.eu-west-1.amazonaws.com/111122223333/bucket-access-events")
                .as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(region_of("http://127.0.0.1:5000/123456789012/events"), None);
    }
}
