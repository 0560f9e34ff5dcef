//! The fleet overview's state: one row per deployment, filled as answers
//! arrive, sorted worst first, and the bookkeeping of each row's fetch.
//!
//! No I/O here: fetches go out as [`Command::FetchFleet`] and come back as
//! [`Answer`]s, which are dropped unless their tag is the row's current one.

use std::time::{Duration, Instant};

use super::list::Fetch;
use super::state::PanelId;
use super::update::Command;
use crate::aws::fleet::{Answer, Report};
use crate::config::Deployment;
use crate::logs::line::Level;
use crate::model::fleet::{Cell, ERRORS_WINDOW_MINUTES, FleetRow, Verdict, needs_login};

#[derive(Debug, Default)]
pub struct Overview {
    /// In the order of the config's deployments.
    pub rows: Vec<FleetRow>,
    pub fetches: Vec<Fetch>,
    /// The fetch whose answers each row accepts.
    tags: Vec<u64>,
    next_tag: u64,
    /// Indices into `rows`, worst verdict first, then by name: what is shown.
    pub order: Vec<usize>,
    /// When the first fetch of every row started, and when all had answered
    /// (logged, so the time to a complete overview can be measured).
    pub started: Option<Instant>,
    pub completed: Option<Instant>,
}

impl Overview {
    pub fn new(deployments: &[Deployment]) -> Self {
        let rows: Vec<FleetRow> = deployments
            .iter()
            .map(|d| FleetRow::new(&d.name, d.protected))
            .collect();
        let n = rows.len();
        let mut o = Overview {
            rows,
            fetches: vec![Fetch::default(); n],
            tags: vec![0; n],
            next_tag: 1,
            order: (0..n).collect(),
            started: None,
            completed: None,
        };
        o.sort();
        o
    }

    /// Starts (or queues behind the running one) a fetch of row `i`.
    pub fn refresh(&mut self, i: usize, d: &Deployment, now: Instant, out: &mut Vec<Command>) {
        let Some(fetch) = self.fetches.get_mut(i) else {
            return;
        };
        if fetch.begin(now) {
            self.started.get_or_insert(now);
            self.launch(i, d, out);
        }
    }

    fn launch(&mut self, i: usize, d: &Deployment, out: &mut Vec<Command>) {
        let tag = self.next_tag;
        self.next_tag += 1;
        self.tags[i] = tag;
        out.push(Command::FetchFleet {
            deployment: Box::new(d.clone()),
            tag,
        });
    }

    /// Applies an answer; a stale one (of a replaced fetch) is dropped.
    pub fn apply(
        &mut self,
        a: Answer,
        deployments: &[Deployment],
        now: Instant,
        out: &mut Vec<Command>,
    ) -> bool {
        let Some(i) = self.rows.iter().position(|r| r.deployment == a.deployment) else {
            return false;
        };
        if self.tags[i] != a.tag {
            tracing::debug!(deployment = %a.deployment, "dropped a stale fleet answer");
            return false;
        }
        match a.report {
            Report::Cell(update) => self.rows[i].apply(update),
            Report::Done => {
                let row = &self.rows[i];
                let problem = row.unreachable().cloned();
                let took = self.fetches[i]
                    .attempted_at
                    .map_or(Duration::ZERO, |t| now.saturating_duration_since(t));
                if self.fetches[i].finish(now, problem, took)
                    && let Some(d) = deployments.get(i)
                {
                    self.launch(i, d, out);
                }
                if self.completed.is_none() && self.fetches.iter().all(Fetch::is_answered) {
                    self.completed = Some(now);
                    if let Some(started) = self.started {
                        tracing::info!(
                            deployments = self.rows.len(),
                            ms = now.saturating_duration_since(started).as_secs_f64() * 1e3,
                            "fleet overview complete"
                        );
                    }
                }
            }
        }
        self.sort();
        true
    }

