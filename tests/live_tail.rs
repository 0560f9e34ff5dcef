//! Live tail (StartLiveTail) through the real SDK.
//!
//! No local emulator streams StartLiveTail: moto answers it with a one-off
//! snapshot of the groups and closes the stream, and the others lack it. So the
//! live path is tested with recorded event-stream traffic: responses framed
//! with the real AWS event-stream encoding (`aws-smithy-eventstream`'s frame
//! writer) and replayed in process by `aws-smithy-http-client`'s
//! `StaticReplayClient`, through the real SDK client, its deserializers and
//! interceptors. Nothing leaves the process. The fallback to polling is tested
//! against a real moto server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::Bytes;
use common::{Moto, deployment, sandbox_deployments};
use opsdeck::aws::Clients;
use opsdeck::aws::tail::live::{self as live_tail, LiveOptions};
use opsdeck::aws::tail::{self, TailEvent, TailSpec, TailStatus, TailUpdate};
use opsdeck::logs::Range;
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// A custom endpoint, as a local emulator has: the SDK would send
/// StartLiveTail to `stream-127.0.0.1`.
const ENDPOINT: &str = "http://127.0.0.1:5000";
const ACCOUNT: &str = "123456789012";
const API: &str = "/aws/lambda/dev-api";
const WORKER: &str = "/aws/lambda/dev-worker";

