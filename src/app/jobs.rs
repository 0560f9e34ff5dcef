//! Jobs as the UI sees them: the Jobs panel's rows (this run's jobs and
//! earlier ones from the audit log), toasts for finished jobs, and the one
//! way a plan becomes a job: [`State::propose`].

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use super::list::{ListPanel, Row};
use super::state::{Overlay, PanelId, State, Tone};
use super::update::Command;
use crate::jobs::audit::Entry;
use crate::jobs::{Detail, Effect, JobEvent, JobUpdate, Op, Outcome, Plan, Progress};

/// How long a toast for a job that went well stays up.
const TOAST_OK: Duration = Duration::from_secs(6);

/// Lines of output a job keeps (the oldest go first).
const OUTPUT_CAP: usize = 2_000;

/// One job in the Jobs panel.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRow {
    /// This run's id; `None` for a job of an earlier run (from the audit log).
    pub id: Option<u64>,
    /// Unique per row: `#3`, or the audit log's job id.
    pub key: String,
    pub deployment: String,
    pub action: String,
    pub target: String,
    pub started: SystemTime,
    /// When this run started it (for a live elapsed time).
    pub started_at: Option<Instant>,
    pub took: Option<Duration>,
    pub progress: Progress,
    pub output: Vec<String>,
    /// `None` while it runs (or, for an earlier job, when no end line was written).
    pub outcome: Option<Outcome>,
    pub cancel: Result<(), &'static str>,
    pub cancelling: bool,
    /// The panel that shows what it changes, refreshed when it ends.
    pub refreshes: Option<PanelId>,
}

impl JobRow {
    pub fn running(&self) -> bool {
        self.id.is_some() && self.outcome.is_none()
    }

    /// "running", "cancelling", "ok", "failed", "cancelled", "refused",
    /// "unhealthy", "no end line".
    pub fn status(&self) -> &'static str {
        match &self.outcome {
            Some(o) => o.result_word(),
            None if self.id.is_none() => "no end line",
            None if self.cancelling => "cancelling",
            None => "running",
        }
    }

    /// "3/10", "phase", "–"
    pub fn progress_label(&self) -> String {
        let p = &self.progress;
        match p.total {
            Some(t) if self.running() => format!("{}/{t} {}", p.done, p.phase),
            Some(t) => format!("{}/{t}", p.done),
            None if self.running() => p.phase.clone(),
            None => "–".into(),
        }
    }

    /// How long it ran, or has been running at `now`.
    pub fn elapsed(&self, now: Instant) -> Option<Duration> {
        self.took
            .or_else(|| self.started_at.map(|t| now.saturating_duration_since(t)))
    }

    fn from_entry(e: Entry) -> Self {
        let outcome = match e.result.as_str() {
            "ok" => Some(Outcome::ok(e.message.clone())),
            "failed" => Some(Outcome::failed(e.message.clone())),
            "cancelled" => Some(Outcome::Cancelled(e.message.clone())),
            "refused" => Some(Outcome::Refused(e.message.clone())),
            "unhealthy" => Some(Outcome::Unhealthy {
                message: e.message.clone(),
                detail: None,
            }),
            _ => None,
        };
        let started = e
            .timestamp()
            .map(SystemTime::from)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        JobRow {
            id: None,
            key: e.job,
            deployment: e.deployment,
            action: e.action,
            target: e.target,
            started,
            started_at: None,
            took: e.duration_ms.map(Duration::from_millis),
            progress: Progress::default(),
            output: vec![format!("(from the audit log) {}", e.message)],
            outcome,
            cancel: Err("this job ran in an earlier run of opsdeck"),
            cancelling: false,
            refreshes: None,
        }
    }
}

impl Row for JobRow {
    const COLUMNS: &'static [&'static str] = &[
        "Started",
        "Job",
        "Deployment",
        "Action",
        "Target",
        "Status",
        "Progress",
        "Took",
    ];

    fn name(&self) -> &str {
        &self.key
    }

    fn matches(&self, needle: &str) -> bool {
        [&self.key, &self.deployment, &self.action, &self.target]
            .iter()
            .any(|f| f.to_lowercase().contains(needle))
            || self.status().contains(needle)
    }

    fn compare(&self, other: &Self, column: usize) -> std::cmp::Ordering {
        match column {
            1 => self.id.cmp(&other.id),
            2 => self.deployment.cmp(&other.deployment),
            3 => self.action.cmp(&other.action),
            4 => self.target.cmp(&other.target),
            5 => self.status().cmp(other.status()),
            7 => self.took.cmp(&other.took),
            _ => self
                .started
                .cmp(&other.started)
                .then(self.id.cmp(&other.id)),
        }
    }
}

/// A finished job's result, over the panels for a while (failures until dismissed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub text: String,
    pub tone: Tone,
    /// `None`: stays until dismissed (esc).
    pub until: Option<Instant>,
}

