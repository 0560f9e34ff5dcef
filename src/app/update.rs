//! The only place state changes: input and worker events in, commands out.

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use super::action::Action;
use super::events::EventHistory;
use super::list::ListOps;
use super::logs::{groups_to_tail, log_action, start_tail};
use super::palette::palette_matches;
use super::state::{
    DetailAnswer, DetailOf, DetailView, Overlay, PanelId, Screen, Session, State, Tone,
};
use super::text::{Edit, TextField};
use crate::aws::{Event, Request, Response};
use crate::config::Deployment;
use crate::jobs::{JobEvent, Plan};
use crate::model::Identity;

/// Something for the runtime to do on the state's behalf.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Start a worker for this deployment (dropping the previous one).
    Connect {
        deployment: Box<Deployment>,
        generation: u64,
    },
    /// Hand a request to the current worker.
    Send(Request),
    /// Put text on the terminal's clipboard (OSC 52).
    Clipboard(String),
    /// Write a file, and say so in the status line.
    WriteFile {
        path: std::path::PathBuf,
        contents: String,
    },
    /// Read an invoke's payload from a file; answered by [`Msg::PayloadLoaded`].
    LoadPayload(std::path::PathBuf),
    /// Read and hash a zip for a code deploy; answered by [`Msg::ZipInspected`].
    InspectZip(std::path::PathBuf),
    /// Run a plan as job `id` (it was confirmed, if it needed to be).
    StartJob {
        id: u64,
        plan: Box<Plan>,
        /// Who the deployment's credentials belong to, for the audit log.
        who: Option<Identity>,
    },
    /// Ask job `id` to stop at its next safe point.
    CancelJob(u64),
    /// Fetch one deployment's health for the fleet overview.
    FetchFleet {
        deployment: Box<Deployment>,
        tag: u64,
    },
}

/// Input to [`State::update`].
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Action(Action),
    Aws(Event),
    Job(JobEvent),
    /// Jobs of earlier runs, read from the audit log at start.
    JobHistory(Vec<crate::jobs::audit::Entry>),
    Fleet(crate::aws::fleet::Answer),
    /// A payload file's text, or why it could not be read.
    PayloadLoaded {
        path: std::path::PathBuf,
        text: Result<String, String>,
    },
    /// A zip's size and hash, or why it cannot be deployed.
    ZipInspected {
        path: std::path::PathBuf,
        facts: Result<crate::jobs::lambda_code::ZipFacts, String>,
    },
    /// Time passed: auto-refresh what is due.
    Tick,
}

/// Where things were drawn last frame, for mouse clicks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hitmap {
    pub tabs: Vec<(Rect, PanelId)>,
    /// Rows of the focused list (or the picker), without its header.
    pub list: Option<Rect>,
}

/// Rows a mouse wheel notch scrolls.
const WHEEL: isize = 3;

impl State {
    pub fn update(&mut self, msg: Msg, now: Instant, hits: &Hitmap) -> Vec<Command> {
        let mut out = Vec::new();
        match msg {
            Msg::Key(key) => self.key(key, now, &mut out),
            Msg::Mouse(m) => self.mouse(m, now, hits, &mut out),
            Msg::Action(a) => self.act(a, now, &mut out),
            Msg::Aws(e) => self.aws_event(e, now, &mut out),
            Msg::Job(e) => self.job_event(e, now, &mut out),
            Msg::JobHistory(entries) => self.job_history(entries),
            Msg::Fleet(a) => {
                self.fleet.apply(a, &self.deployments, now, &mut out);
            }
            Msg::PayloadLoaded { path, text } => self.payload_loaded(path, text),
            Msg::ZipInspected { path, facts } => self.zip_inspected(path, facts, now, &mut out),
            Msg::Tick => {}
        }
        self.expire_toasts(now);
        self.refresh_due(now, &mut out);
        out
    }