fn arn(group: &str) -> String {
    format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{group}")
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

// ---- recorded traffic ------------------------------------------------------

fn frame(headers: &[(&'static str, &str)], payload: &Value) -> Vec<u8> {
    let mut m = Message::new(payload.to_string().into_bytes());
    for (name, value) in headers {
        m = m.add_header(Header::new(
            *name,
            HeaderValue::String(value.to_string().into()),
        ));
    }
    let mut out = Vec::new();
    write_message_to(&m, &mut out).unwrap();
    out
}

fn event(kind: &str, payload: Value) -> Vec<u8> {
    frame(
        &[
            (":message-type", "event"),
            (":event-type", kind),
            (":content-type", "application/json"),
        ],
        &payload,
    )
}

/// What AWS (and moto) send first on an awsJson event stream.
fn initial_response() -> Vec<u8> {
    frame(
        &[
            (":message-type", "event"),
            (":event-type", "initial-response"),
        ],
        &json!({}),
    )
}

fn session_start(groups: &[&str]) -> Vec<u8> {
    let arns: Vec<String> = groups.iter().map(|g| arn(g)).collect();
    event(
        "sessionStart",
        json!({
            "requestId": "7f8b6a2e-replay",
            "sessionId": "c0ffee00-replay",
            "logGroupIdentifiers": arns,
            "logStreamNames": [],
            "logStreamNamePrefixes": [],
            "logEventFilterPattern": "",
        }),
    )
}

/// A live result; `id` is how AWS named the group (ARN or ACCOUNT:NAME).
fn live(id: &str, stream: &str, ts: i64, message: &str) -> Value {
    json!({
        "logGroupIdentifier": id,
        "logStreamName": stream,
        "timestamp": ts,
        "ingestionTime": ts + 150,
        "message": message,
    })
}

fn session_update(sampled: bool, results: Vec<Value>) -> Vec<u8> {
    event(
        "sessionUpdate",
        json!({"sessionMetadata": {"sampled": sampled}, "sessionResults": results}),
    )
}

fn session_timeout() -> Vec<u8> {
    frame(
        &[
            (":message-type", "exception"),
            (":exception-type", "SessionTimeoutException"),
            (":content-type", "application/json"),
        ],
        &json!({"message": "Session timed out after 3 hours"}),
    )
}

fn request() -> HttpRequest {
    HttpRequest::new(SdkBody::empty())
}

fn response(status: u16, content_type: &'static str, body: SdkBody) -> HttpResponse {
    let mut r = HttpResponse::new(StatusCode::try_from(status).unwrap(), body);
    r.headers_mut().insert("content-type", content_type);
    r.headers_mut().insert("x-amzn-requestid", "replayed");
    r
}

fn json_response(body: Value) -> ReplayEvent {
    let body = SdkBody::from(body.to_string());
    ReplayEvent::new(request(), response(200, "application/x-amz-json-1.1", body))
}

fn describe_log_groups(group: &str) -> ReplayEvent {
    json_response(json!({"logGroups": [{
        "logGroupName": group,
        "arn": format!("{}:*", arn(group)),
        "logGroupArn": arn(group),
        "creationTime": 1_700_000_000_000_i64,
        "storedBytes": 0,
    }]}))
}

/// A FilterLogEvents page: (stream, ts, message) with ids.
fn filter_log_events(events: &[(&str, i64, &str)]) -> ReplayEvent {
    let events: Vec<Value> = events
        .iter()
        .map(|(stream, ts, message)| {
            json!({
                "logStreamName": stream,
                "timestamp": ts,
                "ingestionTime": ts + 150,
                "message": message,
                "eventId": format!("{ts}-{message}"),
            })
        })
        .collect();
    json_response(json!({"events": events, "searchedLogStreams": []}))
}

fn stream_response(frames: Vec<Vec<u8>>) -> ReplayEvent {
    let body = SdkBody::from(frames.concat());
    ReplayEvent::new(
        request(),
        response(200, "application/vnd.amazon.eventstream", body),
    )
}

/// A stream that sends `frames` and then nothing, never ending: a dead
/// connection that the watchdog must notice.
struct Stalling(VecDeque<Bytes>);

impl http_body::Body for Stalling {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        match self.0.pop_front() {
            Some(chunk) => Poll::Ready(Some(Ok(http_body::Frame::data(chunk)))),
            None => Poll::Pending,
        }
    }
}

fn stalling_stream_response(frames: Vec<Vec<u8>>) -> ReplayEvent {
    let body = SdkBody::from_body_1_x(Stalling(frames.into_iter().map(Bytes::from).collect()));
    ReplayEvent::new(
        request(),
        response(200, "application/vnd.amazon.eventstream", body),
    )
}

fn error_response(status: u16, code: &str, message: &str) -> ReplayEvent {
    let body = SdkBody::from(json!({"__type": code, "message": message}).to_string());
    let mut r = response(status, "application/x-amz-json-1.1", body);
    r.headers_mut().insert("x-amzn-errortype", code.to_string());
    ReplayEvent::new(request(), r)
}

fn replay_clients(replay: &StaticReplayClient) -> Clients {
    common::Replay {
        endpoint: ENDPOINT,
        deployment: "replay",
        retries: false,
    }
    .clients(replay)
}

/// The `X-Amz-Target` operations the client sent, in order.
fn operations(replay: &StaticReplayClient) -> Vec<String> {
    replay
        .actual_requests()
        .map(|r| {
            r.headers()
                .get("x-amz-target")
                .unwrap_or("?")
                .trim_start_matches("Logs_20140328.")
                .to_string()
        })
        .collect()
}

// ---- running a tail --------------------------------------------------------

fn follow(groups: &[&str], start: i64) -> TailSpec {
    TailSpec {
        groups: groups.iter().map(|g| g.to_string()).collect(),
        range: Range { start, end: None },
        filter: None,
        follow: true,
        poll_every: Duration::from_millis(200),
    }
}

/// A running tail and everything it has said so far.
struct Run {
    rx: mpsc::Receiver<TailUpdate>,
    task: tokio::task::JoinHandle<()>,
    events: Vec<TailEvent>,
    batches: Vec<Vec<TailEvent>>,
    statuses: Vec<TailStatus>,
}

impl Run {
    fn start(c: &Clients, spec: TailSpec, options: LiveOptions) -> Run {
        let (tx, rx) = mpsc::channel(64);
        let c = c.clone();
        let task = tokio::spawn(async move {
            let budget = tail::budget(50);
            live_tail::run_with(&c, spec, budget, tx, options).await;
        });
        Run {
            rx,
            task,
            events: Vec::new(),
            batches: Vec::new(),
            statuses: Vec::new(),
        }
    }

    /// Reads updates until `done` holds; panics after `secs`.
    async fn until(&mut self, secs: u64, what: &str, done: impl Fn(&Run) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        while !done(self) {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(TailUpdate::Events(e))) => {
                    self.events.extend(e.iter().cloned());
                    self.batches.push(e);
                }
                Ok(Some(TailUpdate::Status(s))) => self.statuses.push(s),
                Ok(Some(TailUpdate::Ended(p))) => panic!("the tail ended ({p:?}) before {what}"),
                Ok(None) => panic!("the tail stopped before {what}"),
                Err(_) => panic!(
                    "no {what} within {secs} s; events {:?}, statuses {:?}",
                    self.messages(),
                    self.statuses
                ),
            }
        }
    }

    fn messages(&self) -> Vec<&str> {
        self.events.iter().map(|e| e.message.as_str()).collect()
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn fast() -> LiveOptions {
    LiveOptions {
        watchdog: Duration::from_millis(400),
        ..LiveOptions::default()
    }
}

fn assert_ordered(events: &[TailEvent]) {
    assert!(
        events.windows(2).all(|w| w[0].ts <= w[1].ts),
        "out of timestamp order: {events:?}"
    );
}

// ---- the tests -------------------------------------------------------------

#[tokio::test]
async fn live_updates_arrive_in_order_in_their_groups_and_sampling_is_reported() {
    let t = now_ms();
    let replay = StaticReplayClient::new(vec![
        describe_log_groups(API),
        describe_log_groups(WORKER),
        stream_response(vec![
            initial_response(),
            session_start(&[API, WORKER]),
            // Out of order, and the group named as AWS names it: ARN or ACCOUNT:NAME.
            session_update(
                false,
                vec![
                    live(
                        &format!("{ACCOUNT}:{WORKER}"),
                        "w-1",
                        t - 3000,
                        "worker: job 7 done",
                    ),
                    live(&arn(API), "a-1", t - 5000, "api: GET /health"),
                    live(&arn(API), "a-2", t - 4000, "api: POST /index"),
                ],
            ),
            // More than 500 events/s: AWS sends a sample and says so.
            session_update(
                true,
                vec![
                    live(&arn(WORKER), "w-1", t - 1000, "worker: burst 2"),
                    live(&arn(API), "a-1", t - 2000, "api: burst 1"),
                ],
            ),
            session_update(false, vec![]),
            session_update(
                false,
                vec![live(&arn(API), "a-1", t - 500, "api: calm again")],
            ),
            session_timeout(),
        ]),
        // History, polled once the session is open.
        filter_log_events(&[("a-1", t - 30_000, "api: history")]),
        filter_log_events(&[("w-1", t - 20_000, "worker: history")]),
    ]);
    let c = replay_clients(&replay);
    let mut run = Run::start(&c, follow(&[API, WORKER], t - 60_000), fast());
    run.until(10, "the last live event", |r| {
        r.events.iter().any(|e| e.message == "api: calm again")
            && r.statuses.last() == Some(&TailStatus::Live { sampled: false })
    })
    .await;

    assert_eq!(
        run.messages(),
        [
            "api: history",
            "worker: history",
            "api: GET /health",
            "api: POST /index",
            "worker: job 7 done",
            "api: burst 1",
            "worker: burst 2",
            "api: calm again",
        ]
    );
    assert_ordered(&run.events);
    for e in &run.events {
        let group = if e.message.starts_with("api") { 0 } else { 1 };
        assert_eq!(e.group, group, "{e:?}");
    }
    // Each update is one batch, sorted by timestamp.
    let first_live = &run.batches[1];
    assert_eq!(
        first_live.iter().map(|e| e.ts).collect::<Vec<_>>(),
        [t - 5000, t - 4000, t - 3000]
    );
    assert_eq!(
        run.statuses,
        [
            TailStatus::Polling,
            TailStatus::Live { sampled: false },
            TailStatus::Live { sampled: true },
            TailStatus::Live { sampled: false },
        ]
    );
    drop(run);

    let ops = operations(&replay);
    assert_eq!(
        ops[..5],
        [
            "DescribeLogGroups",
            "DescribeLogGroups",
            "StartLiveTail",
            "FilterLogEvents",
            "FilterLogEvents"
        ]
    );
    let start = replay.actual_requests().nth(2).unwrap();
    // The SDK's `stream-` host prefix was taken off the custom endpoint.
    assert_eq!(start.uri(), format!("{ENDPOINT}/"));
    let body: Value = serde_json::from_slice(start.body().bytes().unwrap()).unwrap();
    assert_eq!(body["logGroupIdentifiers"], json!([arn(API), arn(WORKER)]));
}

#[tokio::test]
async fn after_a_session_timeout_the_tail_reconnects_without_gap_or_duplicate() {
    let t = now_ms();
    let id = arn(API);
    let replay = StaticReplayClient::new(vec![
        describe_log_groups(API),
        stream_response(vec![
            session_start(&[API]),
            session_update(false, vec![live(&id, "s", t - 10_000, "a1")]),
            session_update(
                false,
                vec![
                    live(&id, "s", t - 9000, "a2"),
                    live(&id, "s", t - 8000, "a3"),
                ],
            ),
            // The 3-hour limit.
            session_timeout(),
        ]),
        // History: a1 was ingested after the session opened, so both return it.
        filter_log_events(&[("s", t - 40_000, "h1"), ("s", t - 10_000, "a1")]),
        // The second session.
        stream_response(vec![
            session_start(&[API]),
            session_update(
                false,
                vec![
                    live(&id, "s", t - 6000, "b2"),
                    live(&id, "s", t - 5000, "b3"),
                ],
            ),
            session_update(false, vec![live(&id, "s", t - 4000, "b4")]),
        ]),
        // The span since shortly before the first session's last update: what
        // that session delivered (a2, a3), what was ingested while no session
        // was open (gap), and what the second session also returns (b2).
        filter_log_events(&[
            ("s", t - 9000, "a2"),
            ("s", t - 8000, "a3"),
            ("s", t - 7000, "gap"),
            ("s", t - 6000, "b2"),
        ]),
    ]);
    let c = replay_clients(&replay);
    let mut run = Run::start(&c, follow(&[API], t - 60_000), fast());
    run.until(10, "the second session's last event", |r| {
        r.events.iter().any(|e| e.message == "b4")
    })
    .await;
    // The second session closed; the next connection finds no more recorded
    // traffic and reports it: by then everything has been delivered.
    run.until(10, "the retry after the second session", |r| {
        r.statuses
            .iter()
            .any(|s| matches!(s, TailStatus::Unreachable(_)))
    })
    .await;

    assert_eq!(
        run.messages(),
        ["h1", "a1", "a2", "a3", "gap", "b2", "b3", "b4"],
        "every event once, none lost at the reconnect"
    );
    assert_ordered(&run.events);
    assert!(
        !run.statuses
            .iter()
            .any(|s| matches!(s, TailStatus::Fallback(_))),
        "a session timeout is no reason to poll: {:?}",
        run.statuses
    );
    assert_eq!(
        run.statuses[..2],
        [TailStatus::Polling, TailStatus::Live { sampled: false }]
    );
    drop(run);
    assert_eq!(
        operations(&replay)[..5],
        [
            "DescribeLogGroups",
            "StartLiveTail",
            "FilterLogEvents",
            "StartLiveTail",
            "FilterLogEvents"
        ]
    );
}

#[tokio::test]
async fn a_stalled_stream_is_noticed_by_the_watchdog_and_replaced() {
    let t = now_ms();
    let id = arn(API);
    let replay = StaticReplayClient::new(vec![
        describe_log_groups(API),
        // One update, then silence on an open connection.
        stalling_stream_response(vec![
            session_start(&[API]),
            session_update(false, vec![live(&id, "s", t - 3000, "before the stall")]),
        ]),
        filter_log_events(&[]),
        stalling_stream_response(vec![
            session_start(&[API]),
            session_update(false, vec![live(&id, "s", t - 1000, "after the stall")]),
        ]),
        filter_log_events(&[]),
    ]);
    let c = replay_clients(&replay);
    let started = std::time::Instant::now();
    let mut run = Run::start(&c, follow(&[API], t - 60_000), fast());
    run.until(10, "the event of the second session", |r| {
        r.events.iter().any(|e| e.message == "after the stall")
    })
    .await;
    // The watchdog (400 ms here) and the first backoff (1 s) passed.
    assert!(started.elapsed() >= Duration::from_millis(1400));
    assert_eq!(run.messages(), ["before the stall", "after the stall"]);
    assert!(
        !run.statuses
            .iter()
            .any(|s| matches!(s, TailStatus::Fallback(_)))
    );
    drop(run);
    assert_eq!(
        operations(&replay)[..5],
        [
            "DescribeLogGroups",
            "StartLiveTail",
            "FilterLogEvents",
            "StartLiveTail",
            "FilterLogEvents"
        ]
    );
}

#[tokio::test]
async fn access_denied_for_live_tail_falls_back_to_polling_and_says_why() {
    let t = now_ms();
    let replay = StaticReplayClient::new(vec![
        describe_log_groups(API),
        error_response(
            400,
            "AccessDeniedException",
            "User is not authorized to perform: logs:StartLiveTail",
        ),
        filter_log_events(&[("s", t - 20_000, "polled 1"), ("s", t - 10_000, "polled 2")]),
    ]);
    let c = replay_clients(&replay);
    let mut run = Run::start(&c, follow(&[API], t - 60_000), fast());
    run.until(10, "the polled events", |r| r.events.len() == 2)
        .await;
    assert_eq!(run.messages(), ["polled 1", "polled 2"]);
    assert_eq!(run.statuses[0], TailStatus::Polling);
    match &run.statuses[1] {
        TailStatus::Fallback(reason) => {
            assert_eq!(reason, "access denied (logs:StartLiveTail)");
        }
        other => panic!("expected the fallback, got {other:?}"),
    }
    drop(run);
    assert_eq!(
        operations(&replay)[..3],
        ["DescribeLogGroups", "StartLiveTail", "FilterLogEvents"]
    );
}

#[tokio::test]
async fn a_tail_that_does_not_follow_only_polls() {
    let t = now_ms();
    let replay = StaticReplayClient::new(vec![filter_log_events(&[("s", t - 5000, "only")])]);
    let c = replay_clients(&replay);
    let spec = TailSpec {
        follow: false,
        ..follow(&[API], t - 60_000)
    };
    let (tx, mut rx) = mpsc::channel(16);
    let budget = tail::budget(50);
    tail::run(&c, spec, budget, tx).await;
    let mut events = Vec::new();
    let mut ended = false;
    while let Some(u) = rx.recv().await {
        match u {
            TailUpdate::Events(e) => events.extend(e),
            TailUpdate::Status(s) => {
                assert!(matches!(s, TailStatus::Polling | TailStatus::CaughtUp))
            }
            TailUpdate::Ended(p) => {
                assert_eq!(p, None);
                ended = true;
            }
        }
    }
    assert!(ended);
    assert_eq!(events.len(), 1);
    assert_eq!(operations(&replay), ["FilterLogEvents"]);
}

#[tokio::test]
async fn against_moto_a_follow_tail_falls_back_to_polling_and_still_delivers() {
    let moto = Moto::start();
    let d = deployment(&sandbox_deployments(&moto.endpoint), "dev");
    let c = Clients::connect(&d).await.unwrap();
    let group = "/aws/lambda/dev-live";
    c.logs
        .create_log_group()
        .log_group_name(group)
        .send()
        .await
        .unwrap();
    c.logs
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name("s")
        .send()
        .await
        .unwrap();
    let put = |events: Vec<(i64, &str)>| {
        let c = c.clone();
        let events: Vec<InputLogEvent> = events
            .into_iter()
            .map(|(ts, m)| {
                InputLogEvent::builder()
                    .timestamp(ts)
                    .message(m)
                    .build()
                    .unwrap()
            })
            .collect();
        async move {
            c.logs
                .put_log_events()
                .log_group_name(group)
                .log_stream_name("s")
                .set_log_events(Some(events))
                .send()
                .await
                .unwrap();
        }
    };
    let t = now_ms();
    put(vec![
        (t - 20_000, "old 1"),
        (t - 15_000, "old 2"),
        (t - 10_000, "old 3"),
    ])
    .await;

    let mut run = Run::start(&c, follow(&[group], t - 60_000), LiveOptions::default());
    run.until(20, "the fallback and the history", |r| {
        r.events.len() >= 3
            && r.statuses
                .iter()
                .any(|s| matches!(s, TailStatus::Fallback(_)))
    })
    .await;
    let reason = run
        .statuses
        .iter()
        .find_map(|s| match s {
            TailStatus::Fallback(reason) => Some(reason.clone()),
            _ => None,
        })
        .unwrap();
    // moto answers StartLiveTail with a snapshot and closes the stream.
    assert_eq!(reason, "the endpoint does not stream it");

    let t = now_ms();
    put(vec![(t, "new 1"), (t + 1, "new 2")]).await;
    run.until(20, "the new events", |r| r.events.len() >= 5)
        .await;
    // Anything repeated would arrive with the next poll.
    tokio::time::sleep(Duration::from_millis(700)).await;
    while let Ok(u) = run.rx.try_recv() {
        if let TailUpdate::Events(e) = u {
            run.events.extend(e);
        }
    }
    assert_eq!(
        run.messages(),
        ["old 1", "old 2", "old 3", "new 1", "new 2"]
    );
    assert!(matches!(run.statuses.last(), Some(TailStatus::Fallback(_))));
}

#[test]
fn the_log_view_names_the_mode_and_why_it_polls() {
    use opsdeck::app::logs::LogView;
    let mut v = LogView::new(1, vec![API.into()], "15m".into(), None, 100);
    let mut mode = |s: TailStatus| {
        v.apply(TailUpdate::Status(s));
        v.mode()
    };
    assert_eq!(mode(TailStatus::Live { sampled: false }), "live tail");
    assert_eq!(
        mode(TailStatus::Live { sampled: true }),
        "live tail · sampled"
    );
    assert_eq!(
        mode(TailStatus::Fallback(
            "the endpoint does not stream it".into()
        )),
        "polling (live tail unavailable: the endpoint does not stream it)"
    );
    assert_eq!(
        mode(TailStatus::CaughtUp),
        "polling (FilterLogEvents) · live"
    );
}

#[tokio::test]
async fn the_span_before_a_session_opened_is_polled_again_once_it_settles() {
    let t = now_ms();
    let id = arn(API);
    let replay = StaticReplayClient::new(vec![
        describe_log_groups(API),
        stalling_stream_response(vec![
            session_start(&[API]),
            session_update(false, vec![live(&id, "s", t - 1000, "live 1")]),
        ]),
        filter_log_events(&[("s", t - 30_000, "history")]),
        // A moment later FilterLogEvents shows an event ingested just before
        // the session opened, which the first poll did not see yet.
        filter_log_events(&[
            ("s", t - 30_000, "history"),
            ("s", t - 2000, "ingested as the session opened"),
            ("s", t - 1000, "live 1"),
        ]),
    ]);
    let c = replay_clients(&replay);
    let options = LiveOptions {
        settle: Duration::from_millis(300),
        watchdog: Duration::from_secs(3),
        ..LiveOptions::default()
    };
    let mut run = Run::start(&c, follow(&[API], t - 60_000), options);
    run.until(10, "the late event", |r| r.events.len() >= 3)
        .await;
    assert_eq!(
        run.messages(),
        ["history", "live 1", "ingested as the session opened"]
    );
    drop(run);
    assert_eq!(
        operations(&replay)[..4],
        [
            "DescribeLogGroups",
            "StartLiveTail",
            "FilterLogEvents",
            "FilterLogEvents"
        ]
    );
}
