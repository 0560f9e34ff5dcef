//! The log view: one tail's buffer and how the user is reading it.

use crossterm::event::KeyEvent;
use regex::Regex;

use super::action::Action;
use super::state::{PanelId, Session, State};
use super::text::{Edit, TextField};
use super::update::Command;
use crate::aws::Request;

use crate::aws::tail::{TailStatus, TailUpdate};
use crate::logs::LogStore;
use crate::model::Problem;

/// What the log view's text box is asking for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// A regex to find in the buffer.
    Search,
    /// A CloudWatch filter pattern; restarts the tail.
    Filter,
    /// A start time; restarts the tail.
    Since,
    /// A file to save the buffer (or the selection) to.
    Save,
}

/// Loading lines older than the oldest buffered one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Older {
    Idle,
    /// A one-shot fetch (this tail id) is running.
    Loading(u64),
    /// Nothing older was found back to this time.
    Exhausted,
    Failed(String),
}

impl Prompt {
    pub fn label(self) -> &'static str {
        match self {
            Prompt::Search => "search (regex)",
            Prompt::Filter => "filter pattern (AWS)",
            Prompt::Since => "since[..until] (15m, 2h..1h, 2026-11-20 14:00..15:00 as full times)",
            Prompt::Save => "save buffer to",
        }
    }
}

#[derive(Debug)]
pub struct Search {
    pub pattern: String,
    pub regex: Regex,
}

#[derive(Debug)]
pub struct LogView {
    /// The tail feeding this view; updates of other tails are dropped.
    pub id: u64,
    pub groups: Vec<String>,
    pub since: String,
    /// The end of the range; `None` follows new events.
    pub until: Option<String>,
    /// The oldest time loaded so far (ms); scrolling past it loads more.
    pub start_ms: i64,
    pub older: Older,
    /// Lines the running older-lines fetch has added so far.
    pub older_found: usize,
    /// Where a selection (for copy and save) started; it ends at the cursor.
    pub anchor: Option<usize>,
    pub filter: Option<String>,
    pub store: LogStore,
    pub status: Option<TailStatus>,
    /// `Some(None)`: the range was read to its end; `Some(Some(p))`: stopped by `p`.
    pub ended: Option<Option<Problem>>,
    /// Stick to the newest line.
    pub follow: bool,
    /// Index of the selected line (the one Enter, copy and search act on).
    pub cursor: usize,
    /// First line shown when not following.
    pub top: usize,
    /// Lines that arrived while paused.
    pub unseen: u64,
    pub wrap: bool,
    pub utc: bool,
    pub show_stream: bool,
    pub search: Option<Search>,
    /// The line shown pretty-printed (JSON), if any.
    pub detail: Option<usize>,
    pub prompt: Option<(Prompt, TextField)>,
}

impl LogView {
    pub fn new(
        id: u64,
        groups: Vec<String>,
        since: String,
        filter: Option<String>,
        cap: usize,
    ) -> Self {
        LogView {
            id,
            groups,
            since,
            until: None,
            start_ms: 0,
            older: Older::Idle,
            older_found: 0,
            anchor: None,
            filter,
            store: LogStore::new(cap),
            status: None,
            ended: None,
            follow: true,
            cursor: 0,
            top: 0,
            unseen: 0,
            wrap: false,
            utc: false,
            show_stream: false,
            search: None,
            detail: None,
            prompt: None,
        }
    }

    /// Applies a tail update; returns how many lines were added.
    pub fn apply(&mut self, update: TailUpdate) -> usize {
        match update {
            TailUpdate::Events(events) => {
                let before_dropped = self.store.dropped();
                for e in &events {
                    let source = self.store.intern(e.group, &e.stream);
                    self.store.push(e.ts, source, &e.message);
                }
                let dropped = (self.store.dropped() - before_dropped) as usize;
                // Keep the reader's place when old lines fall off the front.
                self.top = self.top.saturating_sub(dropped);
                self.cursor = self.cursor.saturating_sub(dropped);
                if self.follow {
                    self.cursor = self.store.len().saturating_sub(1);
                } else {
                    self.unseen += events.len() as u64;
                }
                events.len()
            }
            TailUpdate::Status(s) => {
                self.status = Some(s);
                0
            }
            TailUpdate::Ended(p) => {
                self.ended = Some(p);
                0
            }
        }
    }

