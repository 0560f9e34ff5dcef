//! Following log groups with CloudWatch Logs Live Tail (`StartLiveTail`), with
//! polling ([`poll`]) for history and as the fallback.
//!
//! Live tail only delivers events ingested while a session is open, so a tail
//! that does not follow, or whose range has an end, is polled ([`run_with`]
//! hands it to [`poll`]). A follow tail runs like this:
//!
//! 1. The groups' ARNs are looked up with DescribeLogGroups (StartLiveTail
//!    takes ARNs).
//! 2. A session is opened and its `SessionStart` awaited. From then on its
//!    updates are buffered.
//! 3. History, from the range's start up to now, is read by polling
//!    FilterLogEvents once; then the buffered updates are released. The two
//!    overlap (events ingested after the session opened and before the poll
//!    read them), and live events carry no event id: events are
//!    de-duplicated by group, stream, timestamp and message, counting
//!    repeats, so that two identical lines in one millisecond both survive
//!    while neither shows twice.
//! 4. Each update (one a second) is released sorted by timestamp, and its
//!    `sampled` flag (AWS samples above 500 events/s) is reported as
//!    [`TailStatus::Live`].
//! 5. A few seconds into each session the span just before it opened is
//!    polled once more, de-duplicated: FilterLogEvents may not yet have shown
//!    events ingested a moment before the first poll.
//! 6. When a session ends (the 3-hour `SessionTimeoutException`, the stream
//!    closing or failing, or no update for the watchdog's ~5 s), a new one is
//!    opened and the span since shortly before the last update is polled, so
//!    nothing ingested in between is lost and nothing is shown twice.
//!
//! Live tail is given up for polling from where it stood, saying why in
//! [`TailStatus::Fallback`], when the endpoint refuses it (access denied, too
//! many sessions, an unknown operation: any error but throttling and an
//! unreachable endpoint, which are retried), when there are more than 10
//! groups, or when the endpoint does not really stream: moto, for one,
//! answers StartLiveTail with a one-off snapshot of the groups and closes the
//! stream at once.
//!
//! With a custom endpoint (a local emulator), the SDK's `stream-` host prefix
//! for StartLiveTail (`http://stream-127.0.0.1:5000`) is undone by
//! [`StripHostPrefix`].

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use aws_sdk_cloudwatchlogs::primitives::event_stream::EventReceiver;
use aws_sdk_cloudwatchlogs::types::error::StartLiveTailResponseStreamError;
use aws_sdk_cloudwatchlogs::types::{LiveTailSessionLogEvent, StartLiveTailResponseStream};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::dedupe::{Seen, fingerprint};
use super::host_prefix::{STREAM_HOST_PREFIX, StripHostPrefix};
use super::poll::poll;
use super::{Budget, TailEvent, TailSpec, TailStatus, TailUpdate, now_ms};
use crate::aws::{CallContext, Clients};
use crate::logs::Range;
use crate::model::{Problem, ProblemKind};

/// StartLiveTail takes at most this many log groups.
pub const MAX_LIVE_GROUPS: usize = 10;

/// Sessions in a row that may fail before the endpoint has shown it streams.
const MAX_FAILURES: u32 = 3;

const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// Timings of a live tail; the defaults suit AWS, tests shorten them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveOptions {
    /// Updates arrive every second; a session silent this long is dead.
    pub watchdog: Duration,
    /// A session that lasts this long shows the endpoint really streams; one
    /// that the endpoint closes sooner, before any did, means it does not.
    pub min_session: Duration,
    /// This long into a session, the span just before it opened is polled again.
    pub settle: Duration,
    /// After a session ends, polling resumes this long before its last update
    /// (allowing for clock skew and late timestamps).
    pub resume_margin: Duration,
    /// How far back delivered events are remembered for de-duplication.
    pub dedupe_window: Duration,
    pub max_backoff: Duration,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            watchdog: Duration::from_secs(5),
            min_session: Duration::from_secs(10),
            settle: Duration::from_secs(10),
            resume_margin: Duration::from_secs(30),
            dedupe_window: Duration::from_secs(5 * 60),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// Runs a tail: live tail for a follow tail without an end, else polling.
