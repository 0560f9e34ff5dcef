//! Test harness: a real moto server on a free port, and the sandbox config
//! pointed at it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use opsdeck::config::{Config, Deployment};

static PKI_SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Where moto_server is: $OPSDECK_MOTO_SERVER, ./.venv, or PATH.
fn moto_server() -> PathBuf {
    if let Some(p) = std::env::var_os("OPSDECK_MOTO_SERVER") {
        return PathBuf::from(p);
    }
    let venv = repo().join(".venv/bin/moto_server");
    if venv.exists() {
        return venv;
    }
    panic!(
        "moto is not installed: run `make test` (it installs the pinned moto into .venv), \
         or set OPSDECK_MOTO_SERVER to a moto_server binary"
    );
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A moto server for one test; killed when dropped (or when the test's thread ends).
pub struct Moto {
    child: Option<Child>,
    pub port: u16,
    pub endpoint: String,
}

impl Moto {
    pub fn start() -> Moto {
        Moto::start_on(free_port())
    }

    pub fn start_on(port: u16) -> Moto {
        let log =
            std::fs::File::create(std::env::temp_dir().join(format!("opsdeck-moto-{port}.log")))
                .unwrap();
        // moto's request recorder writes to ./moto_recording unless told
        // otherwise: one file for every server of every test, so one test's
        // recording held the requests of another. A fresh file each, as a
        // port may serve an earlier run's moto too.
        let recording = std::env::temp_dir().join(format!("opsdeck-moto-{port}.recording"));
        let _ = std::fs::remove_file(&recording);
        let mut cmd = Command::new(moto_server());
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_RECORDER_FILEPATH", &recording)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        // SAFETY: prctl is async-signal-safe; it only asks the kernel to kill
        // moto if the spawning test thread dies without dropping us.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = cmd.spawn().expect("start moto_server");
        let mut moto = Moto {
            child: Some(child),
            port,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        moto.wait_ready();
        moto
    }

    /// Waits until moto answers. Starting it is seconds of Python imports:
    /// with a test binary's worth of motos starting at once on a loaded
    /// 2-core machine, 30 s was seen to pass (issue 7's five runs), so the
    /// wait is long; a moto that died (a port taken since `free_port`, say)
    /// fails at once, with its log.
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(180);
        while Instant::now() < deadline {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                let log = std::fs::read_to_string(
                    std::env::temp_dir().join(format!("opsdeck-moto-{}.log", self.port)),
                )
                .unwrap_or_default();
                panic!("moto on port {} exited ({status}):\n{log}", self.port);
            }
            if http_get(self.port, "/moto-api/")
                .is_some_and(|r| r.starts_with("HTTP/1.1 200") || r.starts_with("HTTP/1.0 200"))
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("moto did not start on port {} within 180 s", self.port);
    }

    /// Kills the server (its state is lost, as with a real outage).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    Some(buf)
}

/// The deployments of config/sandbox.toml, pointed at `endpoint`.
pub fn sandbox_deployments(endpoint: &str) -> Vec<Deployment> {
    let path = repo().join("config/sandbox.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let (config, diags) = Config::parse(&text, &path);
    assert!(diags.is_empty(), "{diags:?}");
    config
        .deployments
        .into_iter()
        .map(|mut d| {
            d.override_endpoint(endpoint).unwrap();
            // Each test's own PKI folder, so tests never share one.
            let dir = std::env::temp_dir().join(format!(
                "opsdeck-test-pki-{}-{}-{}",
                std::process::id(),
                d.name,
                PKI_SEQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            ));
            d.resources.vpn_pki = Some(dir);
            // The sandbox's health endpoints live on a fixed port (what `sandbox
            // follow` serves, or a running demo's): no test checks them by chance.
            // Tests of the checks point health_urls at their own server.
            d.resources.health_urls.clear();
            d
        })
        .collect()
}

/// A config's text without its `health_urls` lines (see [`sandbox_deployments`]).
pub fn without_health(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("health_"))
        .map(|l| format!("{l}\n"))
        .collect()
}

pub fn deployment(deployments: &[Deployment], name: &str) -> Deployment {
    deployments
        .iter()
        .find(|d| d.name == name)
        .cloned()
        .unwrap()
}

/// A moto seeded with the sandbox's deployments.
pub async fn seeded() -> (Moto, Vec<Deployment>) {
    let moto = Moto::start();
    let deployments = sandbox_deployments(&moto.endpoint);
    let mut out = Vec::new();
    for d in &deployments {
        opsdeck::sandbox::seed(d, &mut out).await.unwrap();
    }
    (moto, deployments)
}

// ---- test HTTP servers for what moto lacks ----------------------------------------

/// One request a [`TestServer`] received, with the time it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The fields of a query-protocol (EC2) form body.
    pub fn form(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(&self.body)
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// What a [`TestServer`] answers.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn new(status: u16, content_type: &str, body: impl Into<String>) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
        }
    }

    /// An awsJson error, as CloudWatch Logs sends one.
    pub fn json_error(status: u16, kind: &str, message: &str) -> Reply {
        let mut r = Reply::new(
            status,
            "application/x-amz-json-1.1",
            serde_json::json!({ "__type": kind, "message": message }).to_string(),
        );
        r.headers.push(("x-amzn-errortype".into(), kind.into()));
        r
    }

    /// An EC2 query-protocol error.
    pub fn ec2_error(status: u16, code: &str, message: &str) -> Reply {
        Reply::new(
            status,
            "text/xml;charset=UTF-8",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>test</RequestID></Response>"
            ),
        )
    }
}

