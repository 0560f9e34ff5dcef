//! The sandbox's health and version endpoints, served by `sandbox follow`
//! on the port of the deployments' loopback `health_urls` (config/sandbox.toml:
//! the emulator's port + 2), one path prefix per deployment:
//!
//! - `GET /{deployment}/health`: `{"status": "ok", "version": V}`, where `V`
//!   is the `Version` parameter of the deployment's web stack (`1` as seeded,
//!   `2` once web-changed.yaml is deployed), read from the emulator;
//! - `GET /{deployment}/version`: `{"git": {"commit": C}, "stack": …}`, `C`
//!   the first 12 hex digits of the SHA-256 of the web stack's template;
//! - `GET /{deployment}/release`: the same as plain text, one line.
//!
//! Faults, for tests and for trying a failing check in the demo: `POST
//! /_sandbox/fault?path=/dev/health&status=500` makes that path answer 500,
//! `…&hang=true` makes it never answer; `POST /_sandbox/reset` clears them
//! (or [`HealthServer::with`], in the same process).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::aws::Clients;

/// What a deployment's endpoints report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// The web stack's `Version` parameter.
    pub version: String,
    /// The short hash of the web stack's template.
    pub commit: String,
}

impl Default for Site {
    fn default() -> Self {
        Site {
            version: "unknown".into(),
            commit: "unknown".into(),
        }
    }
}

/// How a path misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answers with this status.
    Status(u16),
    /// Accepts the request and never answers.
    Hang,
}

/// What the server holds.
#[derive(Debug, Default)]
pub struct Data {
    /// By deployment name.
    pub sites: BTreeMap<String, Site>,
    /// By path (`/dev/health`).
    pub faults: BTreeMap<String, Fault>,
    /// Requests answered (or hung), by path.
    pub hits: BTreeMap<String, u64>,
}

/// Where a deployment's version is read from, on every request to it.
type Sources = Arc<Mutex<BTreeMap<String, Clients>>>;

/// A running health server. Clones share it; it stops when its runtime does.
#[derive(Debug, Clone)]
pub struct HealthServer {
    pub endpoint: String,
    pub port: u16,
    data: Arc<Mutex<Data>>,
    sources: Sources,
}

impl HealthServer {
    /// Listens on `addr` (port 0: a free one) for the deployments named.
    pub async fn start(addr: SocketAddr, deployments: &[&str]) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let port = listener.local_addr()?.port();
        let data = Arc::new(Mutex::new(Data {
            sites: deployments
                .iter()
                .map(|d| (d.to_string(), Site::default()))
                .collect(),
            ..Data::default()
        }));
        let sources = Sources::default();
        let (shared, from) = (data.clone(), sources.clone());
        tokio::spawn(async move {
            loop {
                let Ok((conn, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(serve(conn, shared.clone(), from.clone()));
            }
        });
        Ok(HealthServer {
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
            data,
            sources,
        })
    }

    /// Reads or changes what the server holds.
    pub fn with<R>(&self, f: impl FnOnce(&mut Data) -> R) -> R {
        let mut d = self.data.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut d)
    }

    /// Answers deployment `name`'s requests with the version and commit of
    /// its web stack as the emulator has them at that moment (so a check right
    /// after a deploy sees the new one); a failed read keeps the last.
    pub fn read_versions(&self, name: &str, clients: Clients) {
        let mut s = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        s.insert(name.to_string(), clients);
    }
}

/// The version and template hash of `{name}-web`, if it can be read.
async fn web_stack(c: &Clients, name: &str) -> Option<Site> {
    use sha2::Digest as _;
    let stack = format!("{name}-web");
    let out = c
        .cloudformation
        .describe_stacks()
        .stack_name(&stack)
        .send()
        .await
        .ok()?;
    let s = out.stacks().first()?;
    let version = s
        .parameters()
        .iter()
        .find(|p| p.parameter_key() == Some("Version"))
        .and_then(|p| p.parameter_value())
        .unwrap_or("1")
        .to_string();
    let template = c
        .cloudformation
        .get_template()
        .stack_name(&stack)
        .send()
        .await
        .ok()?;
    let body = template.template_body().unwrap_or_default();
    let hash = sha2::Sha256::digest(body.as_bytes());
    let commit: String = hash.iter().take(6).map(|b| format!("{b:02x}")).collect();
    Some(Site { version, commit })
}

