//! Health checks against real HTTP servers on this machine: the sandbox's
//! health server (`opsdeck::sandbox::health`, what `sandbox follow` serves),
//! with its faults (500, a hung answer), a port nobody listens on, a name
//! that does not resolve, and TLS spoken to a plain HTTP server. Then a
//! command deploy (a real script) followed by a failing check ("deployed,
//! unhealthy", exit 3, audited) and by a passing one, and `opsdeck health`
//! as a user runs it. No AWS at all: the checks need no credentials.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use opsdeck::config::Config;
use opsdeck::jobs::health::{self, Failure};
use opsdeck::jobs::{self, AuditLog, Ctx, Detail, JobUpdate, Outcome, Source};
use opsdeck::sandbox::health::{Fault, HealthServer, Site};

async fn server() -> HealthServer {
    let s = HealthServer::start("127.0.0.1:0".parse().unwrap(), &["dev", "prod"])
        .await
        .unwrap();
    s.with(|d| {
        d.sites.insert(
            "dev".into(),
            Site {
                version: "2".into(),
                commit: "3f2a9c1d0e4b".into(),
            },
        )
    });
    s
}

fn urls(s: &HealthServer, paths: &[&str]) -> Vec<String> {
    paths.iter().map(|p| format!("{}{p}", s.endpoint)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_check_has_its_status_latency_and_version() {
    let s = server().await;
    let refused = format!("http://127.0.0.1:{}/health", common::free_port());
    let mut all = urls(&s, &["/dev/health", "/dev/version", "/dev/release"]);
    all.push(refused.clone());
    let mut heard = Vec::new();
    let checks = health::check_all(&all, Duration::from_secs(5), |c| {
        heard.push(c.url.clone());
    })
    .await;
    assert_eq!(heard.len(), 4);
    let got: Vec<(Option<u16>, Option<&str>, bool)> = checks
        .iter()
        .map(|c| (c.status, c.version.as_deref(), c.healthy()))
        .collect();
    assert_eq!(
        got,
        [
            // JSON `version`.
            (Some(200), Some("2"), true),
            // JSON `git.commit`.
            (Some(200), Some("3f2a9c1d0e4b"), true),
            // Plain text: its first line.
            (Some(200), Some("dev-web 2 (3f2a9c1d0e4b)"), true),
            (None, None, false),
        ]
    );
    // In the order given, whatever order they ended in.
    assert_eq!(checks[3].url, refused);
    assert_eq!(checks[3].failure, Some(Failure::Refused));
    assert_eq!(checks[3].status_text(), "refused");
    for c in &checks[..3] {
        assert!(
            c.latency > Duration::ZERO && c.latency < Duration::from_secs(5),
            "{c:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_fails_and_a_hung_endpoint_times_out_without_holding_the_rest() {
    let s = server().await;
    s.with(|d| {
        d.faults.insert("/dev/health".into(), Fault::Status(500));
        d.faults.insert("/dev/version".into(), Fault::Hang);
        d.faults.insert("/prod/version".into(), Fault::Hang);
    });
    let all = urls(
        &s,
        &[
            "/dev/health",
            "/dev/version",
            "/prod/version",
            "/prod/health",
        ],
    );
    let timeout = Duration::from_secs(2);
    let started = Instant::now();
    let checks = health::check_all(&all, timeout, |_| {}).await;
    let took = started.elapsed();
    // Concurrent: one timeout's time. Checked one after another, the two
    // hung ones alone would take twice that; the margin is a whole timeout,
    // so a loaded machine cannot make this fail.
    assert!(took >= timeout && took < 2 * timeout, "{took:?}");
    assert_eq!(checks[0].status, Some(500));
    assert!(!checks[0].healthy());
    assert_eq!(
        checks[0].note.as_deref(),
        Some("sandbox fault: /dev/health answers 500")
    );
    assert_eq!(checks[0].version, None);
    for hung in &checks[1..3] {
        assert_eq!(hung.status, None);
        assert_eq!(hung.failure, Some(Failure::Timeout(timeout)));
        assert_eq!(hung.remark().as_deref(), Some("timed out after 2 s"));
        assert!(hung.latency >= timeout);
    }
    // The site has no version yet: the server's default, as served.
    assert_eq!(
        (checks[3].status, checks[3].version.as_deref()),
        (Some(200), Some("unknown"))
    );
    assert!(checks[3].latency < timeout, "{:?}", checks[3]);
    let report = health::Report {
        deployment: "dev".into(),
        checks,
    };
    assert_eq!(
        report.summary(),
        format!(
            "3 of 4 unhealthy ({0}/dev/health: HTTP 500; {0}/dev/version: timed out after 2 s; {0}/prod/version: timed out after 2 s)",
            s.endpoint
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_and_tls_failures_are_named() {
    let s = server().await;
    let tls = format!("https://127.0.0.1:{}/dev/health", s.port);
    // `.invalid` never resolves (RFC 2606).
    let dns = "http://opsdeck-health.invalid/health".to_string();
    let checks = health::check_all(&[tls, dns], Duration::from_secs(5), |_| {}).await;
    assert!(
        matches!(&checks[0].failure, Some(Failure::Tls(_))),
        "{:?}",
        checks[0]
    );
    assert_eq!(checks[0].status_text(), "TLS failed");
    assert!(
        matches!(&checks[1].failure, Some(Failure::Dns(_))),
        "{:?}",
        checks[1]
    );
    assert!(
        checks[1]
            .remark()
            .unwrap()
            .starts_with("DNS lookup failed: "),
        "{:?}",
        checks[1]
    );
}

const CONFIG: &str = r#"
[[deployment]]
name = "dev"
region = "us-east-1"

[deployment.resources]
health_urls = ["BASE/dev/health", "BASE/dev/version"]
health_timeout_secs = 1

[[deployment.command]]
name = "web"
run = "echo deploying web; sleep 0.1; echo deployed"

[[deployment]]
name = "bare"

[[deployment.command]]
name = "web"
run = "echo deployed"
"#;

fn config(dir: &Path, s: &HealthServer) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, CONFIG.replace("BASE", &s.endpoint)).unwrap();
    path
}

/// Runs command deploy `web` of `deployment` as the CLI's job would.
async fn deploy(config: &Path, audit: &AuditLog, deployment: &str) -> (Outcome, Vec<String>) {
    let text = std::fs::read_to_string(config).unwrap();
    let (config, diags) = Config::parse(&text, config);
    assert!(diags.is_empty(), "{diags:?}");
    let d = config.deployment(deployment).unwrap().clone();
    let plan = jobs::command::plan(&d, &d.resources.deploy_commands[0]);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let ctx = Ctx::new(tx, Default::default());
    let outcome = jobs::run(&plan, audit, Source::Cli, None, None, ctx).await;
    let mut lines = Vec::new();
    while let Ok(u) = rx.try_recv() {
        if let JobUpdate::Line(l) = u {
            lines.push(l);
        }
    }
    (outcome, lines)
}

fn audit_results(audit: &AuditLog) -> Vec<(String, String)> {
    let (entries, bad) = audit.read(None).unwrap();
    assert_eq!(bad, 0);
    entries.into_iter().map(|e| (e.result, e.message)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deploy_followed_by_a_failing_check_is_deployed_unhealthy() {
    let s = server().await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &s);
    let audit = AuditLog::at(dir.path().join("audit.jsonl"));

    // All passing: a plain success that says so.
    let (outcome, lines) = deploy(&config, &audit, "dev").await;
    let Outcome::Ok { summary, detail } = &outcome else {
        panic!("{outcome:?}")
    };
    assert!(
        summary.starts_with("deploy `web` done (exit status 0"),
        "{summary}"
    );
    assert!(summary.ends_with("; 2 healthy"), "{summary}");
    let Some(Detail::Health(report)) = detail else {
        panic!("{detail:?}")
    };
    assert_eq!(report.checks.len(), 2);
    let deployed = lines.iter().position(|l| l == "deployed").unwrap();
    let checked = lines
        .iter()
        .position(|l| l.starts_with("post-deploy health check of 2 URL(s)"))
        .unwrap();
    assert!(deployed < checked, "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("ok   ") && l.contains("/dev/health · 200 · ")),
        "{lines:?}"
    );

    // One failing: the deploy went through, the deployment is unhealthy.
    s.with(|d| d.faults.insert("/dev/health".into(), Fault::Status(500)));
    let (outcome, lines) = deploy(&config, &audit, "dev").await;
    let Outcome::Unhealthy { message, detail } = &outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(outcome.result_word(), "unhealthy");
    assert!(
        message.starts_with("deployed, unhealthy: deploy `web` done (exit status 0"),
        "{message}"
    );
    assert!(
        message.ends_with(&format!(
            "; 1 of 2 unhealthy ({}/dev/health: HTTP 500)",
            s.endpoint
        )),
        "{message}"
    );
    assert!(matches!(detail, Some(Detail::Health(r)) if r.unhealthy() == 1));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("FAIL ") && l.contains("/dev/health · 500")),
        "{lines:?}"
    );

    // A deployment without health_urls: no check, one line that says so.
    let (outcome, lines) = deploy(&config, &audit, "bare").await;
    assert!(
        matches!(&outcome, Outcome::Ok { detail: None, .. }),
        "{outcome:?}"
    );
    assert!(lines.contains(&"no health_urls configured: no post-deploy health check".to_string()));

    // Every deploy audited, its end line with the health it found.
    let results = audit_results(&audit);
    let words: Vec<&str> = results.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(
        words,
        ["started", "ok", "started", "unhealthy", "started", "ok"]
    );
    assert!(results[1].1.ends_with("; 2 healthy"), "{results:?}");
    assert!(
        results[3].1.starts_with("deployed, unhealthy: ") && results[3].1.contains("HTTP 500"),
        "{results:?}"
    );
}

/// The real binary, in a blocking task so the server keeps answering.
async fn cli(
    config: PathBuf,
    audit: PathBuf,
    args: &'static [&'static str],
) -> std::process::Output {
    tokio::task::spawn_blocking(move || common::opsdeck_cli(&config, &audit, args))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_deploy_exits_3_when_the_deployment_is_left_unhealthy() {
    let s = server().await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &s);
    let audit = dir.path().join("audit.jsonl");
    let args = &["--deployment", "dev", "deploy", "web", "--yes"];
    let out = cli(config.clone(), audit.clone(), args).await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("; 2 healthy"),
        "{out:?}"
    );
    s.with(|d| d.faults.insert("/dev/version".into(), Fault::Hang));
    let started = Instant::now();
    let out = cli(config, audit, args).await;
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    // health_timeout_secs = 1 bounds the hung endpoint (which never
    // answers); the rest is a process start and a short script.
    assert!(started.elapsed() < Duration::from_secs(20));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("opsdeck: deployed, unhealthy: deploy `web` done (exit status 0")
            && stderr.contains("/dev/version: timed out after 1 s)"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opsdeck_health_prints_the_table_or_json_and_exits_by_the_checks() {
    let s = server().await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &s);
    let audit = dir.path().join("audit.jsonl");

    // A read: a read-only deployment allows it.
    let out = cli(
        config.clone(),
        audit.clone(),
        &["--read-only", "--deployment", "dev", "health"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    let cells: Vec<Vec<&str>> = lines[..3]
        .iter()
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect()
        })
        .collect();
    assert_eq!(cells[0], ["URL", "Status", "Latency", "Version"]);
    assert_eq!(cells[1][0], format!("{}/dev/health", s.endpoint));
    assert_eq!((cells[1][1], cells[1][3]), ("200", "2"));
    assert!(cells[1][2].ends_with(" ms"), "{stdout}");
    assert_eq!((cells[2][1], cells[2][3]), ("200", "3f2a9c1d0e4b"));
    assert_eq!(lines[3], "deployment `dev`: 2 healthy");

    s.with(|d| d.faults.insert("/dev/health".into(), Fault::Status(503)));
    let out = cli(
        config.clone(),
        audit.clone(),
        &["--deployment", "dev", "health", "--json"],
    )
    .await;
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["deployment"], "dev");
    assert_eq!(v["healthy"], false);
    assert_eq!(v["checks"][0]["status"], 503);
    assert_eq!(v["checks"][0]["version"], serde_json::Value::Null);
    assert_eq!(v["checks"][1]["status"], 200);
    assert_eq!(v["checks"][1]["version"], "3f2a9c1d0e4b");
    assert!(v["checks"][1]["latency_ms"].as_f64().unwrap() > 0.0);
    assert!(
        v["summary"]
            .as_str()
            .unwrap()
            .starts_with("1 of 2 unhealthy"),
        "{v}"
    );

    let out = cli(
        config.clone(),
        audit.clone(),
        &["--deployment", "dev", "health"],
    )
    .await;
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("  ↳ sandbox fault: /dev/health answers 503"),
        "{stdout}"
    );

    // Nothing configured: it says so, and that is not a failure.
    let out = cli(config, audit.clone(), &["--deployment", "bare", "health"]).await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .starts_with("deployment `bare` has no health_urls: add health_urls"),
        "{out:?}"
    );
    // Audited, as every job is.
    let audited = std::fs::read_to_string(&audit).unwrap();
    assert_eq!(
        audited
            .lines()
            .filter(|l| l.contains("\"action\":\"health_check\""))
            .count(),
        6,
        "{audited}"
    );
}

