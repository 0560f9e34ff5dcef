//! Health checks: a deployment's `health_urls`, fetched all at once, each
//! with its status code, latency and the version it reports.
//!
//! A check passes on a 2xx answer. The version comes from a JSON body's
//! `version`, else its `git.commit` (nested, `{"git": {"commit": …}}`, or a
//! flat `"git.commit"` key), else (2xx, not JSON) the body's first line. Each
//! URL has a bounded time, connect and answer included ([`TIMEOUT`], or the
//! deployment's `health_timeout_secs`), so a hung endpoint fails its check
//! and never holds the rest. A timeout, a refused connection, a failed DNS
//! lookup and a failed TLS handshake are each named as what they are.
//!
//! The checks are plain GETs: not signed, no AWS credentials. They run as a
//! read job ([`plan`]: the health key, `opsdeck health`) and after every
//! deploy, in the deploy's own job ([`after_deploy`], called by
//! [`super::run`] for every deploy verb), where a failing check makes the
//! job "deployed, unhealthy" ([`Outcome::Unhealthy`]).

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde::Serialize;
use serde_json::{Value, json};

use super::{Ctx, Detail, Effect, Op, Outcome, Plan};
use crate::aws::http::{self, HttpClient};
use crate::config::Deployment;

/// How long one URL may take, connect and answer, unless the deployment says.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// How long a TCP connect may take (within the URL's time).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How much of a body is read for its version.
const BODY_CAP: usize = 64 * 1024;

/// How long a version shown may be, in characters.
const VERSION_CAP: usize = 60;

/// Why a URL gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum Failure {
    #[error("timed out after {} s", .0.as_secs_f64())]
    Timeout(#[serde(serialize_with = "secs")] Duration),
    #[error("connection refused")]
    Refused,
    #[error("DNS lookup failed: {0}")]
    Dns(String),
    #[error("TLS failed: {0}")]
    Tls(String),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("the answer broke off: {0}")]
    Broken(String),
    #[error("not a URL to fetch: {0}")]
    BadUrl(String),
}

impl Failure {
    /// A few words for a table's status column ("timed out", "refused").
    pub fn short(&self) -> String {
        match self {
            Failure::Timeout(d) => format!("timeout {} s", d.as_secs_f64()),
            Failure::Refused => "refused".into(),
            Failure::Dns(_) => "DNS failed".into(),
            Failure::Tls(_) => "TLS failed".into(),
            Failure::Connect(_) => "no connect".into(),
            Failure::Broken(_) => "broke off".into(),
            Failure::BadUrl(_) => "bad URL".into(),
        }
    }
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// One URL's check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub url: String,
    /// The HTTP status; `None` when there was no answer.
    pub status: Option<u16>,
    /// From sending the request to the end of the answer (or to the failure).
    #[serde(rename = "latency_ms", serialize_with = "millis")]
    pub latency: Duration,
    pub version: Option<String>,
    /// Why there was no answer.
    pub failure: Option<Failure>,
    /// A failing answer's first line ("HTTP 500: upstream down").
    pub note: Option<String>,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1e6).round() / 1e3)
}

impl Check {
    pub fn healthy(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// "200", "500", "timeout 2 s", "refused".
    pub fn status_text(&self) -> String {
        match (&self.status, &self.failure) {
            (Some(s), _) => s.to_string(),
            (None, Some(f)) => f.short(),
            (None, None) => "no answer".into(),
        }
    }

    /// What to say under its row: why there was no answer, or a failing
    /// answer's first line.
    pub fn remark(&self) -> Option<String> {
        match (&self.failure, &self.note) {
            (Some(f), _) => Some(f.to_string()),
            (None, Some(n)) => Some(n.clone()),
            (None, None) => None,
        }
    }

    /// "12 ms", "1.52 s".
    pub fn latency_text(&self) -> String {
        let ms = self.latency.as_secs_f64() * 1000.0;
        if ms < 1000.0 {
            format!("{ms:.0} ms")
        } else {
            format!("{:.2} s", ms / 1000.0)
        }
    }

    /// One line of a job's output: "ok   200  12 ms  v1.2  https://…".
    pub fn line(&self) -> String {
        let mut l = format!(
            "{} {} · {} · {} · {}",
            if self.healthy() { "ok  " } else { "FAIL" },
            self.url,
            self.status_text(),
            self.latency_text(),
            self.version.as_deref().unwrap_or("no version"),
        );
        if let Some(r) = self.remark() {
            l.push_str(&format!(" · {r}"));
        }
        l
    }

    /// Why it failed, in a few words ("HTTP 500", "connection refused").
    fn why(&self) -> String {
        match (&self.status, &self.failure) {
            (Some(s), _) => format!("HTTP {s}"),
            (None, Some(f)) => f.to_string(),
            (None, None) => "no answer".into(),
        }
    }
}

/// Every URL's check, in the order configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub deployment: String,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn healthy(&self) -> bool {
        self.checks.iter().all(Check::healthy)
    }

    pub fn unhealthy(&self) -> usize {
        self.checks.iter().filter(|c| !c.healthy()).count()
    }

    /// "3 healthy", "1 of 3 unhealthy (https://…/health: HTTP 500)".
    pub fn summary(&self) -> String {
        let bad: Vec<&Check> = self.checks.iter().filter(|c| !c.healthy()).collect();
        if bad.is_empty() {
            return format!("{} healthy", self.checks.len());
        }
        let why: Vec<String> = bad
            .iter()
            .map(|c| format!("{}: {}", c.url, c.why()))
            .collect();
        format!(
            "{} of {} unhealthy ({})",
            bad.len(),
            self.checks.len(),
            why.join("; ")
        )
    }

    /// The report as `opsdeck health --json` prints it.
    pub fn to_json(&self) -> Value {
        json!({
            "deployment": self.deployment,
            "healthy": self.healthy(),
            "summary": self.summary(),
            "checks": self.checks,
        })
    }
}