/// How a server's protocol words a refused signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// awsJson (CloudWatch Logs): `{"__type": …}`.
    Json,
    /// EC2 query: `<Response><Errors>…`, code `AuthFailure`.
    Ec2,
}

type Handler = dyn Fn(&Received, usize) -> Reply + Send + Sync;

/// A small HTTP/1.1 server on loopback that stands in for an AWS API moto
/// does not have. Every request's SigV4 signature is checked with
/// `opsdeck::sandbox::sigv4` against the sandbox credentials for
/// `service` in `region`; a bad one is refused with a 403 as AWS does and
/// never reaches the handler. The handler answers the accepted requests
/// with documented responses; it gets the request's index among them.
pub struct TestServer {
    pub endpoint: String,
    pub port: u16,
    accepted: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
    refused: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl TestServer {
    pub fn start(
        service: &'static str,
        region: &'static str,
        protocol: Protocol,
        handler: impl Fn(&Received, usize) -> Reply + Send + Sync + 'static,
    ) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let refused = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let handler: std::sync::Arc<Handler> = std::sync::Arc::new(handler);
        let (acc, refs) = (accepted.clone(), refused.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let (acc, refs, handler) = (acc.clone(), refs.clone(), handler.clone());
                std::thread::spawn(move || {
                    serve_connection(conn, service, region, protocol, &acc, &refs, &*handler)
                });
            }
        });
        TestServer {
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
            accepted,
            refused,
        }
    }

    /// The requests whose signature was good, in arrival order.
    pub fn requests(&self) -> Vec<Received> {
        self.accepted.lock().unwrap().clone()
    }

    /// Why each refused request was refused.
    pub fn refused(&self) -> Vec<String> {
        self.refused.lock().unwrap().clone()
    }

    /// Every request that arrived, good or bad.
    pub fn total(&self) -> usize {
        self.accepted.lock().unwrap().len() + self.refused.lock().unwrap().len()
    }
}

fn serve_connection(
    conn: TcpStream,
    service: &str,
    region: &str,
    protocol: Protocol,
    accepted: &std::sync::Mutex<Vec<Received>>,
    refused: &std::sync::Mutex<Vec<String>>,
    handler: &Handler,
) {
    use std::io::BufRead;
    let mut reader = std::io::BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return; // the client closed the connection
        }
        let at = Instant::now();
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let target = parts.next().unwrap_or_default().to_string();
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((n, v)) = line.split_once(':') {
                headers.push((n.trim().to_string(), v.trim().to_string()));
            }
        }
        let length = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map_or(0, |(_, v)| v.parse().unwrap());
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let received = Received {
            at,
            method,
            target,
            headers,
            body,
        };
        let check = opsdeck::sandbox::sigv4::verify(
            &opsdeck::sandbox::sigv4::Received {
                method: &received.method,
                target: &received.target,
                headers: &received.headers,
                body: &received.body,
            },
            service,
            region,
            std::time::SystemTime::now(),
        );
        let reply = match check {
            Err(e) => {
                refused.lock().unwrap().push(e.to_string());
                match protocol {
                    Protocol::Json => Reply::json_error(403, e.code(), &e.to_string()),
                    Protocol::Ec2 => Reply::ec2_error(403, "AuthFailure", &e.to_string()),
                }
            }
            Ok(_) => {
                let n = {
                    let mut a = accepted.lock().unwrap();
                    a.push(received.clone());
                    a.len() - 1
                };
                handler(&received, n)
            }
        };
        let mut head = format!("HTTP/1.1 {} X\r\n", reply.status);
        for (n, v) in &reply.headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str(&format!(
            "x-amzn-requestid: test\r\ncontent-length: {}\r\n\r\n",
            reply.body.len()
        ));
        if conn.write_all(head.as_bytes()).is_err()
            || conn.write_all(reply.body.as_bytes()).is_err()
        {
            return;
        }
    }
}

