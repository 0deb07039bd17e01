//! Test support: a real moto server on 127.0.0.1 (from the project's virtualenv, see `make moto-env`),
//! seeded by `tests/moto/seed.py`, and the CLI run against it through standard AWS configuration only.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the support module"
)]

pub mod fault_proxy;
mod temp_dir;
#[allow(
    unused_imports,
    reason = "not every test binary makes temporary directories"
)]
pub use temp_dir::TempDir;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn venv_bin(name: &str) -> PathBuf {
    let venv = std::env::var_os("MOTO_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv"));
    let path = venv.join("bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run `make moto-env` (the Makefile's test target does)",
        path.display()
    );
    path
}

/// A moto server process; killed on drop.
pub struct Moto {
    child: Option<Child>,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Moto {
    /// Starts a fresh server and waits until it answers.
    pub fn start() -> Self {
        let port = free_port();
        // moto's server with one s3control correction (tests/moto/server.py says which).
        let child = Command::new(venv_bin("python"))
            .arg(root().join("tests/moto/server.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let moto = Self {
            child: Some(child),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if http_status(port, "GET", "/moto-api/", "") == Some(200) {
                return moto;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("moto did not answer on port {port} within 30 s");
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Points a process of the binary at this moto with its default credentials, as a user would configure
    /// it: the standard variables, s3control's `<account>.localhost` endpoint included.
    pub fn configure(&self, cmd: &mut Command) {
        aws_env(cmd, &self.endpoint(), "testing", "testing");
        cmd.env(
            "AWS_ENDPOINT_URL_S3_CONTROL",
            format!("http://localhost:{}", self.port),
        );
    }

    /// Runs the seeding script (`args` after the endpoint) and returns what it printed.
    pub fn seed(&self, args: &[&str]) -> serde_json::Value {
        let out = Command::new(venv_bin("python"))
            .arg(root().join("tests/moto/seed.py"))
            .arg(self.endpoint())
            .args(args)
            .output()
            .expect("run seed.py");
        assert!(
            out.status.success(),
            "seed.py failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("seed.py prints JSON")
    }

    /// Turns IAM enforcement on (`0`) or off (`inf`).
    pub fn set_auth(&self, value: &str) {
        assert_eq!(
            http_status(self.port, "POST", "/moto-api/reset-auth", value),
            Some(200)
        );
    }

    /// moto's own record of its state (`/moto-api/data.json`): every model, e.g. the STS sessions it issued.
    pub fn data(&self) -> serde_json::Value {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to moto");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let request =
            "GET /moto-api/data.json HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        let text = String::from_utf8_lossy(&response);
        let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)
        } else {
            body.to_owned()
        };
        serde_json::from_str(&body).expect("data.json is JSON")
    }

    /// Stops the server now.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The body of a chunked HTTP answer.
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(rest.get(..n).unwrap_or(rest));
        body = rest.get(n + 2..).unwrap_or("");
    }
    out
}

/// The strings of a JSON array (of what `seed.py` printed, for example).
/// The metric names (`bucket_access_…`) in a PromQL expression.
pub fn metric_names(expr: &str) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    let mut rest = expr;
    while let Some(at) = rest.find("bucket_access_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

/// Whether a Prometheus exposition has a sample of `name`.
pub fn exposes(metrics: &str, name: &str) -> bool {
    metrics.lines().any(|l| {
        l.strip_prefix(name)
            .is_some_and(|r| r.starts_with('{') || r.starts_with(' '))
    })
}

/// The PromQL of a Grafana dashboard's panels (its JSON text).
pub fn dashboard_queries(json: &str) -> Vec<String> {
    let dashboard: serde_json::Value = serde_json::from_str(json).unwrap();
    dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|panel| panel["targets"].as_array().unwrap().iter())
        .map(|target| target["expr"].as_str().unwrap().to_owned())
        .collect()
}

/// The PromQL the shipped alerts (the chart's PrometheusRule template) and dashboard query.
pub fn shipped_queries() -> Vec<String> {
    let chart = root().join("deploy/helm/bucket-access-operator");
    let rule = std::fs::read_to_string(chart.join("templates/prometheusrule.yaml")).unwrap();
    let mut queries: Vec<String> = rule
        .lines()
        .filter_map(|l| l.trim().strip_prefix("expr:"))
        .map(str::to_owned)
        .collect();
    queries.extend(dashboard_queries(
        &std::fs::read_to_string(chart.join("dashboards/bucket-access-operator.json")).unwrap(),
    ));
    queries
}

pub fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|v| v.as_str().expect("a string").to_owned())
        .collect()
}

/// A minimal HTTP/1.1 request on loopback; the status code, if any answer came.
pub fn http_status(port: u16, method: &str, path: &str, body: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.split_whitespace().nth(1)?.parse().ok()
}

/// Writes a BucketAccessCheck manifest for `spec` (a JSON object) into `dir`.
pub fn manifest(dir: &Path, name: &str, spec: serde_json::Value) -> PathBuf {
    let path = dir.join(format!("{name}.yaml"));
    let doc = serde_json::json!({"apiVersion": "bucketaccess.io/v1alpha1", "kind": "BucketAccessCheck",
        "metadata": {"name": name, "namespace": "test"}, "spec": spec});
    std::fs::write(&path, serde_saphyr::to_string(&doc).unwrap()).unwrap();
    path
}

/// A forwarding HTTP proxy on 127.0.0.1, one per test process: a request for `http://NAME.localhost:PORT/...`
/// goes to 127.0.0.1:PORT. s3control puts the account id in the host name (`123456789012.localhost`), which
/// nothing resolves without an `/etc/hosts` entry; the SDK honours the standard `HTTP_PROXY` (behavior
/// version 2025-08-07 and later), so the tests reach moto through this proxy instead, as a normal user.
pub fn localhost_proxy() -> u16 {
    static PORT: std::sync::OnceLock<u16> = std::sync::OnceLock::new();
    *PORT.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let _ = forward_absolute(stream);
                });
            }
        });
        port
    })
}

