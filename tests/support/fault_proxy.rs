//! A fault-injecting HTTP proxy of the tests' own on 127.0.0.1, between the collector and moto: each request
//! is named by the AWS operation it makes (`GetBucketPolicy`, `GetRole`, `DescribeKey`, ...), and the
//! operation a test chooses gets one fault, on every call or on the first N: throttling, a 5xx answer, a
//! reset connection, a delay past the timeouts, an empty 200, a 200 whose body is cut off, or an access
//! denial. Every other request is forwarded untouched. One request per connection.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the proxy does to the chosen operation's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `400` with the code AWS throttles with (`Throttling`, `ThrottlingException`, `SlowDown`).
    Throttle,
    /// `500 InternalError`.
    ServerError,
    /// The connection closed with no answer.
    Reset,
    /// No answer for `DELAY`, then the connection closed: past every attempt's timeout.
    Delay,
    /// `200` with an empty body.
    Empty,
    /// `200` with moto's answer cut off in the middle.
    CutOff,
    /// `403 AccessDenied`.
    Denied,
}

impl Fault {
    /// Every fault.
    pub const ALL: [Fault; 7] = [
        Fault::Throttle,
        Fault::ServerError,
        Fault::Reset,
        Fault::Delay,
        Fault::Empty,
        Fault::CutOff,
        Fault::Denied,
    ];
}

/// How long a delayed answer is held.
pub const DELAY: Duration = Duration::from_secs(4);

#[derive(Default)]
struct State {
    /// The operation to fault, the fault, and how many more calls get it (`None`: every call).
    plan: Option<(String, Fault, Option<u32>)>,
    /// Operations seen since the plan was set, each once, in order.
    seen: Vec<String>,
    /// Faults injected since the plan was set.
    injected: u32,
}

/// The proxy.
pub struct FaultProxy {
    /// Its port on 127.0.0.1.
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl FaultProxy {
    /// Starts the proxy in front of moto's `target` port.
    pub fn start(target: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = Arc::clone(&shared);
                std::thread::spawn(move || {
                    let _ = serve(stream, target, &state);
                });
            }
        });
        Self { port, state }
    }

    /// Faults `operation` with `fault` on every call (`first: None`) or on the first `first` calls; `None`
    /// forwards everything. Forgets what was seen.
    pub fn plan(&self, plan: Option<(&str, Fault, Option<u32>)>) {
        let mut state = self.state.lock().unwrap();
        state.plan = plan.map(|(op, fault, first)| (op.to_owned(), fault, first));
        state.seen.clear();
        state.injected = 0;
    }

    /// The operations seen since the plan was set.
    pub fn seen(&self) -> Vec<String> {
        self.state.lock().unwrap().seen.clone()
    }

    /// How many faults were injected since the plan was set.
    pub fn injected(&self) -> u32 {
        self.state.lock().unwrap().injected
    }
}