/// A port that accepts connections and never answers: a hung endpoint, not
/// a refused one. Holds every connection until dropped.
pub struct Silent {
    pub endpoint: String,
    pub connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    _listener: std::sync::Arc<TcpListener>,
}

impl Silent {
    pub fn start() -> Silent {
        let listener = std::sync::Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (l, n) = (listener.clone(), connections.clone());
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for conn in l.incoming() {
                let Ok(conn) = conn else { return };
                n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                held.push(conn);
            }
        });
        Silent {
            endpoint,
            connections,
            _listener: listener,
        }
    }
}

/// config/sandbox.toml pointed at `moto`, written to `dir` (dev read-only if asked).
pub fn config_file(dir: &Path, moto: &Moto, read_only: bool) -> PathBuf {
    let text =
        without_health(&std::fs::read_to_string(repo().join("config/sandbox.toml")).unwrap())
            .replace("http://127.0.0.1:4566", &moto.endpoint);
    let text = if read_only {
        text.replace("name = \"dev\"", "name = \"dev\"\nread_only = true")
    } else {
        text
    };
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The real binary on `config`, without a terminal, its audit log at `audit`.
pub fn opsdeck_cli(config: &Path, audit: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("OPSDECK_AUDIT_LOG", audit)
        .env_remove("OPSDECK_DEPLOYMENT")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// A refusal: non-zero, with one line on stderr.
pub fn one_line_refusal(out: &std::process::Output) -> String {
    assert!(!out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    stderr
}

/// Each line of an audit log as its `fields` joined by spaces ("stack_deploy
/// ok"); a field a line lacks reads "?". A missing log reads as no lines.
pub fn audit_lines(path: &Path, fields: &[&str]) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            fields
                .iter()
                .map(|f| v[f].as_str().unwrap_or("?"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// How a test's recorded responses are served: the endpoint and deployment
/// the clients name (in requests and in problems), and whether the SDK's
/// retries stay on.
pub struct Replay<'a> {
    pub endpoint: &'a str,
    pub deployment: &'a str,
    pub retries: bool,
}

impl Replay<'_> {
    /// Loopback (the replay client answers before any connection), `dev`,
    /// the SDK's standard retries.
    pub const DEV: Replay<'static> = Replay {
        endpoint: "http://127.0.0.1:9",
        deployment: "dev",
        retries: true,
    };

    /// The clients of a deployment in us-east-1 whose every request `http`
    /// answers from its recorded responses, signed with fixed credentials.
    pub fn clients(
        &self,
        http: &aws_smithy_http_client::test_util::StaticReplayClient,
    ) -> opsdeck::aws::Clients {
        let (config, ctx) = self.config(http);
        opsdeck::aws::Clients::new(&config, ctx)
    }

    /// The SDK config and call context of [`Replay::clients`], for clients
    /// built another way (the VPN's own).
    pub fn config(
        &self,
        http: &aws_smithy_http_client::test_util::StaticReplayClient,
    ) -> (aws_config::SdkConfig, opsdeck::aws::CallContext) {
        let mut config = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(self.endpoint)
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    aws_credential_types::Credentials::new(
                        "AKIDREPLAY",
                        "replay-secret",
                        None,
                        None,
                        "replay",
                    ),
                ),
            )
            .http_client(http.clone());
        if !self.retries {
            config = config.retry_config(aws_config::retry::RetryConfig::disabled());
        }
        let ctx = opsdeck::aws::CallContext {
            deployment: self.deployment.into(),
            profile: None,
            endpoint: Some(self.endpoint.into()),
            region: Some("us-east-1".into()),
        };
        (config.build(), ctx)
    }
}