/// [`super::run`] calls this with the default options.
pub async fn run_with(
    c: &Clients,
    spec: TailSpec,
    budget: Budget,
    updates: mpsc::Sender<TailUpdate>,
    options: LiveOptions,
) {
    // History with an end, or a one-off read: only FilterLogEvents returns
    // past events, and live tail has nothing to add.
    if !spec.follow || spec.range.end.is_some() || spec.groups.is_empty() {
        return poll(c, spec, budget, updates).await;
    }
    let live = Live::new(c, spec, budget, updates, options);
    if live.spec.groups.len() > MAX_LIVE_GROUPS {
        let reason = format!("more than {MAX_LIVE_GROUPS} log groups");
        return live.fallback(reason).await;
    }
    live.run().await;
}

/// The name of a log group from how live tail names it: a name, an ARN (with
/// or without `:*`), or `ACCOUNT:NAME`.
pub fn group_name(identifier: &str) -> &str {
    let id = identifier.strip_suffix(":*").unwrap_or(identifier);
    if let Some(i) = id.find(":log-group:") {
        return &id[i + ":log-group:".len()..];
    }
    match id.split_once(':') {
        Some((account, name))
            if !account.is_empty() && account.bytes().all(|b| b.is_ascii_digit()) =>
        {
            name
        }
        _ => id,
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// How a live session ended.
#[derive(Debug)]
enum End {
    /// The stream closed without an error.
    Closed,
    /// AWS ended the session at its 3-hour limit.
    Timeout,
    /// No update within the watchdog's time.
    Stalled,
    /// The stream failed (SessionStreamingException, a broken connection).
    Failed(Problem),
}

impl End {
    fn describe(&self) -> String {
        match self {
            End::Closed => "the stream closed".into(),
            End::Timeout => "the session timed out".into(),
            End::Stalled => "no update arrived".into(),
            End::Failed(p) => p.message.clone(),
        }
    }
}

/// One message of a live session's stream.
#[derive(Debug)]
enum StreamItem {
    Start,
    Update {
        /// When it arrived (ms since the epoch, this machine's clock).
        at: i64,
        sampled: bool,
        results: Vec<LiveTailSessionLogEvent>,
    },
    End(End),
}

type LiveStream = EventReceiver<StartLiveTailResponseStream, StartLiveTailResponseStreamError>;

/// An open live session: a task reads its stream into a channel (so that
/// waiting on it can be cancelled without losing a message).
struct LiveSession {
    items: mpsc::Receiver<StreamItem>,
    reader: tokio::task::JoinHandle<()>,
    opened: Instant,
    opened_ms: i64,
    last_item: Instant,
    /// Messages that arrived while a poll ran, to be handled next.
    buffer: VecDeque<StreamItem>,
    /// The stream's end is in `buffer`.
    ended: bool,
}

impl Drop for LiveSession {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl LiveSession {
    fn open(mut stream: LiveStream, ctx: CallContext) -> LiveSession {
        let (tx, items) = mpsc::channel(32);
        let reader = tokio::spawn(async move {
            loop {
                let msg = match stream.recv().await {
                    Ok(Some(StartLiveTailResponseStream::SessionStart(_))) => StreamItem::Start,
                    Ok(Some(StartLiveTailResponseStream::SessionUpdate(u))) => StreamItem::Update {
                        at: now_ms(),
                        sampled: u.session_metadata().is_some_and(|m| m.sampled()),
                        results: u.session_results.unwrap_or_default(),
                    },
                    // An `initial-response`, or an event this SDK does not know.
                    Ok(Some(_)) => continue,
                    Ok(None) => StreamItem::End(End::Closed),
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|e| e.is_session_timeout_exception()) =>
                    {
                        StreamItem::End(End::Timeout)
                    }
                    Err(e) => StreamItem::End(End::Failed(ctx.problem("the live tail stream", &e))),
                };
                let last = matches!(msg, StreamItem::End(_));
                if tx.send(msg).await.is_err() || last {
                    break;
                }
            }
        });
        let now = Instant::now();
        LiveSession {
            items,
            reader,
            opened: now,
            opened_ms: now_ms(),
            last_item: now,
            buffer: VecDeque::new(),
            ended: false,
        }
    }

    /// The next message: buffered first, then from the stream; `Stalled`
    /// when nothing came within `watchdog` of the last one. Cancel-safe.
    async fn next(&mut self, watchdog: Duration) -> StreamItem {
        if let Some(m) = self.buffer.pop_front() {
            return m;
        }
        if self.ended {
            return StreamItem::End(End::Closed);
        }
        match tokio::time::timeout_at(self.last_item + watchdog, self.items.recv()).await {
            Ok(Some(m)) => {
                self.last_item = Instant::now();
                m
            }
            Ok(None) => StreamItem::End(End::Closed),
            Err(_) => StreamItem::End(End::Stalled),
        }
    }

    /// Keeps a message that arrived while a poll ran.
    fn keep(&mut self, msg: Option<StreamItem>) {
        self.last_item = Instant::now();
        let msg = msg.unwrap_or(StreamItem::End(End::Closed));
        self.ended = matches!(msg, StreamItem::End(_));
        self.buffer.push_back(msg);
    }
}

/// What to do after trying something that may have to be retried.
enum Step<T> {
    Go(T),
    /// Retry after a pause, showing this status.
    Retry(TailStatus),
    /// Live tail is unavailable, for this reason.
    Unavailable(String),
}

impl<T> Step<T> {
    /// Throttling and an unreachable endpoint are retried; any other problem
    /// makes live tail unavailable.
    fn for_problem(p: Problem) -> Self {
        match p.kind {
            ProblemKind::Throttled => Step::Retry(TailStatus::Throttled(p)),
            ProblemKind::Unreachable => Step::Retry(TailStatus::Unreachable(p)),
            _ => Step::Unavailable(p.message),
        }
    }
}

/// What to do after a session ended.
enum Next {
    Reconnect,
    Pause(Option<TailStatus>),
    Fallback(String),
}

struct Live<'a> {
    c: &'a Clients,
    spec: TailSpec,
    budget: Budget,
    updates: mpsc::Sender<TailUpdate>,
    options: LiveOptions,
    /// Group index by name.
    index: HashMap<String, u16>,
    seen: Seen,
    status: Option<TailStatus>,
    sampled: bool,
    /// This machine's time (ms) up to which every event is believed delivered.
    covered_until: Option<i64>,
    /// A session has shown that the endpoint really streams.
    proven: bool,
    /// Sessions in a row that ended badly.
    failures: u32,
    backoff: Duration,
}

impl<'a> Live<'a> {
    fn new(
        c: &'a Clients,
        spec: TailSpec,
        budget: Budget,
        updates: mpsc::Sender<TailUpdate>,
        options: LiveOptions,
    ) -> Self {
        let index = spec
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| (group_name(g).to_string(), i as u16))
            .collect();
        Live {
            c,
            spec,
            budget,
            updates,
            options,
            index,
            seen: Seen::default(),
            status: None,
            sampled: false,
            covered_until: None,
            proven: false,
            failures: 0,
            backoff: FIRST_BACKOFF,
        }
    }

    async fn send(&self, u: TailUpdate) -> bool {
        self.updates.send(u).await.is_ok()
    }

    /// Reports `s` unless it is already the status; false if nobody listens.
    async fn set_status(&mut self, s: TailStatus) -> bool {
        if self.status.as_ref() == Some(&s) {
            return true;
        }
        self.status = Some(s.clone());
        self.send(TailUpdate::Status(s)).await
    }

    /// Waits the backoff (and doubles it); false if nobody listens any more.
    async fn pause(&mut self) -> bool {
        let d = self.backoff;
        self.backoff = (self.backoff * 2).min(self.options.max_backoff);
        tokio::select! {
            () = tokio::time::sleep(d) => true,
            () = self.updates.closed() => false,
        }
    }

    /// Where the next poll starts so that nothing since the last update is missed.
    fn resume_from(&self) -> i64 {
        match self.covered_until {
            None => self.spec.range.start,
            Some(t) => (t - millis(self.options.resume_margin)).max(self.spec.range.start),
        }
    }

    /// Releases the events not delivered yet; false if nobody listens.
    async fn release(&mut self, mut events: Vec<TailEvent>) -> bool {
        events.retain(|e| self.seen.admit(e));
        events.is_empty() || self.send(TailUpdate::Events(events)).await
    }

    async fn run(mut self) {
        if !self.set_status(TailStatus::Polling).await {
            return;
        }
        let arns = loop {
            match self.resolve().await {
                Step::Go(arns) => break arns,
                Step::Retry(status) => {
                    if !self.set_status(status).await || !self.pause().await {
                        return;
                    }
                }
                Step::Unavailable(reason) => return self.fallback(reason).await,
            }
        };
        self.backoff = FIRST_BACKOFF;
        loop {
            let mut session = match self.connect(&arns).await {
                Step::Go(s) => s,
                Step::Retry(status) => {
                    if !self.set_status(status).await || !self.pause().await {
                        return;
                    }
                    continue;
                }
                Step::Unavailable(reason) => return self.fallback(reason).await,
            };
            let end = match self.await_start(&mut session).await {
                None => return,
                Some(Err(end)) => end,
                Some(Ok(())) => {
                    let started = now_ms();
                    if !self.backfill(self.resume_from(), &mut session).await {
                        return;
                    }
                    self.covered_until =
                        Some(self.covered_until.map_or(started, |t| t.max(started)));
                    match self.stream(&mut session).await {
                        None => return,
                        Some(end) => end,
                    }
                }
            };
            let lasted = session.opened.elapsed();
            drop(session);
            tracing::debug!(?end, ?lasted, "live tail session ended");
            match self.after(end, lasted) {
                Next::Reconnect => {}
                Next::Pause(status) => {
                    if let Some(s) = status
                        && !self.set_status(s).await
                    {
                        return;
                    }
                    if !self.pause().await {
                        return;
                    }
                }
                Next::Fallback(reason) => return self.fallback(reason).await,
            }
        }
    }

    /// Decides what follows a session's end.
    fn after(&mut self, end: End, lasted: Duration) -> Next {
        let long = lasted >= self.options.min_session;
        if long || matches!(end, End::Timeout) {
            self.proven = true;
            self.failures = 0;
            self.backoff = FIRST_BACKOFF;
        }
        match end {
            // The 3-hour limit, or a session that ran a good while: go on at once.
            End::Timeout => Next::Reconnect,
            _ if long => Next::Reconnect,
            // moto, for one, sends a snapshot and closes the stream at once.
            End::Closed if !self.proven => Next::Fallback("the endpoint does not stream it".into()),
            end => {
                self.failures += 1;
                if !self.proven && self.failures >= MAX_FAILURES {
                    return Next::Fallback(format!("sessions keep failing: {}", end.describe()));
                }
                Next::Pause(match end {
                    End::Failed(p) if p.kind == ProblemKind::Unreachable => {
                        Some(TailStatus::Unreachable(p))
                    }
                    _ => None,
                })
            }
        }
    }

    /// The groups' ARNs, which StartLiveTail wants.
    async fn resolve(&self) -> Step<Vec<String>> {
        let mut arns = Vec::with_capacity(self.spec.groups.len());
        for g in &self.spec.groups {
            if g.starts_with("arn:") {
                arns.push(g.strip_suffix(":*").unwrap_or(g).to_string());
                continue;
            }
            let result = self
                .c
                .logs
                .describe_log_groups()
                .log_group_name_prefix(g)
                .limit(50)
                .send()
                .await;
            let out = match result {
                Ok(out) => out,
                Err(e) => {
                    return Step::for_problem(self.c.ctx.problem("DescribeLogGroups", &e));
                }
            };
            let found = out
                .log_groups()
                .iter()
                .find(|lg| lg.log_group_name() == Some(g.as_str()));
            let arn = found.and_then(|lg| {
                lg.log_group_arn().map(str::to_string).or_else(|| {
                    lg.arn()
                        .map(|a| a.strip_suffix(":*").unwrap_or(a).to_string())
                })
            });
            match arn {
                Some(arn) => arns.push(arn),
                None => return Step::Unavailable(format!("log group {g} not found")),
            }
        }
        Step::Go(arns)
    }

    async fn connect(&self, arns: &[String]) -> Step<LiveSession> {
        let result = self
            .c
            .logs
            .start_live_tail()
            .set_log_group_identifiers(Some(arns.to_vec()))
            .set_log_event_filter_pattern(self.spec.filter.clone())
            .customize()
            .interceptor(StripHostPrefix::new(STREAM_HOST_PREFIX))
            .send()
            .await;
        match result {
            Ok(out) => Step::Go(LiveSession::open(out.response_stream, self.c.ctx.clone())),
            Err(e) => connect_error(&self.c.ctx, &e),
        }
    }

    /// Waits for `SessionStart`. `None`: nobody listens; `Err`: the session
    /// ended first.
    async fn await_start(&self, s: &mut LiveSession) -> Option<Result<(), End>> {
        let msg = tokio::select! {
            m = s.next(self.options.watchdog) => m,
            () = self.updates.closed() => return None,
        };
        Some(match msg {
            StreamItem::Start => Ok(()),
            update @ StreamItem::Update { .. } => {
                // No SessionStart: take the update as the start.
                s.buffer.push_front(update);
                Ok(())
            }
            StreamItem::End(end) => Err(end),
        })
    }

    /// Polls from `from` up to now once, releasing what is new, while the
    /// session's messages are kept for later. False: the tail must stop.
    async fn backfill(&mut self, from: i64, s: &mut LiveSession) -> bool {
        let spec = TailSpec {
            range: Range {
                start: from,
                end: None,
            },
            follow: false,
            ..self.spec.clone()
        };
        let mut feed = PollFeed::start(self.c, spec, self.budget.clone());
        self.seen.new_run();
        loop {
            match feed.next(Some(&mut *s)).await {
                Some(TailUpdate::Events(events)) => {
                    if !self.release(events).await {
                        return false;
                    }
                }
                Some(TailUpdate::Status(
                    s @ (TailStatus::Throttled(_) | TailStatus::Unreachable(_)),
                )) => {
                    if !self.set_status(s).await {
                        return false;
                    }
                }
                Some(TailUpdate::Status(_)) => {}
                Some(TailUpdate::Ended(None)) | None => return true,
                Some(TailUpdate::Ended(Some(p))) => {
                    self.send(TailUpdate::Ended(Some(p))).await;
                    return false;
                }
            }
        }
    }

    /// Follows the session until it ends. `None`: the tail must stop.
    async fn stream(&mut self, s: &mut LiveSession) -> Option<End> {
        // moto answers with a snapshot and closes at once: do not announce
        // live tail for a stream that already closed like that.
        let doomed = !self.proven
            && s.buffer
                .iter()
                .any(|m| matches!(m, StreamItem::End(End::Closed)));
        if !doomed
            && !self
                .set_status(TailStatus::Live {
                    sampled: self.sampled,
                })
                .await
        {
            return None;
        }
        let mut settle_at = Some(s.opened + self.options.settle);
        // Forget nothing a later poll could return again.
        let keep = self
            .options
            .dedupe_window
            .max(self.options.resume_margin + self.options.settle + Duration::from_secs(60));
        self.seen.new_run();
        loop {
            if let Some(at) = settle_at
                && s.buffer.is_empty()
                && Instant::now() >= at
            {
                settle_at = None;
                let from =
                    (s.opened_ms - millis(self.options.resume_margin)).max(self.spec.range.start);
                if !self.backfill(from, s).await {
                    return None;
                }
                self.seen.new_run();
            }
            let settle = async {
                match settle_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let msg = tokio::select! {
                m = s.next(self.options.watchdog) => m,
                () = settle => continue,
                () = self.updates.closed() => return None,
            };
            match msg {
                StreamItem::Start => {}
                StreamItem::Update {
                    at,
                    sampled,
                    results,
                } => {
                    self.covered_until = Some(at);
                    let mut events: Vec<TailEvent> =
                        results.iter().filter_map(|e| self.convert(e)).collect();
                    events.sort_by_key(|e| e.ts);
                    if !self.release(events).await {
                        return None;
                    }
                    self.sampled = sampled;
                    if !doomed && !self.set_status(TailStatus::Live { sampled }).await {
                        return None;
                    }
                    self.seen.prune(at - millis(keep));
                    if !self.proven && s.opened.elapsed() >= self.options.min_session {
                        self.proven = true;
                        self.failures = 0;
                        self.backoff = FIRST_BACKOFF;
                    }
                }
                StreamItem::End(end) => return Some(end),
            }
        }
    }

    /// A live event as a [`TailEvent`]; `None` for one of no known group or
    /// from before the range.
    fn convert(&self, e: &LiveTailSessionLogEvent) -> Option<TailEvent> {
        let ts = e.timestamp()?;
        if ts < self.spec.range.start {
            return None;
        }
        let group = match e.log_group_identifier() {
            Some(id) => self.index.get(group_name(id)).copied(),
            None => None,
        };
        let group = match group {
            Some(g) => g,
            None if self.spec.groups.len() == 1 => 0,
            None => {
                tracing::debug!(group = ?e.log_group_identifier(), "live event of an unknown group");
                return None;
            }
        };
        let stream = e.log_stream_name().unwrap_or_default().to_string();
        let message = e.message().unwrap_or_default().to_string();
        // Live events have no id: make one that is stable for the same event.
        let id = format!(
            "live-{}-{:016x}",
            e.ingestion_time().unwrap_or(ts),
            fingerprint(group, &stream, &message)
        );
        Some(TailEvent {
            group,
            stream,
            ts,
            id,
            message,
        })
    }

    /// Polls from where live tail stood, for good, saying why.
    async fn fallback(mut self, reason: String) {
        tracing::info!(%reason, "live tail unavailable; polling");
        let status = TailStatus::Fallback(reason);
        if !self.set_status(status.clone()).await {
            return;
        }
        let spec = TailSpec {
            range: Range {
                start: self.resume_from(),
                end: None,
            },
            ..self.spec.clone()
        };
        let mut feed = PollFeed::start(self.c, spec, self.budget.clone());
        let mut caught_up = false;
        self.seen.new_run();
        loop {
            match feed.next(None).await {
                Some(TailUpdate::Events(events)) => {
                    if caught_up {
                        // The overlap with what live tail delivered is past.
                        self.seen
                            .prune(now_ms() - millis(self.options.dedupe_window));
                    }
                    if !self.release(events).await {
                        return;
                    }
                }
                Some(TailUpdate::Status(s @ (TailStatus::Polling | TailStatus::CaughtUp))) => {
                    caught_up |= s == TailStatus::CaughtUp;
                    if !self.set_status(status.clone()).await {
                        return;
                    }
                }
                Some(TailUpdate::Status(s)) => {
                    if !self.set_status(s).await {
                        return;
                    }
                }
                Some(ended @ TailUpdate::Ended(_)) => {
                    self.send(ended).await;
                    return;
                }
                None => return,
            }
        }
    }
}

/// A poll run beside live tail (the backfill of a session, or the fallback),
/// read one update at a time. The poll is not spawned: it makes progress only
/// while [`PollFeed::next`] is awaited, so a slow receiver slows it down.
struct PollFeed<'a> {
    poll: Pin<Box<dyn Future<Output = ()> + Send + 'a>>,
    updates: mpsc::Receiver<TailUpdate>,
    polling: bool,
}