enum Reply {
    Now(u16, &'static str, String),
    Hang,
}

fn answer(d: &mut Data, method: &str, target: &str) -> Reply {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let param = |name: &str| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let json_reply =
        |status, v: serde_json::Value| Reply::Now(status, "application/json", v.to_string());
    match (method, path) {
        ("POST", "/_sandbox/reset") => {
            d.faults.clear();
            return json_reply(200, json!({ "faults": 0 }));
        }
        ("POST", "/_sandbox/fault") => {
            let Some(at) = param("path") else {
                return json_reply(400, json!({ "error": "give ?path=/NAME/health" }));
            };
            let fault = if param("hang").is_some_and(|h| h == "true" || h == "1") {
                Fault::Hang
            } else {
                match param("status").map(|s| s.parse::<u16>()) {
                    Some(Ok(s)) if (100..600).contains(&s) => Fault::Status(s),
                    _ => {
                        return json_reply(
                            400,
                            json!({ "error": "give &status=500 (100-599) or &hang=true" }),
                        );
                    }
                }
            };
            d.faults.insert(at.clone(), fault);
            return json_reply(200, json!({ "path": at, "fault": format!("{fault:?}") }));
        }
        _ => {}
    }
    *d.hits.entry(path.to_string()).or_default() += 1;
    match d.faults.get(path) {
        Some(Fault::Hang) => return Reply::Hang,
        Some(Fault::Status(s)) => {
            return Reply::Now(
                *s,
                "text/plain",
                format!("sandbox fault: {path} answers {s}\n"),
            );
        }
        None => {}
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let [name, what] = segments.as_slice() else {
        return Reply::Now(404, "text/plain", format!("no such path: {path}\n"));
    };
    let Some(site) = d.sites.get(*name) else {
        return Reply::Now(404, "text/plain", format!("no deployment `{name}` here\n"));
    };
    match (method, *what) {
        ("GET", "health") => json_reply(200, json!({ "status": "ok", "version": site.version })),
        ("GET", "version") => json_reply(
            200,
            json!({ "git": { "commit": site.commit }, "stack": format!("{name}-web") }),
        ),
        ("GET", "release") => Reply::Now(
            200,
            "text/plain",
            format!(
                "{name}-web {} ({})\nserved by the opsdeck sandbox\n",
                site.version, site.commit
            ),
        ),
        _ => Reply::Now(404, "text/plain", format!("no such path: {path}\n")),
    }
}

/// How long a request waits for the emulator to say a version.
const READ_TIMEOUT: Duration = Duration::from_secs(2);

async fn serve(mut conn: TcpStream, data: Arc<Mutex<Data>>, sources: Sources) {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let (head_len, method, target, length, close) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(&buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let header = |name: &str| {
                        req.headers
                            .iter()
                            .find(|h| h.name.eq_ignore_ascii_case(name))
                            .map(|h| String::from_utf8_lossy(h.value).trim().to_string())
                    };
                    let length: usize = header("content-length")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    let close = header("connection")
                        .is_some_and(|v| v.eq_ignore_ascii_case("close"))
                        || req.version == Some(0);
                    break (
                        n,
                        req.method.unwrap_or("GET").to_string(),
                        req.path.unwrap_or("/").to_string(),
                        length,
                        close,
                    );
                }
                Ok(httparse::Status::Partial) => {}
                Err(_) => return,
            }
            let mut chunk = [0u8; 4096];
            match conn.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        while buf.len() < head_len + length {
            let mut chunk = [0u8; 4096];
            match conn.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        buf.drain(..head_len + length);
        let name = target
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("");
        let path = target.split('?').next().unwrap_or_default();
        let faulted = {
            let d = data.lock().unwrap_or_else(|e| e.into_inner());
            d.faults.contains_key(path)
        };
        // A faulted path answers as told, without asking the emulator first.
        let source = if faulted {
            None
        } else {
            let s = sources.lock().unwrap_or_else(|e| e.into_inner());
            s.get(name).cloned()
        };
        if let Some(c) = source
            && let Ok(Some(site)) = tokio::time::timeout(READ_TIMEOUT, web_stack(&c, name)).await
        {
            let mut d = data.lock().unwrap_or_else(|e| e.into_inner());
            d.sites.insert(name.to_string(), site);
        }
        let reply = {
            let mut d = data.lock().unwrap_or_else(|e| e.into_inner());
            answer(&mut d, &method, &target)
        };
        let (status, content_type, body) = match reply {
            Reply::Now(s, c, b) => (s, c, b),
            Reply::Hang => {
                // Holds the connection, answering nothing, until the client gives up.
                let mut sink = [0u8; 1024];
                while matches!(conn.read(&mut sink).await, Ok(n) if n > 0) {}
                return;
            }
        };
        let reason = match status {
            200 => "OK",
            400 => "Bad Request",
            404 => "Not Found",
            500 => "Internal Server Error",
            503 => "Service Unavailable",
            _ => "Status",
        };
        let head = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        let sent = conn.write_all(head.as_bytes()).await.is_ok()
            && conn.write_all(body.as_bytes()).await.is_ok();
        if !sent || close {
            let _ = conn.shutdown().await;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_answer_per_deployment_and_faults_override_them() {
        let mut d = Data::default();
        d.sites.insert(
            "dev".into(),
            Site {
                version: "2".into(),
                commit: "abc".into(),
            },
        );
        let body = |r: Reply| match r {
            Reply::Now(s, _, b) => (s, b),
            Reply::Hang => (0, String::new()),
        };
        assert_eq!(
            body(answer(&mut d, "GET", "/dev/health")),
            (200, r#"{"status":"ok","version":"2"}"#.into())
        );
        assert_eq!(body(answer(&mut d, "GET", "/prod/health")).0, 404);
        assert_eq!(
            body(answer(
                &mut d,
                "POST",
                "/_sandbox/fault?path=/dev/health&status=500"
            ))
            .0,
            200
        );
        assert_eq!(body(answer(&mut d, "GET", "/dev/health")).0, 500);
        answer(
            &mut d,
            "POST",
            "/_sandbox/fault?path=/dev/version&hang=true",
        );
        assert!(matches!(answer(&mut d, "GET", "/dev/version"), Reply::Hang));
        assert_eq!(
            body(answer(&mut d, "POST", "/_sandbox/fault?path=/x")).0,
            400
        );
        answer(&mut d, "POST", "/_sandbox/reset");
        assert_eq!(body(answer(&mut d, "GET", "/dev/health")).0, 200);
        assert_eq!(d.hits["/dev/health"], 3);
    }
}