    /// Applies an update of the older-lines fetch.
    pub fn apply_older(&mut self, update: TailUpdate) {
        match update {
            TailUpdate::Events(events) => {
                let sources: Vec<u32> = events
                    .iter()
                    .map(|e| self.store.intern(e.group, &e.stream))
                    .collect();
                let n = self.store.prepend(
                    events
                        .iter()
                        .zip(sources)
                        .map(|(e, s)| (e.ts, s, e.message.as_str())),
                );
                // What was on screen keeps its place; the new lines are above it.
                self.cursor += n;
                self.top += n;
                self.anchor = self.anchor.map(|a| a + n);
                self.older_found += n;
            }
            TailUpdate::Status(_) => {}
            TailUpdate::Ended(None) => {
                self.older = if self.older_found == 0 {
                    Older::Exhausted
                } else {
                    Older::Idle
                };
                self.older_found = 0;
            }
            TailUpdate::Ended(Some(p)) => {
                self.older = Older::Failed(p.message);
                self.older_found = 0;
            }
        }
    }

    /// The selected lines: the selection, or the cursor's line.
    pub fn selection(&self) -> std::ops::RangeInclusive<usize> {
        match self.anchor {
            Some(a) => a.min(self.cursor)..=a.max(self.cursor),
            None => self.cursor..=self.cursor,
        }
    }

    pub fn last(&self) -> usize {
        self.store.len().saturating_sub(1)
    }

    /// Moves the cursor; leaving the bottom pauses, reaching it follows again.
    pub fn move_cursor(&mut self, delta: isize, height: usize) {
        let target = self.cursor.saturating_add_signed(delta).min(self.last());
        self.cursor = target;
        if delta < 0 {
            self.follow = false;
        }
        if self.cursor >= self.last() && delta > 0 {
            self.resume();
        }
        self.keep_visible(height);
    }

    pub fn resume(&mut self) {
        self.follow = true;
        self.unseen = 0;
        self.cursor = self.last();
    }

    pub fn pause(&mut self, height: usize) {
        if self.follow {
            self.follow = false;
            self.top = self.store.len().saturating_sub(height);
        }
    }

    pub fn keep_visible(&mut self, height: usize) {
        let height = height.max(1);
        if self.cursor < self.top {
            self.top = self.cursor;
        } else if self.cursor >= self.top + height {
            self.top = self.cursor + 1 - height;
        }
    }

    /// The next line matching the search after (or before) the cursor.
    pub fn find(&self, forward: bool) -> Option<usize> {
        let re = &self.search.as_ref()?.regex;
        if forward {
            self.store
                .iter_from(self.cursor + 1)
                .position(|l| re.is_match(l.text))
                .map(|i| self.cursor + 1 + i)
        } else {
            self.store
                .iter_back_from(self.cursor)
                .find(|(_, l)| re.is_match(l.text))
                .map(|(i, _)| i)
        }
    }

    /// Where the tail stands, for the title: "polling", "throttled", ...
    pub fn mode(&self) -> String {
        match (&self.ended, &self.status) {
            (Some(Some(_)), _) => "stopped".into(),
            (Some(None), _) => "complete".into(),
            (None, Some(TailStatus::Throttled(_))) => "polling · throttled, backing off".into(),
            (None, Some(TailStatus::Unreachable(_))) => {
                "polling · endpoint unreachable, retrying".into()
            }
            (None, Some(TailStatus::CaughtUp)) => "polling (FilterLogEvents) · live".into(),
            (None, Some(TailStatus::Missing(p))) => format!("polling · {}", p.message),
            (None, Some(TailStatus::Live { sampled: false })) => "live tail".into(),
            (None, Some(TailStatus::Live { sampled: true })) => "live tail · sampled".into(),
            (None, Some(TailStatus::Fallback(reason))) => {
                format!("polling (live tail unavailable: {reason})")
            }
            (None, Some(TailStatus::Polling)) | (None, None) => {
                "polling (FilterLogEvents) · loading".into()
            }
        }
    }

