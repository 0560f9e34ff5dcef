//! `opsdeck queues list|purge|peek|redrive`: the Queues panel's verbs for
//! runbooks, through the same plans and jobs as the console.

use std::process::ExitCode;

use clap::Subcommand;
use color_eyre::eyre::{Result, bail, eyre};
use serde_json::json;

use super::jobs::{self as cli_jobs, Confirmation};
use crate::aws::Clients;
use crate::config::{Config, Deployment};
use crate::jobs::{self, Detail, Effect, Outcome};
use crate::model::QueueRow;

#[derive(Debug, Subcommand)]
pub enum QueuesCommand {
    /// The deployment's queues with their depths and dead-letter queues.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Delete every message in the queues (SQS allows one purge per queue a minute).
    Purge {
        /// Queue names.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        queues: Vec<String>,
        /// Every queue of the deployment.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        confirmation: Confirmation,
    },
    /// Show up to N messages without taking them (a receive with visibility
    /// 0: it raises their receive counts).
    Peek {
        queue: String,
        #[arg(long, default_value_t = 10)]
        max: usize,
        #[arg(long)]
        json: bool,
    },
    /// Move a dead-letter queue's messages back to their source queue (or --to).
    Redrive {
        dlq: String,
        #[arg(long, value_name = "QUEUE")]
        to: Option<String>,
        #[command(flatten)]
        confirmation: Confirmation,
    },
}

pub async fn run(cmd: &QueuesCommand, config: &Config, name: Option<&str>) -> Result<ExitCode> {
    let d = super::logs::pick_deployment(config, name)?;
    // The refusals that need no AWS call come first.
    match cmd {
        QueuesCommand::List { .. } => {}
        QueuesCommand::Purge {
            queues,
            all,
            confirmation,
        } => {
            let what = if *all {
                format!("purge every queue of deployment `{}`", d.name)
            } else {
                format!("purge {} of deployment `{}`", queues.join(", "), d.name)
            };
            cli_jobs::check(Effect::Confirmed, d, confirmation, &what)?;
        }
        QueuesCommand::Peek { queue, .. } => {
            let what = format!("peek at {queue} of deployment `{}`", d.name);
            cli_jobs::check(Effect::Change, d, &Confirmation::default(), &what)?;
        }
        QueuesCommand::Redrive {
            dlq, confirmation, ..
        } => {
            let what = format!("redrive {dlq} of deployment `{}`", d.name);
            cli_jobs::check(Effect::Confirmed, d, confirmation, &what)?;
        }
    }
    let c = Clients::connect(d)
        .await
        .map_err(|p| eyre!("{}", p.message))?;
    let rows = crate::aws::sqs::queues(&c, d.resources.queues.as_ref())
        .await
        .map_err(|p| eyre!("{}", p.message))?;
    let (plan, confirmation) = match cmd {
        QueuesCommand::List { json } => return list(&rows, *json),
        QueuesCommand::Purge {
            queues,
            all,
            confirmation,
        } => {
            let chosen: Vec<&QueueRow> = if *all {
                rows.iter().collect()
            } else {
                queues
                    .iter()
                    .map(|q| find(d, &rows, q))
                    .collect::<Result<_>>()?
            };
            let now = std::time::SystemTime::now();
            let plan = jobs::queues::purge(d, &chosen, *all, &Default::default(), now);
            (plan, confirmation.clone())
        }
        QueuesCommand::Peek { queue, max, json } => {
            let plan = jobs::queues::peek(d, find(d, &rows, queue)?, *max);
            let outcome = cli_jobs::run(&plan, Some(c)).await;
            return peeked(&outcome, *json);
        }
        QueuesCommand::Redrive {
            dlq,
            to,
            confirmation,
        } => {
            let dlq = find(d, &rows, dlq)?;
            let to = match to {
                Some(t) => Some(find(d, &rows, t)?),
                None => match dlq.dlq_of.as_slice() {
                    [one] => rows.iter().find(|r| &r.name == one),
                    _ => None,
                },
            };
            (jobs::queues::redrive(d, dlq, to), confirmation.clone())
        }
    };
    let plan = plan.map_err(|e| eyre!("{e}"))?;
    cli_jobs::ask(&plan, &confirmation)?;
    let outcome = cli_jobs::run(&plan, Some(c)).await;
    Ok(cli_jobs::report(&outcome))
}