impl<'a> PollFeed<'a> {
    fn start(c: &'a Clients, spec: TailSpec, budget: Budget) -> Self {
        let (tx, updates) = mpsc::channel(16);
        PollFeed {
            poll: Box::pin(poll(c, spec, budget, tx)),
            updates,
            polling: true,
        }
    }

    /// The poll's next update; `None` once it has ended and said all. The
    /// items `session` streams meanwhile are kept in it for later.
    async fn next(&mut self, mut session: Option<&mut LiveSession>) -> Option<TailUpdate> {
        loop {
            let keeping = session.as_ref().is_some_and(|s| !s.ended);
            let item = async {
                match session.as_deref_mut() {
                    Some(s) => s.items.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = &mut self.poll, if self.polling => self.polling = false,
                u = self.updates.recv() => return u,
                m = item, if keeping => {
                    if let Some(s) = session.as_deref_mut() {
                        s.keep(m);
                    }
                }
            }
        }
    }
}

/// Classifies a failed StartLiveTail call. The reasons are short: the UI
/// shows them in a title ("polling (live tail unavailable: REASON)").
fn connect_error<E, R>(ctx: &CallContext, e: &SdkError<E, R>) -> Step<LiveSession>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if let SdkError::ServiceError(se) = e {
        let code = se.err().code().unwrap_or("");
        let msg = se.err().message().unwrap_or("").trim();
        tracing::info!(code, msg, "StartLiveTail failed");
        return match code {
            "ThrottlingException" | "Throttling" | "TooManyRequestsException" => {
                Step::Retry(TailStatus::Throttled(ctx.problem("StartLiveTail", e)))
            }
            "AccessDeniedException" | "AccessDenied" => {
                Step::Unavailable("access denied (logs:StartLiveTail)".into())
            }
            "LimitExceededException" => {
                Step::Unavailable("too many sessions (LimitExceededException)".into())
            }
            "" | "UnknownOperationException" | "InvalidAction" | "NotImplemented" => {
                Step::Unavailable("the endpoint does not support it".into())
            }
            _ => Step::Unavailable(format!("StartLiveTail failed: {code}")),
        };
    }
    Step::for_problem(ctx.problem("StartLiveTail", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_groups_from_any_identifier() {
        assert_eq!(group_name("/aws/lambda/api"), "/aws/lambda/api");
        assert_eq!(
            group_name("arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/api"),
            "/aws/lambda/api"
        );
        assert_eq!(
            group_name("arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/api:*"),
            "/aws/lambda/api"
        );
        assert_eq!(
            group_name("123456789012:/aws/lambda/api"),
            "/aws/lambda/api"
        );
    }
}