/// A check is a read: with an audit log that cannot be written it still
/// runs, and says it was not recorded. A deploy is a change: it is refused
/// before its command runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_audit_log_refuses_a_deploy_but_not_a_check() {
    let s = server().await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &s);
    // A directory where the log file should be: every append fails.
    let blocked = dir.path().join("audit.jsonl");
    std::fs::create_dir(&blocked).unwrap();
    let audit = AuditLog::at(blocked.clone());

    let text = std::fs::read_to_string(&config).unwrap();
    let (parsed, _) = Config::parse(&text, &config);
    let d = parsed.deployment("dev").unwrap().clone();
    let plan = health::plan(&d).unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let outcome = jobs::run(
        &plan,
        &audit,
        Source::Cli,
        None,
        None,
        Ctx::new(tx, Default::default()),
    )
    .await;
    assert!(matches!(outcome, Outcome::Ok { .. }), "{outcome:?}");
    let mut lines = Vec::new();
    while let Ok(u) = rx.try_recv() {
        if let JobUpdate::Line(l) = u {
            lines.push(l);
        }
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("warning: the audit log")
                && l.ends_with("this read is not recorded")),
        "{lines:?}"
    );

    let marker = dir.path().join("ran");
    let mut d = d.clone();
    d.resources.deploy_commands[0].run = format!("touch {}", marker.display());
    let plan = jobs::command::plan(&d, &d.resources.deploy_commands[0]);
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let outcome = jobs::run(
        &plan,
        &audit,
        Source::Cli,
        None,
        None,
        Ctx::new(tx, Default::default()),
    )
    .await;
    let Outcome::Refused(why) = &outcome else {
        panic!("{outcome:?}")
    };
    assert!(
        why.starts_with("refused before changing anything: cannot write the audit log"),
        "{why}"
    );
    assert!(!marker.exists(), "the command must not have run");
}
