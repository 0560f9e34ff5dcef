//! The queue verbs as jobs against a real moto server, through the real SDK
//! and the same plans and job code the console and the CLI use. What moto
//! received is read back from moto's own request recorder, so read-only and
//! refusal checks rest on the endpoint, not on opsdeck's word.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName};
use common::Moto;
use opsdeck::aws::Clients;
use opsdeck::config::Deployment;
use opsdeck::jobs::{self, AuditLog, Ctx, Detail, JobUpdate, Outcome, Plan, Source};
use opsdeck::model::QueueRow;

/// moto's recorder: every request it receives, from start to download.
fn recording(moto: &Moto, on: bool) {
    let path = if on {
        "start-recording"
    } else {
        "stop-recording"
    };
    post(moto, &format!("/moto-api/recorder/{path}"));
}

fn post(moto: &Moto, path: &str) {
    let out = Command::new("curl")
        .args(["-sf", "-X", "POST", &format!("{}{path}", moto.endpoint)])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// The SQS operations moto received while recording (`PurgeQueue`, …).
fn received(moto: &Moto) -> Vec<String> {
    let out = Command::new("curl")
        .args([
            "-sf",
            &format!("{}/moto-api/recorder/download-recording", moto.endpoint),
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            v["headers"]["X-Amz-Target"]
                .as_str()
                .map(|t| t.trim_start_matches("AmazonSQS.").to_string())
        })
        .collect()
}

const MUTATING: &[&str] = &[
    "PurgeQueue",
    "ReceiveMessage",
    "SendMessage",
    "SendMessageBatch",
    "DeleteMessage",
    "DeleteMessageBatch",
    "StartMessageMoveTask",
];

async fn queues(d: &Deployment) -> (Clients, Vec<QueueRow>) {
    let c = Clients::connect(d).await.unwrap();
    let rows = opsdeck::aws::sqs::queues(&c, d.resources.queues.as_ref())
        .await
        .unwrap();
    (c, rows)
}

fn row<'a>(rows: &'a [QueueRow], name: &str) -> &'a QueueRow {
    rows.iter().find(|r| r.name == name).unwrap()
}

async fn visible(c: &Clients, url: &str) -> u64 {
    let out = c
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    let attrs = out.attributes().unwrap();
    let n = |k| {
        attrs
            .get(&k)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    n(QueueAttributeName::ApproximateNumberOfMessages)
}

/// Runs a plan with the real job code; the audit goes to `audit`.
async fn run(plan: &Plan, c: &Clients, audit: &AuditLog) -> (Outcome, Vec<JobUpdate>) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let ctx = Ctx::new(tx, Default::default());
    let outcome = jobs::run(plan, audit, Source::Cli, None, Some(c.clone()), ctx).await;
    let mut updates = Vec::new();
    while let Ok(u) = rx.try_recv() {
        updates.push(u);
    }
    (outcome, updates)
}