/// The AWS operation a request makes, from its target header (JSON services), its `Action` (query
/// services) or its path and query (S3, S3 Control).
pub fn operation(request: &[u8]) -> String {
    let end = request
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(request.len());
    let head = String::from_utf8_lossy(&request[..end]).to_string();
    let body = String::from_utf8_lossy(request.get(end + 4..).unwrap_or_default()).to_string();
    let header = |name: &str| {
        head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    if let Some(target) = header("x-amz-target") {
        return target.rsplit('.').next().unwrap_or_default().to_owned();
    }
    if let Some(action) = body.split('&').find_map(|p| p.strip_prefix("Action=")) {
        return action.to_owned();
    }
    let first = head.lines().next().unwrap_or_default();
    let mut parts = first.split(' ');
    let method = parts.next().unwrap_or_default();
    let target = parts.next().unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let keys: Vec<&str> = query
        .split('&')
        .map(|p| p.split('=').next().unwrap_or_default())
        .filter(|k| !k.is_empty())
        .collect();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.first() == Some(&"v20180820") {
        return match segments.as_slice() {
            [_, "configuration", "publicAccessBlock"] => "GetPublicAccessBlock (s3control)",
            [_, "accesspoint"] => "ListAccessPoints (s3control)",
            [_, "accesspoint", _, "policy"] => "GetAccessPointPolicy (s3control)",
            [_, "accesspoint", _] => "GetAccessPoint (s3control)",
            _ => "s3control",
        }
        .to_owned();
    }
    let object = segments.len() > 1;
    let name = match (method, keys.as_slice(), object) {
        ("GET", [], false) if segments.is_empty() => "ListBuckets",
        ("GET", k, _) if k.contains(&"list-type") => "ListObjectsV2",
        ("GET", ["policy"], _) => "GetBucketPolicy",
        ("GET", ["publicAccessBlock"], _) => "GetPublicAccessBlock",
        ("GET", ["encryption"], _) => "GetBucketEncryption",
        ("GET", ["ownershipControls"], _) => "GetBucketOwnershipControls",
        ("GET", ["location"], _) => "GetBucketLocation",
        ("GET", ["acl"], false) => "GetBucketAcl",
        ("GET", ["acl"], true) => "GetObjectAcl",
        ("GET", ["tagging"], false) => "GetBucketTagging",
        ("GET", ["tagging"], true) => "GetObjectTagging",
        ("GET", ["object-lock"], _) => "GetObjectLockConfiguration",
        ("GET", ["requestPayment"], _) => "GetBucketRequestPayment",
        ("GET", ["abac"], _) => "GetBucketAbac",
        _ => "",
    };
    if name.is_empty() {
        format!("{method} {path}?{}", keys.join("&"))
    } else {
        name.to_owned()
    }
}

/// An answer with `status`, `content_type` and `body`.
fn answer(status: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// How a service writes its errors.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// KMS, Organizations: `{"__type": ...}`.
    Json,
    /// IAM, STS: `<ErrorResponse><Error>...`.
    Query,
    /// EC2: `<Response><Errors><Error>...`.
    Ec2,
    /// S3, S3 Control: `<Error>...` at the root.
    RestXml,
}

/// The error body `protocol` sends for `code`.
fn error(protocol: Protocol, status: &str, code: &str) -> Vec<u8> {
    let message = "injected by the test";
    let (content_type, body) = match protocol {
        Protocol::Json => (
            "application/x-amz-json-1.1",
            format!("{{\"__type\":\"{code}\",\"message\":\"{message}\"}}"),
        ),
        Protocol::Query => ("text/xml", format!("<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>fault</RequestId></ErrorResponse>")),
        Protocol::Ec2 => ("text/xml", format!("<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>fault</RequestID></Response>")),
        Protocol::RestXml => ("application/xml", format!("<Error><Code>{code}</Code><Message>{message}</Message><RequestId>fault</RequestId></Error>")),
    };
    answer(status, content_type, body.as_bytes())
}

/// moto's answer with its body cut in half (its headers kept, the length corrected).
fn cut_off(response: &[u8]) -> Vec<u8> {
    let end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(response.len());
    let head = String::from_utf8_lossy(&response[..end]).to_string();
    let body = response.get(end + 4..).unwrap_or_default();
    let kept = &body[..body.len() / 2];
    let mut out = String::new();
    for line in head.lines().filter(|l| {
        let l = l.to_ascii_lowercase();
        !l.starts_with("content-length:") && !l.starts_with("transfer-encoding:")
    }) {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", kept.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(kept);
    bytes
}

fn serve(mut client: TcpStream, target: u16, state: &Mutex<State>) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(10)))?;
    let request = super::read_request(&mut client)?;
    let op = operation(&request);
    let fault = {
        let mut state = state.lock().unwrap();
        if !state.seen.contains(&op) {
            state.seen.push(op.clone());
        }
        let hit = match &mut state.plan {
            Some((planned, fault, remaining)) if *planned == op => match remaining {
                None => Some(*fault),
                Some(0) => None,
                Some(n) => {
                    *n -= 1;
                    Some(*fault)
                }
            },
            _ => None,
        };
        if hit.is_some() {
            state.injected += 1;
        }
        hit
    };
    let head = String::from_utf8_lossy(&request).to_ascii_lowercase();
    let json = head.contains("x-amz-target:");
    let protocol = if json {
        Protocol::Json
    } else if head.contains("action=describevpcendpoints") {
        Protocol::Ec2
    } else if head.contains("action=") {
        Protocol::Query
    } else {
        Protocol::RestXml
    };
    let response = match fault {
        None => super::exchange(&request, target, None)?,
        // As each service throttles: S3 `503 SlowDown`, EC2 `RequestLimitExceeded` (with 400 here: the
        // code, not the status, must make it retried), the others `400` with their throttling code.
        Some(Fault::Throttle) => match protocol {
            Protocol::RestXml => error(protocol, "503 Slow Down", "SlowDown"),
            Protocol::Ec2 => error(protocol, "400 Bad Request", "RequestLimitExceeded"),
            Protocol::Json => error(protocol, "400 Bad Request", "ThrottlingException"),
            Protocol::Query => error(protocol, "400 Bad Request", "Throttling"),
        },
        Some(Fault::ServerError) => error(protocol, "500 Internal Server Error", "InternalError"),
        Some(Fault::Denied) => match protocol {
            Protocol::Json => error(protocol, "400 Bad Request", "AccessDeniedException"),
            Protocol::Ec2 => error(protocol, "403 Forbidden", "UnauthorizedOperation"),
            _ => error(protocol, "403 Forbidden", "AccessDenied"),
        },
        Some(Fault::Reset) => return Ok(()),
        Some(Fault::Delay) => {
            std::thread::sleep(DELAY);
            return Ok(());
        }
        Some(Fault::Empty) => answer(
            "200 OK",
            if protocol == Protocol::Json {
                "application/x-amz-json-1.1"
            } else {
                "text/xml"
            },
            b"",
        ),
        Some(Fault::CutOff) => cut_off(&super::exchange(&request, target, None)?),
    };
    client.write_all(&response)
}
