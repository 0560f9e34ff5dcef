//! The event loop: one owner of the terminal, one `select!` over terminal
//! input, worker answers, timers and signals. Draws only when something
//! changed, at most ~60 times a second, and sleeps when nothing is due.

use std::time::{Duration, Instant};

use color_eyre::eyre::Result;
use crossterm::event::{Event as TermEvent, EventStream, KeyEventKind, MouseEventKind};
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::app::{Command, Hitmap, Msg, State};
use crate::aws::{self, Worker};
use crate::jobs::{AuditLog, JobEvent, Runner};
use crate::terminal;
use crate::ui::{self, Clock};

/// Shortest time between two frames.
const FRAME: Duration = Duration::from_millis(16);

/// Worker answers buffered before workers wait for the UI.
const EVENTS: usize = 256;

/// Earlier jobs the Jobs panel shows from the audit log.
const HISTORY: usize = 200;

pub struct Runtime {
    state: State,
    worker: Option<Worker>,
    events_tx: mpsc::Sender<aws::Event>,
    events_rx: mpsc::Receiver<aws::Event>,
    /// Jobs run here, not in a deployment's worker: they outlive a switch.
    runner: Runner,
    jobs_rx: mpsc::Receiver<JobEvent>,
    hits: Hitmap,
    /// The fleet overview's fetches: one task per deployment, apart from the
    /// connected deployment's worker, the newest replacing an older one.
    fleet: aws::fleet::Fleet,
    fleet_tasks: std::collections::HashMap<String, tokio::task::AbortHandle>,
    fleet_tx: mpsc::Sender<aws::fleet::Answer>,
    fleet_rx: mpsc::Receiver<aws::fleet::Answer>,
}

impl Runtime {
    pub fn new(state: State) -> Self {
        Runtime::with_audit(state, AuditLog::locate())
    }

    pub fn with_audit(state: State, audit: AuditLog) -> Self {
        let (events_tx, events_rx) = mpsc::channel(EVENTS);
        let (jobs_tx, jobs_rx) = mpsc::channel(EVENTS);
        let (fleet_tx, fleet_rx) = mpsc::channel(EVENTS);
        Runtime {
            state,
            worker: None,
            events_tx,
            events_rx,
            runner: Runner::new(audit, jobs_tx),
            jobs_rx,
            hits: Hitmap::default(),
            fleet: aws::fleet::Fleet::default(),
            fleet_tasks: Default::default(),
            fleet_tx,
            fleet_rx,
        }
    }

    /// Carries out what the update asked for.
    pub fn execute(&mut self, commands: Vec<Command>) {
        for c in commands {
            match c {
                Command::Connect {
                    deployment,
                    generation,
                } => {
                    tracing::info!(deployment = %deployment.name, generation, "connecting");
                    // Dropping the old worker aborts its requests.
                    self.worker = Some(Worker::spawn(
                        *deployment,
                        generation,
                        self.events_tx.clone(),
                    ));
                }
                Command::Clipboard(text) => {
                    use base64::Engine;
                    use std::io::Write;
                    // OSC 52: the terminal (also over SSH and in tmux with
                    // set-clipboard on) puts the text on the clipboard.
                    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
                    let mut out = std::io::stdout().lock();
                    let _ = write!(out, "\x1b]52;c;{b64}\x07").and_then(|_| out.flush());
                    self.state.info("copied the line to the clipboard (OSC 52)");
                }
                Command::WriteFile { path, contents } => match std::fs::write(&path, &contents) {
                    Ok(()) => self.state.info(format!(
                        "saved {} lines to {}",
                        contents.lines().count(),
                        path.display()
                    )),
                    Err(e) => self
                        .state
                        .warn(format!("could not save to {}: {e}", path.display())),
                },
                Command::LoadPayload(path) => {
                    let text = crate::jobs::lambdas::read_payload_file(&path);
                    self.handle(Msg::PayloadLoaded { path, text });
                }
                Command::InspectZip(path) => {
                    // At most Lambda's 50 MB inline limit (checked before reading).
                    let facts = crate::jobs::lambda_code::inspect(&path);
                    self.handle(Msg::ZipInspected { path, facts });
                }
                Command::StartJob { id, plan, who } => {
                    tracing::info!(id, action = plan.action, deployment = %plan.deployment.name, target = %plan.target, "job started");
                    self.runner.start(id, *plan, who);
                }
                Command::CancelJob(id) => {
                    if !self.runner.cancel(id) {
                        tracing::debug!(id, "cancel for a job that is not running");
                    }
                }
                Command::FetchFleet { deployment, tag } => {
                    let name = deployment.name.clone();
                    let task = self.fleet.spawn(*deployment, tag, self.fleet_tx.clone());
                    if let Some(old) = self.fleet_tasks.insert(name, task) {
                        old.abort();
                    }
                }
                Command::Send(request) => {
                    let sent = self
                        .worker
                        .as_ref()
                        .is_some_and(|w| w.send(request.clone()));
                    if !sent {
                        tracing::warn!(?request, "worker gone or busy; request dropped");
                    }
                }
            }
        }
    }

    fn handle(&mut self, msg: Msg) {
        let commands = self.state.update(msg, Instant::now(), &self.hits);
        self.execute(commands);
    }

