//! Tailing CloudWatch log groups by polling FilterLogEvents, built to beat
//! `aws logs tail`: the next page is fetched at once (an empty page with a
//! token is not the end), a caught-up group is polled again after ~1 s, events
//! are de-duplicated by id at the boundary timestamp, several groups are
//! merged in timestamp order, and all tails of a deployment share one request
//! budget (FilterLogEvents allows 5 requests/s per account and region).
//!
//! Faults are part of the design: throttling and an unreachable endpoint are
//! retried with backoff from the last event seen, so nothing is lost or
//! repeated when the endpoint comes back; a missing group or a bad filter
//! pattern ends the tail with a message.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use tokio::sync::mpsc;

use super::{Budget, TailEvent, TailSpec, TailStatus, TailUpdate, now_ms};
use crate::aws::Clients;
use crate::model::{Problem, ProblemKind};

/// Where one group's tail stands. A poll is a chain of pages (following
/// `nextToken`); pages need not be in timestamp order (moto groups them by
/// stream), so the boundary moves only when a chain ends.
#[derive(Debug)]
struct Cursor {
    name: String,
    /// The next chain starts here (inclusive): the newest timestamp seen.
    from: i64,
    /// Ids of events seen at `from`, which the next chain returns again.
    seen_at_from: HashSet<String>,
    token: Option<String>,
    /// The newest timestamp of the running chain, and the ids seen at it.
    chain_max: i64,
    chain_seen: HashSet<String>,
    /// When the running chain's first page was asked for.
    chain_started: i64,
    /// Every event of this group up to here has been fetched.
    complete_until: i64,
    done: bool,
    /// The group answered at least once (so a later "not found" is a gap, not a typo).
    found: bool,
    /// A caught-up group is polled again from this moment.
    next_poll: tokio::time::Instant,
}

const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Runs a tail until its range ends, a fatal problem, or `updates` closes.
pub async fn poll(c: &Clients, spec: TailSpec, budget: Budget, updates: mpsc::Sender<TailUpdate>) {
    poll_with(c, spec, budget, updates, None).await;
}