    /// When the loop must wake even if nothing happens: the next automatic
    /// refresh, or the next change of an "updated … ago" label.
    pub fn next_wake(&self, now: Instant) -> Option<Instant> {
        let toast = self.toasts.iter().filter_map(|t| t.until).min();
        if self.screen == Screen::Picker {
            let fleet = self.fleet.next_due(self.refresh_interval, now);
            return [fleet, toast].into_iter().flatten().min();
        }
        let Some(s) = self
            .session
            .as_ref()
            .filter(|_| self.screen == Screen::Console)
        else {
            return toast;
        };
        let fetch = s.fetch(s.focus);
        let refresh = self.refresh_interval.and_then(|i| fetch.due_at(i));
        let label = fetch.updated_at.map(|t| {
            now + crate::ui::format::until_label_changes(now.saturating_duration_since(t))
        });
        // Running jobs show their elapsed time in seconds.
        let jobs = (s.focus == PanelId::Jobs && self.jobs.running() > 0)
            .then(|| now + std::time::Duration::from_secs(1));
        let live = self.jobs.live_detail_due(s);
        let live_events = self.jobs.live_events_due(s);
        [refresh, label, toast, jobs, live, live_events]
            .into_iter()
            .flatten()
            .min()
    }

    // ---- keys -----------------------------------------------------------

    fn key(&mut self, key: KeyEvent, now: Instant, out: &mut Vec<Command>) {
        if let Some(Overlay::Palette { .. }) = self.overlay {
            return self.palette_key(key, now, out);
        }
        if let Some(Overlay::Confirm(_)) = self.overlay {
            return self.confirm_key(key, now, out);
        }
        if let Some(Overlay::Invoke(_)) = self.overlay {
            return self.invoke_key(key, now, out);
        }
        if let Some(Overlay::CodeDeploy(_)) = self.overlay {
            return self.code_deploy_key(key, out);
        }
        let prompting = self.screen == Screen::Console
            && self.session.as_ref().is_some_and(|s| {
                s.focus == PanelId::Logs && s.logs.as_ref().is_some_and(|l| l.prompt.is_some())
            });
        if prompting {
            return self.log_prompt_key(key, out);
        }
        if self.session.as_ref().is_some_and(|s| s.editing_filter) && self.screen == Screen::Console
        {
            return self.filter_key(key);
        }
        let panel = self
            .session
            .as_ref()
            .filter(|_| self.screen == Screen::Console);
        if let Some(action) = self.keymap.action_for(panel.map(|s| s.focus), key) {
            self.act(action, now, out);
        }
    }

    /// The keys of an open event history: a list's, plus back and refresh.
    fn events_action(&mut self, action: Action, now: Instant, out: &mut Vec<Command>) {
        let height = self.list_height;
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let Some(h) = s.events.as_mut() else {
            return;
        };
        match action {
            Action::Back if !h.list.filter.is_empty() => h.list.set_filter(String::new()),
            Action::Back => s.events = None,
            // The newest page again: what happened since comes on top.
            Action::Refresh | Action::RefreshAll if h.list.fetch.begin(now) => {
                out.push(Command::Send(h.page(None)));
            }
            Action::Filter => {
                s.filter_input = TextField::editing(h.list.filter.clone());
                s.editing_filter = true;
            }
            Action::SortNext => h.list.sort_by_next_column(),
            Action::SortReverse => h.list.reverse_sort(),
            Action::Up => h.list.move_by(-1, height),
            Action::Down => h.list.move_by(1, height),
            Action::PageUp => h.list.move_by(-(height as isize), height),
            Action::PageDown => h.list.move_by(height as isize, height),
            Action::Top => h.list.select(0, height),
            Action::Bottom => h.list.select(usize::MAX, height),
            // Everything else waits until the history is closed.
            _ => {}
        }
    }

    fn filter_key(&mut self, key: KeyEvent) {
        let height = self.list_height;
        let edit = match self.session.as_mut() {
            Some(s) => s.filter_input.key(key),
            None => return,
        };
        let text = self
            .session
            .as_ref()
            .map(|s| s.filter_input.text().to_string())
            .unwrap_or_default();
        match edit {
            Edit::Cancel => {
                self.set_editing_filter(false);
                if let Some(list) = self.list_mut() {
                    list.set_filter(String::new());
                }
            }
            Edit::Submit => self.set_editing_filter(false),
            Edit::Changed => {
                if let Some(list) = self.list_mut() {
                    list.set_filter(text);
                }
            }
            Edit::Ignored => match key.code {
                KeyCode::Up => self.move_selection(-1, height),
                KeyCode::Down => self.move_selection(1, height),
                _ => {}
            },
            Edit::Moved => {}
        }
    }

    fn set_editing_filter(&mut self, on: bool) {
        if let Some(s) = self.session.as_mut() {
            s.editing_filter = on;
        }
    }