/// Every job of this run, and earlier ones.
#[derive(Debug)]
pub struct Jobs {
    pub list: ListPanel<JobRow>,
    pub next_id: u64,
    /// When this run purged a queue, by (deployment, queue): SQS allows one
    /// purge a minute, and the dialog says when the next may go.
    pub purged: HashMap<(String, String), SystemTime>,
    /// The payload this run last sent to a function, by (deployment, function).
    pub payloads: HashMap<(String, String), String>,
}

impl Default for Jobs {
    fn default() -> Self {
        Jobs {
            // Newest first.
            list: ListPanel {
                sort_reverse: true,
                ..ListPanel::default()
            },
            next_id: 1,
            purged: HashMap::new(),
            payloads: HashMap::new(),
        }
    }
}

impl Jobs {
    pub fn get(&self, id: u64) -> Option<&JobRow> {
        self.list.rows.iter().find(|r| r.id == Some(id))
    }

    fn get_mut(&mut self, id: u64) -> Option<&mut JobRow> {
        self.list.rows.iter_mut().find(|r| r.id == Some(id))
    }

    fn insert(&mut self, rows: impl IntoIterator<Item = JobRow>) {
        self.list.extend_rows(rows);
    }

    pub fn running(&self) -> usize {
        self.list.rows.iter().filter(|r| r.running()).count()
    }

    /// Whether a stack job (a deploy, a cancel) runs on this stack now: its
    /// detail view then follows it live.
    pub fn on_stack(&self, deployment: &str, stack: &str) -> bool {
        let target = format!("stack {stack}");
        self.list.rows.iter().any(|r| {
            r.running()
                && r.deployment == deployment
                && r.action.starts_with("stack_")
                && r.target == target
        })
    }
}

/// How often an open stack detail refreshes while a job runs on its stack.
pub const LIVE_DETAIL: Duration = Duration::from_secs(2);

impl Jobs {
    /// When the open stack detail of `s` is due for its live refresh.
    pub(super) fn live_detail_due(&self, s: &super::state::Session) -> Option<Instant> {
        let d = s.detail.as_ref()?;
        let super::state::DetailOf::Stack(stack) = &d.of else {
            return None;
        };
        if !self.on_stack(&s.deployment.name, stack) {
            return None;
        }
        d.fetch.due_at(LIVE_DETAIL)
    }

    /// When the open event history of `s` is due for its live refresh (its
    /// newest page), while a job runs on its stack.
    pub(super) fn live_events_due(&self, s: &super::state::Session) -> Option<Instant> {
        let h = s.events.as_ref()?;
        if !self.on_stack(&s.deployment.name, &h.stack) {
            return None;
        }
        h.list.fetch.due_at(LIVE_DETAIL)
    }
}

/// The panel a job's changes show in (refreshed when it ends).
fn panel_of_op(op: &Op) -> PanelId {
    match op {
        Op::Pki { .. } | Op::PublishCrl { .. } | Op::ImportServerCert { .. } => PanelId::Vpn,
        Op::Purge { .. } | Op::Peek { .. } | Op::Redrive { .. } => PanelId::Queues,
        Op::LambdaDisable { .. }
        | Op::LambdaEnable { .. }
        | Op::LambdaInvoke { .. }
        | Op::LambdaDeploy { .. }
        | Op::LambdaRollback { .. } => PanelId::Functions,
        Op::StackPreview { .. }
        | Op::CommandDeploy { .. }
        | Op::StackExecute { .. }
        | Op::StackDiscard { .. }
        | Op::StackCancel { .. } => PanelId::Stacks,
        Op::IndexCreate { .. } | Op::IndexDelete { .. } | Op::Reindex(_) => PanelId::Index,
        // Nothing to refresh: its table is in the job.
        Op::Health => PanelId::Jobs,
    }
}

impl State {
    /// The one way a plan goes on: confirmed changes open the confirm
    /// dialog; the rest start at once (read-only refusing changes).
    pub(super) fn propose(
        &mut self,
        plan: Result<Plan, String>,
        now: Instant,
        out: &mut Vec<Command>,
    ) {
        match plan {
            Err(why) => self.warn(why),
            Ok(plan) if plan.effect == Effect::Confirmed => {
                self.overlay = Some(Overlay::Confirm(Box::new(
                    super::confirm::ConfirmDialog::new(plan),
                )));
            }
            Ok(plan) => self.start_job(plan, now, out),
        }
    }

