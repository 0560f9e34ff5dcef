//! A list panel's state: rows, live filter, sort, selection and scroll, and
//! the bookkeeping of the refresh that feeds it.

use std::cmp::Ordering;
use std::time::{Duration, Instant};

use crate::model::{FunctionRow, LogGroupRow, Problem, QueueRow, StackRow};

/// Longest wait between automatic retries of a failing panel.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// The refresh bookkeeping of one panel: at most one request in flight and
/// at most one pending behind it.
#[derive(Debug, Clone, Default)]
pub struct Fetch {
    pub in_flight: bool,
    pub pending: bool,
    pub updated_at: Option<Instant>,
    pub attempted_at: Option<Instant>,
    pub error: Option<Problem>,
    pub failures: u32,
    pub last_took: Option<Duration>,
}

impl Fetch {
    /// Asks for a refresh. True when a request should go out now; false
    /// when one is already running (it is then repeated once it answers).
    pub fn begin(&mut self, now: Instant) -> bool {
        if self.in_flight {
            self.pending = true;
            return false;
        }
        self.in_flight = true;
        self.attempted_at = Some(now);
        true
    }

    /// Records an answer. True when a pending refresh should go out now.
    pub fn finish(&mut self, now: Instant, error: Option<Problem>, took: Duration) -> bool {
        self.in_flight = false;
        self.last_took = Some(took);
        match error {
            None => {
                self.updated_at = Some(now);
                self.error = None;
                self.failures = 0;
            }
            Some(p) => {
                self.error = Some(p);
                self.failures = self.failures.saturating_add(1);
            }
        }
        if self.pending {
            self.pending = false;
            self.in_flight = true;
            self.attempted_at = Some(now);
            return true;
        }
        false
    }

    /// When the next automatic refresh is due; failures back off exponentially.
    pub fn due_at(&self, interval: Duration) -> Option<Instant> {
        if self.in_flight {
            return None;
        }
        let last = self.attempted_at?;
        let wait = if self.failures == 0 {
            interval
        } else {
            let factor = 1u32 << self.failures.min(8);
            interval
                .saturating_mul(factor)
                .min(MAX_BACKOFF.max(interval))
        };
        Some(last + wait)
    }

    pub fn is_loaded(&self) -> bool {
        self.updated_at.is_some()
    }
}

/// A row of a list panel: how it filters and sorts.
pub trait Row {
    /// Column titles; the sort cycles through them.
    const COLUMNS: &'static [&'static str];

    fn name(&self) -> &str;

    /// Whether the row matches a lowercase needle typed into the filter.
    fn matches(&self, needle: &str) -> bool {
        self.name().to_lowercase().contains(needle)
    }

    fn compare(&self, other: &Self, column: usize) -> Ordering;
}

#[derive(Debug, Clone)]
pub struct ListPanel<T> {
    pub fetch: Fetch,
    pub rows: Vec<T>,
    /// Indices into `rows`, filtered and sorted: what is shown.
    pub view: Vec<usize>,
    /// Index into `view`.
    pub selected: usize,
    /// First visible index into `view`.
    pub offset: usize,
    pub filter: String,
    pub sort_column: usize,
    pub sort_reverse: bool,
}

impl<T> Default for ListPanel<T> {
    fn default() -> Self {
        ListPanel {
            fetch: Fetch::default(),
            rows: Vec::new(),
            view: Vec::new(),
            selected: 0,
            offset: 0,
            filter: String::new(),
            sort_column: 0,
            sort_reverse: false,
        }
    }
}

impl<T: Row> ListPanel<T> {
    pub fn set_rows(&mut self, rows: Vec<T>) {
        let keep = self.selected_row().map(|r| r.name().to_string());
        self.rows = rows;
        self.rebuild(keep.as_deref());
    }

    /// Adds rows, keeping the selection on the row it was on.
    pub fn extend_rows(&mut self, more: impl IntoIterator<Item = T>) {
        let keep = self.selected_row().map(|r| r.name().to_string());
        self.rows.extend(more);
        self.rebuild(keep.as_deref());
    }

    pub fn set_filter(&mut self, filter: String) {
        let keep = self.selected_row().map(|r| r.name().to_string());
        self.filter = filter;
        self.rebuild(keep.as_deref());
    }

    pub fn sort_by_next_column(&mut self) {
        self.sort_column = (self.sort_column + 1) % T::COLUMNS.len();
        let keep = self.selected_row().map(|r| r.name().to_string());
        self.rebuild(keep.as_deref());
    }