/// The table's header, and a row of it per check: URL, status, latency, version.
pub fn table(checks: &[Check]) -> (Vec<&'static str>, Vec<[String; 4]>) {
    let rows = checks
        .iter()
        .map(|c| {
            [
                c.url.clone(),
                c.status_text(),
                c.latency_text(),
                c.version.clone().unwrap_or_else(|| "–".into()),
            ]
        })
        .collect();
    (vec!["URL", "Status", "Latency", "Version"], rows)
}

/// The version a body reports: JSON `version`, else `git.commit`, else (for
/// a 2xx answer that is not JSON) its first non-empty line; cut to a length
/// a table can show.
pub fn version_of(body: &[u8], ok: bool) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let found = match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(o)) => {
            let scalar = |v: &Value| match v {
                Value::String(s) => Some(s.trim().to_string()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            };
            o.get("version")
                .and_then(scalar)
                .or_else(|| o.get("git").and_then(|g| g.get("commit")).and_then(scalar))
                .or_else(|| o.get("git.commit").and_then(scalar))
        }
        // A JSON string or number is a version as it is.
        Ok(Value::String(s)) => Some(s.trim().to_string()),
        Ok(Value::Number(n)) => Some(n.to_string()),
        Ok(_) => None,
        Err(_) if ok => text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(str::to_string),
        Err(_) => None,
    };
    found.filter(|v| !v.is_empty()).map(|v| cut(&v))
}

fn cut(s: &str) -> String {
    let s: String = s.chars().filter(|c| !c.is_control()).collect();
    if s.chars().count() <= VERSION_CAP {
        return s;
    }
    let mut short: String = s.chars().take(VERSION_CAP - 1).collect();
    short.push('…');
    short
}

/// What a failed request was: a refused connection, a DNS lookup, TLS, or
/// another connect or transfer failure.
fn failure_of(e: &hyper_util::client::legacy::Error) -> Failure {
    let text = http::chain(e);
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return Failure::Refused;
            }
            if io.kind() == std::io::ErrorKind::TimedOut {
                return Failure::Connect(text);
            }
            if io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
            {
                return Failure::Tls(text);
            }
        }
        if s.downcast_ref::<rustls::Error>().is_some() {
            return Failure::Tls(text);
        }
        source = s.source();
    }
    let lower = text.to_lowercase();
    if lower.contains("dns error") {
        Failure::Dns(text)
    } else if lower.contains("tls") || lower.contains("certificate") {
        // A handshake the server broke off ("tls handshake eof"), or one rustls refused.
        Failure::Tls(text)
    } else if e.is_connect() {
        Failure::Connect(text)
    } else {
        Failure::Broken(text)
    }
}