    /// A short label of a group: "/aws/lambda/dev-api" → "dev-api".
    pub fn group_label(&self, group: u16) -> &str {
        self.groups
            .get(usize::from(group))
            .map(|g| g.rsplit('/').next().unwrap_or(g))
            .unwrap_or("?")
    }
}

// ---- what the user does in the log view -----------------------------------

// ---- the log view ---------------------------------------------------------

/// What `tail_logs` tails from where the user is: the marked log groups (or
/// the selected one), the selected function's group, else the configured ones.
pub(super) fn groups_to_tail(s: &Session) -> Vec<String> {
    match s.focus {
        PanelId::LogGroups if !s.marked.is_empty() => s.marked.iter().cloned().collect(),
        PanelId::LogGroups => s
            .log_groups
            .selected_row()
            .map(|r| r.name.clone())
            .into_iter()
            .collect(),
        PanelId::Functions => s
            .functions
            .selected_row()
            .map(|f| format!("/aws/lambda/{}", f.name))
            .into_iter()
            .collect(),
        PanelId::Logs if s.logs.is_some() => s
            .logs
            .as_ref()
            .map(|l| l.groups.clone())
            .unwrap_or_default(),
        _ => s
            .log_groups
            .visible_rows()
            .map(|r| r.name.clone())
            .collect(),
    }
}

/// Replaces the session's tail with a new one.
#[allow(clippy::too_many_arguments)]
pub(super) fn start_tail(
    s: &mut Session,
    id: u64,
    groups: Vec<String>,
    since: String,
    until: Option<String>,
    filter: Option<String>,
    cap: usize,
    out: &mut Vec<Command>,
) {
    if let Some(old) = s.logs.take() {
        out.push(Command::Send(Request::StopTail(old.id)));
        if let Older::Loading(h) = old.older {
            out.push(Command::Send(Request::StopTail(h)));
        }
    }
    let now = jiff::Timestamp::now();
    let tz = jiff::tz::TimeZone::system();
    // The prompt validated both; the defaults only guard a race with the clock.
    let start =
        crate::logs::parse_time(&since, now, &tz).unwrap_or(now.as_millisecond() - 15 * 60_000);
    let end = until
        .as_deref()
        .and_then(|u| crate::logs::parse_time(u, now, &tz).ok());
    let spec = crate::aws::tail::TailSpec {
        groups: groups.clone(),
        range: crate::logs::Range { start, end },
        filter: filter.clone(),
        follow: end.is_none(),
        poll_every: std::time::Duration::from_secs(1),
    };
    out.push(Command::Send(Request::Tail {
        id,
        spec: Box::new(spec),
    }));
    let mut view = LogView::new(id, groups, since, filter, cap);
    view.until = until;
    view.start_ms = start;
    s.logs = Some(view);
}

/// Starts fetching the lines before the oldest loaded one (scrolling up past it).
fn load_older(v: &mut LogView, id: u64, out: &mut Vec<Command>) -> bool {
    use Older;
    if matches!(v.older, Older::Loading(_) | Older::Exhausted) || v.store.len() >= v.store.cap() {
        return false;
    }
    // Go back as far again as is loaded (at least 15 minutes).
    let now = jiff::Timestamp::now().as_millisecond();
    let span = (now - v.start_ms).max(15 * 60_000);
    let start = v.start_ms - span;
    let spec = crate::aws::tail::TailSpec {
        groups: v.groups.clone(),
        // Up to just before what is loaded: no overlap, nothing to de-duplicate.
        range: crate::logs::Range {
            start,
            end: Some(v.start_ms - 1),
        },
        filter: v.filter.clone(),
        follow: false,
        poll_every: std::time::Duration::from_secs(1),
    };
    out.push(Command::Send(Request::Tail {
        id,
        spec: Box::new(spec),
    }));
    v.start_ms = start;
    v.older = Older::Loading(id);
    true
}