    pub fn reverse_sort(&mut self) {
        self.sort_reverse = !self.sort_reverse;
        let keep = self.selected_row().map(|r| r.name().to_string());
        self.rebuild(keep.as_deref());
    }

    /// Recomputes the view, keeping the selection on the row named `keep`.
    fn rebuild(&mut self, keep: Option<&str>) {
        let needle = self.filter.to_lowercase();
        let mut view: Vec<usize> = (0..self.rows.len())
            .filter(|&i| needle.is_empty() || self.rows[i].matches(&needle))
            .collect();
        let (rows, col) = (&self.rows, self.sort_column);
        view.sort_by(|&a, &b| {
            // Ties break on the name so the order is stable across refreshes.
            let o = rows[a]
                .compare(&rows[b], col)
                .then_with(|| rows[a].name().cmp(rows[b].name()));
            if self.sort_reverse { o.reverse() } else { o }
        });
        self.view = view;
        self.selected = keep
            .and_then(|name| self.view.iter().position(|&i| self.rows[i].name() == name))
            .unwrap_or(self.selected)
            .min(self.view.len().saturating_sub(1));
    }

    pub fn selected_row(&self) -> Option<&T> {
        self.view.get(self.selected).map(|&i| &self.rows[i])
    }

    pub fn visible_rows(&self) -> impl Iterator<Item = &T> {
        self.view.iter().map(|&i| &self.rows[i])
    }

    pub fn select(&mut self, index: usize, height: usize) {
        self.selected = index.min(self.view.len().saturating_sub(1));
        self.keep_visible(height);
    }

    pub fn move_by(&mut self, delta: isize, height: usize) {
        let target = self.selected.saturating_add_signed(delta);
        self.select(target, height);
    }

    /// Scrolls just enough to show the selection in `height` rows.
    pub fn keep_visible(&mut self, height: usize) {
        let height = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        self.offset = self.offset.min(self.view.len().saturating_sub(height));
    }
}

/// What the update does to whichever list has focus, whatever its rows.
pub trait ListOps {
    fn filter(&self) -> &str;
    fn set_filter(&mut self, filter: String);
    fn move_by(&mut self, delta: isize, height: usize);
    fn select(&mut self, index: usize, height: usize);
    fn offset(&self) -> usize;
    fn sort_by_next_column(&mut self);
    fn reverse_sort(&mut self);
}

impl<T: Row> ListOps for ListPanel<T> {
    fn filter(&self) -> &str {
        &self.filter
    }
    fn set_filter(&mut self, filter: String) {
        ListPanel::set_filter(self, filter)
    }
    fn move_by(&mut self, delta: isize, height: usize) {
        ListPanel::move_by(self, delta, height)
    }
    fn select(&mut self, index: usize, height: usize) {
        ListPanel::select(self, index, height)
    }
    fn offset(&self) -> usize {
        self.offset
    }
    fn sort_by_next_column(&mut self) {
        ListPanel::sort_by_next_column(self)
    }
    fn reverse_sort(&mut self) {
        ListPanel::reverse_sort(self)
    }
}

fn by_option<T: PartialOrd>(a: &Option<T>, b: &Option<T>) -> Ordering {
    a.partial_cmp(b).unwrap_or(Ordering::Equal)
}

impl Row for StackRow {
    const COLUMNS: &'static [&'static str] = &["Name", "Status", "Last updated"];

    fn name(&self) -> &str {
        &self.name
    }

    fn matches(&self, needle: &str) -> bool {
        self.name.to_lowercase().contains(needle) || self.status.to_lowercase().contains(needle)
    }

    fn compare(&self, other: &Self, column: usize) -> Ordering {
        match column {
            1 => self.status.cmp(&other.status),
            // Newest first reads best for "what changed".
            2 => by_option(&other.updated, &self.updated),
            _ => self.name.cmp(&other.name),
        }
    }
}

impl Row for FunctionRow {
    const COLUMNS: &'static [&'static str] = &[
        "Name",
        "Runtime",
        "Memory",
        "Timeout",
        "Last modified",
        "Concurrency",
    ];

    fn name(&self) -> &str {
        &self.name
    }

    fn matches(&self, needle: &str) -> bool {
        self.name.to_lowercase().contains(needle)
            || self.runtime.as_deref().is_some_and(|r| r.contains(needle))
    }

    fn compare(&self, other: &Self, column: usize) -> Ordering {
        match column {
            1 => by_option(&self.runtime, &other.runtime),
            2 => by_option(&self.memory_mb, &other.memory_mb),
            3 => by_option(&self.timeout_s, &other.timeout_s),
            4 => by_option(&other.last_modified, &self.last_modified),
            5 => concurrency_rank(self).cmp(&concurrency_rank(other)),
            _ => self.name.cmp(&other.name),
        }
    }
}