    /// Starts a job (after its confirm, if it needed one).
    pub(super) fn start_job(&mut self, plan: Plan, now: Instant, out: &mut Vec<Command>) {
        if plan.effect.is_mutating() && plan.deployment.read_only {
            // The allowlist holds here too, whatever asked; the runner checks again.
            self.warn(format!(
                "refused: deployment `{}` is read-only; nothing was changed",
                plan.deployment.name
            ));
            return;
        }
        let id = self.jobs.next_id;
        self.jobs.next_id += 1;
        if let Op::LambdaInvoke {
            function, payload, ..
        } = &plan.op
        {
            self.jobs.payloads.insert(
                (plan.deployment.name.clone(), function.name.clone()),
                payload.clone(),
            );
        }
        let who = self
            .session
            .as_ref()
            .filter(|s| s.deployment.name == plan.deployment.name)
            .and_then(|s| s.identity.clone());
        let row = JobRow {
            id: Some(id),
            key: format!("#{id}"),
            deployment: plan.deployment.name.clone(),
            action: plan.action.to_string(),
            target: plan.target.clone(),
            started: SystemTime::now(),
            started_at: Some(now),
            took: None,
            progress: Progress {
                phase: "starting".into(),
                ..Progress::default()
            },
            output: Vec::new(),
            outcome: None,
            cancel: plan.op.cancellable(),
            cancelling: false,
            refreshes: Some(panel_of_op(&plan.op)),
        };
        self.info(format!(
            "job #{id}: {} ({}) started; 8 shows the Jobs panel",
            plan.title, plan.target
        ));
        self.jobs.insert([row]);
        out.push(Command::StartJob {
            id,
            plan: Box::new(plan),
            who,
        });
    }

    /// Asks the job to stop, if it can.
    pub(super) fn cancel_job(&mut self, id: u64, out: &mut Vec<Command>) {
        let Some(row) = self.jobs.get_mut(id) else {
            return;
        };
        if !row.running() {
            let text = format!("job #{id} is not running");
            self.warn(text);
            return;
        }
        if let Err(why) = row.cancel {
            self.warn(format!("job #{id} cannot be cancelled: {why}"));
            return;
        }
        row.cancelling = true;
        out.push(Command::CancelJob(id));
        self.info(format!("asked job #{id} to stop at its next safe point"));
    }

    pub(super) fn job_event(&mut self, e: JobEvent, now: Instant, out: &mut Vec<Command>) {
        let Some(row) = self.jobs.get_mut(e.id) else {
            return;
        };
        let outcome = match e.update {
            JobUpdate::Progress(p) => {
                row.progress = p;
                return;
            }
            JobUpdate::Line(l) => {
                if row.output.len() >= OUTPUT_CAP {
                    row.output.remove(0);
                }
                row.output.push(l);
                return;
            }
            JobUpdate::Finished(o) => o,
        };
        row.took = row.started_at.map(|t| now.saturating_duration_since(t));
        row.outcome = Some(outcome.clone());
        let (deployment, refreshes, label) = (
            row.deployment.clone(),
            row.refreshes,
            format!("#{} {} {}", e.id, row.action, row.deployment),
        );
        // The health key asked for the table: it opens (a deploy's checks stay in its job).
        let health_job = row.action == "health_check";
        let ok = outcome.is_ok();
        if self.message.as_ref().is_some_and(|m| m.tone == Tone::Info) {
            // The toast supersedes "job #n … started".
            self.message = None;
        }
        self.toasts.push(Toast {
            text: format!("{label}: {}", outcome.message()),
            tone: if ok { Tone::Info } else { Tone::Error },
            until: ok.then_some(now + TOAST_OK),
        });
        match outcome.detail() {
            Some(Detail::Purged(queues)) => {
                for (q, at) in queues {
                    self.jobs
                        .purged
                        .insert((deployment.clone(), q.clone()), *at);
                }
            }
            Some(Detail::Next(plan)) => {
                let plan = (**plan).clone();
                if matches!(self.overlay, Some(Overlay::Confirm(_))) {
                    // One confirm at a time: this one is declined at once.
                    self.warn(format!(
                        "{}: another confirm is open, so this one was declined",
                        plan.title
                    ));
                    if let Some(undo) = plan.declined() {
                        self.start_job(undo, now, out);
                    }
                } else {
                    self.propose(Ok(plan), now, out);
                }
            }
            Some(Detail::Health(_)) if health_job && self.overlay.is_none() => {
                self.overlay = Some(Overlay::Job {
                    key: format!("#{}", e.id),
                    scroll: 0,
                });
            }
            Some(Detail::Peek { .. } | Detail::Invoke(_)) if self.overlay.is_none() => {
                self.overlay = Some(Overlay::Job {
                    key: format!("#{}", e.id),
                    scroll: 0,
                });
            }
            _ => {}
        }
        // What the job changed shows in its panel, if its deployment is open.
        if let (Some(panel), Some(s)) = (
            refreshes,
            self.session
                .as_mut()
                .filter(|s| s.deployment.name == deployment),
        ) {
            super::update::refresh(s, panel, now, out);
        }
    }

    /// Jobs of earlier runs, from the audit log.
    pub fn job_history(&mut self, entries: Vec<Entry>) {
        self.jobs
            .insert(entries.into_iter().map(JobRow::from_entry));
    }

    /// Drops toasts whose time is up; the earliest still to go, if any.
    pub(super) fn expire_toasts(&mut self, now: Instant) -> Option<Instant> {
        self.toasts.retain(|t| t.until.is_none_or(|u| u > now));
        self.toasts.iter().filter_map(|t| t.until).min()
    }
}