fn audit_in(dir: &Path) -> AuditLog {
    AuditLog::at(dir.join("audit.jsonl"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_empties_a_queue_and_a_second_purge_within_a_minute_is_refused_with_the_rule() {
    let (_moto, deployments) = common::seeded().await;
    let d = common::deployment(&deployments, "dev");
    let (c, rows) = queues(&d).await;
    let q = row(&rows, "dev-notifications");
    assert!(visible(&c, &q.url).await > 0);
    let tmp = tempfile::tempdir().unwrap();
    let audit = audit_in(tmp.path());

    let plan = jobs::queues::purge(&d, &[q], false, &HashMap::new(), SystemTime::now()).unwrap();
    assert!(
        plan.lines[0].contains("25 visible, 4 in flight, 2 delayed"),
        "{:?}",
        plan.lines
    );
    let (outcome, _) = run(&plan, &c, &audit).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(visible(&c, &q.url).await, 0);
    let Some(Detail::Purged(purged)) = outcome.detail() else {
        panic!("{outcome:?}")
    };
    assert_eq!(purged[0].0, "dev-notifications");

    // Again at once: SQS's rule, said as a sentence.
    let (again, _) = run(&plan, &c, &audit).await;
    let msg = again.message();
    assert!(matches!(again, Outcome::Failed { .. }), "{again:?}");
    assert!(msg.contains("once") || msg.contains("60 s"), "{msg}");
    assert!(msg.contains("less than a minute ago"), "{msg}");
    assert!(!msg.contains("PurgeQueueInProgress"), "{msg}");

    // The dialog of the next purge says when it may go.
    let recent = HashMap::from([(q.name.clone(), purged[0].1)]);
    let plan = jobs::queues::purge(&d, &[q], false, &recent, SystemTime::now()).unwrap();
    assert!(
        plan.lines
            .iter()
            .any(|l| l.contains("SQS refuses another purge until")),
        "{:?}",
        plan.lines
    );

    // Both attempts are audited, start and end, and parse.
    let (entries, bad) = audit.read(None).unwrap();
    assert_eq!(bad, 0);
    let results: Vec<&str> = entries.iter().map(|e| e.result.as_str()).collect();
    assert_eq!(results, ["started", "ok", "started", "failed"]);
    assert!(entries.iter().all(|e| e.action == "queue_purge"
        && e.deployment == "dev"
        && e.region.as_deref() == Some("us-east-1")
        && e.target == "queue dev-notifications"));
    assert!(entries[1].duration_ms.is_some());
    // The caller, asked of STS since the CLI knows no identity yet.
    assert!(
        entries[0]
            .arn
            .as_deref()
            .is_some_and(|a| a.starts_with("arn:aws:"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_all_reports_each_queue() {
    let (_moto, deployments) = common::seeded().await;
    let d = common::deployment(&deployments, "dev");
    let (c, rows) = queues(&d).await;
    let tmp = tempfile::tempdir().unwrap();
    let audit = audit_in(tmp.path());
    // One of them was purged a moment ago: that one fails, the rest go.
    let first = row(&rows, "dev-indexer-tasks");
    c.sqs
        .purge_queue()
        .queue_url(&first.url)
        .send()
        .await
        .unwrap();

    let all: Vec<&QueueRow> = rows.iter().collect();
    let plan = jobs::queues::purge(&d, &all, true, &HashMap::new(), SystemTime::now()).unwrap();
    assert_eq!(plan.action, "queue_purge_all");
    let (outcome, updates) = run(&plan, &c, &audit).await;
    let Outcome::Failed { message, detail } = &outcome else {
        panic!("a partial failure is a failure: {outcome:?}")
    };
    assert!(
        message.starts_with(&format!(
            "purged {} of {} queues",
            rows.len() - 1,
            rows.len()
        )),
        "{message}"
    );
    assert!(message.contains("dev-indexer-tasks ("), "{message}");
    let Some(Detail::Purged(done)) = detail else {
        panic!()
    };
    assert_eq!(done.len(), rows.len() - 1);
    // One output line per queue.
    let lines: Vec<&String> = updates
        .iter()
        .filter_map(|u| match u {
            JobUpdate::Line(l) => Some(l),
            _ => None,
        })
        .collect();
    assert_eq!(lines.len(), rows.len(), "{lines:?}");
    for r in &rows {
        assert_eq!(visible(&c, &r.url).await, 0, "{}", r.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peek_shows_messages_and_leaves_the_visible_depth_alone() {
    let (_moto, deployments) = common::seeded().await;
    let d = common::deployment(&deployments, "dev");
    let (c, rows) = queues(&d).await;
    let q = row(&rows, "dev-notifications-dlq");
    c.sqs
        .send_message()
        .queue_url(&q.url)
        .message_body(r#"{"order": 7, "items": [1, 2]}"#)
        .message_attributes(
            "origin",
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value("checkout")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let before = visible(&c, &q.url).await;
    let tmp = tempfile::tempdir().unwrap();
    let plan = jobs::queues::peek(&d, q, 10);
    assert_eq!(plan.effect, jobs::Effect::Change);
    let (outcome, _) = run(&plan, &c, &audit_in(tmp.path())).await;
    let Some(Detail::Peek { messages, .. }) = outcome.detail() else {
        panic!("{outcome:?}")
    };
    assert_eq!(messages.len() as u64, before);
    let ours = messages.iter().find(|m| m.body.contains("order")).unwrap();
    assert_eq!(ours.message_attributes[0].key, "origin (String)");
    assert_eq!(ours.message_attributes[0].value, "checkout");
    assert!(ours.receive_count.is_some_and(|n| n >= 1));
    assert_eq!(visible(&c, &q.url).await, before);
}

async fn fill(c: &Clients, url: &str, n: usize) {
    for i in 0..n {
        c.sqs
            .send_message()
            .queue_url(url)
            .message_body(format!("message {i}"))
            .message_attributes(
                "seq",
                MessageAttributeValue::builder()
                    .data_type("Number")
                    .string_value(i.to_string())
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }
}

/// Every message body in a queue, received and deleted.
async fn drain(c: &Clients, url: &str) -> Vec<(String, Option<String>)> {
    let mut all = Vec::new();
    loop {
        let out = c
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .wait_time_seconds(0)
            .send()
            .await
            .unwrap();
        if out.messages().is_empty() {
            return all;
        }
        for m in out.messages() {
            let seq = m
                .message_attributes()
                .and_then(|a| a.get("seq"))
                .and_then(|v| v.string_value())
                .map(str::to_string);
            all.push((m.body().unwrap().to_string(), seq));
            c.sqs
                .delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redrive_moves_every_message_once_with_its_attributes_where_there_is_no_move_task() {
    let (_moto, deployments) = common::seeded().await;
    let d = common::deployment(&deployments, "dev");
    let (c, rows) = queues(&d).await;
    let dlq = row(&rows, "dev-indexer-tasks-dlq");
    let source = row(&rows, "dev-indexer-tasks");
    c.sqs
        .purge_queue()
        .queue_url(&source.url)
        .send()
        .await
        .unwrap();
    fill(&c, &dlq.url, 37).await;
    let (c, rows) = queues(&d).await;
    let dlq = row(&rows, "dev-indexer-tasks-dlq");
    let tmp = tempfile::tempdir().unwrap();

    let plan = jobs::queues::redrive(&d, dlq, Some(row(&rows, "dev-indexer-tasks"))).unwrap();
    let (outcome, updates) = run(&plan, &c, &audit_in(tmp.path())).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    assert!(
        outcome.message().contains("moved 37 messages"),
        "{}",
        outcome.message()
    );
    // Which path ran is said: moto has no StartMessageMoveTask.
    assert!(updates.iter().any(|u| matches!(u,
        JobUpdate::Line(l) if l.contains("no SQS message move tasks"))));
    assert_eq!(visible(&c, &dlq.url).await, 0);
    let mut moved = drain(&c, &source.url).await;
    moved.sort();
    let mut expected: Vec<(String, Option<String>)> = (0..37)
        .map(|i| (format!("message {i}"), Some(i.to_string())))
        .collect();
    expected.sort();
    // 0 lost, 0 duplicated, attributes kept.
    assert_eq!(moved, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_a_redrive_between_batches_and_loses_nothing() {
    let (_moto, deployments) = common::seeded().await;
    let d = common::deployment(&deployments, "dev");
    let (c, rows) = queues(&d).await;
    let dlq = row(&rows, "dev-indexer-tasks-dlq").clone();
    let source = row(&rows, "dev-indexer-tasks").clone();
    c.sqs
        .purge_queue()
        .queue_url(&source.url)
        .send()
        .await
        .unwrap();
    fill(&c, &dlq.url, 60).await;
    let (c, rows) = queues(&d).await;
    let plan = jobs::queues::redrive(&d, row(&rows, &dlq.name), Some(&source)).unwrap();
    let tmp = tempfile::tempdir().unwrap();

    // The console's runner: the job is cancelled after its first batch.
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let mut runner = jobs::Runner::new(audit_in(tmp.path()), tx);
    runner.start(1, plan, None);
    let outcome = loop {
        let e = rx.recv().await.unwrap();
        match e.update {
            JobUpdate::Progress(p) if p.done > 0 => {
                runner.cancel(1);
            }
            JobUpdate::Finished(o) => break o,
            _ => {}
        }
    };
    assert!(matches!(outcome, Outcome::Cancelled(_)), "{outcome:?}");
    let left = drain(&c, &dlq.url).await;
    let moved = drain(&c, &source.url).await;
    assert!(
        !moved.is_empty() && !left.is_empty(),
        "{} {}",
        moved.len(),
        left.len()
    );
    assert_eq!(moved.len() + left.len(), 60);
    let (entries, _) = audit_in(tmp.path()).read(None).unwrap();
    assert_eq!(entries.last().unwrap().result, "cancelled");
}

// ---- the CLI: same plans, same jobs; refusals before any AWS call ----------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_purge_on_protected_prod_needs_yes_and_the_name_and_refuses_before_any_call() {
    let (moto, deployments) = common::seeded().await;
    let tmp = tempfile::tempdir().unwrap();
    let config = common::config_file(tmp.path(), &moto, false);
    let audit = tmp.path().join("audit.jsonl");
    let purge = [
        "--deployment",
        "prod",
        "queues",
        "purge",
        "prod-notifications",
    ];

    recording(&moto, true);
    let no_yes = common::one_line_refusal(&common::opsdeck_cli(&config, &audit, &purge));
    assert!(no_yes.contains("--yes"), "{no_yes}");
    let mut with_yes = purge.to_vec();
    with_yes.push("--yes");
    let no_name = common::one_line_refusal(&common::opsdeck_cli(&config, &audit, &with_yes));
    assert!(no_name.contains("--confirm prod"), "{no_name}");
    let mut wrong = with_yes.clone();
    wrong.extend(["--confirm", "dev"]);
    let wrong = common::one_line_refusal(&common::opsdeck_cli(&config, &audit, &wrong));
    assert!(wrong.contains("does not name this deployment"), "{wrong}");
    recording(&moto, false);
    // Refused before the first AWS call: moto heard nothing at all.
    assert_eq!(received(&moto), Vec::<String>::new());
    assert!(!audit.exists());

    let mut ok = with_yes.clone();
    ok.extend(["--confirm", "prod"]);
    let out = common::opsdeck_cli(&config, &audit, &ok);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "purged prod-notifications"
    );
    let d = common::deployment(&deployments, "prod");
    let (c, rows) = queues(&d).await;
    assert_eq!(visible(&c, &row(&rows, "prod-notifications").url).await, 0);
    let log = std::fs::read_to_string(&audit).unwrap();
    assert_eq!(log.lines().count(), 2, "{log}");
    assert!(log.contains("\"source\":\"cli\""), "{log}");

    // A second purge within the minute: non-zero, SQS's rule in one sentence.
    let again = common::opsdeck_cli(&config, &audit, &ok);
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("less than a minute ago"), "{stderr}");

    // `opsdeck audit` prints what was done.
    let out = common::opsdeck_cli(&config, &audit, &["audit", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[1]["result"], "ok");
    assert_eq!(lines[3]["result"], "failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_read_only_sends_no_mutating_request() {
    let (moto, deployments) = common::seeded().await;
    let tmp = tempfile::tempdir().unwrap();
    let config = common::config_file(tmp.path(), &moto, true);
    let audit = tmp.path().join("audit.jsonl");
    recording(&moto, true);
    for args in [
        &["--deployment", "dev", "queues", "purge", "--all", "--yes"][..],
        &["--deployment", "dev", "queues", "peek", "dev-notifications"],
        &[
            "--deployment",
            "dev",
            "queues",
            "redrive",
            "dev-notifications-dlq",
            "--yes",
        ],
    ] {
        let stderr = common::one_line_refusal(&common::opsdeck_cli(&config, &audit, args));
        assert!(stderr.contains("read-only"), "{stderr}");
    }
    // Listing is a read: it works.
    let out = common::opsdeck_cli(
        &config,
        &audit,
        &["--deployment", "dev", "queues", "list", "--json"],
    );
    assert!(out.status.success(), "{out:?}");
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"dev-notifications-dlq"), "{names:?}");
    assert!(names.iter().all(|n| n.starts_with("dev-")), "{names:?}");
    recording(&moto, false);
    let got = received(&moto);
    assert!(!got.is_empty(), "the listing reached moto");
    let mutating: Vec<&String> = got
        .iter()
        .filter(|op| MUTATING.contains(&op.as_str()))
        .collect();
    assert!(mutating.is_empty(), "{mutating:?}");
    let d = common::deployment(&deployments, "dev");
    let (c, rows) = queues(&d).await;
    assert_eq!(visible(&c, &row(&rows, "dev-notifications").url).await, 25);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_peek_prints_json_and_redrive_moves_back_to_the_source() {
    let (moto, deployments) = common::seeded().await;
    let tmp = tempfile::tempdir().unwrap();
    let config = common::config_file(tmp.path(), &moto, false);
    let audit = tmp.path().join("audit.jsonl");
    // Three messages waiting in dev's dead-letter queue.
    let d = common::deployment(&deployments, "dev");
    let (c, rows) = queues(&d).await;
    fill(&c, &row(&rows, "dev-notifications-dlq").url, 3).await;
    let out = common::opsdeck_cli(
        &config,
        &audit,
        &[
            "--deployment",
            "dev",
            "queues",
            "peek",
            "dev-notifications-dlq",
            "--json",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let peeked: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(peeked.as_array().unwrap().len(), 3);
    // A peek needs no confirmation, but it changes receive counts: audited too.
    let log = std::fs::read_to_string(&audit).unwrap();
    assert_eq!(log.lines().count(), 2, "{log}");
    assert!(log.contains("\"action\":\"queue_peek\""), "{log}");

    let out = common::opsdeck_cli(
        &config,
        &audit,
        &[
            "--deployment",
            "dev",
            "queues",
            "redrive",
            "dev-notifications-dlq",
            "--yes",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("moved 3 messages from dev-notifications-dlq to dev-notifications"),
        "{stdout}"
    );
    let d = common::deployment(&deployments, "dev");
    let (c, rows) = queues(&d).await;
    assert_eq!(
        visible(&c, &row(&rows, "dev-notifications-dlq").url).await,
        0
    );
    assert_eq!(
        visible(&c, &row(&rows, "dev-notifications").url).await,
        25 + 3
    );

    let unknown = common::one_line_refusal(&common::opsdeck_cli(
        &config,
        &audit,
        &[
            "--deployment",
            "dev",
            "queues",
            "purge",
            "dev-notificatons",
            "--yes",
        ],
    ));
    assert!(
        unknown.contains("did you mean `dev-notifications`"),
        "{unknown}"
    );
}