    fn palette_key(&mut self, key: KeyEvent, now: Instant, out: &mut Vec<Command>) {
        let read_only = self.read_only();
        let Some(Overlay::Palette { input, selected }) = self.overlay.as_mut() else {
            return;
        };
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Up => *selected = selected.saturating_sub(1),
            KeyCode::Char('p') if ctrl => *selected = selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Tab => *selected += 1,
            KeyCode::Char('n') if ctrl => *selected += 1,
            _ => match input.key(key) {
                Edit::Cancel => self.overlay = None,
                Edit::Submit => {
                    let chosen = palette_matches(input.text(), read_only)
                        .get(*selected)
                        .copied();
                    self.overlay = None;
                    if let Some(action) = chosen {
                        self.act(action, now, out);
                    }
                }
                Edit::Changed => *selected = 0,
                Edit::Moved | Edit::Ignored => {}
            },
        }
        if let Some(Overlay::Palette { input, selected }) = self.overlay.as_mut() {
            let n = palette_matches(input.text(), read_only).len();
            *selected = (*selected).min(n.saturating_sub(1));
        }
    }

    fn read_only(&self) -> bool {
        self.session
            .as_ref()
            .is_some_and(|s| s.deployment.read_only)
    }

    // ---- actions --------------------------------------------------------

    pub fn act(&mut self, action: Action, now: Instant, out: &mut Vec<Command>) {
        if !action.offered_read_only() && self.read_only() {
            // The allowlist holds even when a mutating action is invoked directly.
            self.warn(format!(
                "`{action}` is not allowed: this deployment is read-only"
            ));
            return;
        }
        if let Some(overlay) = &mut self.overlay {
            match (overlay, action) {
                (_, Action::Back | Action::Quit) => self.overlay = None,
                (Overlay::Help { .. }, Action::Help)
                | (Overlay::Problems { .. }, Action::Problems) => self.overlay = None,
                (Overlay::Rollback(_), Action::Open) => self.rollback_choose(now, out),
                (
                    Overlay::Rollback(_),
                    a @ (Action::Up
                    | Action::Down
                    | Action::PageUp
                    | Action::PageDown
                    | Action::Top
                    | Action::Bottom),
                ) => self.rollback_move(a),
                (Overlay::Job { key, .. }, Action::JobCancel) => {
                    let id = self.jobs.list.rows.iter().find(|r| &r.key == key);
                    match id.and_then(|r| r.id) {
                        Some(id) => self.cancel_job(id, out),
                        None => self.warn("that job ran in an earlier run of opsdeck"),
                    }
                }
                (
                    Overlay::Help { scroll }
                    | Overlay::Problems { scroll }
                    | Overlay::Job { scroll, .. },
                    a,
                ) => {
                    *scroll = scrolled(*scroll, a, self.list_height);
                }
                (Overlay::Choose(c), Action::Open) => {
                    let (then, chosen) = (c.then, c.chosen().map(|c| c.name.clone()));
                    self.overlay = None;
                    if let Some(name) = chosen {
                        let plan = self.chosen_plan(then, &name);
                        self.propose(plan, now, out);
                    }
                }
                (Overlay::Choose(c), a) => match a {
                    Action::Up => c.move_by(-1),
                    Action::Down => c.move_by(1),
                    Action::PageUp | Action::Top => c.move_by(isize::MIN / 2),
                    Action::PageDown | Action::Bottom => c.move_by(isize::MAX / 2),
                    _ => {}
                },
                (
                    Overlay::Palette { .. }
                    | Overlay::Confirm(_)
                    | Overlay::Invoke(_)
                    | Overlay::CodeDeploy(_)
                    | Overlay::Rollback(_),
                    _,
                ) => {}
            }
            return;
        }
        match action {
            Action::Quit => self.quit = true,
            Action::Help => self.overlay = Some(Overlay::Help { scroll: 0 }),
            Action::Problems => self.overlay = Some(Overlay::Problems { scroll: 0 }),
            Action::Palette => {
                self.overlay = Some(Overlay::Palette {
                    input: TextField::new(),
                    selected: 0,
                })
            }
            Action::SwitchDeployment => {
                self.screen = Screen::Picker;
                if let Some(s) = &self.session {
                    self.picker = self
                        .deployments
                        .iter()
                        .position(|d| d.name == s.deployment.name)
                        .unwrap_or(0);
                }
            }
            _ if self.screen == Screen::Picker => self.picker_action(action, now, out),
            _ => self.console_action(action, now, out),
        }
    }

    fn picker_action(&mut self, action: Action, now: Instant, out: &mut Vec<Command>) {
        let step = |d| self.fleet.step(self.picker, d);
        match action {
            Action::Up => self.picker = step(-1),
            Action::Down => self.picker = step(1),
            Action::Top | Action::PageUp => self.picker = step(isize::MIN / 2),
            Action::Bottom | Action::PageDown => self.picker = step(isize::MAX / 2),
            Action::Refresh | Action::RefreshAll => self.refresh_fleet(now, out),
            Action::OpenErrors => self.open_errors(now, out),
            Action::OpenDlqs => self.open_dlqs(now, out),
            Action::Open => {
                if let Some(d) = self.deployments.get(self.picker).cloned() {
                    self.connect(d, now, out);
                }
            }
            Action::Back if self.session.is_some() => self.screen = Screen::Console,
            _ => {}
        }
    }

    /// Opens a deployment by name (for `--deployment`).
    pub fn select_deployment(&mut self, name: &str, now: Instant) -> Result<Vec<Command>, String> {
        let Some(i) = self.deployments.iter().position(|d| d.name == name) else {
            let names: Vec<&str> = self.deployments.iter().map(|d| d.name.as_str()).collect();
            let hint = crate::config::nearest(name, names.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            return Err(format!(
                "no deployment named `{name}`{hint} (configured: {})",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ));
        };
        self.picker = i;
        let mut out = Vec::new();
        self.connect(self.deployments[i].clone(), now, &mut out);
        Ok(out)
    }

    pub(super) fn connect(&mut self, deployment: Deployment, now: Instant, out: &mut Vec<Command>) {
        let same = self
            .session
            .as_ref()
            .is_some_and(|s| s.deployment.name == deployment.name);
        self.screen = Screen::Console;
        if same {
            return;
        }
        let generation = self.next_generation;
        self.next_generation += 1;
        let mut session = Session::new(deployment.clone(), generation);
        out.push(Command::Connect {
            deployment: Box::new(deployment),
            generation,
        });
        session.identity_fetch.begin(now);
        out.push(Command::Send(Request::Identity));
        for panel in PanelId::ALL {
            if let Some(request) = request_for(panel, &session.deployment) {
                session.fetch_mut(panel).begin(now);
                out.push(Command::Send(request));
            }
        }
        self.session = Some(session);
        self.message = None;
    }

    fn console_action(&mut self, action: Action, now: Instant, out: &mut Vec<Command>) {
        let height = self.list_height;
        let Some(s) = self.session.as_mut() else {
            self.screen = Screen::Picker;
            return;
        };
        if action == Action::HealthCheck {
            // From any panel, and from a detail view: the deployment's, not a row's.
            let plan = crate::jobs::health::plan(&s.deployment);
            self.propose(plan, now, out);
            return;
        }
        if s.focus == PanelId::Stacks && s.events.is_some() {
            return self.events_action(action, now, out);
        }
        if action == Action::StackEvents {
            // From the Stacks panel, or from a stack's detail.
            let stack = match &s.detail {
                Some(DetailView {
                    of: DetailOf::Stack(name),
                    ..
                }) => Some(name.clone()),
                Some(_) => None,
                None if s.focus == PanelId::Stacks => {
                    s.stacks.selected_row().map(|r| r.name.clone())
                }
                None => None,
            };
            match stack {
                Some(stack) => {
                    let (history, first) = EventHistory::open(&stack, now);
                    s.focus = PanelId::Stacks;
                    s.events = Some(history);
                    out.push(Command::Send(first));
                }
                None => self.warn("`stack_events` works on the Stacks panel: select a stack there"),
            }
            return;
        }
        if let Some(detail) = s.detail.as_mut() {
            // A function's verbs work from its detail too: the detail is of
            // the selected row, which is what they act on.
            let passes = matches!(detail.of, DetailOf::Function(_)) && action.is_mutating();
            if !passes {
                match action {
                    Action::Back | Action::Open => s.detail = None,
                    Action::Refresh | Action::RefreshAll => {
                        if detail.fetch.begin(now) {
                            out.push(Command::Send(detail.of.request()));
                        }
                    }
                    Action::RevealValues => detail.reveal = !detail.reveal,
                    a => detail.scroll = scrolled(detail.scroll, a, height),
                }
                return;
            }
        }
        let focus_to = |p: PanelId| Some(p);
        let new_focus = match action {
            Action::NextPanel => focus_to(s.focus.cycle(1)),
            Action::PrevPanel => focus_to(s.focus.cycle(-1)),
            Action::PanelStacks => focus_to(PanelId::Stacks),
            Action::PanelFunctions => focus_to(PanelId::Functions),
            Action::PanelQueues => focus_to(PanelId::Queues),
            Action::PanelLogGroups => focus_to(PanelId::LogGroups),
            Action::PanelIndex => focus_to(PanelId::Index),
            Action::PanelLogs => focus_to(PanelId::Logs),
            Action::PanelVpn => focus_to(PanelId::Vpn),
            Action::PanelJobs => focus_to(PanelId::Jobs),
            _ => None,
        };
        if let Some(p) = new_focus {
            s.focus = p;
            s.editing_filter = false;
            return;
        }
        if s.focus == PanelId::Logs
            && s.logs.is_some()
            && log_action(s, action, height, &mut self.next_tail_id, out)
        {
            return;
        }
        if action == Action::LambdaInvoke {
            // The payload comes first; its plan (and effect) when it is sent.
            match self.invoke_popup() {
                Ok(p) => self.overlay = Some(Overlay::Invoke(Box::new(p))),
                Err(why) => self.warn(why),
            }
            return;
        }
        match action {
            // The zip (read, or typed) and the version come before their plans.
            Action::LambdaDeploy | Action::LambdaDeployZip => return self.code_deploy(action, out),
            Action::LambdaRollback => return self.rollback_open(now, out),
            _ => {}
        }
        if action.is_mutating() {
            if let Some(chooser) = self.chooser(action) {
                // Which configured deploy first; its plan when chosen.
                self.overlay = Some(Overlay::Choose(Box::new(chooser)));
                return;
            }
            // Every change is planned from where the user is, then proposed:
            // confirmed ones open the one dialog, nothing is sent before its yes.
            if let Some(plan) = self.plan(action, std::time::SystemTime::now()) {
                self.propose(plan, now, out);
            }
            return;
        }
        let focus = s.focus;
        let filtered = if focus == PanelId::Jobs {
            !self.jobs.list.filter.is_empty()
        } else {
            !s.filter(focus).is_empty()
        };
        match action {
            Action::TailLogs => {
                let groups = groups_to_tail(s);
                if groups.is_empty() {
                    self.warn("nothing to tail: mark log groups (space) in the Log groups panel, or select a function");
                    return;
                }
                let total = groups.len();
                let groups: Vec<String> = groups
                    .into_iter()
                    .take(crate::cli::logs::MAX_GROUPS)
                    .collect();
                let id = self.next_tail_id;
                self.next_tail_id += 1;
                let cap = self.log_cap;
                let Some(s) = self.session.as_mut() else {
                    return;
                };
                start_tail(s, id, groups, "15m".into(), None, None, cap, out);
                s.focus = PanelId::Logs;
                if total > crate::cli::logs::MAX_GROUPS {
                    self.warn(format!(
                        "tailing the first {} of {total} log groups (a tail merges at most {0})",
                        crate::cli::logs::MAX_GROUPS
                    ));
                }
            }
            Action::Mark if focus == PanelId::LogGroups => {
                if let Some(name) = s.log_groups.selected_row().map(|r| r.name.clone()) {
                    if !s.marked.remove(&name) {
                        s.marked.insert(name);
                    }
                    s.log_groups.move_by(1, height);
                }
            }
            Action::Up => self.move_selection(-1, height),
            Action::Down => self.move_selection(1, height),
            Action::PageUp => self.move_selection(-(height as isize), height),
            Action::PageDown => self.move_selection(height as isize, height),
            Action::Top => self.move_selection(isize::MIN / 2, height),
            Action::Bottom => self.move_selection(isize::MAX / 2, height),
            Action::Refresh => refresh(s, focus, now, out),
            Action::RefreshAll => {
                for p in PanelId::ALL {
                    refresh(s, p, now, out);
                }
            }
            Action::Filter if focus != PanelId::Logs => {
                s.editing_filter = true;
                let current = self
                    .list_mut()
                    .map(|l| l.filter().to_string())
                    .unwrap_or_default();
                if let Some(s) = self.session.as_mut() {
                    s.filter_input = TextField::editing(current);
                }
            }
            Action::Back if filtered => {
                if let Some(list) = self.list_mut() {
                    list.set_filter(String::new());
                }
            }
            Action::SortNext | Action::SortReverse => {
                if let Some(list) = self.list_mut() {
                    if action == Action::SortNext {
                        list.sort_by_next_column();
                    } else {
                        list.reverse_sort();
                    }
                }
            }
            Action::Open if matches!(focus, PanelId::Stacks | PanelId::Functions) => {
                let of = match focus {
                    PanelId::Stacks => s
                        .stacks
                        .selected_row()
                        .map(|r| DetailOf::Stack(r.name.clone())),
                    _ => s
                        .functions
                        .selected_row()
                        .map(|r| DetailOf::Function(r.name.clone())),
                };
                if let Some(of) = of {
                    let mut view = DetailView::new(of);
                    view.fetch.begin(now);
                    out.push(Command::Send(view.of.request()));
                    s.detail = Some(view);
                }
            }
            Action::Open if focus == PanelId::Jobs => {
                if let Some(row) = self.jobs.list.selected_row() {
                    self.overlay = Some(Overlay::Job {
                        key: row.key.clone(),
                        scroll: 0,
                    });
                }
            }
            Action::JobCancel => match self.jobs.list.selected_row().and_then(|r| r.id) {
                Some(id) if focus == PanelId::Jobs => self.cancel_job(id, out),
                _ if focus == PanelId::Jobs => {
                    self.warn("that job ran in an earlier run of opsdeck; it cannot be cancelled")
                }
                _ => self.warn("select a running job in the Jobs panel (8) to cancel it"),
            },
            // Esc with nothing else to close dismisses the toasts.
            Action::Back => self.toasts.clear(),
            _ => {}
        }
    }

    /// The focused list: a panel's of the open deployment, or the jobs'.
    pub fn list_mut(&mut self) -> Option<&mut dyn ListOps> {
        let s = self.session.as_mut()?;
        if s.focus == PanelId::Jobs {
            return Some(&mut self.jobs.list);
        }
        s.list_mut()
    }

    fn move_selection(&mut self, delta: isize, height: usize) {
        if let Some(list) = self.list_mut() {
            list.move_by(delta, height);
        }
    }

    // ---- mouse ----------------------------------------------------------

    fn mouse(&mut self, m: MouseEvent, now: Instant, hits: &Hitmap, out: &mut Vec<Command>) {
        let at = Position::new(m.column, m.row);
        match m.kind {
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let action = if m.kind == MouseEventKind::ScrollDown {
                    Action::Down
                } else {
                    Action::Up
                };
                for _ in 0..WHEEL {
                    self.act(action, now, out);
                }
            }
            MouseEventKind::Down(MouseButton::Left) if self.overlay.is_none() => {
                if let Some((_, panel)) = hits.tabs.iter().find(|(r, _)| r.contains(at)) {
                    self.act(panel_action(*panel), now, out);
                    return;
                }
                let Some(list) = hits.list.filter(|r| r.contains(at)) else {
                    return;
                };
                let row = usize::from(m.row - list.y);
                let height = self.list_height;
                if self.screen == Screen::Picker {
                    let last = self.fleet.order.len().saturating_sub(1);
                    let first = self.fleet.first_shown(self.picker, height);
                    let at = (first + row).min(last);
                    self.picker = self.fleet.order.get(at).copied().unwrap_or(0);
                    return;
                }
                if self.session.as_ref().is_none_or(|s| s.detail.is_some()) {
                    return;
                }
                if let Some(list) = self.list_mut() {
                    let first = list.offset();
                    list.select(first + row, height);
                }
            }
            _ => {}
        }
    }

    // ---- AWS ------------------------------------------------------------

    fn aws_event(&mut self, e: Event, now: Instant, out: &mut Vec<Command>) {
        let Some(s) = self
            .session
            .as_mut()
            .filter(|s| s.generation == e.generation)
        else {
            tracing::debug!(
                generation = e.generation,
                "dropped an answer for a session the user left"
            );
            return;
        };
        if let Some(id) = tail_id(&e) {
            if let Some(view) = s
                .logs
                .as_mut()
                .filter(|v| v.older == super::logs::Older::Loading(id))
            {
                match e.outcome {
                    Ok(Response::Tail { update, .. }) => view.apply_older(update),
                    Ok(_) => {}
                    Err(p) => view.apply_older(crate::aws::tail::TailUpdate::Ended(Some(p))),
                }
                return;
            }
            if let Some(view) = s.logs.as_mut().filter(|v| v.id == id) {
                match e.outcome {
                    Ok(Response::Tail { update, .. }) => {
                        view.apply(update);
                    }
                    Ok(_) => {}
                    Err(p) => view.ended = Some(Some(p)),
                }
            }
            return;
        }
        let (ok, error) = match e.outcome {
            Ok(r) => (Some(r), None),
            Err(p) => (None, Some(p)),
        };
        let again = match feeds(&e.request) {
            Feeds::Identity => s.identity_fetch.finish(now, error, e.took),
            Feeds::Detail(of) => match s.detail.as_mut().filter(|d| d.of == of) {
                Some(d) => d.fetch.finish(now, error, e.took),
                None => false,
            },
            Feeds::Events(stack) => match s.events.as_mut().filter(|h| h.stack == stack) {
                Some(h) => h.list.fetch.finish(now, error, e.took),
                None => false,
            },
            Feeds::Panel(panel) => s.fetch_mut(panel).finish(now, error, e.took),
            Feeds::Tail => false,
        };
        match ok {
            Some(Response::Identity(id)) => s.identity = Some(id),
            Some(Response::Stacks(rows)) => s.stacks.set_rows(rows),
            Some(Response::Functions(rows)) => s.functions.set_rows(rows),
            Some(Response::Queues(rows)) => {
                s.record_depths(&rows);
                s.queues.set_rows(rows);
            }
            Some(Response::LogGroups(rows)) => s.log_groups.set_rows(rows),
            Some(Response::Domain(d)) => s.index = Some(d),
            Some(Response::Index(view)) => {
                s.index = Some(view.domain.clone());
                s.search.apply(&view);
            }
            Some(Response::StackDetail(name, detail)) => {
                if let Some(d) = s.detail.as_mut().filter(|d| d.of == DetailOf::Stack(name)) {
                    d.answer = Some(DetailAnswer::Stack(detail));
                }
            }
            Some(Response::StackEvents { events, next }) => {
                if let Request::StackEvents { stack, next: asked } = &e.request
                    && let Some(h) = s.events.as_mut().filter(|h| &h.stack == stack)
                {
                    h.apply(asked.as_deref(), events, next);
                }
            }
            Some(Response::FunctionDetail(name, detail)) => {
                if let Some(d) = s
                    .detail
                    .as_mut()
                    .filter(|d| d.of == DetailOf::Function(name))
                {
                    d.answer = Some(DetailAnswer::Function(detail));
                }
            }
            Some(Response::Ca(listing)) => {
                let rows = listing
                    .report
                    .iter()
                    .flat_map(|r| r.certificates.iter())
                    .map(|c| super::vpn::VpnRow::Cert(Box::new(c.clone()), c.serial.hex()))
                    .chain(
                        listing
                            .pending
                            .iter()
                            .cloned()
                            .map(super::vpn::VpnRow::Pending),
                    )
                    .collect();
                s.vpn.set_rows(rows);
                s.ca = Some(listing);
            }
            Some(Response::Tail { .. }) | None => {}
        }
        let height = self.list_height;
        if let Some(s) = self.session.as_mut() {
            keep_visible(s, height);
        }
        if again {
            out.push(Command::Send(e.request));
        }
        if self.message.as_ref().is_some_and(|m| m.tone == Tone::Info) {
            // Info messages are one-shot; a new answer clears them.
            self.message = None;
        }
    }

    /// Refreshes the focused panel when its interval has passed.
    fn refresh_due(&mut self, now: Instant, out: &mut Vec<Command>) {
        if self.screen == Screen::Picker {
            return self.fleet_due(now, out);
        }
        if let Some(s) = self.session.as_mut()
            && self.jobs.live_detail_due(s).is_some_and(|t| t <= now)
            && let Some(d) = s.detail.as_mut()
            && d.fetch.begin(now)
        {
            // A deploy runs on the open stack: its events show as they come.
            out.push(Command::Send(d.of.request()));
        }
        let height = self.list_height;
        if let Some(s) = self.session.as_mut()
            && let Some(h) = s.events.as_mut()
        {
            if let Some(more) = h.wants_more(height) {
                // Scrolled (or filtered) near the end of what is in: the next older page.
                h.list.fetch.begin(now);
                out.push(Command::Send(more));
            } else if self.jobs.live_events_due(s).is_some_and(|t| t <= now)
                && let Some(h) = s.events.as_mut()
                && h.list.fetch.begin(now)
            {
                out.push(Command::Send(h.page(None)));
            }
        }
        let Some(interval) = self.refresh_interval else {
            return;
        };
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let due = s.fetch(s.focus).due_at(interval).is_some_and(|t| t <= now);
        if due {
            refresh(s, s.focus, now, out);
        }
    }
}

