//! The index verbs (Azul's `make create`, `make delete`, `make reindex`):
//! plans from the configured index definitions and what the cluster holds,
//! and the jobs that carry them out on the domain's data plane.
//!
//! An index definition `NAME` is an alias: the index behind it is
//! `NAME-YYYYMMDD-HHMMSS`, so a reindex can build the next one beside it and
//! move the alias in one atomic `_aliases` request. Nothing moves the alias
//! unless every document was copied: a failed or cancelled reindex leaves it
//! where it was, and says where the partial index is.

use std::time::{Duration, Instant, SystemTime};

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Value, json};

use super::{Ctx, Effect, Op, Outcome, Plan};
use crate::aws::Clients;
use crate::aws::search::{SearchClient, TaskStatus};
use crate::config::Deployment;
use crate::config::deployments::{IndexDefinition, ReindexStrategy};
use crate::model::IndexRow;

/// How often a reindex task is asked how far it has come.
pub const TASK_POLL: Duration = Duration::from_millis(500);

/// How often the lambda strategy looks at its queue, at most.
pub const QUEUE_POLL: Duration = Duration::from_secs(5);

/// A definition read from its file: the body of `PUT /INDEX`.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub name: String,
    pub file: std::path::PathBuf,
    pub body: Value,
}

/// One index to rebuild.
#[derive(Debug, Clone, PartialEq)]
pub struct ReindexTarget {
    pub definition: Definition,
    /// The index the alias points at now.
    pub old: String,
}

/// What a reindex does, per strategy.
#[derive(Debug, Clone, PartialEq)]
pub enum ReindexOp {
    OpenSearch {
        targets: Vec<ReindexTarget>,
        delete_old: bool,
    },
    Lambda {
        function: String,
        payload: String,
        queue: String,
        /// Whose doc counts show the progress.
        aliases: Vec<String>,
        quiet_period: Duration,
        timeout: Duration,
    },
}

/// Reads a definition's file: it must hold a JSON object.
pub fn read_definition(d: &IndexDefinition) -> Result<Definition, String> {
    let text = std::fs::read_to_string(&d.definition).map_err(|e| {
        format!(
            "cannot read the definition of index {} from {}: {e}",
            d.name,
            d.definition.display()
        )
    })?;
    let body: Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "the definition of index {} in {} is not JSON: {e}",
            d.name,
            d.definition.display()
        )
    })?;
    if !body.is_object() {
        return Err(format!(
            "the definition of index {} in {} is not a JSON object (settings and mappings)",
            d.name,
            d.definition.display()
        ));
    }
    Ok(Definition {
        name: d.name.clone(),
        file: d.definition.clone(),
        body,
    })
}

/// The configured definitions, or those of `names` (each must be configured).
fn chosen<'a>(d: &'a Deployment, names: &[String]) -> Result<Vec<&'a IndexDefinition>, String> {
    let all = &d.resources.indices;
    if all.is_empty() {
        return Err(format!(
            "deployment `{}` defines no indices: add indices = [{{ name = \"…\", definition = \"file.json\" }}] to its [deployment.resources]",
            d.name
        ));
    }
    if names.is_empty() {
        return Ok(all.iter().collect());
    }
    names
        .iter()
        .map(|n| {
            all.iter().find(|i| &i.name == n).ok_or_else(|| {
                let known: Vec<_> = all.iter().map(|i| i.name.as_str()).collect();
                format!(
                    "deployment `{}` defines no index `{n}` (it defines {})",
                    d.name,
                    known.join(", ")
                )
            })
        })
        .collect()
}

/// The indices a name stands for: those its alias points at, or the index of that name.
fn behind<'a>(rows: &'a [IndexRow], name: &str) -> Vec<&'a IndexRow> {
    let by_alias: Vec<_> = rows
        .iter()
        .filter(|r| r.aliases.iter().any(|a| a == name))
        .collect();
    if by_alias.is_empty() {
        rows.iter().filter(|r| r.name == name).collect()
    } else {
        by_alias
    }
}