    /// Rows whose refresh is due: never fetched, or older than `interval`
    /// (failures back off). A row that needs a login is left alone until
    /// the user refreshes it.
    pub fn due(&self, interval: Option<Duration>, now: Instant) -> Vec<usize> {
        (0..self.rows.len())
            .filter(|&i| self.due_at(i, interval, now).is_some_and(|t| t <= now))
            .collect()
    }

    fn due_at(&self, i: usize, interval: Option<Duration>, now: Instant) -> Option<Instant> {
        let f = &self.fetches[i];
        if f.attempted_at.is_none() {
            return (!f.in_flight).then_some(now);
        }
        if f.error.as_ref().is_some_and(|p| needs_login(p.kind)) {
            return None;
        }
        f.due_at(interval?)
    }

    /// When the next row is due, for the loop's sleep.
    pub fn next_due(&self, interval: Option<Duration>, now: Instant) -> Option<Instant> {
        (0..self.rows.len())
            .filter_map(|i| self.due_at(i, interval, now))
            .min()
    }

    /// Sorts the view: worst verdict first, then by name.
    pub fn sort(&mut self) {
        let rows = &self.rows;
        let mut keyed: Vec<(Verdict, &str, usize)> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.verdict().0, r.deployment.as_str(), i))
            .collect();
        keyed.sort();
        self.order = keyed.into_iter().map(|(_, _, i)| i).collect();
    }

    /// Where row `i` (an index into the config) is shown.
    pub fn position(&self, i: usize) -> usize {
        self.order.iter().position(|&r| r == i).unwrap_or(0)
    }

    /// The first row on screen when `height` rows fit and row `i` is selected.
    pub fn first_shown(&self, i: usize, height: usize) -> usize {
        self.position(i).saturating_sub(height.max(1) - 1)
    }

    /// The row shown `delta` places from row `i`.
    pub fn step(&self, i: usize, delta: isize) -> usize {
        let last = self.order.len().saturating_sub(1);
        let at = self.position(i).saturating_add_signed(delta).min(last);
        self.order.get(at).copied().unwrap_or(0)
    }
}

impl super::State {
    /// Refreshes every row now (`r` on the overview).
    pub(super) fn refresh_fleet(&mut self, now: Instant, out: &mut Vec<Command>) {
        for (i, d) in self.deployments.iter().enumerate() {
            self.fleet.refresh(i, d, now, out);
        }
    }

    /// Refreshes the rows that are due, while the overview is shown.
    pub(super) fn fleet_due(&mut self, now: Instant, out: &mut Vec<Command>) {
        for i in self.fleet.due(self.refresh_interval, now) {
            if let Some(d) = self.deployments.get(i) {
                self.fleet.refresh(i, d, now, out);
            }
        }
    }

    /// Opens the selected deployment's Logs on the groups its errors cell
    /// counted, the last 15 minutes, ERROR and worse only.
    pub(super) fn open_errors(&mut self, now: Instant, out: &mut Vec<Command>) {
        let i = self.picker;
        let (Some(d), Some(row)) = (self.deployments.get(i), self.fleet.rows.get(i)) else {
            return;
        };
        let Some(errors) = row.errors.ready() else {
            let why = match &row.errors {
                Cell::Unset => "it configures no log_groups".to_string(),
                Cell::Failed(p) => p.message.clone(),
                _ => "its errors are still being counted".to_string(),
            };
            return self.warn(format!("no errors to open for `{}`: {why}", d.name));
        };
        let groups: Vec<String> = errors
            .groups
            .iter()
            .take(crate::cli::logs::MAX_GROUPS)
            .cloned()
            .collect();
        if groups.is_empty() {
            return self.warn(format!("`{}` has no log groups to read", d.name));
        }
        let d = d.clone();
        self.connect(d, now, out);
        let id = self.next_tail_id;
        self.next_tail_id += 1;
        let cap = self.log_cap;
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let since = format!("{ERRORS_WINDOW_MINUTES}m");
        super::logs::start_tail(s, id, groups, since, None, None, cap, out);
        if let Some(v) = s.logs.as_mut() {
            v.min_level = Some(Level::Error);
        }
        s.focus = PanelId::Logs;
        s.editing_filter = false;
    }

