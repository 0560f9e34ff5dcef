//! One-shot commands give up on an unreachable endpoint (issue 13, item 6),
//! while `--follow` keeps retrying. The real binary against two real peers
//! on this machine: a port that refuses connections, and a listener that
//! accepts them and never answers (a black-holed VPC endpoint, a hung proxy).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The limit the tests set; the default (30 s) would make them slow.
const LIMIT: &str = "3s";
/// What the command may take beyond the limit: process start, config load.
const SLACK: Duration = Duration::from_secs(3);

fn limit() -> Duration {
    Duration::from_secs(3)
}

/// A port nothing listens on: bound, then closed.
fn refused_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A listener that accepts every connection and never writes a byte; the
/// connections stay open as long as it runs.
fn silent_listener() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held: Vec<TcpStream> = Vec::new();
        for s in l.incoming().flatten() {
            held.push(s);
        }
    });
    port
}

fn write_config(dir: &Path, port: u16) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            "[[deployment]]\n\
             name = \"dev\"\n\
             region = \"us-east-1\"\n\
             endpoint_url = \"http://127.0.0.1:{port}\"\n\
             sandbox_credentials = true\n\
             [deployment.resources]\n\
             log_groups = {{ prefix = \"/aws/lambda/\" }}\n"
        ),
    )
    .unwrap();
    path
}

fn opsdeck(config: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_opsdeck"));
    c.arg("--config")
        .arg(config)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("OPSDECK_GIVE_UP_AFTER")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .stdin(Stdio::null());
    c
}

fn tail_once(port: u16, groups: &[&str]) -> (Output, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), port);
    let started = Instant::now();
    let out = opsdeck(&config)
        .args(["--give-up-after", LIMIT, "logs", "tail", "--since", "5m"])
        .args(groups)
        .output()
        .unwrap();
    (out, started.elapsed())
}

fn assert_gave_up(out: &Output, took: Duration, reason: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should fail; stderr: {err}");
    assert!(
        took <= limit() + SLACK,
        "took {took:?}, limit {LIMIT}; stderr: {err}"
    );
    assert!(
        // Whichever fires first, the SDK's timeout or the give-up limit,
        // names the endpoint and the reason, in slightly different words.
        err.contains("http://127.0.0.1:") && err.contains(reason),
        "stderr should name the endpoint and `{reason}`: {err}"
    );
}

#[test]
fn a_one_shot_tail_gives_up_on_a_refused_port() {
    let (out, took) = tail_once(refused_port(), &["/aws/lambda/api"]);
    assert_gave_up(&out, took, "connection refused");
    // It retried for most of the limit before giving up, rather than at once.
    assert!(took >= Duration::from_secs(1), "gave up after {took:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("gave up after 3 s"));
}

#[test]
fn a_one_shot_tail_gives_up_on_an_endpoint_that_never_answers() {
    let (out, took) = tail_once(silent_listener(), &["/aws/lambda/api"]);
    assert_gave_up(&out, took, "timed out");
    assert!(took >= limit(), "gave up after {took:?}, before the limit");
}

#[test]
fn listing_the_configured_groups_gives_up_too() {
    let (out, took) = tail_once(silent_listener(), &[]);
    assert_gave_up(&out, took, "timed out");
}

#[test]
fn a_follow_tail_keeps_retrying_past_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), refused_port());
    let mut child = opsdeck(&config)
        .args(["--give-up-after", "1s", "logs", "tail", "--follow"])
        .arg("/aws/lambda/api")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(4));
    let still_running = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(still_running, "--follow gave up: {err}");
    assert!(err.contains("(retrying)"), "{err}");
}

#[test]
fn give_up_after_must_be_a_duration() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), refused_port());
    for bad in ["soon", "0s", "-5s"] {
        let out = opsdeck(&config)
            .arg(format!("--give-up-after={bad}"))
            .args(["logs", "tail"])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{bad} accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--give-up-after"), "{bad}: {err}");
    }
}