    /// Runs the console until the user quits or a signal arrives.
    /// `started` is when the process started, for the first-frame log line.
    pub async fn run(mut self, preselect: Option<&str>, started: Instant) -> Result<()> {
        let mut guard = terminal::enter()?;
        let mut input = EventStream::new();
        let mut sigterm = signal(SignalKind::terminate())?;
        let mut sighup = signal(SignalKind::hangup())?;
        let mut sigint = signal(SignalKind::interrupt())?;

        if let Some(name) = preselect {
            match self.state.select_deployment(name, Instant::now()) {
                Ok(commands) => self.execute(commands),
                Err(e) => self.state.warn(e),
            }
        }

        // A test hook, and nothing else: no input makes this loop fail or
        // panic, yet the terminal must be restored on both of those paths too,
        // and tests/e2e_tmux.rs checks that in a real terminal. With
        // OPSDECK_TEST_FAULT=error (or panic) the loop fails (or panics) right
        // after drawing its first frame.
        let fault = std::env::var("OPSDECK_TEST_FAULT").ok();

        // Earlier jobs, read off the UI task: a long audit log never delays a frame.
        let audit = self.runner.audit().clone();
        let mut history = tokio::task::spawn_blocking(move || audit.recent_jobs(HISTORY));
        let mut history_pending = true;

        let mut dirty = true;
        let mut frames: u64 = 0;
        let mut last_draw = Instant::now() - FRAME;
        loop {
            let now = Instant::now();
            if dirty && now >= last_draw + FRAME {
                let state = &self.state;
                let mut hits = Hitmap::default();
                guard
                    .terminal
                    .draw(|f| hits = ui::draw(f, state, Clock::now()))?;
                self.state.list_height = hits.list.map_or(10, |r| usize::from(r.height.max(1)));
                self.hits = hits;
                if frames == 0 {
                    tracing::info!(
                        ms = started.elapsed().as_secs_f64() * 1e3,
                        "first frame drawn"
                    );
                }
                frames += 1;
                tracing::debug!(frames, "drew frame");
                match fault.as_deref() {
                    Some("error") => {
                        return Err(color_eyre::eyre::eyre!(
                            "failing on purpose (OPSDECK_TEST_FAULT=error)"
                        ));
                    }
                    Some("panic") => panic!("panicking on purpose (OPSDECK_TEST_FAULT=panic)"),
                    _ => {}
                }
                last_draw = now;
                dirty = false;
            }
            if self.state.quit {
                break;
            }
            // Sleep until the next frame is allowed (if one is wanted) or the
            // state's next deadline; with neither, sleep until input arrives.
            let wake = match (
                dirty.then_some(last_draw + FRAME),
                self.state.next_wake(now),
            ) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let sleep = async {
                match wake {
                    Some(t) => tokio::time::sleep_until(t.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                ev = input.next() => match ev {
                    Some(Ok(ev)) => dirty |= self.terminal_event(ev),
                    Some(Err(e)) => return Err(e.into()),
                    None => break,
                },
                Some(ev) = self.events_rx.recv() => {
                    self.handle(Msg::Aws(ev));
                    dirty = true;
                }
                Some(ev) = self.jobs_rx.recv() => {
                    self.handle(Msg::Job(ev));
                    dirty = true;
                }
                loaded = &mut history, if history_pending => {
                    history_pending = false;
                    match loaded {
                        Ok(Ok(entries)) => self.handle(Msg::JobHistory(entries)),
                        Ok(Err(e)) => tracing::warn!(%e, "could not read the audit log"),
                        Err(e) => tracing::warn!(%e, "reading the audit log failed"),
                    }
                    dirty = true;
                }
                Some(a) = self.fleet_rx.recv() => {
                    self.handle(Msg::Fleet(a));
                    dirty = true;
                }
                _ = sleep => {
                    if !dirty {
                        self.handle(Msg::Tick);
                        dirty = true;
                    }
                }
                _ = sigterm.recv() => break,
                _ = sighup.recv() => break,
                _ = sigint.recv() => break,
            }
            // Drain worker answers already queued, so a burst costs one frame.
            // (Terminal input is not drained with `now_or_never`: crossterm's
            // EventStream would hand its wake-up to that throwaway waker and
            // the next key would wait for an unrelated wake. Bursts of keys are
            // coalesced by the frame deadline instead.)
            while let Ok(ev) = self.events_rx.try_recv() {
                self.handle(Msg::Aws(ev));
                dirty = true;
            }
            while let Ok(ev) = self.jobs_rx.try_recv() {
                self.handle(Msg::Job(ev));
                dirty = true;
            }
            while let Ok(a) = self.fleet_rx.try_recv() {
                self.handle(Msg::Fleet(a));
                dirty = true;
            }
        }
        drop(guard);
        Ok(())
    }

    /// Returns whether the event may have changed what is on screen.
    fn terminal_event(&mut self, ev: TermEvent) -> bool {
        match ev {
            TermEvent::Key(k) if k.kind != KeyEventKind::Release => {
                self.handle(Msg::Key(k));
                true
            }
            TermEvent::Mouse(m)
                if !matches!(m.kind, MouseEventKind::Moved | MouseEventKind::Drag(_)) =>
            {
                self.handle(Msg::Mouse(m));
                true
            }
            TermEvent::Resize(..) | TermEvent::FocusGained => true,
            _ => false,
        }
    }
}