/// The tail an event belongs to, if it is a tail's.
fn tail_id(e: &Event) -> Option<u64> {
    match (&e.request, &e.outcome) {
        (_, Ok(Response::Tail { id, .. })) => Some(*id),
        (Request::Tail { id, .. } | Request::StopTail(id), _) => Some(*id),
        _ => None,
    }
}

pub(super) fn refresh(s: &mut Session, panel: PanelId, now: Instant, out: &mut Vec<Command>) {
    let Some(request) = request_for(panel, &s.deployment) else {
        return;
    };
    if s.fetch_mut(panel).begin(now) {
        out.push(Command::Send(request));
    }
    // An open detail of this panel's refreshes with it (after a job, say).
    if let Some(d) = s.detail.as_mut() {
        let of_panel = match d.of {
            DetailOf::Stack(_) => PanelId::Stacks,
            DetailOf::Function(_) => PanelId::Functions,
        };
        if of_panel == panel && d.fetch.begin(now) {
            out.push(Command::Send(d.of.request()));
        }
    }
    // A failed identity (credentials, endpoint) is retried with any refresh.
    if s.identity_fetch.error.is_some() && s.identity_fetch.begin(now) {
        out.push(Command::Send(Request::Identity));
    }
}

fn keep_visible(s: &mut Session, height: usize) {
    s.stacks.keep_visible(height);
    if let Some(h) = s.events.as_mut() {
        h.list.keep_visible(height);
    }
    s.functions.keep_visible(height);
    s.queues.keep_visible(height);
    s.log_groups.keep_visible(height);
    s.vpn.keep_visible(height);
    s.search.list.keep_visible(height);
}