/// Forwards one absolute-form request (`GET http://host:port/path HTTP/1.1`) to 127.0.0.1:port in origin form.
fn forward_absolute(mut client: TcpStream) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    let request = read_request(&mut client)?;
    let head = String::from_utf8_lossy(&request).to_string();
    let first = head.lines().next().unwrap_or_default();
    let mut parts = first.splitn(3, ' ');
    let (method, url, version) = (
        parts.next().unwrap_or("GET"),
        parts.next().unwrap_or("/"),
        parts.next().unwrap_or("HTTP/1.1"),
    );
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let port: u16 = authority
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or(80);
    forward(
        client,
        &request,
        port,
        Some(format!("{method} /{path} {version}")),
    )
}

/// Forwards `request` to 127.0.0.1:`target` (its request line replaced by `first_line` when given; its
/// `Connection` and `Proxy-*` headers replaced by `Connection: close`, so that the answer ends with the
/// connection) and copies the answer back.
fn forward(
    mut client: TcpStream,
    request: &[u8],
    target: u16,
    first_line: Option<String>,
) -> std::io::Result<()> {
    let response = exchange(request, target, first_line)?;
    client.write_all(&response)
}

/// Sends `request` to 127.0.0.1:`target` (its request line replaced by `first_line` when given, with
/// `Connection: close`) and returns the whole answer.
fn exchange(request: &[u8], target: u16, first_line: Option<String>) -> std::io::Result<Vec<u8>> {
    let end = request
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(request.len());
    let head = String::from_utf8_lossy(request.get(..end).unwrap_or_default()).to_string();
    let mut lines = head.lines();
    let first = lines.next().unwrap_or_default();
    let mut forwarded = format!("{}\r\n", first_line.as_deref().unwrap_or(first));
    for line in lines.filter(|l| {
        let l = l.to_ascii_lowercase();
        !l.starts_with("connection:") && !l.starts_with("proxy-")
    }) {
        forwarded.push_str(line);
        forwarded.push_str("\r\n");
    }
    forwarded.push_str("Connection: close\r\n\r\n");
    let mut upstream = TcpStream::connect(("127.0.0.1", target))?;
    upstream.write_all(forwarded.as_bytes())?;
    upstream.write_all(request.get(end + 4..).unwrap_or_default())?;
    let mut response = Vec::new();
    upstream.read_to_end(&mut response)?;
    Ok(response)
}

/// The environment that points the SDK at `endpoint`, and nowhere else (`*.localhost` names through
/// `localhost_proxy`).
pub fn aws_env(cmd: &mut Command, endpoint: &str, key: &str, secret: &str) {
    cmd.env(
        "HTTP_PROXY",
        format!("http://127.0.0.1:{}", localhost_proxy()),
    )
    .env("NO_PROXY", "127.0.0.1")
    .env_remove("HTTPS_PROXY")
    .env_remove("http_proxy")
    .env_remove("no_proxy");
    cmd.env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ROLE_ARN")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE");
}