    /// Opens the selected deployment's Queues panel narrowed to its dead-letter queues.
    pub(super) fn open_dlqs(&mut self, now: Instant, out: &mut Vec<Command>) {
        let i = self.picker;
        let Some(d) = self.deployments.get(i).cloned() else {
            return;
        };
        let dlqs = self
            .fleet
            .rows
            .get(i)
            .and_then(|r| r.queues.ready())
            .map(|q| q.dlqs.clone())
            .unwrap_or_default();
        self.connect(d, now, out);
        let Some(s) = self.session.as_mut() else {
            return;
        };
        // The filter is a name fragment: the one DLQ with messages, else
        // what every DLQ's name shares, else nothing.
        let filter = match dlqs.as_slice() {
            [one] => one.clone(),
            many if !many.is_empty() && many.iter().all(|q| q.contains("dlq")) => "dlq".into(),
            _ => String::new(),
        };
        s.queues.set_filter(filter);
        s.focus = PanelId::Queues;
        s.editing_filter = false;
    }
}

impl Fetch {
    /// Answered at least once, well or not.
    pub fn is_answered(&self) -> bool {
        !self.in_flight && self.attempted_at.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fleet::{Cell, CellUpdate, QueuesHealth};
    use crate::model::{Problem, ProblemKind};

    fn deployment(name: &str) -> Deployment {
        Deployment {
            name: name.into(),
            profile: None,
            region: Some("us-east-1".into()),
            endpoint_url: None,
            protected: false,
            read_only: false,
            sandbox_credentials: false,
            resources: Default::default(),
        }
    }

    fn tag_of(out: &[Command]) -> u64 {
        match out.last() {
            Some(Command::FetchFleet { tag, .. }) => *tag,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn answers_of_a_replaced_fetch_are_dropped_and_rows_sort_worst_first() {
        let ds = vec![deployment("a"), deployment("b")];
        let mut o = Overview::new(&ds);
        let now = Instant::now();
        let mut out = Vec::new();
        o.refresh(1, &ds[1], now, &mut out);
        let first = tag_of(&out);
        // A refresh while running is queued, then launched with a new tag.
        o.refresh(1, &ds[1], now, &mut out);
        assert_eq!(out.len(), 1);
        let done = |tag| Answer {
            deployment: "b".into(),
            tag,
            report: Report::Done,
        };
        assert!(o.apply(done(first), &ds, now, &mut out));
        let second = tag_of(&out);
        assert_ne!(first, second);
        let dlq = Answer {
            deployment: "b".into(),
            tag: first,
            report: Report::Cell(CellUpdate::Queues(Cell::Ready(QueuesHealth {
                visible: 1,
                dlq_messages: 1,
                dlqs: vec!["b-dlq".into()],
            }))),
        };
        assert!(!o.apply(dlq.clone(), &ds, now, &mut out), "stale");
        assert_eq!(o.order, [0, 1]);
        assert!(o.apply(Answer { tag: second, ..dlq }, &ds, now, &mut out));
        assert_eq!(o.order, [1, 0], "b needs attention, so it comes first");
    }

    #[test]
    fn a_row_that_needs_a_login_is_not_retried_on_a_timer() {
        let ds = vec![deployment("a")];
        let mut o = Overview::new(&ds);
        let now = Instant::now();
        assert_eq!(
            o.due(None, now),
            [0],
            "never fetched: due even without an interval"
        );
        let mut out = Vec::new();
        o.refresh(0, &ds[0], now, &mut out);
        let tag = tag_of(&out);
        let expired = Problem::new(ProblemKind::CredentialsExpired, "run aws sso login");
        for report in [
            Report::Cell(CellUpdate::Identity(Cell::Failed(expired))),
            Report::Done,
        ] {
            o.apply(
                Answer {
                    deployment: "a".into(),
                    tag,
                    report,
                },
                &ds,
                now,
                &mut out,
            );
        }
        let later = now + Duration::from_secs(3600);
        assert!(o.due(Some(Duration::from_secs(30)), later).is_empty());
        assert!(o.completed.is_some());
    }
}