fn scrolled(scroll: usize, action: Action, height: usize) -> usize {
    match action {
        Action::Up => scroll.saturating_sub(1),
        Action::Down => scroll + 1,
        Action::PageUp => scroll.saturating_sub(height),
        Action::PageDown => scroll + height,
        Action::Top => 0,
        Action::Bottom => usize::MAX / 2,
        _ => scroll,
    }
}

/// What refreshes a panel; `None` for one that is not fetched (Logs: its tail feeds it).
pub fn request_for(panel: PanelId, d: &Deployment) -> Option<Request> {
    Some(match panel {
        PanelId::Vpn => Request::Pki(super::vpn::pki_dir(d)),
        PanelId::Stacks => Request::Stacks,
        PanelId::Functions => Request::Functions,
        PanelId::Queues => Request::Queues,
        PanelId::LogGroups => Request::LogGroups,
        PanelId::Index => Request::Domain,
        PanelId::Logs | PanelId::Jobs => return None,
    })
}

/// What a worker's answer feeds.
enum Feeds {
    Identity,
    Panel(PanelId),
    Detail(DetailOf),
    /// A stack's event history.
    Events(String),
    Tail,
}

/// Every request says what its answer feeds: no catch-all, so a new request
/// cannot silently be taken for another panel's refresh.
fn feeds(request: &Request) -> Feeds {
    match request {
        Request::Identity => Feeds::Identity,
        Request::Stacks => Feeds::Panel(PanelId::Stacks),
        Request::Functions => Feeds::Panel(PanelId::Functions),
        Request::Queues => Feeds::Panel(PanelId::Queues),
        Request::LogGroups => Feeds::Panel(PanelId::LogGroups),
        Request::Domain => Feeds::Panel(PanelId::Index),
        Request::Pki(_) => Feeds::Panel(PanelId::Vpn),
        Request::StackDetail(name) => Feeds::Detail(DetailOf::Stack(name.clone())),
        Request::StackEvents { stack, .. } => Feeds::Events(stack.clone()),
        Request::FunctionDetail(name) => Feeds::Detail(DetailOf::Function(name.clone())),
        Request::Tail { .. } | Request::StopTail(_) => Feeds::Tail,
    }
}

pub fn panel_action(panel: PanelId) -> Action {
    match panel {
        PanelId::Stacks => Action::PanelStacks,
        PanelId::Functions => Action::PanelFunctions,
        PanelId::Queues => Action::PanelQueues,
        PanelId::LogGroups => Action::PanelLogGroups,
        PanelId::Index => Action::PanelIndex,
        PanelId::Logs => Action::PanelLogs,
        PanelId::Vpn => Action::PanelVpn,
        PanelId::Jobs => Action::PanelJobs,
    }
}