/// Runs the binary with `args` against `endpoint` with moto's default credentials.
pub fn run_cli(endpoint: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bucket-access-operator"));
    cmd.args(args);
    aws_env(&mut cmd, endpoint, "testing", "testing");
    cmd.output().unwrap()
}

/// An HTTP proxy of the test's own on 127.0.0.1 in front of moto: requests for which `throttle` is true get
/// `400 Throttling` (as IAM sends it); the others are forwarded. One request per connection.
pub struct ThrottleProxy {
    /// Its port.
    pub port: u16,
    /// How many requests it throttled.
    pub throttled: std::sync::Arc<std::sync::atomic::AtomicU32>,
}

impl ThrottleProxy {
    /// Starts the proxy in front of `target_port`.
    pub fn start(target_port: u16, throttle: fn(&str) -> bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let throttled = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let counter = std::sync::Arc::clone(&throttled);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let counter = std::sync::Arc::clone(&counter);
                std::thread::spawn(move || {
                    let _ = proxy_one(stream, target_port, throttle, &counter);
                });
            }
        });
        Self { port, throttled }
    }
}

fn read_request(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(buf);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + length {
                let n = stream.read(&mut chunk)?;
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok(buf);
        }
    }
}

fn proxy_one(
    mut client: TcpStream,
    target: u16,
    throttle: fn(&str) -> bool,
    counter: &std::sync::atomic::AtomicU32,
) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(10)))?;
    let request = read_request(&mut client)?;
    let text = String::from_utf8_lossy(&request).to_string();
    if throttle(&text) {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let body = "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>test-throttle</RequestId></ErrorResponse>";
        let response = format!(
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        client.write_all(response.as_bytes())?;
        return Ok(());
    }
    forward(client, &request, target, None)
}

/// Resolves every host name to 127.0.0.1: s3control addresses `<account-id>.localhost`, and every test
/// request goes to loopback anyway.
#[derive(Debug, Clone)]
struct Loopback;

impl aws_smithy_runtime_api::client::dns::ResolveDns for Loopback {
    fn resolve_dns<'a>(
        &'a self,
        _name: &'a str,
    ) -> aws_smithy_runtime_api::client::dns::DnsFuture<'a> {
        aws_smithy_runtime_api::client::dns::DnsFuture::ready(Ok(vec![std::net::IpAddr::V4(
            std::net::Ipv4Addr::LOCALHOST,
        )]))
    }
}

/// s3control's endpoint (`http://localhost:PORT`, the account id prefixed to the host by the SDK); every other
/// service uses the configuration's endpoint URL. Nothing is read from the environment.
#[derive(Debug)]
struct S3ControlOnLocalhost(u16);

impl aws_types::service_config::LoadServiceConfig for S3ControlOnLocalhost {
    fn load_config(&self, key: aws_types::service_config::ServiceConfigKey<'_>) -> Option<String> {
        (key.service_id() == "S3 Control" && key.profile() == "endpoint_url")
            .then(|| format!("http://localhost:{}", self.0))
    }
}

/// An SDK configuration for `moto`, passed to in-process collectors (no process environment is read or
/// set: tests using different motos run side by side): its endpoint, test credentials, `us-east-1`, and an
/// HTTP client that resolves every name to 127.0.0.1.
pub fn moto_sdk_config(moto: &Moto) -> aws_config::SdkConfig {
    use aws_smithy_http_client::tls;
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .build_with_resolver(Loopback);
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .endpoint_url(moto.endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new("testing", "testing", None, None, "moto"),
            ),
        )
        .http_client(http)
        .sleep_impl(aws_smithy_async::rt::sleep::default_async_sleep().expect("tokio sleep"))
        .time_source(aws_smithy_async::time::SystemTimeSource::new())
        .service_config(S3ControlOnLocalhost(moto.port));
    config.build()
}

/// What the collector reads for a test's check: the spec parsed as validation parses it.
#[allow(dead_code, reason = "not every test binary collects")]
pub fn target(spec: &bucket_access_api::CheckSpec) -> s3_diagnosis::source::Target {
    match spec.target() {
        Ok(target) => target,
        Err(e) => panic!("the test's check is not valid: {e}"),
    }
}
