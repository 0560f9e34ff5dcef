//! Throttling and the shared request budget, which moto cannot show (it never
//! throttles). A small HTTP server inside the test (`common::TestServer`)
//! answers FilterLogEvents with the documented JSON shapes of the CloudWatch
//! Logs API (awsJson1.1): a `ThrottlingException` error for the first
//! requests, then events. It checks each request's SigV4 signature with
//! `opsdeck::sandbox::sigv4` and refuses a bad one with a 403, as AWS does.
//! The real SDK, signing and retry included, talks to it over loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use common::{Protocol, Received, Reply, TestServer};
use opsdeck::aws::Clients;
use opsdeck::aws::tail::{self, TailSpec, TailStatus, TailUpdate};
use opsdeck::config::Deployment;
use opsdeck::logs::Range;
use tokio::sync::mpsc;

/// Serves FilterLogEvents: the first `throttle` requests are throttled, then
/// each request returns one event (a new one per request) and no token.
fn serve(throttle: usize) -> TestServer {
    TestServer::start("logs", "us-east-1", Protocol::Json, move |r, n| {
        filter_log_events(r);
        if n < throttle {
            return Reply::json_error(400, "ThrottlingException", "Rate exceeded");
        }
        let ts = 1_795_000_000_000i64 + n as i64;
        Reply::new(
            200,
            "application/x-amz-json-1.1",
            format!(
                r#"{{"events":[{{"logStreamName":"s","timestamp":{ts},"message":"event {n}","ingestionTime":{ts},"eventId":"{n}"}}],"searchedLogStreams":[]}}"#
            ),
        )
    })
}

/// Refuses every request with `(error type, message)`.
fn reject(kind: &'static str, message: &'static str) -> TestServer {
    TestServer::start("logs", "us-east-1", Protocol::Json, move |r, _| {
        filter_log_events(r);
        Reply::json_error(400, kind, message)
    })
}

fn filter_log_events(r: &Received) {
    assert_eq!(
        r.header("x-amz-target")
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("logs_20140328.filterlogevents"),
        "only FilterLogEvents is expected"
    );
}

fn deployment(endpoint: &str) -> Deployment {
    Deployment {
        name: "dev".into(),
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint.into()),
        protected: false,
        read_only: false,
        sandbox_credentials: true,
        resources: Default::default(),
    }
}

async fn clients(endpoint: &str) -> Clients {
    Clients::connect(&deployment(endpoint)).await.unwrap()
}

fn follow(groups: &[&str]) -> TailSpec {
    TailSpec {
        groups: groups.iter().map(|g| g.to_string()).collect(),
        range: Range {
            start: 1_795_000_000_000,
            end: None,
        },
        filter: None,
        follow: true,
        poll_every: Duration::from_millis(10),
    }
}

#[tokio::test]
async fn throttling_is_shown_and_the_tail_carries_on() {
    // The SDK retries a throttled call itself (3 attempts); throttle beyond that.
    let server = serve(5);
    let c = clients(&server.endpoint).await;
    let (tx, mut rx) = mpsc::channel(16);
    let budget = c.logs_budget.clone();
    let c2 = c.clone();
    let task =
        tokio::spawn(
            async move { tail::poll(&c2, follow(&["/aws/lambda/dev-api"]), budget, tx).await },
        );
    let mut throttled = None;
    let mut events = Vec::new();
    while events.len() < 3 {
        match tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .unwrap()
            .unwrap()
        {
            TailUpdate::Status(TailStatus::Throttled(p)) => throttled = Some(p),
            TailUpdate::Events(e) => {
                assert!(
                    throttled.is_some(),
                    "events before the throttling was reported"
                );
                events.extend(e.into_iter().map(|e| e.message));
            }
            TailUpdate::Ended(p) => panic!("a throttled tail must not end: {p:?}"),
            TailUpdate::Status(_) => {}
        }
    }
    let p = throttled.unwrap();
    assert!(
        p.message.contains("throttled") && p.message.contains("ThrottlingException"),
        "{p}"
    );
    // Nothing lost or repeated across the throttled stretch.
    assert_eq!(events[..3], ["event 5", "event 6", "event 7"]);
    task.abort();
}

/// Requests the budget lets through in any stretch of `secs`: a burst of 5,
/// then 5 a second.
fn allowed(secs: f64) -> f64 {
    5.0 + 5.0 * secs
}