/// Handles an action in the log view; false if it is not the view's.
pub(super) fn log_action(
    s: &mut Session,
    action: Action,
    height: usize,
    next_id: &mut u64,
    out: &mut Vec<Command>,
) -> bool {
    use Prompt;
    let Some(v) = s.logs.as_mut() else {
        return false;
    };
    // Scrolling up past the oldest loaded line loads older ones.
    if v.cursor == 0 && matches!(action, Action::Up | Action::PageUp | Action::Top) {
        v.pause(height);
        v.cursor = 0;
        v.keep_visible(height);
        if load_older(v, *next_id, out) {
            *next_id += 1;
        }
        return true;
    }
    let page = height.max(1) as isize;
    match action {
        Action::Up => v.move_cursor(-1, height),
        Action::Down => v.move_cursor(1, height),
        Action::PageUp => v.move_cursor(-page, height),
        Action::PageDown => v.move_cursor(page, height),
        Action::Top => {
            v.pause(height);
            v.cursor = 0;
            v.keep_visible(height);
        }
        Action::Bottom => v.resume(),
        Action::Follow if v.follow => v.pause(height),
        Action::Follow => v.resume(),
        Action::Filter => v.prompt = Some((Prompt::Search, TextField::new())),
        Action::LogFilter => {
            v.prompt = Some((
                Prompt::Filter,
                TextField::prefilled(v.filter.clone().unwrap_or_default()),
            ))
        }
        Action::LogSince => {
            let range = match &v.until {
                Some(u) => format!("{}..{u}", v.since),
                None => v.since.clone(),
            };
            v.prompt = Some((Prompt::Since, TextField::prefilled(range)));
        }
        Action::Select if v.anchor.is_some() => v.anchor = None,
        Action::Select => {
            v.pause(height);
            v.anchor = Some(v.cursor);
        }
        Action::SaveLogs => {
            let name = v.group_label(0).to_string();
            let stamp = jiff::Timestamp::now().strftime("%Y%m%d-%H%M%S");
            v.prompt = Some((
                Prompt::Save,
                TextField::prefilled(format!("opsdeck-{name}-{stamp}.log")),
            ));
        }
        Action::SearchNext | Action::SearchPrev => {
            if let Some(i) = v.find(action == Action::SearchNext) {
                v.follow = false;
                v.cursor = i;
                v.keep_visible(height);
            }
        }
        Action::ToggleWrap => v.wrap = !v.wrap,
        Action::ToggleUtc => v.utc = !v.utc,
        Action::ToggleStream => v.show_stream = !v.show_stream,
        Action::Open if v.detail.is_some() => v.detail = None,
        Action::Open => v.detail = (!v.store.is_empty()).then_some(v.cursor),
        Action::Back if v.detail.is_some() => v.detail = None,
        Action::Back if v.anchor.is_some() => v.anchor = None,
        Action::Back if v.search.is_some() => v.search = None,
        Action::CopyLine => {
            let range = v.selection();
            let n = range.end() - range.start() + 1;
            let text: Vec<&str> = v
                .store
                .iter_from(*range.start())
                .take(n)
                .map(|l| l.text)
                .collect();
            if !text.is_empty() {
                out.push(Command::Clipboard(text.join("\n")));
            }
        }
        Action::Refresh => {
            let (id, groups, since, until, filter, cap) = (
                v.id,
                v.groups.clone(),
                v.since.clone(),
                v.until.clone(),
                v.filter.clone(),
                v.store.cap(),
            );
            start_tail(s, id, groups, since, until, filter, cap, out);
        }
        _ => return false,
    }
    true
}

