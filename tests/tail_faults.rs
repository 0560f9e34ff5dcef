//! Throttling and the shared request budget, which moto cannot show (it never
//! throttles). A small HTTP server inside the test answers FilterLogEvents
//! with the documented JSON shapes of the CloudWatch Logs API (awsJson1.1):
//! a `ThrottlingException` error for the first requests, then events. The
//! real SDK, signing and retry included, talks to it over loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use opsdeck::aws::Clients;
use opsdeck::aws::tail::{self, TailSpec, TailStatus, TailUpdate};
use opsdeck::config::Deployment;
use opsdeck::logs::Range;
use tokio::sync::mpsc;

/// Serves FilterLogEvents: the first `throttle` requests are throttled, then
/// each request returns one event (a new one per request) and no token.
struct FakeLogs {
    endpoint: String,
    requests: Arc<AtomicUsize>,
}

fn serve(throttle: usize) -> FakeLogs {
    serve_with(throttle, None)
}

/// As [`serve`]; with `reject`, every request is refused with that
/// `(error type, message)` instead.
fn serve_with(throttle: usize, reject: Option<(&'static str, &'static str)>) -> FakeLogs {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = requests.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            let counter = counter.clone();
            std::thread::spawn(move || handle(conn, &counter, throttle, reject));
        }
    });
    FakeLogs { endpoint, requests }
}

fn handle(conn: TcpStream, counter: &AtomicUsize, throttle: usize, reject: Option<(&str, &str)>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    loop {
        // One HTTP/1.1 request: headers, then Content-Length bytes of body.
        let mut length = 0;
        let mut target = String::new();
        let mut first = true;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return; // the client closed the connection
            }
            let line = line.trim_end();
            if line.is_empty() && !first {
                break;
            }
            first = false;
            let lower = line.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            if let Some(v) = lower.strip_prefix("x-amz-target:") {
                target = v.trim().to_string();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        assert_eq!(
            target, "logs_20140328.filterlogevents",
            "only FilterLogEvents is expected"
        );
        let n = counter.fetch_add(1, Ordering::SeqCst);
        let (status, extra, json) = if let Some((kind, message)) = reject {
            (
                "400 Bad Request",
                format!("x-amzn-errortype: {kind}\r\n"),
                format!(r#"{{"__type":"{kind}","message":"{message}"}}"#),
            )
        } else if n < throttle {
            (
                "400 Bad Request",
                "x-amzn-errortype: ThrottlingException\r\n".to_string(),
                r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.to_string(),
            )
        } else {
            let ts = 1_795_000_000_000i64 + n as i64;
            let event = format!(
                r#"{{"events":[{{"logStreamName":"s","timestamp":{ts},"message":"event {n}","ingestionTime":{ts},"eventId":"{n}"}}],"searchedLogStreams":[]}}"#
            );
            ("200 OK", String::new(), event)
        };
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/x-amz-json-1.1\r\n{extra}x-amzn-requestid: test\r\ncontent-length: {}\r\n\r\n{json}",
            json.len()
        );
        if conn.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

async fn clients(endpoint: &str) -> Clients {
    let d = Deployment {
        name: "dev".into(),
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint.into()),
        protected: false,
        read_only: false,
        sandbox_credentials: true,
        resources: Default::default(),
    };
    Clients::connect(&d).await.unwrap()
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
    tokio::time::sleep(Duration::from_secs(3)).await;
    let n = server.requests.load(Ordering::SeqCst);
    for t in tasks {
        t.abort();
    }
    // A burst of 5, then 5 a second: at most 20 in 3 s, however fast the machine.
    assert!(n <= 20, "{n} requests in 3 s");
    assert!(n >= 10, "only {n} requests in 3 s: the tails stalled");
}

#[tokio::test]
async fn a_bad_filter_pattern_stops_the_tail_with_what_aws_said() {
    // moto accepts any pattern; AWS answers a bad one like this.
    let server = serve_with(
        0,
        Some((
            "InvalidParameterException",
            "Invalid filter pattern: [ERROR",
        )),
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
    assert_eq!(server.requests.load(Ordering::SeqCst), 1);
}