fn concurrency_rank(f: &FunctionRow) -> i64 {
    use crate::model::Concurrency::*;
    match f.concurrency {
        Disabled => -1,
        Reserved(n) => i64::from(n),
        Unreserved => i64::MAX,
    }
}

impl Row for QueueRow {
    const COLUMNS: &'static [&'static str] = &[
        "Name",
        "Visible",
        "In flight",
        "Delayed",
        "Dead-letter queue",
        "DLQ of",
        "Depth trend",
    ];

    fn name(&self) -> &str {
        &self.name
    }

    fn compare(&self, other: &Self, column: usize) -> Ordering {
        match column {
            // Deepest first: that is the queue on-call looks for.
            1 => by_option(&other.visible, &self.visible),
            2 => by_option(&other.in_flight, &self.in_flight),
            3 => by_option(&other.delayed, &self.delayed),
            4 => by_option(&self.dead_letter_queue, &other.dead_letter_queue),
            5 => other.dlq_of.len().cmp(&self.dlq_of.len()),
            _ => self.name.cmp(&other.name),
        }
    }
}

impl Row for LogGroupRow {
    const COLUMNS: &'static [&'static str] = &["Name", "Retention", "Stored"];

    fn name(&self) -> &str {
        &self.name
    }

    fn compare(&self, other: &Self, column: usize) -> Ordering {
        match column {
            1 => by_option(&self.retention_days, &other.retention_days),
            2 => by_option(&other.stored_bytes, &self.stored_bytes),
            _ => self.name.cmp(&other.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(name: &str, bytes: i64) -> LogGroupRow {
        LogGroupRow {
            name: name.into(),
            retention_days: None,
            stored_bytes: Some(bytes),
            created: None,
        }
    }

    #[test]
    fn filter_and_sort_keep_the_selected_row() {
        let mut p = ListPanel::default();
        p.set_rows(vec![group("/a/x", 1), group("/a/y", 3), group("/b/z", 2)]);
        p.select(1, 10);
        assert_eq!(p.selected_row().unwrap().name, "/a/y");
        p.sort_by_next_column(); // retention: all equal, by name
        p.sort_by_next_column(); // stored, largest first
        assert_eq!(
            p.visible_rows()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>(),
            ["/a/y", "/b/z", "/a/x"]
        );
        assert_eq!(p.selected_row().unwrap().name, "/a/y");
        p.set_filter("B/".into());
        assert_eq!(p.view.len(), 1);
        assert_eq!(p.selected_row().unwrap().name, "/b/z");
    }

    #[test]
    fn refresh_while_in_flight_is_coalesced() {
        let now = Instant::now();
        let mut f = Fetch::default();
        assert!(f.begin(now));
        assert!(!f.begin(now));
        assert!(!f.begin(now));
        // One answer releases exactly one more request.
        assert!(f.finish(now, None, Duration::ZERO));
        assert!(!f.finish(now, None, Duration::ZERO));
    }

    #[test]
    fn failures_back_off() {
        let now = Instant::now();
        let mut f = Fetch::default();
        let interval = Duration::from_secs(10);
        f.begin(now);
        f.finish(
            now,
            Some(Problem::new(crate::model::ProblemKind::Other, "x")),
            Duration::ZERO,
        );
        assert_eq!(f.due_at(interval), Some(now + Duration::from_secs(20)));
        f.begin(now);
        f.finish(
            now,
            Some(Problem::new(crate::model::ProblemKind::Other, "x")),
            Duration::ZERO,
        );
        assert_eq!(f.due_at(interval), Some(now + Duration::from_secs(40)));
    }

    #[test]
    fn scrolling_follows_the_selection() {
        let mut p = ListPanel::default();
        p.set_rows((0..100).map(|i| group(&format!("g{i:03}"), i)).collect());
        p.move_by(30, 10);
        assert_eq!((p.selected, p.offset), (30, 21));
        p.move_by(-25, 10);
        assert_eq!((p.selected, p.offset), (5, 5));
        p.move_by(1000, 10);
        assert_eq!((p.selected, p.offset), (99, 90));
    }
}