impl State {
    pub(super) fn log_prompt_key(&mut self, key: KeyEvent, out: &mut Vec<Command>) {
        let cap = self.log_cap;
        let id = self.next_tail_id;
        let height = self.list_height;
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let Some(v) = s.logs.as_mut() else { return };
        let Some((prompt, field)) = v.prompt.as_mut() else {
            return;
        };
        let prompt = *prompt;
        match field.key(key) {
            Edit::Cancel => v.prompt = None,
            Edit::Submit => {
                let text = field.text().trim().to_string();
                // A value that works clears what a wrong one left in the status line.
                self.message = None;
                match prompt {
                    Prompt::Search if text.is_empty() => {
                        v.search = None;
                        v.prompt = None;
                    }
                    Prompt::Search => {
                        // Smart case: lower-case patterns ignore case.
                        let pattern = if text.chars().any(char::is_uppercase) {
                            text.clone()
                        } else {
                            format!("(?i){text}")
                        };
                        match regex::Regex::new(&pattern) {
                            Ok(regex) => {
                                v.search = Some(Search {
                                    pattern: text,
                                    regex,
                                });
                                v.prompt = None;
                                let found = if v.follow {
                                    v.find(false).or_else(|| v.find(true))
                                } else {
                                    v.find(true)
                                };
                                if let Some(i) = found {
                                    v.follow = false;
                                    v.cursor = i;
                                    v.keep_visible(height);
                                }
                            }
                            Err(e) => {
                                let msg = e
                                    .to_string()
                                    .lines()
                                    .last()
                                    .unwrap_or("invalid")
                                    .trim()
                                    .to_string();
                                self.warn(format!("not a valid regex: {msg}"));
                            }
                        }
                    }
                    Prompt::Filter | Prompt::Since => {
                        let (mut since, mut until, mut filter) =
                            (v.since.clone(), v.until.clone(), v.filter.clone());
                        if prompt == Prompt::Since {
                            // "2h" follows from two hours ago; "2h..1h" reads a closed range.
                            let (from, to) = match text.split_once("..") {
                                Some((a, b)) => (a.trim().to_string(), Some(b.trim().to_string())),
                                None => (text, None),
                            };
                            let tz = jiff::tz::TimeZone::system();
                            let checked = crate::logs::parse_range(
                                &from,
                                to.as_deref(),
                                jiff::Timestamp::now(),
                                &tz,
                            );
                            if let Err(e) = checked {
                                self.warn(e);
                                return;
                            }
                            (since, until) = (from, to);
                        } else {
                            filter = (!text.is_empty()).then_some(text);
                        }
                        let groups = v.groups.clone();
                        self.next_tail_id += 1;
                        start_tail(s, id, groups, since, until, filter, cap, out);
                    }
                    Prompt::Save => {
                        // The selection if there is one, else the whole buffer.
                        let range = if v.anchor.is_some() {
                            v.selection()
                        } else {
                            0..=v.last()
                        };
                        let contents = render_buffer(v, range);
                        v.prompt = None;
                        out.push(Command::WriteFile {
                            path: text.into(),
                            contents,
                        });
                    }
                }
            }
            Edit::Changed | Edit::Moved | Edit::Ignored => {}
        }
    }
}

/// The buffer as the CLI prints it: time, stream, message.
fn render_buffer(v: &LogView, range: std::ops::RangeInclusive<usize>) -> String {
    let mut s = String::new();
    let n = range.end() + 1 - range.start();
    for l in v.store.iter_from(*range.start()).take(n) {
        let time = jiff::Timestamp::from_millisecond(l.ts)
            .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
            .unwrap_or_default();
        let stream = v.store.source(l.source).map_or("", |src| &src.stream);
        s.push_str(&format!("{time} {stream} {}\n", l.text));
    }
    s
}