fn docs(r: &IndexRow) -> String {
    r.docs
        .map_or("? documents".into(), |n| format!("{n} documents"))
}

/// Creates the defined indices that are missing, each behind its alias.
pub fn create(d: &Deployment, rows: &[IndexRow], names: &[String]) -> Result<Plan, String> {
    let mut missing = Vec::new();
    let mut present = Vec::new();
    for def in chosen(d, names)? {
        if behind(rows, &def.name).is_empty() {
            missing.push(read_definition(def)?);
        } else {
            present.push(def.name.clone());
        }
    }
    if missing.is_empty() {
        return Err(format!(
            "nothing to create: every index of deployment `{}` exists ({})",
            d.name,
            present.join(", ")
        ));
    }
    let mut lines: Vec<String> = missing
        .iter()
        .map(|m| {
            format!(
                "Create index {0}-<date-time> behind alias {0}, with the settings and mappings of {1}.",
                m.name,
                m.file.display()
            )
        })
        .collect();
    if !present.is_empty() {
        lines.push(format!(
            "Already there, left alone: {}.",
            present.join(", ")
        ));
    }
    Ok(Plan {
        action: "index_create",
        deployment: d.clone(),
        target: format!("indices {}", names_of(&missing)),
        parameters: json!({ "indices": missing.iter().map(|m| &m.name).collect::<Vec<_>>() }),
        title: "Create indices".into(),
        lines,
        effect: Effect::Confirmed,
        op: Op::IndexCreate {
            definitions: missing,
        },
    })
}

/// Deletes the indices behind the definitions' aliases, listed with their doc counts.
pub fn delete(d: &Deployment, rows: &[IndexRow], names: &[String]) -> Result<Plan, String> {
    let mut doomed: Vec<&IndexRow> = Vec::new();
    for def in chosen(d, names)? {
        for r in behind(rows, &def.name) {
            if !doomed.iter().any(|x| x.name == r.name) {
                doomed.push(r);
            }
        }
    }
    if doomed.is_empty() {
        return Err(format!(
            "nothing to delete: no index of deployment `{}` exists",
            d.name
        ));
    }
    let total: u64 = doomed.iter().filter_map(|r| r.docs).sum();
    let mut lines = vec![format!(
        "Delete {} {} of deployment `{}` ({total} documents in all):",
        doomed.len(),
        if doomed.len() == 1 {
            "index"
        } else {
            "indices"
        },
        d.name
    )];
    for r in &doomed {
        let aliases = if r.aliases.is_empty() {
            String::new()
        } else {
            format!(" (alias {})", r.aliases.join(", "))
        };
        lines.push(format!("  {}{aliases}: {}", r.name, docs(r)));
    }
    lines.push(
        "Deleted documents cannot be recovered; `index_create` makes empty indices again.".into(),
    );
    let indices: Vec<String> = doomed.iter().map(|r| r.name.clone()).collect();
    Ok(Plan {
        action: "index_delete",
        deployment: d.clone(),
        target: format!("indices {}", indices.join(", ")),
        parameters: json!({
            "indices": doomed.iter().map(|r| json!({"index": r.name, "docs": r.docs})).collect::<Vec<_>>()
        }),
        title: "Delete indices".into(),
        lines,
        effect: Effect::Confirmed,
        op: Op::IndexDelete { indices },
    })
}

