//! The HTTP endpoints of the operator: `/metrics` (Prometheus text), `/healthz` (the process runs) and
//! `/readyz` (it leads and its controller runs, or it stands by as a follower: both are ready to serve).
//! A minimal HTTP/1.1 responder on tokio: one request per connection.

use super::metrics::OperatorMetrics;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Shared state of the endpoints.
#[derive(Debug, Default)]
pub struct Health {
    /// Set once the replica is leading with a running controller, or standing by.
    pub ready: AtomicBool,
}

fn response(status: &str, content_type: &str, body: &str) -> String {
    format!("HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
}

/// Serves the endpoints on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, metrics: Arc<OperatorMetrics>, health: Arc<Health>) {
    loop {
        let mut stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of file descriptors (or another transient error): the error repeats at once, so wait
            // before accepting again rather than spin a core; the probes answer again once descriptors free.
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let metrics = Arc::clone(&metrics);
        let health = Arc::clone(&health);
        tokio::spawn(async move {
            let mut buf = [0u8; 2048];
            let n = match tokio::time::timeout(
                std::time::Duration::from_secs(5),
                stream.read(&mut buf),
            )
            .await
            {
                Ok(Ok(n)) => n,
                _ => return,
            };
            let request = String::from_utf8_lossy(buf.get(..n).unwrap_or_default());
            let path = request.split_whitespace().nth(1).unwrap_or("/");
            let reply = match path {
                "/metrics" => response("200 OK", "text/plain; version=0.0.4", &metrics.render()),
                "/healthz" => response("200 OK", "text/plain", "ok\n"),
                "/readyz" if health.ready.load(Ordering::Relaxed) => {
                    response("200 OK", "text/plain", "ready\n")
                }
                "/readyz" => response("503 Service Unavailable", "text/plain", "starting\n"),
                _ => response("404 Not Found", "text/plain", "not found\n"),
            };
            let _ = stream.write_all(reply.as_bytes()).await;
        });
    }
}