#[tokio::test]
async fn tails_of_one_deployment_share_five_requests_a_second() {
    let server = serve(0);
    let c = clients(&server.endpoint).await;
    let mut tasks = Vec::new();
    let mut receivers = Vec::new();
    // Two tails of three groups each, polling as fast as they may.
    for groups in [["/a/1", "/a/2", "/a/3"], ["/b/1", "/b/2", "/b/3"]] {
        let (tx, rx) = mpsc::channel(1024);
        receivers.push(rx);
        let (c2, budget) = (c.clone(), c.logs_budget.clone());
        let spec = follow(&groups);
        tasks.push(tokio::spawn(async move {
            tail::poll(&c2, spec, budget, tx).await
        }));
    }
    // Enough requests to span three seconds at the budget's pace; a slow
    // machine takes longer, never fewer requests.
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.requests().len() < 21 {
        assert!(
            Instant::now() < deadline,
            "only {} requests in 60 s: the tails stalled",
            server.requests().len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for t in tasks {
        t.abort();
    }
    // Judged on the server's arrival times, not on the test's sleeps: in
    // every stretch between two requests, no more arrived than the budget
    // allows, plus two for the time a request spends in flight on a busy
    // machine. Without a shared budget (each tail its own 5/s) the two tails
    // send 10 a second and the 21 arrive within ~1.6 s, 5 more than allowed.
    let times: Vec<Instant> = server.requests().iter().map(|r| r.at).collect();
    for i in 0..times.len() {
        for j in i + 1..times.len() {
            let span = (times[j] - times[i]).as_secs_f64();
            let n = (j - i + 1) as f64;
            assert!(
                n <= allowed(span) + 2.0,
                "{n} requests arrived within {span:.2} s (requests {i}..={j}); the budget allows {:.1}",
                allowed(span)
            );
        }
    }
    let span = (times[20] - times[0]).as_secs_f64();
    assert!(span >= 2.0, "21 requests within {span:.2} s");
}

#[tokio::test]
async fn a_bad_filter_pattern_stops_the_tail_with_what_aws_said() {
    // moto accepts any pattern; AWS answers a bad one like this.
    let server = reject(
        "InvalidParameterException",
        "Invalid filter pattern: [ERROR",
    );
    let c = clients(&server.endpoint).await;
    let (tx, mut rx) = mpsc::channel(16);
    let mut spec = follow(&["/aws/lambda/dev-api"]);
    spec.filter = Some("[ERROR".into());
    let budget = c.logs_budget.clone();
    tokio::spawn(async move { tail::poll(&c, spec, budget, tx).await });
    loop {
        match tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .unwrap()
            .unwrap()
        {
            TailUpdate::Ended(Some(p)) => {
                assert!(p.message.contains("Invalid filter pattern: [ERROR"), "{p}");
                break;
            }
            TailUpdate::Ended(None) => panic!("a rejected pattern must not look like success"),
            _ => {}
        }
    }
    // Refused at once: not retried like throttling.
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_request_signed_with_other_credentials_is_refused() {
    let server = serve(0);
    // Everything as the sandbox deployment has it, but another secret.
    let config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&server.endpoint)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            opsdeck::aws::session::SANDBOX_ACCESS_KEY,
            "not-the-sandbox-secret",
            None,
            None,
            "test",
        )))
        .build();
    let c = Clients::new(
        &config,
        opsdeck::aws::session::context(&deployment(&server.endpoint)),
    );
    let (tx, mut rx) = mpsc::channel(16);
    let budget = c.logs_budget.clone();
    tokio::spawn(async move { tail::poll(&c, follow(&["/aws/lambda/dev-api"]), budget, tx).await });
    let ended = loop {
        match tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .unwrap()
            .unwrap()
        {
            TailUpdate::Ended(p) => break p,
            TailUpdate::Events(e) => panic!("a badly signed request got events: {e:?}"),
            TailUpdate::Status(_) => {}
        }
    };
    let p = ended.expect("a refused signature must not look like success");
    assert!(p.message.contains("InvalidSignatureException"), "{p}");
    assert!(
        server.requests().is_empty(),
        "the handler saw a bad request"
    );
    let refused = server.refused();
    assert!(!refused.is_empty());
    assert!(
        refused
            .iter()
            .all(|r| r.contains("signature does not match")),
        "{refused:?}"
    );
}
