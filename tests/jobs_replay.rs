//! The native redrive path (SQS message move tasks), which moto does not
//! implement: SQS's documented JSON responses are replayed through the real
//! SDK with `StaticReplayClient`, and the requests the job sent are checked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use opsdeck::aws::Clients;
use opsdeck::jobs::{self, AuditLog, Ctx, JobUpdate, Outcome, QueueRef, Source};

const DLQ_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:dev-notifications-dlq";
const SRC_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:dev-notifications";
const HANDLE: &str = "eyJ0YXNrSWQiOiJkYzE2NmNiZC1kZjFiLTRiNjUtYmFkNS0xZjk3ZWI5NDg1YzgifQ==";

fn json(body: &str) -> ReplayEvent {
    let mut r = HttpResponse::new(StatusCode::try_from(200).unwrap(), SdkBody::from(body));
    r.headers_mut()
        .insert("content-type", "application/x-amz-json-1.0");
    ReplayEvent::new(HttpRequest::new(SdkBody::empty()), r)
}

fn depth(n: u64) -> ReplayEvent {
    json(&format!(
        r#"{{"Attributes":{{"ApproximateNumberOfMessages":"{n}"}}}}"#
    ))
}

fn started() -> ReplayEvent {
    json(&format!(r#"{{"TaskHandle":"{HANDLE}"}}"#))
}

/// ListMessageMoveTasks, as in the SQS API reference.
fn listed(status: &str, moved: u64, extra: &str) -> ReplayEvent {
    let handle = if status == "RUNNING" {
        format!(r#""TaskHandle":"{HANDLE}","#)
    } else {
        String::new()
    };
    json(&format!(
        r#"{{"Results":[{{{handle}"Status":"{status}","SourceArn":"{DLQ_ARN}","DestinationArn":"{SRC_ARN}","ApproximateNumberOfMessagesMoved":{moved},"ApproximateNumberOfMessagesToMove":30,"StartedTimestamp":1733130000000{extra}}}]}}"#
    ))
}

fn clients(events: Vec<ReplayEvent>) -> (Clients, StaticReplayClient) {
    let http = StaticReplayClient::new(events);
    (common::Replay::DEV.clients(&http), http)
}

fn queue(name: &str, arn: &str) -> QueueRef {
    QueueRef {
        name: name.into(),
        url: format!("http://127.0.0.1:9/123456789012/{name}"),
        arn: Some(arn.into()),
    }
}

fn plan() -> jobs::Plan {
    let (config, _) = opsdeck::config::Config::parse(
        "[[deployment]]\nname = \"dev\"\nregion = \"us-east-1\"\n",
        std::path::Path::new("t.toml"),
    );
    jobs::Plan {
        action: "queue_redrive",
        deployment: config.deployments[0].clone(),
        target: "dead-letter queue dev-notifications-dlq".into(),
        parameters: serde_json::json!({}),
        title: "Redrive".into(),
        lines: vec![],
        effect: jobs::Effect::Confirmed,
        op: jobs::Op::Redrive {
            dlq: queue("dev-notifications-dlq", DLQ_ARN),
            to: Some(queue("dev-notifications", SRC_ARN)),
        },
    }
}

async fn run(c: Clients, cancel: bool) -> (Outcome, Vec<JobUpdate>) {
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::at(dir.path().join("audit.jsonl"));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let token = tokio_util::sync::CancellationToken::new();
    if cancel {
        token.cancel();
    }
    let who = Some(opsdeck::model::Identity {
        account: "123456789012".into(),
        arn: "arn:aws:iam::123456789012:user/oncall".into(),
    });
    let outcome = jobs::run(
        &plan(),
        &audit,
        Source::Cli,
        who,
        Some(c),
        Ctx::new(tx, token),
    )
    .await;
    let mut updates = Vec::new();
    while let Ok(u) = rx.try_recv() {
        updates.push(u);
    }
    (outcome, updates)
}

/// The operation (X-Amz-Target) and JSON body of each request sent.
fn sent(http: &StaticReplayClient) -> Vec<(String, serde_json::Value)> {
    http.actual_requests()
        .map(|r| {
            let target = r
                .headers()
                .get("x-amz-target")
                .unwrap_or_default()
                .trim_start_matches("AmazonSQS.")
                .to_string();
            let body = serde_json::from_slice(r.body().bytes().unwrap_or_default())
                .unwrap_or(serde_json::Value::Null);
            (target, body)
        })
        .collect()
}

#[tokio::test]
async fn a_move_task_runs_to_completion_with_progress() {
    let (c, http) = clients(vec![
        depth(30),
        started(),
        listed("RUNNING", 10, ""),
        listed("COMPLETED", 30, ""),
    ]);
    let (outcome, updates) = run(c, false).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(
        outcome.message(),
        "moved 30 messages out of dev-notifications-dlq (SQS move task)"
    );
    assert!(updates.iter().any(|u| matches!(u,
        JobUpdate::Progress(p) if p.done == 10 && p.total == Some(30))));
    assert!(updates.iter().any(|u| matches!(u,
        JobUpdate::Line(l) if l.starts_with("started an SQS message move task"))));
    let sent = sent(&http);
    let ops: Vec<&str> = sent.iter().map(|(op, _)| op.as_str()).collect();
    assert_eq!(
        ops,
        [
            "GetQueueAttributes",
            "StartMessageMoveTask",
            "ListMessageMoveTasks",
            "ListMessageMoveTasks"
        ]
    );
    assert_eq!(sent[1].1["SourceArn"], DLQ_ARN);
    assert_eq!(sent[1].1["DestinationArn"], SRC_ARN);
}

#[tokio::test]
async fn cancel_asks_sqs_to_cancel_the_move_task() {
    let (c, http) = clients(vec![
        depth(30),
        started(),
        json(r#"{"ApproximateNumberOfMessagesMoved":10}"#),
        listed("CANCELLED", 10, ""),
    ]);
    let (outcome, _) = run(c, true).await;
    assert_eq!(
        outcome,
        Outcome::Cancelled("cancelled after 10 messages (SQS move task)".into())
    );
    let sent = sent(&http);
    assert_eq!(sent[2].0, "CancelMessageMoveTask");
    assert_eq!(sent[2].1["TaskHandle"], HANDLE);
}

#[tokio::test]
async fn a_failed_move_task_says_why() {
    let (c, _) = clients(vec![
        depth(30),
        started(),
        listed(
            "FAILED",
            12,
            r#","FailureReason":"AWS.SimpleQueueService.NonExistentQueue""#,
        ),
    ]);
    let (outcome, _) = run(c, false).await;
    assert_eq!(
        outcome.message(),
        "the move task failed after 12 messages: AWS.SimpleQueueService.NonExistentQueue"
    );
    assert!(matches!(outcome, Outcome::Failed { .. }));
}

#[tokio::test]
async fn an_endpoint_without_move_tasks_falls_back_to_moving_messages() {
    // An emulator's answer to an operation it lacks: an HTML 500, no AWS error.
    let mut r = HttpResponse::new(
        StatusCode::try_from(500).unwrap(),
        SdkBody::from("<!doctype html><title>500 Internal Server Error</title>"),
    );
    r.headers_mut().insert("content-type", "text/html");
    let lacks = ReplayEvent::new(HttpRequest::new(SdkBody::empty()), r);
    let (c, http) = clients(vec![
        depth(0),
        lacks,
        // The fallback's first receive finds the DLQ empty.
        json(r#"{"Messages":[]}"#),
    ]);
    let (outcome, updates) = run(c, false).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    assert!(updates.iter().any(|u| matches!(u,
        JobUpdate::Line(l) if l.contains("no SQS message move tasks (HTTP 500 without an AWS error)"))));
    let ops: Vec<String> = sent(&http).into_iter().map(|(op, _)| op).collect();
    // StartMessageMoveTask went out once: not retried.
    assert_eq!(
        ops,
        [
            "GetQueueAttributes",
            "StartMessageMoveTask",
            "ReceiveMessage"
        ]
    );
}
