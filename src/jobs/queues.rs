//! The queue verbs: purge one or every queue, peek, and redrive a dead-letter
//! queue. Plans are built from the Queues panel's rows (the CLI lists the
//! queues first), and the run functions talk to SQS.
//!
//! Calls that must not happen twice (PurgeQueue, ReceiveMessage, SendMessage,
//! StartMessageMoveTask) go out once, with the SDK's retries off: a lost
//! answer is reported, never silently repeated.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime};

use aws_config::retry::RetryConfig;
use aws_sdk_sqs::types::{
    MessageSystemAttributeName, QueueAttributeName, SendMessageBatchRequestEntry,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures::{StreamExt, stream};
use serde_json::json;

use super::{Ctx, Detail, Effect, Op, Outcome, Plan, QueueRef};
use crate::aws::Clients;
use crate::config::Deployment;
use crate::model::{KeyValue, PeekedMessage, QueueRow};

/// SQS allows one purge per queue in this time.
pub const PURGE_EVERY: Duration = Duration::from_secs(60);

/// Purges in flight at once (purge-all of a large deployment).
pub const PURGES_IN_FLIGHT: usize = 16;

/// The most a peek shows.
pub const PEEK_MAX: usize = 50;

/// Messages moved per batch when opsdeck moves them itself (SQS's batch limit).
const BATCH: i32 = 10;

/// How long a message being moved stays invisible in the DLQ: long enough
/// to send it and delete it, short enough that a crash returns it soon.
const MOVE_VISIBILITY: i32 = 60;

pub fn queue_ref(r: &QueueRow) -> QueueRef {
    QueueRef {
        name: r.name.clone(),
        url: r.url.clone(),
        arn: r.arn.clone(),
    }
}

/// "12 visible, 3 in flight, 0 delayed"
fn depth(visible: u64, in_flight: u64, delayed: u64) -> String {
    format!("{visible} visible, {in_flight} in flight, {delayed} delayed")
}

fn sum(rows: &[&QueueRow], f: fn(&QueueRow) -> Option<u64>) -> u64 {
    rows.iter().filter_map(|r| f(r)).sum()
}

/// When a queue purged at `at` may be purged again, if that is still ahead.
pub fn purge_again_at(at: SystemTime, now: SystemTime) -> Option<SystemTime> {
    let next = at + PURGE_EVERY;
    (next > now).then_some(next)
}

fn clock(t: SystemTime) -> String {
    jiff::Timestamp::try_from(t)
        .map(|t| {
            t.to_zoned(jiff::tz::TimeZone::system())
                .strftime("%H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|_| "a minute from then".into())
}

/// Purges the queues (one, or every queue of the deployment with `all`).
/// `purged` says when this run last purged a queue, for the dialog.
pub fn purge(
    d: &Deployment,
    queues: &[&QueueRow],
    all: bool,
    purged: &HashMap<String, SystemTime>,
    now: SystemTime,
) -> Result<Plan, String> {
    let Some(first) = queues.first() else {
        return Err(if all {
            format!("deployment `{}` has no queues to purge", d.name)
        } else {
            "select a queue to purge".into()
        });
    };
    let totals = depth(
        sum(queues, |r| r.visible),
        sum(queues, |r| r.in_flight),
        sum(queues, |r| r.delayed),
    );
    let (title, target, mut lines) = if all {
        let mut lines = vec![
            format!(
                "Delete every message in all {} queues of deployment `{}`",
                queues.len(),
                d.name
            ),
            format!("({totals} in all):"),
        ];
        const SHOWN: usize = 8;
        for r in queues.iter().take(SHOWN) {
            lines.push(format!(
                "  {}: {}",
                r.name,
                depth(
                    r.visible.unwrap_or(0),
                    r.in_flight.unwrap_or(0),
                    r.delayed.unwrap_or(0)
                )
            ));
        }
        if queues.len() > SHOWN {
            lines.push(format!("  … and {} more", queues.len() - SHOWN));
        }
        (
            "Purge every queue".to_string(),
            format!("{} queues", queues.len()),
            lines,
        )
    } else {
        (
            "Purge queue".to_string(),
            format!("queue {}", first.name),
            vec![format!(
                "Delete every message in queue {} ({totals}).",
                first.name
            )],
        )
    };
    lines.push("Deleted messages cannot be recovered.".into());
    for r in queues {
        if let Some(next) = purged.get(&r.name).and_then(|t| purge_again_at(*t, now)) {
            lines.push(format!(
                "{} was purged less than a minute ago: SQS refuses another purge until {}.",
                r.name,
                clock(next)
            ));
        }
    }
    Ok(Plan {
        action: if all {
            "queue_purge_all"
        } else {
            "queue_purge"
        },
        deployment: d.clone(),
        target,
        parameters: json!({ "queues": queues.iter().map(|r| &r.name).collect::<Vec<_>>() }),
        title,
        lines,
        effect: Effect::Confirmed,
        op: Op::Purge {
            queues: queues.iter().map(|r| queue_ref(r)).collect(),
        },
    })
}

/// Looks at up to `max` messages without taking them. Not confirmed, but a
/// change: it raises each message's receive count, which on a queue with a
/// redrive policy can move a message to the dead-letter queue.
pub fn peek(d: &Deployment, r: &QueueRow, max: usize) -> Plan {
    let max = max.clamp(1, PEEK_MAX);
    let mut lines = vec![format!(
        "Receive up to {max} messages of {} with visibility timeout 0, and show them.",
        r.name
    )];
    lines.push(peek_warning(r));
    Plan {
        action: "queue_peek",
        deployment: d.clone(),
        target: format!("queue {}", r.name),
        parameters: json!({ "queue": r.name, "max": max }),
        title: "Peek at queue".into(),
        lines,
        effect: Effect::Change,
        op: Op::Peek {
            queue: queue_ref(r),
            max,
        },
    }
}

/// What a peek does to the messages it sees, for the view and the dialog.
pub fn peek_warning(r: &QueueRow) -> String {
    match &r.dead_letter_queue {
        Some(dlq) => format!(
            "A peek is a receive: it raises each message's receive count, and a message at its maxReceiveCount moves to {dlq}."
        ),
        None => "A peek is a receive: it raises each message's receive count.".into(),
    }
}

/// Moves a dead-letter queue's messages back to its source (or `to`).
pub fn redrive(d: &Deployment, dlq: &QueueRow, to: Option<&QueueRow>) -> Result<Plan, String> {
    let target = match to {
        Some(t) if t.name == dlq.name => {
            return Err(format!("cannot redrive {} into itself", dlq.name));
        }
        Some(t) => Some(t),
        None if dlq.dlq_of.is_empty() => {
            return Err(format!(
                "{} is not the dead-letter queue of any queue here: choose where its messages go (--to QUEUE)",
                dlq.name
            ));
        }
        None => None,
    };
    let visible = dlq.visible.unwrap_or(0);
    let dest = match target {
        Some(t) => t.name.clone(),
        None => dlq.dlq_of.join(", "),
    };
    let lines = vec![
        format!(
            "Move the {visible} visible messages of {} to {dest}.",
            dlq.name
        ),
        "Each message is sent to the target before it is deleted here: nothing is".into(),
        "lost; a duplicate is possible only if opsdeck dies between the two.".into(),
        "Where the endpoint has no message move tasks, opsdeck moves them in batches of ten."
            .into(),
    ];
    Ok(Plan {
        action: "queue_redrive",
        deployment: d.clone(),
        target: format!("dead-letter queue {}", dlq.name),
        parameters: json!({ "dlq": dlq.name, "to": target.map(|t| &t.name) }),
        title: "Redrive dead-letter queue".into(),
        lines,
        effect: Effect::Confirmed,
        op: Op::Redrive {
            dlq: queue_ref(dlq),
            to: target.map(queue_ref),
        },
    })
}

fn once() -> aws_sdk_sqs::config::Builder {
    aws_sdk_sqs::config::Builder::default().retry_config(RetryConfig::disabled())
}

/// One ReceiveMessage with every attribute, sent once: a receive changes
/// receive counts, so it is never repeated behind the caller's back.
async fn receive(
    c: &Clients,
    url: &str,
    max: i32,
    visibility: i32,
    wait: i32,
) -> Result<
    aws_sdk_sqs::operation::receive_message::ReceiveMessageOutput,
    SdkError<aws_sdk_sqs::operation::receive_message::ReceiveMessageError, HttpResponse>,
> {
    c.sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(max)
        .visibility_timeout(visibility)
        .wait_time_seconds(wait)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .message_attribute_names("All")
        .customize()
        .config_override(once())
        .send()
        .await
}

// ---- purge -----------------------------------------------------------------

enum Purged {
    Ok(String, SystemTime),
    Failed(String, String),
    Skipped,
}

pub(super) async fn run_purge(c: &Clients, queues: &[QueueRef], ctx: &Ctx) -> Outcome {
    let total = queues.len() as u64;
    ctx.progress(0, Some(total), "purging");
    let mut done = 0;
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    // Owned futures: the stream must be Send for any lifetime the runtime picks.
    let purges = queues.iter().cloned().map(|q| {
        let (c, ctx) = (c.clone(), ctx.clone());
        async move {
            if ctx.cancelled() {
                return Purged::Skipped;
            }
            let sent = c
                .sqs
                .purge_queue()
                .queue_url(&q.url)
                .customize()
                .config_override(once())
                .send()
                .await;
            match sent {
                Ok(_) => Purged::Ok(q.name.clone(), SystemTime::now()),
                Err(e) => Purged::Failed(q.name.clone(), purge_error(&c, &q.name, &e)),
            }
        }
    });
    let mut results = stream::iter(purges).buffer_unordered(PURGES_IN_FLIGHT);
    while let Some(r) = results.next().await {
        match r {
            Purged::Ok(name, at) => {
                ctx.line(format!("purged {name}"));
                ok.push((name, at));
            }
            Purged::Failed(name, why) => {
                ctx.line(format!("FAILED {name}: {why}"));
                failed.push((name, why));
            }
            Purged::Skipped => continue,
        }
        done += 1;
        ctx.progress(done, Some(total), "purging");
    }
    let detail = Some(Detail::Purged(ok.clone()));
    if ctx.cancelled() && done < total {
        return Outcome::Cancelled(format!(
            "cancelled: purged {} of {total} queues; the others were left alone",
            ok.len()
        ));
    }
    match failed.as_slice() {
        [] if total == 1 => Outcome::Ok {
            summary: format!("purged {}", ok[0].0),
            detail,
        },
        [] => Outcome::Ok {
            summary: format!("purged all {total} queues"),
            detail,
        },
        [(name, why)] if total == 1 => Outcome::Failed {
            message: format!("{name}: {why}"),
            detail,
        },
        _ => Outcome::Failed {
            message: format!(
                "purged {} of {total} queues; failed: {}",
                ok.len(),
                failed
                    .iter()
                    .map(|(n, w)| format!("{n} ({w})"))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            detail,
        },
    }
}

fn purge_error(
    c: &Clients,
    name: &str,
    e: &SdkError<aws_sdk_sqs::operation::purge_queue::PurgeQueueError, HttpResponse>,
) -> String {
    if e.as_service_error()
        .is_some_and(|s| s.is_purge_queue_in_progress())
    {
        return format!(
            "{name} was purged less than a minute ago; SQS allows one purge per queue every 60 s: try again in a minute"
        );
    }
    c.ctx.problem("PurgeQueue", e).message
}

// ---- peek ------------------------------------------------------------------

pub(super) async fn run_peek(c: &Clients, q: &QueueRef, max: usize, ctx: &Ctx) -> Outcome {
    let mut seen = HashSet::new();
    let mut messages = Vec::new();
    ctx.progress(0, Some(max as u64), "receiving");
    // Visibility 0 leaves every message visible, so a receive may return one
    // already seen: stop when a receive brings nothing new.
    while messages.len() < max {
        let want = (max - messages.len()).min(BATCH as usize) as i32;
        let out = receive(c, &q.url, want, 0, 0).await;
        let out = match out {
            Ok(o) => o,
            Err(e) => return Outcome::failed(c.ctx.problem("ReceiveMessage", &e).message),
        };
        let before = messages.len();
        for m in out.messages() {
            let id = m.message_id().unwrap_or_default().to_string();
            if seen.insert(id.clone()) && messages.len() < max {
                messages.push(peeked(id, m));
            }
        }
        ctx.progress(messages.len() as u64, Some(max as u64), "receiving");
        if messages.len() == before {
            break;
        }
    }
    Outcome::Ok {
        summary: format!("peeked at {} message(s) of {}", messages.len(), q.name),
        detail: Some(Detail::Peek {
            queue: q.name.clone(),
            messages,
        }),
    }
}

fn peeked(id: String, m: &aws_sdk_sqs::types::Message) -> PeekedMessage {
    let mut attributes: Vec<KeyValue> = m
        .attributes()
        .map(|a| {
            a.iter()
                .map(|(k, v)| KeyValue {
                    key: k.as_str().to_string(),
                    value: v.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    attributes.sort_by(|a, b| a.key.cmp(&b.key));
    let mut message_attributes: Vec<KeyValue> = m
        .message_attributes()
        .map(|a| {
            a.iter()
                .map(|(k, v)| KeyValue {
                    key: format!("{k} ({})", v.data_type()),
                    value: v
                        .string_value()
                        .map(str::to_string)
                        .unwrap_or_else(|| "(binary)".into()),
                })
                .collect()
        })
        .unwrap_or_default();
    message_attributes.sort_by(|a, b| a.key.cmp(&b.key));
    let attr = |name: MessageSystemAttributeName| m.attributes().and_then(|a| a.get(&name));
    PeekedMessage {
        id,
        body: m.body().unwrap_or_default().to_string(),
        receive_count: attr(MessageSystemAttributeName::ApproximateReceiveCount)
            .and_then(|v| v.parse().ok()),
        sent: attr(MessageSystemAttributeName::SentTimestamp)
            .and_then(|v| v.parse::<i64>().ok())
            .and_then(crate::aws::millis_to_time),
        attributes,
        message_attributes,
    }
}

// ---- redrive ---------------------------------------------------------------

pub(super) async fn run_redrive(
    c: &Clients,
    dlq: &QueueRef,
    to: Option<&QueueRef>,
    ctx: &Ctx,
) -> Outcome {
    let total = match visible(c, &dlq.url).await {
        Ok(n) => n,
        Err(why) => return Outcome::failed(why),
    };
    match native(c, dlq, to, total, ctx).await {
        Native::Done(outcome) => outcome,
        Native::Unsupported(why) => {
            ctx.line(format!(
                "this endpoint has no SQS message move tasks ({why}): opsdeck moves the messages itself, in batches of ten"
            ));
            match to {
                Some(to) => move_messages(c, dlq, to, total, ctx).await,
                None => Outcome::Refused(format!(
                    "nothing was moved: opsdeck can move the messages itself only to one queue, and {} is the dead-letter queue of several; choose one (--to QUEUE)",
                    dlq.name
                )),
            }
        }
    }
}

async fn visible(c: &Clients, url: &str) -> Result<u64, String> {
    let out = c
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .map_err(|e| c.ctx.problem("GetQueueAttributes", &e).message)?;
    Ok(out
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::ApproximateNumberOfMessages))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

async fn arn_of(c: &Clients, q: &QueueRef) -> Result<String, String> {
    if let Some(arn) = &q.arn {
        return Ok(arn.clone());
    }
    let out = c
        .sqs
        .get_queue_attributes()
        .queue_url(&q.url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| c.ctx.problem("GetQueueAttributes", &e).message)?;
    out.attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .ok_or_else(|| format!("SQS did not say the ARN of {}", q.name))
}

enum Native {
    Done(Outcome),
    /// The endpoint does not implement message move tasks (e.g. an emulator).
    Unsupported(String),
}

/// An endpoint that lacks an operation: an unknown-operation code, or an
/// error status with no AWS error at all (an emulator's 404/500/501 page).
fn unsupported<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> Option<String> {
    let status = e.raw_response().map(|r| r.status().as_u16());
    let code = match e {
        SdkError::ServiceError(s) => s.err().code().map(str::to_string),
        _ => None,
    };
    match (code.as_deref(), status) {
        (
            Some(
                "UnknownOperationException"
                | "InvalidAction"
                | "UnsupportedOperation"
                | "AWS.SimpleQueueService.UnsupportedOperation",
            ),
            _,
        ) => code,
        (None, Some(s @ (404 | 500 | 501))) => Some(format!("HTTP {s} without an AWS error")),
        _ => None,
    }
}

/// AWS's own move task: StartMessageMoveTask, progress from
/// ListMessageMoveTasks, cancel with CancelMessageMoveTask.
async fn native(
    c: &Clients,
    dlq: &QueueRef,
    to: Option<&QueueRef>,
    total: u64,
    ctx: &Ctx,
) -> Native {
    let source = match arn_of(c, dlq).await {
        Ok(a) => a,
        Err(why) => return Native::Done(Outcome::failed(why)),
    };
    let dest = match to {
        Some(t) => match arn_of(c, t).await {
            Ok(a) => Some(a),
            Err(why) => return Native::Done(Outcome::failed(why)),
        },
        None => None,
    };
    let started = c
        .sqs
        .start_message_move_task()
        .source_arn(&source)
        .set_destination_arn(dest)
        .customize()
        .config_override(once())
        .send()
        .await;
    let handle = match started {
        Ok(o) => o.task_handle().unwrap_or_default().to_string(),
        Err(e) => {
            if let Some(why) = unsupported(&e) {
                return Native::Unsupported(why);
            }
            return Native::Done(Outcome::failed(
                c.ctx.problem("StartMessageMoveTask", &e).message,
            ));
        }
    };
    ctx.line(format!(
        "started an SQS message move task for {} ({total} messages)",
        dlq.name
    ));
    let mut cancel_sent = false;
    loop {
        if ctx.cancelled() && !cancel_sent {
            cancel_sent = true;
            if let Err(e) = c
                .sqs
                .cancel_message_move_task()
                .task_handle(&handle)
                .send()
                .await
            {
                ctx.line(format!(
                    "could not cancel the move task: {}",
                    c.ctx.problem("CancelMessageMoveTask", &e).message
                ));
            } else {
                ctx.line("asked SQS to cancel the move task");
            }
        }
        let listed = c
            .sqs
            .list_message_move_tasks()
            .source_arn(&source)
            .max_results(10)
            .send()
            .await;
        let tasks = match listed {
            Ok(o) => o.results().to_vec(),
            Err(e) => {
                return Native::Done(Outcome::failed(format!(
                    "the move task was started but its progress cannot be read: {}",
                    c.ctx.problem("ListMessageMoveTasks", &e).message
                )));
            }
        };
        // The running task carries its handle; finished ones do not, and the
        // newest is listed first.
        let task = tasks
            .iter()
            .find(|t| t.task_handle() == Some(handle.as_str()))
            .or_else(|| tasks.first());
        let Some(task) = task else {
            return Native::Done(Outcome::failed("SQS lists no move task for this queue"));
        };
        let moved = task.approximate_number_of_messages_moved().max(0) as u64;
        let to_move = task
            .approximate_number_of_messages_to_move()
            .map(|n| n.max(0) as u64)
            .or(Some(total));
        let status = task.status().unwrap_or("RUNNING");
        ctx.progress(
            moved,
            to_move,
            format!("move task {}", status.to_lowercase()),
        );
        match status {
            "COMPLETED" => {
                return Native::Done(Outcome::ok(format!(
                    "moved {moved} messages out of {} (SQS move task)",
                    dlq.name
                )));
            }
            "FAILED" => {
                return Native::Done(Outcome::failed(format!(
                    "the move task failed after {moved} messages: {}",
                    task.failure_reason().unwrap_or("no reason given")
                )));
            }
            "CANCELLED" => {
                return Native::Done(Outcome::Cancelled(format!(
                    "cancelled after {moved} messages (SQS move task)"
                )));
            }
            _ => {}
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = ctx.cancel.cancelled(), if !cancel_sent => {}
        }
    }
}

/// Moves the messages ourselves: receive ten, send them to the target, and
/// delete from the DLQ only what the target accepted. Stops between batches
/// on cancel. A message is lost never; duplicated only if the process dies
/// between the send and the delete (it then reappears in the DLQ).
async fn move_messages(
    c: &Clients,
    dlq: &QueueRef,
    to: &QueueRef,
    total: u64,
    ctx: &Ctx,
) -> Outcome {
    let fifo = to.url.ends_with(".fifo");
    let (mut moved, mut failed) = (0u64, 0u64);
    ctx.progress(0, Some(total), "moving");
    loop {
        if ctx.cancelled() {
            return Outcome::Cancelled(format!(
                "cancelled after moving {moved} of {total} messages from {} to {}; the rest stay in {0}",
                dlq.name, to.name
            ));
        }
        let received = receive(c, &dlq.url, BATCH, MOVE_VISIBILITY, 1).await;
        let received = match received {
            Ok(r) => r,
            Err(e) => {
                return Outcome::failed(format!(
                    "moved {moved} of {total} messages, then: {}",
                    c.ctx.problem("ReceiveMessage", &e).message
                ));
            }
        };
        let messages = received.messages();
        if messages.is_empty() {
            break;
        }
        let mut entries = Vec::with_capacity(messages.len());
        for (i, m) in messages.iter().enumerate() {
            let mut e = SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(m.body().unwrap_or_default())
                .set_message_attributes(m.message_attributes().cloned());
            if fifo {
                let group = m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::MessageGroupId))
                    .cloned()
                    .unwrap_or_else(|| "redrive".into());
                e = e
                    .message_group_id(group)
                    .message_deduplication_id(m.message_id().unwrap_or_default());
            }
            match e.build() {
                Ok(e) => entries.push(e),
                Err(err) => {
                    return Outcome::failed(format!("cannot build a message to send: {err}"));
                }
            }
        }
        let sent = c
            .sqs
            .send_message_batch()
            .queue_url(&to.url)
            .set_entries(Some(entries))
            .customize()
            .config_override(once())
            .send()
            .await;
        let sent = match sent {
            Ok(s) => s,
            Err(e) => {
                // Not retried: SQS may have taken the batch. The messages stay
                // in the DLQ and are visible again within a minute.
                return Outcome::failed(format!(
                    "moved {moved} of {total} messages; sending the next batch failed and was not repeated ({}); its messages stay in {}",
                    c.ctx.problem("SendMessageBatch", &e).message,
                    dlq.name
                ));
            }
        };
        for f in sent.failed() {
            failed += 1;
            ctx.line(format!(
                "not moved (stays in {}): {}",
                dlq.name,
                f.message().unwrap_or(f.code())
            ));
        }
        let ok: Vec<usize> = sent
            .successful()
            .iter()
            .filter_map(|s| s.id().parse().ok())
            .collect();
        let deletes: Vec<_> = ok
            .iter()
            .filter_map(|&i| messages.get(i))
            .enumerate()
            .filter_map(|(i, m)| {
                aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .build()
                    .ok()
            })
            .collect();
        if !deletes.is_empty() {
            let deleted = c
                .sqs
                .delete_message_batch()
                .queue_url(&dlq.url)
                .set_entries(Some(deletes))
                .send()
                .await;
            match deleted {
                Ok(d) if d.failed().is_empty() => {}
                Ok(d) => {
                    return Outcome::failed(format!(
                        "moved {moved} of {total}; {} sent message(s) could not be deleted from {} and will be delivered again (duplicates)",
                        d.failed().len(),
                        dlq.name
                    ));
                }
                Err(e) => {
                    return Outcome::failed(format!(
                        "moved {moved} of {total}; the last batch was sent but not deleted from {} ({}): it will reappear there (duplicates)",
                        dlq.name,
                        c.ctx.problem("DeleteMessageBatch", &e).message
                    ));
                }
            }
        }
        moved += ok.len() as u64;
        ctx.progress(moved, Some(total.max(moved)), "moving");
        if failed > 0 {
            break;
        }
    }
    if failed > 0 {
        return Outcome::failed(format!(
            "moved {moved} messages from {} to {}; {failed} could not be sent and stay in {0}",
            dlq.name, to.name
        ));
    }
    Outcome::ok(format!(
        "moved {moved} messages from {} to {} (opsdeck moved them in batches of ten)",
        dlq.name, to.name
    ))
}