/// Fetches one URL within `timeout`.
pub async fn check_one(client: &HttpClient, url: &str, timeout: Duration) -> Check {
    let started = Instant::now();
    let done = |status, version, failure, note| Check {
        url: url.to_string(),
        status,
        latency: started.elapsed(),
        version,
        failure,
        note,
    };
    let request = match ::http::Request::get(url)
        .header("accept", "application/json, text/plain;q=0.9, */*;q=0.5")
        .header("user-agent", concat!("opsdeck/", env!("CARGO_PKG_VERSION")))
        .body(Full::new(Bytes::new()))
    {
        Ok(r) => r,
        Err(e) => return done(None, None, Some(Failure::BadUrl(e.to_string())), None),
    };
    let exchange = async {
        let response = client.request(request).await.map_err(|e| failure_of(&e))?;
        let status = response.status().as_u16();
        let mut body = response.into_body();
        let mut bytes = Vec::new();
        while bytes.len() < BODY_CAP {
            match body.frame().await {
                None => break,
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        bytes.extend_from_slice(data);
                    }
                }
                Some(Err(e)) => return Err(Failure::Broken(http::chain(&e))),
            }
        }
        bytes.truncate(BODY_CAP);
        Ok((status, bytes))
    };
    match tokio::time::timeout(timeout, exchange).await {
        Err(_) => done(None, None, Some(Failure::Timeout(timeout)), None),
        Ok(Err(f)) => done(None, None, Some(f), None),
        Ok(Ok((status, body))) => {
            let ok = (200..300).contains(&status);
            let note = (!ok)
                .then(|| {
                    let text = String::from_utf8_lossy(&body);
                    text.lines().map(str::trim).find(|l| !l.is_empty()).map(cut)
                })
                .flatten();
            done(Some(status), version_of(&body, ok), None, note)
        }
    }
}

/// Every URL at once, each within `timeout`; in the order given. `each`
/// hears of every check as it ends.
pub async fn check_all(
    urls: &[String],
    timeout: Duration,
    mut each: impl FnMut(&Check),
) -> Vec<Check> {
    use futures::StreamExt as _;
    let client = match http::client(CONNECT_TIMEOUT.min(timeout)) {
        Ok(c) => c,
        Err(why) => {
            let checks: Vec<Check> = urls
                .iter()
                .map(|u| Check {
                    url: u.clone(),
                    status: None,
                    latency: Duration::ZERO,
                    version: None,
                    failure: Some(Failure::Tls(why.clone())),
                    note: None,
                })
                .collect();
            checks.iter().for_each(&mut each);
            return checks;
        }
    };
    let mut pending: futures::stream::FuturesUnordered<_> = urls
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let client = &client;
            async move { (i, check_one(client, u, timeout).await) }
        })
        .collect();
    let mut checks = Vec::with_capacity(urls.len());
    while let Some((i, c)) = pending.next().await {
        each(&c);
        checks.push((i, c));
    }
    checks.sort_by_key(|(i, _)| *i);
    checks.into_iter().map(|(_, c)| c).collect()
}

/// The deployment's checks, one output line each as it ends.
pub async fn check(d: &Deployment, ctx: &Ctx) -> Report {
    let urls = &d.resources.health_urls;
    let timeout = d.resources.health_timeout.unwrap_or(TIMEOUT);
    let total = urls.len() as u64;
    ctx.progress(0, Some(total), "checking health");
    let mut done = 0;
    let checks = check_all(urls, timeout, |c| {
        done += 1;
        ctx.line(c.line());
        ctx.progress(done, Some(total), "checking health");
    })
    .await;
    Report {
        deployment: d.name.clone(),
        checks,
    }
}

/// The health check of a deployment, as a read job; `Err` when it has no
/// `health_urls`.
pub fn plan(d: &Deployment) -> Result<Plan, String> {
    if d.resources.health_urls.is_empty() {
        return Err(no_urls(d));
    }
    let n = d.resources.health_urls.len();
    Ok(Plan {
        action: "health_check",
        deployment: d.clone(),
        target: format!("health ({n} URL{})", if n == 1 { "" } else { "s" }),
        parameters: json!({ "urls": d.resources.health_urls }),
        title: "Health check".into(),
        lines: vec![format!(
            "GET each of the {n} health URL(s) of deployment `{}`; a 2xx answer passes.",
            d.name
        )],
        effect: Effect::Read,
        op: Op::Health,
    })
}

/// What to say when a deployment has nothing to check.
pub fn no_urls(d: &Deployment) -> String {
    format!(
        "deployment `{}` has no health_urls: add health_urls = [\"https://…/health\"] to its [deployment.resources]",
        d.name
    )
}

/// The health job: every URL, then the summary ("3 healthy", "1 of 3
/// unhealthy (…)") with the table as its detail.
pub(super) async fn run(d: &Deployment, ctx: &Ctx) -> Outcome {
    if d.resources.health_urls.is_empty() {
        return Outcome::Refused(no_urls(d));
    }
    let report = tokio::select! {
        r = check(d, ctx) => r,
        () = ctx.cancel.cancelled() => return Outcome::Cancelled("cancelled: the health check stopped".into()),
    };
    let summary = report.summary();
    let detail = Some(Detail::Health(Box::new(report.clone())));
    if report.healthy() {
        Outcome::Ok { summary, detail }
    } else {
        Outcome::Unhealthy {
            message: summary,
            detail,
        }
    }
}

