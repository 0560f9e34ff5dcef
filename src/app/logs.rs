//! The log view: one tail's buffer and how the user is reading it.

use regex::Regex;

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
    pub prompt: Option<(Prompt, String)>,
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
