//! The only place state changes: input and worker events in, commands out.

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use super::action::Action;
use super::state::{Overlay, PanelId, Screen, Session, StackDetailView, State, Tone};
use crate::aws::{Event, Request, Response};
use crate::config::Deployment;

/// Something for the runtime to do on the state's behalf.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    Fleet(crate::aws::fleet::Answer),
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
            Msg::Fleet(a) => {
                self.fleet.apply(a, &self.deployments, now, &mut out);
            }
            Msg::Tick => {}
        }
        self.refresh_due(now, &mut out);
        out
    }

    /// When the loop must wake even if nothing happens: the next automatic
    /// refresh, or the next change of an "updated … ago" label.
    pub fn next_wake(&self, now: Instant) -> Option<Instant> {
        if self.screen == Screen::Picker {
            return self.fleet.next_due(self.refresh_interval, now);
        }
        let s = self
            .session
            .as_ref()
            .filter(|_| self.screen == Screen::Console)?;
        let fetch = s.fetch(s.focus);
        let refresh = self.refresh_interval.and_then(|i| fetch.due_at(i));
        let label = fetch.updated_at.map(|t| {
            now + crate::ui::format::until_label_changes(now.saturating_duration_since(t))
        });
        [refresh, label].into_iter().flatten().min()
    }

    // ---- keys -----------------------------------------------------------

    fn key(&mut self, key: KeyEvent, now: Instant, out: &mut Vec<Command>) {
        if let Some(Overlay::Palette { .. }) = self.overlay {
            return self.palette_key(key, now, out);
        }
        if let Some(Overlay::Confirm(_)) = self.overlay {
            return self.confirm_key(key, now, out);
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
        if let Some(action) = self.keymap.action_for(key) {
            self.act(action, now, out);
        }
    }

    fn filter_key(&mut self, key: KeyEvent) {
        let height = self.list_height;
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let mut filter = s.filter(s.focus).to_string();
        match key.code {
            KeyCode::Esc => {
                filter.clear();
                s.editing_filter = false;
            }
            KeyCode::Enter => s.editing_filter = false,
            KeyCode::Backspace => {
                filter.pop();
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => filter.clear(),
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => filter.push(c),
            KeyCode::Up => return move_selection(s, -1, height),
            KeyCode::Down => return move_selection(s, 1, height),
            _ => return,
        }
        if let Some(list) = s.list_mut() {
            list.set_filter(filter);
        }
    }

    fn palette_key(&mut self, key: KeyEvent, now: Instant, out: &mut Vec<Command>) {
        let read_only = self.read_only();
        let Some(Overlay::Palette { input, selected }) = self.overlay.as_mut() else {
            return;
        };
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => self.overlay = None,
            KeyCode::Enter => {
                let chosen = palette_matches(input, read_only).get(*selected).copied();
                self.overlay = None;
                if let Some(action) = chosen {
                    self.act(action, now, out);
                }
            }
            KeyCode::Up => *selected = selected.saturating_sub(1),
            KeyCode::Char('p') if ctrl => *selected = selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Tab => *selected += 1,
            KeyCode::Char('n') if ctrl => *selected += 1,
            KeyCode::Backspace => {
                input.pop();
                *selected = 0;
            }
            KeyCode::Char('u') if ctrl => {
                input.clear();
                *selected = 0;
            }
            KeyCode::Char(c) if !ctrl => {
                input.push(c);
                *selected = 0;
            }
            _ => {}
        }
        if let Some(Overlay::Palette { input, selected }) = self.overlay.as_mut() {
            let n = palette_matches(input, read_only).len();
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
        if action.is_mutating() && self.read_only() {
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
                (Overlay::Help { scroll } | Overlay::Problems { scroll }, a) => {
                    *scroll = scrolled(*scroll, a, self.list_height);
                }
                (Overlay::Palette { .. } | Overlay::Confirm(_), _) => {}
            }
            return;
        }
        match action {
            Action::Quit => self.quit = true,
            Action::Help => self.overlay = Some(Overlay::Help { scroll: 0 }),
            Action::Problems => self.overlay = Some(Overlay::Problems { scroll: 0 }),
            Action::Palette => {
                self.overlay = Some(Overlay::Palette {
                    input: String::new(),
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
        if let Some(detail) = s.detail.as_mut() {
            match action {
                Action::Back | Action::Open => s.detail = None,
                Action::Refresh | Action::RefreshAll => {
                    if detail.fetch.begin(now) {
                        out.push(Command::Send(Request::StackDetail(detail.stack.clone())));
                    }
                }
                a => detail.scroll = scrolled(detail.scroll, a, height),
            }
            return;
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
            Action::VpnSign | Action::VpnRevoke | Action::VpnCrl | Action::VpnPublish => {
                match vpn_confirm(s, action) {
                    Ok(confirm) => self.overlay = Some(Overlay::Confirm(Box::new(confirm))),
                    Err(why) => self.warn(why),
                }
            }
            Action::Mark if s.focus == PanelId::LogGroups => {
                if let Some(name) = s.log_groups.selected_row().map(|r| r.name.clone()) {
                    if !s.marked.remove(&name) {
                        s.marked.insert(name);
                    }
                    s.log_groups.move_by(1, height);
                }
            }
            Action::Up => move_selection(s, -1, height),
            Action::Down => move_selection(s, 1, height),
            Action::PageUp => move_selection(s, -(height as isize), height),
            Action::PageDown => move_selection(s, height as isize, height),
            Action::Top => move_selection(s, isize::MIN / 2, height),
            Action::Bottom => move_selection(s, isize::MAX / 2, height),
            Action::Refresh => refresh(s, s.focus, now, out),
            Action::RefreshAll => {
                for p in PanelId::ALL {
                    refresh(s, p, now, out);
                }
            }
            Action::Filter if !matches!(s.focus, PanelId::Index | PanelId::Logs) => {
                s.editing_filter = true
            }
            Action::Back if !s.filter(s.focus).is_empty() => {
                if let Some(list) = s.list_mut() {
                    list.set_filter(String::new());
                }
            }
            Action::SortNext | Action::SortReverse => {
                if let Some(list) = s.list_mut() {
                    if action == Action::SortNext {
                        list.sort_by_next_column();
                    } else {
                        list.reverse_sort();
                    }
                }
            }
            Action::Open if s.focus == PanelId::Stacks => {
                if let Some(row) = s.stacks.selected_row() {
                    let stack = row.name.clone();
                    let mut view = StackDetailView {
                        stack: stack.clone(),
                        fetch: Default::default(),
                        detail: None,
                        scroll: 0,
                    };
                    view.fetch.begin(now);
                    s.detail = Some(view);
                    out.push(Command::Send(Request::StackDetail(stack)));
                }
            }
            _ => {}
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
                let Some(s) = self.session.as_mut().filter(|s| s.detail.is_none()) else {
                    return;
                };
                if let Some(list) = s.list_mut() {
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
        // What a VPN job did, or why it was refused: for the status line.
        let mut done: Option<String> = None;
        let job_failed = match (&e.request, &e.outcome) {
            (Request::Ca { op, .. }, Err(p)) if *op != crate::aws::ca::CaOp::List => {
                Some(p.message.clone())
            }
            _ => None,
        };
        let (ok, error) = match e.outcome {
            Ok(r) => (Some(r), None),
            Err(p) => (None, Some(p)),
        };
        let again = match &e.request {
            Request::Identity => s.identity_fetch.finish(now, error, e.took),
            Request::StackDetail(name) => match s.detail.as_mut().filter(|d| &d.stack == name) {
                Some(d) => d.fetch.finish(now, error, e.took),
                None => false,
            },
            r => {
                let panel = panel_of(r);
                s.fetch_mut(panel).finish(now, error, e.took)
            }
        };
        match ok {
            Some(Response::Identity(id)) => s.identity = Some(id),
            Some(Response::Stacks(rows)) => s.stacks.set_rows(rows),
            Some(Response::Functions(rows)) => s.functions.set_rows(rows),
            Some(Response::Queues(rows)) => s.queues.set_rows(rows),
            Some(Response::LogGroups(rows)) => s.log_groups.set_rows(rows),
            Some(Response::Domain(d)) => s.index = Some(d),
            Some(Response::StackDetail(name, detail)) => {
                if let Some(d) = s.detail.as_mut().filter(|d| d.stack == name) {
                    d.detail = Some(detail);
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
                done = listing.done.clone();
                s.ca = Some(listing);
            }
            Some(Response::Tail { .. }) | None => {}
        }
        let height = self.list_height;
        if let Some(s) = self.session.as_mut() {
            keep_visible(s, height);
        }
        if again {
            // A refresh queued behind a job is a listing: never the job again.
            let next = match e.request {
                Request::Ca { dir, .. } => Request::Ca {
                    dir,
                    op: crate::aws::ca::CaOp::List,
                },
                r => r,
            };
            out.push(Command::Send(next));
        }
        if self.message.as_ref().is_some_and(|m| m.tone == Tone::Info) {
            // Info messages are one-shot; a new answer clears them.
            self.message = None;
        }
        if let Some(d) = done {
            self.info(d);
        }
        if let Some(why) = job_failed {
            self.warn(why);
        }
    }

    /// Refreshes the focused panel when its interval has passed.
    fn refresh_due(&mut self, now: Instant, out: &mut Vec<Command>) {
        if self.screen == Screen::Picker {
            return self.fleet_due(now, out);
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

fn refresh(s: &mut Session, panel: PanelId, now: Instant, out: &mut Vec<Command>) {
    let Some(request) = request_for(panel, &s.deployment) else {
        return;
    };
    if s.fetch_mut(panel).begin(now) {
        out.push(Command::Send(request));
    }
    // A failed identity (credentials, endpoint) is retried with any refresh.
    if s.identity_fetch.error.is_some() && s.identity_fetch.begin(now) {
        out.push(Command::Send(Request::Identity));
    }
}

fn move_selection(s: &mut Session, delta: isize, height: usize) {
    if let Some(list) = s.list_mut() {
        list.move_by(delta, height);
    }
}

fn keep_visible(s: &mut Session, height: usize) {
    s.stacks.keep_visible(height);
    s.functions.keep_visible(height);
    s.queues.keep_visible(height);
    s.log_groups.keep_visible(height);
    s.vpn.keep_visible(height);
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
        PanelId::Vpn => Request::Ca {
            dir: super::vpn::pki_dir(d),
            op: crate::aws::ca::CaOp::List,
        },
        PanelId::Stacks => Request::Stacks,
        PanelId::Functions => Request::Functions,
        PanelId::Queues => Request::Queues,
        PanelId::LogGroups => Request::LogGroups,
        PanelId::Index => Request::Domain,
        PanelId::Logs => return None,
    })
}

fn panel_of(request: &Request) -> PanelId {
    match request {
        Request::Ca { .. } => PanelId::Vpn,
        Request::Functions => PanelId::Functions,
        Request::Queues => PanelId::Queues,
        Request::LogGroups => PanelId::LogGroups,
        Request::Domain => PanelId::Index,
        _ => PanelId::Stacks,
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
    }
}

/// The palette's candidates for what was typed: every action whose name or
/// description contains each typed word, mutating ones left out when read-only.
pub fn palette_matches(input: &str, read_only: bool) -> Vec<Action> {
    let words: Vec<String> = input.split_whitespace().map(str::to_lowercase).collect();
    Action::ALL
        .iter()
        .copied()
        .filter(|a| *a != Action::Palette)
        .filter(|a| !(read_only && a.is_mutating()))
        .filter(|a| {
            let hay = format!("{} {}", a.name(), a.description().to_lowercase());
            words.iter().all(|w| hay.contains(w.as_str()))
        })
        .collect()
}

// ---- the log view ---------------------------------------------------------

/// What `tail_logs` tails from where the user is: the marked log groups (or
/// the selected one), the selected function's group, else the configured ones.
fn groups_to_tail(s: &Session) -> Vec<String> {
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
        if let super::logs::Older::Loading(h) = old.older {
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
    let mut view = super::logs::LogView::new(id, groups, since, filter, cap);
    view.until = until;
    view.start_ms = start;
    s.logs = Some(view);
}

/// Starts fetching the lines before the oldest loaded one (scrolling up past it).
fn load_older(v: &mut super::logs::LogView, id: u64, out: &mut Vec<Command>) -> bool {
    use super::logs::Older;
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
fn log_action(
    s: &mut Session,
    action: Action,
    height: usize,
    next_id: &mut u64,
    out: &mut Vec<Command>,
) -> bool {
    use super::logs::Prompt;
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
        Action::Filter => v.prompt = Some((Prompt::Search, String::new())),
        Action::LogFilter => {
            v.prompt = Some((Prompt::Filter, v.filter.clone().unwrap_or_default()))
        }
        Action::LogSince => {
            let range = match &v.until {
                Some(u) => format!("{}..{u}", v.since),
                None => v.since.clone(),
            };
            v.prompt = Some((Prompt::Since, range));
        }
        Action::Select if v.anchor.is_some() => v.anchor = None,
        Action::Select => {
            v.pause(height);
            v.anchor = Some(v.cursor);
        }
        Action::SaveLogs => {
            let name = v.group_label(0).to_string();
            let stamp = jiff::Timestamp::now().strftime("%Y%m%d-%H%M%S");
            v.prompt = Some((Prompt::Save, format!("opsdeck-{name}-{stamp}.log")));
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
        Action::LogLevel => v.cycle_level(height),
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
    fn log_prompt_key(&mut self, key: KeyEvent, out: &mut Vec<Command>) {
        use super::logs::{Prompt, Search};
        let cap = self.log_cap;
        let id = self.next_tail_id;
        let height = self.list_height;
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let Some(v) = s.logs.as_mut() else { return };
        let Some((prompt, text)) = v.prompt.as_mut() else {
            return;
        };
        let prompt = *prompt;
        match key.code {
            KeyCode::Esc => v.prompt = None,
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => text.clear(),
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => text.push(c),
            KeyCode::Enter => {
                let text = text.trim().to_string();
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
            _ => {}
        }
    }
}

/// The buffer as the CLI prints it: time, stream, message.
fn render_buffer(v: &super::logs::LogView, range: std::ops::RangeInclusive<usize>) -> String {
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

// ---- the VPN panel and the confirm dialog ----------------------------------

/// What a VPN action will do, as a confirm dialog; or why it cannot.
fn vpn_confirm(s: &Session, action: Action) -> Result<super::vpn::Confirm, String> {
    use super::vpn::VpnRow;
    use crate::aws::ca::CaOp;
    use crate::pki::CertStatus;
    let d = &s.deployment;
    let dir = super::vpn::pki_dir(d);
    let where_ = format!("in the PKI at {}", dir.display());
    let row = s.vpn.selected_row();
    let (title, lines, op) = match (action, row) {
        (Action::VpnSign, Some(VpnRow::Pending(p))) => {
            let info = p
                .request
                .as_ref()
                .map_err(|why| format!("{} cannot be signed: {why}", p.path.display()))?;
            (
                "Sign certificate request",
                vec![
                    format!(
                        "Issue a client certificate for {} ({}-bit key)",
                        info.cn, info.key_bits
                    ),
                    format!("from {}, {where_}.", p.path.display()),
                    "Its holder can connect to the VPN as soon as they import it.".to_string(),
                ],
                CaOp::Sign(p.path.clone()),
            )
        }
        (Action::VpnSign, _) => return Err("select a pending request to sign".into()),
        (Action::VpnRevoke, Some(VpnRow::Cert(c, _)))
            if matches!(c.status, CertStatus::Valid | CertStatus::ExpiringSoon) =>
        {
            (
                "Revoke certificate",
                vec![
                    format!(
                        "Revoke the certificate of {} (serial {}, valid until {}), {where_}.",
                        c.cn,
                        c.serial,
                        c.not_after.date()
                    ),
                    "This cannot be undone. Its holder can still connect until the CRL is"
                        .to_string(),
                    "regenerated (C) and published to the Client VPN endpoint.".to_string(),
                ],
                CaOp::Revoke(c.serial.clone()),
            )
        }
        (Action::VpnRevoke, _) => return Err("select a valid certificate to revoke".into()),
        (Action::VpnPublish, _) => {
            let id = d.resources.vpn_endpoint.clone().ok_or_else(|| {
                format!(
                    "deployment `{}` names no Client VPN endpoint: set resources.vpn_endpoint",
                    d.name
                )
            })?;
            let crl =
                s.ca.as_ref()
                    .and_then(|l| l.report.as_ref())
                    .and_then(|r| r.crl.as_ref())
                    .ok_or("there is no crl.pem to publish yet: regenerate it first (C)")?;
            (
                "Publish the revocation list",
                vec![
                    format!(
                        "Import {} ({} revoked) into Client VPN endpoint {id}.",
                        crl.path.display(),
                        crl.revoked_count
                    ),
                    "This resets every connection on the endpoint: connected users drop"
                        .to_string(),
                    "and reconnect; revoked certificates can no longer connect.".to_string(),
                ],
                CaOp::Publish,
            )
        }
        _ => {
            let revoked = s
                .vpn
                .rows
                .iter()
                .filter(|r| matches!(r, VpnRow::Cert(c, _) if c.status == CertStatus::Revoked))
                .count();
            (
                "Regenerate the revocation list",
                vec![
                    format!(
                        "Write a new crl.pem listing {revoked} revoked certificate(s), {where_}."
                    ),
                    "It is not published to AWS by this step.".to_string(),
                ],
                CaOp::Crl,
            )
        }
    };
    Ok(super::vpn::Confirm {
        title: title.into(),
        lines,
        typed: d.protected.then(|| d.name.clone()),
        input: String::new(),
        then: Request::Ca { dir, op },
    })
}

impl State {
    /// Keys of the confirm dialog: `y` or the typed deployment name and Enter
    /// go ahead; Esc (or `n`) cancels. Enter alone never confirms a plain dialog.
    fn confirm_key(&mut self, key: KeyEvent, now: Instant, out: &mut Vec<Command>) {
        let Some(Overlay::Confirm(c)) = self.overlay.as_mut() else {
            return;
        };
        let accept = match (&c.typed, key.code) {
            (_, KeyCode::Esc) | (None, KeyCode::Char('n')) => {
                self.overlay = None;
                self.info("cancelled; nothing was changed");
                return;
            }
            (None, KeyCode::Char('y')) => true,
            (Some(_), KeyCode::Backspace) => {
                c.input.pop();
                false
            }
            (Some(_), KeyCode::Char(ch)) => {
                c.input.push(ch);
                false
            }
            (Some(name), KeyCode::Enter) if c.input.trim() == name.as_str() => true,
            (Some(name), KeyCode::Enter) => {
                let name = name.clone();
                self.warn(format!(
                    "type the deployment name `{name}` exactly to go ahead, or Esc"
                ));
                false
            }
            _ => false,
        };
        if !accept {
            return;
        }
        let Some(Overlay::Confirm(c)) = self.overlay.take() else {
            return;
        };
        // The read-only allowlist holds here too, whatever opened the dialog.
        if self.read_only() {
            self.warn("refused: this deployment is read-only");
            return;
        }
        if let Some(s) = self.session.as_mut() {
            s.vpn.fetch.begin(now);
        }
        self.info(format!("{}…", c.title));
        out.push(Command::Send(c.then));
    }
}