/// Rebuilds the indices with the deployment's strategy.
pub fn reindex(d: &Deployment, rows: &[IndexRow], names: &[String]) -> Result<Plan, String> {
    let Some(strategy) = &d.resources.reindex else {
        return Err(format!(
            "deployment `{}` has no reindex strategy: set reindex = {{ strategy = \"opensearch\" }} (or \"lambda\") in its [deployment.resources]",
            d.name
        ));
    };
    let defs = chosen(d, names)?;
    let (lines, op, target) = match strategy {
        ReindexStrategy::OpenSearch { delete_old } => {
            let mut targets = Vec::new();
            let mut lines = Vec::new();
            let mut missing = Vec::new();
            for def in defs {
                let old = match behind(rows, &def.name).as_slice() {
                    [one] => *one,
                    // Asked for by name, it must be there; of "all", the
                    // missing ones are named in the dialog and left out.
                    [] if names.is_empty() => {
                        missing.push(def.name.clone());
                        continue;
                    }
                    [] => {
                        return Err(format!(
                            "index {} does not exist, so there is nothing to reindex from: create it first (`index_create`)",
                            def.name
                        ));
                    }
                    many => {
                        return Err(format!(
                            "alias {} points at {} indices ({}): reindex needs one source",
                            def.name,
                            many.len(),
                            many.iter()
                                .map(|r| r.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                    }
                };
                lines.push(format!(
                    "Reindex {} ({}) into a new index {}-<date-time> with the settings and mappings of {}; then point alias {} at it{}.",
                    old.name,
                    docs(old),
                    def.name,
                    def.definition.display(),
                    def.name,
                    if *delete_old {
                        format!(" and delete {}", old.name)
                    } else {
                        String::new()
                    }
                ));
                targets.push(ReindexTarget {
                    definition: read_definition(def)?,
                    old: old.name.clone(),
                });
            }
            if targets.is_empty() {
                return Err(format!(
                    "none of the indices of deployment `{}` exists, so there is nothing to reindex from: create them first (`index_create`)",
                    d.name
                ));
            }
            if !missing.is_empty() {
                lines.push(format!(
                    "Not reindexed, as they do not exist (`index_create` makes them): {}.",
                    missing.join(", ")
                ));
            }
            lines.push("A failed or cancelled reindex leaves every alias where it was.".into());
            let target = format!(
                "indices {}",
                targets
                    .iter()
                    .map(|t| t.definition.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            (
                lines,
                ReindexOp::OpenSearch {
                    targets,
                    delete_old: *delete_old,
                },
                target,
            )
        }
        ReindexStrategy::Lambda {
            function,
            payload,
            queue,
            quiet_period,
            timeout,
        } => {
            let aliases: Vec<String> = defs.iter().map(|d| d.name.clone()).collect();
            let lines = vec![
                format!("Invoke function {function} with payload {payload}."),
                format!(
                    "Then watch queue {queue} drain and the documents of {} grow.",
                    aliases.join(", ")
                ),
                format!(
                    "Done once {queue} stays empty for {} s; given up after {} s.",
                    quiet_period.as_secs(),
                    timeout.as_secs()
                ),
            ];
            (
                lines,
                ReindexOp::Lambda {
                    function: function.clone(),
                    payload: payload.clone(),
                    queue: queue.clone(),
                    aliases,
                    quiet_period: *quiet_period,
                    timeout: *timeout,
                },
                format!("function {function}"),
            )
        }
    };
    let strategy_name = match &op {
        ReindexOp::OpenSearch { .. } => "opensearch",
        ReindexOp::Lambda { .. } => "lambda",
    };
    Ok(Plan {
        action: "index_reindex",
        deployment: d.clone(),
        target,
        parameters: json!({ "strategy": strategy_name, "indices": names }),
        title: "Reindex".into(),
        lines,
        effect: Effect::Confirmed,
        op: Op::Reindex(Box::new(op)),
    })
}

fn names_of(defs: &[Definition]) -> String {
    defs.iter()
        .map(|d| d.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `NAME-YYYYMMDD-HHMMSS` (UTC) for a new index behind alias `NAME`.
pub fn new_index_name(alias: &str, at: SystemTime) -> String {
    let stamp = jiff::Timestamp::try_from(at)
        .map(|t| t.strftime("%Y%m%d-%H%M%S").to_string())
        .unwrap_or_else(|_| "new".into());
    format!("{alias}-{stamp}")
}

/// The body of a new index: the definition without aliases (they move last).
fn without_aliases(body: &Value) -> Value {
    let mut b = body.clone();
    if let Some(o) = b.as_object_mut() {
        o.remove("aliases");
    }
    b
}

async fn data_plane(c: &Clients, d: &Deployment) -> Result<SearchClient, Outcome> {
    crate::aws::search::connect(c, d)
        .await
        .map(|(_, client)| client)
        .map_err(|p| Outcome::Refused(format!("nothing was changed: {}", p.message)))
}

pub async fn run_create(c: &Clients, d: &Deployment, defs: &[Definition], ctx: &Ctx) -> Outcome {
    let client = match data_plane(c, d).await {
        Ok(client) => client,
        Err(o) => return o,
    };
    let mut made = Vec::new();
    for (i, def) in defs.iter().enumerate() {
        if i > 0 && ctx.cancelled() {
            return Outcome::Cancelled(format!(
                "cancelled after creating {}; not created: {}",
                or_none(&made),
                names_of(&defs[i..])
            ));
        }
        ctx.progress(
            i as u64,
            Some(defs.len() as u64),
            format!("creating {}", def.name),
        );
        let name = new_index_name(&def.name, SystemTime::now());
        let mut body = without_aliases(&def.body);
        body["aliases"] = json!({ def.name.clone(): {} });
        match client.create_index(&name, &body).await {
            Ok(()) => {
                ctx.line(format!("created {name} behind alias {}", def.name));
                made.push(name);
            }
            Err(e) => {
                return Outcome::failed(format!(
                    "creating {name} failed: {e}; created before it: {}",
                    or_none(&made)
                ));
            }
        }
    }
    ctx.progress(defs.len() as u64, Some(defs.len() as u64), "done");
    Outcome::ok(format!("created {}", made.join(", ")))
}

pub async fn run_delete(c: &Clients, d: &Deployment, indices: &[String], ctx: &Ctx) -> Outcome {
    let client = match data_plane(c, d).await {
        Ok(client) => client,
        Err(o) => return o,
    };
    let mut gone = Vec::new();
    for (i, name) in indices.iter().enumerate() {
        if i > 0 && ctx.cancelled() {
            return Outcome::Cancelled(format!(
                "cancelled after deleting {}; still there: {}",
                or_none(&gone),
                indices[i..].join(", ")
            ));
        }
        ctx.progress(
            i as u64,
            Some(indices.len() as u64),
            format!("deleting {name}"),
        );
        match client.delete_index(name).await {
            Ok(()) => {
                ctx.line(format!("deleted {name}"));
                gone.push(name.clone());
            }
            Err(e) => {
                return Outcome::failed(format!(
                    "deleting {name} failed: {e}; deleted before it: {}",
                    or_none(&gone)
                ));
            }
        }
    }
    Outcome::ok(format!("deleted {}", gone.join(", ")))
}

fn or_none(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

pub async fn run_reindex(c: &Clients, d: &Deployment, op: &ReindexOp, ctx: &Ctx) -> Outcome {
    match op {
        ReindexOp::OpenSearch {
            targets,
            delete_old,
        } => {
            let client = match data_plane(c, d).await {
                Ok(client) => client,
                Err(o) => return o,
            };
            let mut done = Vec::new();
            for t in targets {
                match reindex_one(&client, t, *delete_old, ctx).await {
                    Ok(line) => {
                        ctx.line(line.clone());
                        done.push(line);
                    }
                    Err(outcome) => {
                        return with_done(outcome, &done);
                    }
                }
            }
            Outcome::ok(done.join("; "))
        }
        ReindexOp::Lambda {
            function,
            payload,
            queue,
            aliases,
            quiet_period,
            timeout,
        } => {
            run_lambda(
                c,
                d,
                function,
                payload,
                queue,
                aliases,
                *quiet_period,
                *timeout,
                ctx,
            )
            .await
        }
    }
}

/// Says which indices were already reindexed when a later one did not make it.
fn with_done(outcome: Outcome, done: &[String]) -> Outcome {
    if done.is_empty() {
        return outcome;
    }
    let before = format!(" (before it: {})", done.join("; "));
    match outcome {
        Outcome::Failed { message, detail } => Outcome::Failed {
            message: message + &before,
            detail,
        },
        Outcome::Cancelled(m) => Outcome::Cancelled(m + &before),
        other => other,
    }
}

/// One index: create, `_reindex` as a task, follow it, swap the alias.
async fn reindex_one(
    client: &SearchClient,
    t: &ReindexTarget,
    delete_old: bool,
    ctx: &Ctx,
) -> Result<String, Outcome> {
    let alias = &t.definition.name;
    let new = new_index_name(alias, SystemTime::now());
    ctx.progress(0, None, format!("{alias}: creating {new}"));
    client
        .create_index(&new, &without_aliases(&t.definition.body))
        .await
        .map_err(|e| {
            Outcome::failed(format!(
                "creating {new} failed: {e}; alias {alias} still points at {}",
                t.old
            ))
        })?;
    ctx.line(format!("created {new}"));
    let task = client.start_reindex(&t.old, &new).await.map_err(|e| {
        Outcome::failed(format!(
            "starting the reindex of {} into {new} failed: {e}; alias {alias} still points at {}; the empty {new} is left (`index_delete` removes it)",
            t.old, t.old
        ))
    })?;
    ctx.line(format!("reindex task {task}: {} → {new}", t.old));
    let started = Instant::now();
    let mut cancel_sent = false;
    let status: TaskStatus = loop {
        if ctx.cancelled() && !cancel_sent {
            ctx.line(format!("cancelling task {task}"));
            if let Err(e) = client.cancel_task(&task).await {
                return Err(Outcome::failed(format!(
                    "cancelling task {task} failed: {e}; it may still be running; alias {alias} still points at {}",
                    t.old
                )));
            }
            cancel_sent = true;
        }
        let s = client.task(&task).await.map_err(|e| {
            Outcome::failed(format!(
                "following task {task} failed: {e}; alias {alias} still points at {}; the task may still be running",
                t.old
            ))
        })?;
        let secs = started.elapsed().as_secs_f64().max(0.001);
        let rate = s.done() as f64 / secs;
        ctx.progress(
            s.done(),
            Some(s.total),
            format!(
                "{alias}: {} of {} documents, {rate:.0}/s",
                s.done(),
                s.total
            ),
        );
        if s.completed {
            break s;
        }
        tokio::time::sleep(TASK_POLL).await;
    };
    let copied = format!("{} of {} documents", status.done(), status.total);
    if status.cancelled || cancel_sent {
        return Err(Outcome::Cancelled(format!(
            "reindex of {} cancelled after {copied}; alias {alias} still points at {}; the partial {new} is left (`index_delete` removes it)",
            t.old, t.old
        )));
    }
    if !status.failures.is_empty() || status.error.is_some() {
        for f in &status.failures {
            ctx.line(format!("failure: {f}"));
        }
        if let Some(e) = &status.error {
            ctx.line(format!("error: {e}"));
        }
        let first = status
            .failures
            .first()
            .cloned()
            .or(status.error.clone())
            .unwrap_or_default();
        return Err(Outcome::failed(format!(
            "reindex of {} into {new} failed after {copied} with {} failure(s), first: {first}; alias {alias} still points at {}",
            t.old,
            status.failures.len().max(1),
            t.old
        )));
    }
    if status.done() < status.total {
        return Err(Outcome::failed(format!(
            "reindex of {} into {new} ended with only {copied}; alias {alias} still points at {}",
            t.old, t.old
        )));
    }
    client
        .swap_alias(alias, Some(&t.old), &new)
        .await
        .map_err(|e| {
            Outcome::failed(format!(
                "copied {copied} into {new}, but moving alias {alias} failed: {e}; it still points at {}",
                t.old
            ))
        })?;
    ctx.line(format!("alias {alias}: {} → {new}", t.old));
    if delete_old {
        client.delete_index(&t.old).await.map_err(|e| {
            Outcome::failed(format!(
                "reindexed {alias} into {new} and moved the alias, but deleting the old {} failed: {e}",
                t.old
            ))
        })?;
        ctx.line(format!("deleted {}", t.old));
    }
    Ok(format!("{alias}: {} → {new} ({copied})", t.old))
}

#[allow(clippy::too_many_arguments)]
async fn run_lambda(
    c: &Clients,
    d: &Deployment,
    function: &str,
    payload: &str,
    queue: &str,
    aliases: &[String],
    quiet_period: Duration,
    timeout: Duration,
    ctx: &Ctx,
) -> Outcome {
    // The queue first: a name that is wrong must fail before the invoke.
    let url = match c.sqs.get_queue_url().queue_name(queue).send().await {
        Ok(o) => o.queue_url().unwrap_or_default().to_string(),
        Err(e) => {
            return Outcome::Refused(format!(
                "nothing was changed: {}",
                c.ctx.problem("GetQueueUrl", &e).message
            ));
        }
    };
    // The counts are progress, not the verdict: without a data plane the
    // job still watches the queue, and says why it shows no counts.
    let search = match crate::aws::search::connect(c, d).await {
        Ok((_, client)) => Some(client),
        Err(p) => {
            ctx.line(format!("document counts unavailable: {}", p.message));
            None
        }
    };
    let first_counts = counts(search.as_ref(), aliases, ctx).await;
    let sent = c
        .lambda
        .invoke()
        .function_name(function)
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(payload.as_bytes().to_vec()))
        .send()
        .await;
    match sent {
        Ok(out) => ctx.line(format!(
            "invoked {function} (status {}) with {payload}",
            out.status_code()
        )),
        Err(e) => {
            return Outcome::failed(format!(
                "invoking {function} failed: {}",
                c.ctx.problem("Invoke", &e).message
            ));
        }
    }
    let poll = (quiet_period / 4).clamp(Duration::from_millis(100), QUEUE_POLL);
    let started = Instant::now();
    let mut empty_since: Option<Instant> = None;
    let mut depth = 0u64;
    let mut now_counts = first_counts;
    loop {
        if ctx.cancelled() {
            return Outcome::Cancelled(format!(
                "stopped watching after {} s; {function} was invoked and its work goes on in AWS: {queue} has {depth} messages",
                started.elapsed().as_secs()
            ));
        }
        depth = match queue_depth(c, &url).await {
            Ok(n) => n,
            Err(why) => {
                ctx.line(format!("queue {queue}: {why}"));
                depth
            }
        };
        now_counts = counts(search.as_ref(), aliases, ctx).await.or(now_counts);
        let grown = match (first_counts, now_counts) {
            (Some(a), Some(b)) => format!("; documents {b} (+{})", b.saturating_sub(a)),
            _ => String::new(),
        };
        ctx.progress(
            now_counts
                .unwrap_or(0)
                .saturating_sub(first_counts.unwrap_or(0)),
            None,
            format!("queue {queue}: {depth} messages{grown}"),
        );
        if depth == 0 {
            let since = *empty_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= quiet_period {
                return Outcome::ok(format!(
                    "reindex done: {queue} stayed empty for {} s{grown}",
                    quiet_period.as_secs()
                ));
            }
        } else {
            empty_since = None;
        }
        if started.elapsed() >= timeout {
            return Outcome::failed(format!(
                "timed out after {} s: queue {queue} never drained (still {depth} messages){grown}; the reindex may still be running in AWS",
                timeout.as_secs()
            ));
        }
        tokio::time::sleep(poll).await;
    }
}

/// Visible, in-flight and delayed messages: all the work not yet done.
async fn queue_depth(c: &Clients, url: &str) -> Result<u64, String> {
    let out = c
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
        .send()
        .await
        .map_err(|e| c.ctx.problem("GetQueueAttributes", &e).message)?;
    let attrs = out.attributes();
    let get = |k: QueueAttributeName| {
        attrs
            .and_then(|a| a.get(&k))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok(get(QueueAttributeName::ApproximateNumberOfMessages)
        + get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        + get(QueueAttributeName::ApproximateNumberOfMessagesDelayed))
}

/// The documents behind the aliases, summed; `None` when they cannot be read.
async fn counts(search: Option<&SearchClient>, aliases: &[String], ctx: &Ctx) -> Option<u64> {
    let search = search?;
    let mut total = 0;
    for a in aliases {
        match search.count(a).await {
            Ok(n) => total += n,
            Err(e) => {
                ctx.line(format!("counting {a}: {e}"));
                return None;
            }
        }
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Resources;

    fn dev(reindex: Option<ReindexStrategy>) -> Deployment {
        Deployment {
            name: "dev".into(),
            profile: None,
            region: None,
            endpoint_url: None,
            protected: false,
            read_only: false,
            sandbox_credentials: false,
            resources: Resources {
                indices: vec![
                    IndexDefinition {
                        name: "dev-files".into(),
                        definition: "config/opensearch/files.json".into(),
                    },
                    IndexDefinition {
                        name: "dev-samples".into(),
                        definition: "config/opensearch/samples.json".into(),
                    },
                ],
                reindex,
                ..Resources::default()
            },
        }
    }

    fn row(name: &str, alias: &str, docs: u64) -> IndexRow {
        IndexRow {
            name: name.into(),
            status: "open".into(),
            docs: Some(docs),
            aliases: vec![alias.into()],
            ..IndexRow::default()
        }
    }

    #[test]
    fn create_makes_only_what_is_missing() {
        let rows = [row("dev-files-v1", "dev-files", 10)];
        let plan = create(&dev(None), &rows, &[]).unwrap();
        match &plan.op {
            Op::IndexCreate { definitions } => {
                assert_eq!(definitions.len(), 1);
                assert_eq!(definitions[0].name, "dev-samples");
            }
            other => panic!("{other:?}"),
        }
        assert!(
            plan.lines
                .iter()
                .any(|l| l.contains("left alone: dev-files"))
        );
        let all = [
            row("dev-files-v1", "dev-files", 10),
            row("dev-samples-v1", "dev-samples", 5),
        ];
        let e = create(&dev(None), &all, &[]).unwrap_err();
        assert!(e.starts_with("nothing to create"), "{e}");
    }

    #[test]
    fn delete_lists_each_index_with_its_documents() {
        let rows = [
            row("dev-files-v1", "dev-files", 12_840),
            row("dev-samples-v1", "dev-samples", 5),
        ];
        let plan = delete(&dev(None), &rows, &[]).unwrap();
        assert_eq!(plan.effect, Effect::Confirmed);
        assert!(
            plan.lines[0].contains("12845 documents in all"),
            "{:?}",
            plan.lines
        );
        assert!(
            plan.lines
                .iter()
                .any(|l| l == "  dev-files-v1 (alias dev-files): 12840 documents")
        );
        let e = delete(&dev(None), &rows, &["dev-nothing".into()]).unwrap_err();
        assert!(e.contains("defines no index `dev-nothing`"), "{e}");
    }

    #[test]
    fn reindex_needs_a_strategy_and_a_source() {
        let rows = [row("dev-files-v1", "dev-files", 10)];
        let e = reindex(&dev(None), &rows, &[]).unwrap_err();
        assert!(e.contains("no reindex strategy"), "{e}");
        let os = Some(ReindexStrategy::OpenSearch { delete_old: true });
        let e = reindex(&dev(os.clone()), &rows, &["dev-samples".into()]).unwrap_err();
        assert!(e.contains("dev-samples does not exist"), "{e}");
        let e = reindex(&dev(os.clone()), &[], &[]).unwrap_err();
        assert!(e.starts_with("none of the indices"), "{e}");
        let plan = reindex(&dev(os), &rows, &[]).unwrap();
        assert!(
            plan.lines[0].contains("and delete dev-files-v1"),
            "{:?}",
            plan.lines
        );
        assert!(
            plan.lines[1].starts_with("Not reindexed"),
            "{:?}",
            plan.lines
        );
    }

    #[test]
    fn a_missing_definition_file_is_named() {
        let mut d = dev(None);
        d.resources.indices[1].definition = "config/opensearch/nope.json".into();
        let e = create(&d, &[], &[]).unwrap_err();
        assert!(e.contains("config/opensearch/nope.json"), "{e}");
    }
}