fn find<'a>(d: &Deployment, rows: &'a [QueueRow], name: &str) -> Result<&'a QueueRow> {
    rows.iter().find(|r| r.name == name).ok_or_else(|| {
        let hint = crate::config::nearest(name, rows.iter().map(|r| r.name.as_str()))
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        eyre!(
            "no queue `{name}` in deployment `{}`{hint} (`opsdeck queues list` shows them)",
            d.name
        )
    })
}

fn row_json(r: &QueueRow) -> serde_json::Value {
    json!({
        "name": r.name,
        "url": r.url,
        "arn": r.arn,
        "visible": r.visible,
        "in_flight": r.in_flight,
        "delayed": r.delayed,
        "dead_letter_queue": r.dead_letter_queue,
        "dead_letter_queue_of": r.dlq_of,
    })
}

fn list(rows: &[QueueRow], as_json: bool) -> Result<ExitCode> {
    let mut rows: Vec<&QueueRow> = rows.iter().collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    if as_json {
        let all: Vec<_> = rows.iter().map(|r| row_json(r)).collect();
        println!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(ExitCode::SUCCESS);
    }
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(4).max(4);
    println!(
        "{:<width$}  {:>8}  {:>9}  {:>7}  DEAD-LETTER QUEUE",
        "NAME", "VISIBLE", "IN FLIGHT", "DELAYED"
    );
    let n = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    for r in rows {
        let dlq = match (&r.dead_letter_queue, r.dlq_of.is_empty()) {
            (Some(q), _) => q.clone(),
            (None, false) => format!("(DLQ of {})", r.dlq_of.join(", ")),
            (None, true) => "-".into(),
        };
        println!(
            "{:<width$}  {:>8}  {:>9}  {:>7}  {dlq}",
            r.name,
            n(r.visible),
            n(r.in_flight),
            n(r.delayed)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn peeked(outcome: &Outcome, as_json: bool) -> Result<ExitCode> {
    let Some(Detail::Peek { queue, messages }) = outcome.detail() else {
        return Ok(cli_jobs::report(outcome));
    };
    if as_json {
        let all: Vec<_> = messages
            .iter()
            .map(|m| {
                let kv = |v: &[crate::model::KeyValue]| {
                    v.iter()
                        .map(|kv| (kv.key.clone(), json!(kv.value)))
                        .collect::<serde_json::Map<_, _>>()
                };
                json!({
                    "id": m.id,
                    "body": m.body,
                    "receive_count": m.receive_count,
                    "attributes": kv(&m.attributes),
                    "message_attributes": kv(&m.message_attributes),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&all)?);
    } else {
        eprintln!(
            "note: a peek is a receive: it raised the receive count of each message shown (a message at its maxReceiveCount moves to {queue}'s dead-letter queue)"
        );
        for (i, m) in messages.iter().enumerate() {
            println!(
                "--- message {} of {} · {} · received {} time(s)",
                i + 1,
                messages.len(),
                m.id,
                m.receive_count.map_or("?".into(), |n| n.to_string())
            );
            for kv in &m.message_attributes {
                println!("  {} = {}", kv.key, kv.value);
            }
            let body = serde_json::from_str::<serde_json::Value>(&m.body)
                .ok()
                .filter(|v| v.is_object() || v.is_array())
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_else(|| m.body.clone());
            println!("{body}");
        }
    }
    if outcome.is_ok() {
        Ok(ExitCode::SUCCESS)
    } else {
        bail!("{}", outcome.message())
    }
}