/// After a deploy that went well, the deployment's checks, in the deploy's
/// job: all passing keep it ok (the summary says so); one failing makes it
/// "deployed, unhealthy". Any other outcome, or no `health_urls`, is left as
/// it is.
pub async fn after_deploy(d: &Deployment, outcome: Outcome, ctx: &Ctx) -> Outcome {
    let Outcome::Ok {
        summary,
        detail: None,
    } = outcome
    else {
        return outcome;
    };
    if d.resources.health_urls.is_empty() {
        ctx.line("no health_urls configured: no post-deploy health check");
        return Outcome::Ok {
            summary,
            detail: None,
        };
    }
    ctx.line(format!(
        "post-deploy health check of {} URL(s):",
        d.resources.health_urls.len()
    ));
    let report = check(d, ctx).await;
    // The deploy's row shows no "2/2": that count was the checks', not the deploy's.
    ctx.progress(0, None, "health checked");
    let health = report.summary();
    let detail = Some(Detail::Health(Box::new(report.clone())));
    if report.healthy() {
        Outcome::Ok {
            summary: format!("{summary}; {health}"),
            detail,
        }
    } else {
        Outcome::Unhealthy {
            message: format!("deployed, unhealthy: {summary}; {health}"),
            detail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_from_json_then_git_commit_then_the_first_line() {
        let v = |b: &str| version_of(b.as_bytes(), true);
        assert_eq!(
            v(r#"{"status":"ok","version":"1.4.2"}"#).as_deref(),
            Some("1.4.2")
        );
        assert_eq!(v(r#"{"version":7}"#).as_deref(), Some("7"));
        assert_eq!(
            v(r#"{"git":{"commit":"3f2a9c1"}}"#).as_deref(),
            Some("3f2a9c1")
        );
        assert_eq!(v(r#"{"git.commit":"abc"}"#).as_deref(), Some("abc"));
        assert_eq!(
            v(r#"{"version":"2","git":{"commit":"abc"}}"#).as_deref(),
            Some("2")
        );
        assert_eq!(v(r#"{"status":"ok"}"#), None);
        assert_eq!(
            v("\n  web 2.0 (3f2a9c1)  \nbuilt today\n").as_deref(),
            Some("web 2.0 (3f2a9c1)")
        );
        let long = "x".repeat(200);
        let cut = v(&long).unwrap();
        assert_eq!(cut.chars().count(), VERSION_CAP);
        assert!(cut.ends_with('…'));
        // A failing answer's text is a note, not a version; its JSON version still counts.
        assert_eq!(version_of(b"upstream down", false), None);
        assert_eq!(
            version_of(br#"{"version":"9"}"#, false).as_deref(),
            Some("9")
        );
    }

    #[test]
    fn every_deploy_verb_is_checked_after_and_the_check_needs_no_aws() {
        let deploys = [
            Op::LambdaDeploy {
                function: "f".into(),
                zip: "f.zip".into(),
                build: None,
                sha256: None,
                alias: None,
            },
            Op::LambdaRollback {
                function: "f".into(),
                alias: "ACTIVE".into(),
                to: None,
            },
            Op::CommandDeploy {
                command: Box::new(crate::config::CommandDeploy {
                    name: "web".into(),
                    run: "true".into(),
                    workdir: None,
                    env: Default::default(),
                }),
            },
        ];
        assert!(deploys.iter().all(Op::is_deploy));
        assert!(!Op::StackCancel { stack: "s".into() }.is_deploy());
        assert!(!Op::Health.is_deploy());
        assert!(!Op::Health.needs_aws());
        assert!(Op::Health.cancellable().is_ok());
    }

    #[test]
    fn the_summary_counts_and_names_what_failed() {
        let check = |url: &str, status: Option<u16>, failure: Option<Failure>| Check {
            url: url.into(),
            status,
            latency: Duration::from_millis(12),
            version: None,
            failure,
            note: None,
        };
        let mut r = Report {
            deployment: "dev".into(),
            checks: vec![
                check("http://a/health", Some(200), None),
                check("http://b/version", Some(204), None),
            ],
        };
        assert!(r.healthy());
        assert_eq!(r.summary(), "2 healthy");
        r.checks.push(check("http://c/health", Some(500), None));
        r.checks.push(check(
            "http://d/health",
            None,
            Some(Failure::Timeout(Duration::from_secs(2))),
        ));
        assert!(!r.healthy());
        assert_eq!(
            r.summary(),
            "2 of 4 unhealthy (http://c/health: HTTP 500; http://d/health: timed out after 2 s)"
        );
        let j = r.to_json();
        assert_eq!(j["healthy"], false);
        assert_eq!(j["checks"][3]["failure"]["kind"], "timeout");
        assert_eq!(j["checks"][0]["latency_ms"], 12.0);
    }
}
