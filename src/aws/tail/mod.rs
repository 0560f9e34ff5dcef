//! Tailing CloudWatch log groups: [`run`] follows with CloudWatch Logs Live
//! Tail where the endpoint supports it and polls FilterLogEvents otherwise.
//!
//! - [`poll()`]: polling FilterLogEvents, for history and wherever live tail is
//!   unavailable;
//! - [`live`]: following with Live Tail (StartLiveTail), which polls for
//!   history and falls back to polling;
//! - `dedupe`: dropping the events a poll and a live session both deliver;
//! - `host_prefix`: the SDK's `stream-` host prefix undone for custom endpoints.
//!
//! The shared types (what to tail, what a tail answers, the request budget)
//! live here; `live` uses `poll` and `dedupe`, and neither uses `live`.

mod dedupe;
mod host_prefix;
pub mod live;
mod poll;

pub use poll::{poll, poll_with};

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::mpsc;

use crate::aws::Clients;
use crate::logs::Range;
use crate::model::Problem;

/// FilterLogEvents' quota per account and region.
pub const FILTER_TPS: u32 = 5;

/// The request budget one deployment's tails share.
pub type Budget = Arc<DefaultDirectRateLimiter>;

pub fn budget(per_second: u32) -> Budget {
    let n = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
    Arc::new(RateLimiter::direct(Quota::per_second(n)))
}

/// A budget with no burst: calls are spaced evenly, so no one-second window
/// ever holds more than `per_second` of them. A burst of `n` on top of `n`
/// a second would let a first second hold nearly `2n` (Lambda's control
/// plane throttles at 15 a second).
pub fn even_budget(per_second: u32) -> Budget {
    let n = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
    Arc::new(RateLimiter::direct(
        Quota::per_second(n).allow_burst(NonZeroU32::MIN),
    ))
}

/// What to tail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailSpec {
    pub groups: Vec<String>,
    pub range: Range,
    /// A CloudWatch Logs filter pattern, applied by AWS.
    pub filter: Option<String>,
    /// Keep polling for new events after the range's end (or now).
    pub follow: bool,
    /// Wait between polls of a caught-up group.
    pub poll_every: Duration,
}

/// One log event, as FilterLogEvents returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailEvent {
    /// Index into [`TailSpec::groups`].
    pub group: u16,
    pub stream: String,
    pub ts: i64,
    pub id: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TailStatus {
    /// Fetching history or polling new events.
    Polling,
    /// Every group is caught up; new events are polled for.
    CaughtUp,
    /// AWS throttled a request; retrying after a pause.
    Throttled(Problem),
    /// The endpoint could not be reached; retrying from the last event seen.
    Unreachable(Problem),
    /// New events arrive by Live Tail (StartLiveTail), about a second behind.
    /// `sampled`: more than 500 events/s match, and AWS is sending a sample.
    Live { sampled: bool },
    /// Live tail is unavailable for the reason given; new events are polled for.
    Fallback(String),
    /// A group that was tailed is gone (a deploy recreating it, say);
    /// retrying until it is back, from the last event seen.
    Missing(Problem),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TailUpdate {
    /// Events in timestamp order, each released once no group can still
    /// return an earlier one.
    Events(Vec<TailEvent>),
    Status(TailStatus),
    /// The tail stopped: it reached the end of its range, or a problem that
    /// retrying cannot fix (missing group, bad pattern, denied).
    Ended(Option<Problem>),
}

/// Runs a tail the best way the endpoint allows: a follow tail without an
/// end follows with Live Tail, after loading its history by polling, and
/// falls back to polling when live tail is unavailable; any other tail polls.
/// Runs until the range ends, a fatal problem, or `updates` closes.
pub async fn run(c: &Clients, spec: TailSpec, budget: Budget, updates: mpsc::Sender<TailUpdate>) {
    live::run_with(c, spec, budget, updates, live::LiveOptions::default()).await;
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_even_budget_has_no_burst_and_a_plain_one_has() {
        // Fifteen asks in a row: a plain budget grants them all at once; an
        // even one grants the first and spaces the rest 1/15 s apart (two,
        // should this thread stall for 67 ms between asks).
        let plain = budget(15);
        assert_eq!((0..15).filter(|_| plain.check().is_ok()).count(), 15);
        let even = even_budget(15);
        let granted = (0..15).filter(|_| even.check().is_ok()).count();
        assert!((1..=2).contains(&granted), "{granted}");
    }
}