/// [`poll`], giving up once the endpoint has not answered for `give_up`:
/// a one-shot read that somebody waits on must end, while a follow tail
/// retries for as long as it runs. Throttling is an answer, so it does not
/// count against the limit.
pub async fn poll_with(
    c: &Clients,
    spec: TailSpec,
    budget: Budget,
    updates: mpsc::Sender<TailUpdate>,
    give_up: Option<Duration>,
) {
    let mut cursors: Vec<Cursor> = spec
        .groups
        .iter()
        .map(|g| Cursor {
            name: g.clone(),
            from: spec.range.start,
            seen_at_from: HashSet::new(),
            token: None,
            chain_max: i64::MIN,
            chain_seen: HashSet::new(),
            chain_started: 0,
            complete_until: spec.range.start - 1,
            done: false,
            found: false,
            next_poll: tokio::time::Instant::now(),
        })
        .collect();
    // Held back until the watermark passes them: (ts, arrival) → event.
    let mut pending: BTreeMap<(i64, u64), TailEvent> = BTreeMap::new();
    let mut arrival = 0u64;
    let mut backoff = Duration::from_secs(1);
    let mut status = TailStatus::Polling;
    let mut last_answer = tokio::time::Instant::now();
    let send = |u: TailUpdate| {
        let updates = updates.clone();
        async move { updates.send(u).await.is_ok() }
    };
    if !send(TailUpdate::Status(status.clone())).await {
        return;
    }
    loop {
        for (gi, cur) in cursors.iter_mut().enumerate() {
            if cur.done || cur.next_poll > tokio::time::Instant::now() {
                continue;
            }
            budget.until_ready().await;
            let asked_at = now_ms();
            if cur.token.is_none() {
                cur.chain_started = asked_at;
            }
            let operation = format!("FilterLogEvents on {}", cur.name);
            let request = c
                .logs
                .filter_log_events()
                .log_group_name(&cur.name)
                .start_time(cur.from)
                .set_end_time(spec.range.end)
                .set_filter_pattern(spec.filter.clone())
                .set_next_token(cur.token.clone())
                .limit(10_000)
                .send();
            // The SDK's own timeouts bound one call; this bounds the wait
            // since the last answer, which is what the person waiting sees.
            let result = match give_up {
                None => Ok(request.await),
                Some(limit) => {
                    tokio::time::timeout(limit.saturating_sub(last_answer.elapsed()), request).await
                }
            };
            let page = match result {
                Ok(Ok(page)) => page,
                Err(_elapsed) => {
                    let p = c.ctx.problem_from_text(&operation, "timed out");
                    send(TailUpdate::Ended(Some(gave_up(p, give_up)))).await;
                    return;
                }
                Ok(Err(e)) => {
                    let p = c.ctx.problem(&operation, &e);
                    if p.kind == ProblemKind::Throttled {
                        last_answer = tokio::time::Instant::now();
                    }
                    if p.kind == ProblemKind::Unreachable
                        && let Some(limit) = give_up
                        && last_answer.elapsed() + backoff >= limit
                    {
                        send(TailUpdate::Ended(Some(gave_up(p, give_up)))).await;
                        return;
                    }
                    let vanished = p.kind == ProblemKind::NotFound && cur.found;
                    match p.kind {
                        ProblemKind::Throttled
                        | ProblemKind::Unreachable
                        | ProblemKind::NotFound
                            if p.kind != ProblemKind::NotFound || vanished =>
                        {
                            let s = match p.kind {
                                ProblemKind::Throttled => TailStatus::Throttled(p),
                                ProblemKind::Unreachable => TailStatus::Unreachable(p),
                                _ => TailStatus::Missing(Problem::new(
                                    p.kind,
                                    format!(
                                        "log group {} is gone; waiting for it to come back",
                                        cur.name
                                    ),
                                )),
                            };
                            if status != s {
                                status = s.clone();
                                if !send(TailUpdate::Status(s)).await {
                                    return;
                                }
                            }
                            tokio::time::sleep(backoff).await;
                            backoff = (backoff * 2).min(MAX_BACKOFF);
                            continue;
                        }
                        _ => {
                            let p = if p.kind == ProblemKind::NotFound {
                                Problem::new(
                                    p.kind,
                                    format!("log group {} does not exist", cur.name),
                                )
                            } else {
                                p
                            };
                            send(TailUpdate::Ended(Some(p))).await;
                            return;
                        }
                    }
                }
            };
            backoff = Duration::from_secs(1);
            last_answer = tokio::time::Instant::now();
            cur.found = true;
            if status != TailStatus::Polling && status != TailStatus::CaughtUp {
                status = TailStatus::Polling;
                if !send(TailUpdate::Status(status.clone())).await {
                    return;
                }
            }
            for e in page.events() {
                let (Some(ts), Some(id)) = (e.timestamp(), e.event_id()) else {
                    continue;
                };
                if ts < cur.from || (ts == cur.from && cur.seen_at_from.contains(id)) {
                    continue; // the boundary: seen by an earlier chain
                }
                match ts.cmp(&cur.chain_max) {
                    std::cmp::Ordering::Greater => {
                        cur.chain_max = ts;
                        cur.chain_seen.clear();
                        cur.chain_seen.insert(id.to_string());
                    }
                    std::cmp::Ordering::Equal => {
                        cur.chain_seen.insert(id.to_string());
                    }
                    std::cmp::Ordering::Less => {}
                }
                arrival += 1;
                pending.insert(
                    (ts, arrival),
                    TailEvent {
                        group: gi as u16,
                        stream: e.log_stream_name().unwrap_or_default().to_string(),
                        ts,
                        id: id.to_string(),
                        message: e.message().unwrap_or_default().to_string(),
                    },
                );
            }
            cur.token = page.next_token().map(str::to_string);
            if cur.token.is_none() {
                // The chain ended: move the boundary, and everything up to
                // when the chain started is now fetched.
                if cur.chain_max > cur.from {
                    cur.from = cur.chain_max;
                    cur.seen_at_from = std::mem::take(&mut cur.chain_seen);
                } else if cur.chain_max == cur.from {
                    cur.seen_at_from.extend(cur.chain_seen.drain());
                }
                cur.chain_max = i64::MIN;
                cur.chain_seen.clear();
                let until = cur.chain_started;
                cur.complete_until = spec.range.end.map_or(until, |e| e.min(until));
                let range_over = spec.range.end.is_some_and(|end| until >= end);
                if !spec.follow || range_over {
                    cur.done = true;
                }
                cur.next_poll = tokio::time::Instant::now() + spec.poll_every;
            }
        }
        // Release what no group can still precede.
        let watermark = cursors
            .iter()
            .filter(|c| !c.done)
            .map(|c| c.complete_until)
            .min()
            .unwrap_or(i64::MAX);
        let later = pending.split_off(&(watermark.saturating_add(1), 0));
        let ready = std::mem::replace(&mut pending, later);
        if !ready.is_empty() && !send(TailUpdate::Events(ready.into_values().collect())).await {
            return;
        }
        if cursors.iter().all(|c| c.done) {
            send(TailUpdate::Ended(None)).await;
            return;
        }
        // Sleep until the earliest caught-up group is due again.
        let caught_up = cursors
            .iter()
            .filter(|c| !c.done)
            .all(|c| c.token.is_none());
        if caught_up && status == TailStatus::Polling {
            status = TailStatus::CaughtUp;
            if !send(TailUpdate::Status(status.clone())).await {
                return;
            }
        }
        if let Some(next) = cursors
            .iter()
            .filter(|c| !c.done)
            .map(|c| c.next_poll)
            .min()
        {
            tokio::time::sleep_until(next).await;
        }
    }
}

/// The problem that ended a one-shot tail, saying that it gave up and when.
fn gave_up(p: Problem, limit: Option<Duration>) -> Problem {
    let limit = limit.unwrap_or_default();
    let after = if limit.subsec_millis() == 0 {
        format!("{} s", limit.as_secs())
    } else {
        format!("{:.1} s", limit.as_secs_f64())
    };
    Problem::new(
        p.kind,
        format!(
            "{}; gave up after {after} without an answer (--give-up-after)",
            p.message
        ),
    )
}
