//! What the user sees: render snapshots of every screen, panel and dialog
//! (ratatui `TestBackend` + insta), their colours, and key sequences driven
//! through the real update function.
//!
//! Worker answers are built here as the workers' own `Event` values: these
//! tests are about the UI; the workers are tested against moto in `aws_moto.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use opsdeck::app::{Action, Command, Hitmap, Msg, Overlay, PanelId, Screen, State};
use opsdeck::aws::{Event, Request, Response};
use opsdeck::config::theme::Slot;
use opsdeck::config::{Config, Loaded, keymap, theme};
use opsdeck::model::*;
use opsdeck::ui::{self, Clock};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const SANDBOX: &str = include_str!("../config/sandbox.toml");

/// A fixed wall clock, so "3m ago" is the same on every run.
fn wall() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_000_000)
}

fn ago(secs: u64) -> Option<SystemTime> {
    Some(wall() - Duration::from_secs(secs))
}

struct Harness {
    state: State,
    t0: Instant,
    hits: Hitmap,
    commands: Vec<Command>,
}

impl Harness {
    fn new(config: &str) -> Self {
        Harness::with_theme(config, "default")
    }

    fn with_theme(config: &str, theme_name: &str) -> Self {
        let (config, diagnostics) = Config::parse(config, Path::new("config.toml"));
        let (theme, _) = theme::load(theme_name, None);
        let (keymap, _) = keymap::load("default", None);
        let state = State::new(Loaded {
            config,
            theme,
            keymap,
            diagnostics,
        });
        Harness {
            state,
            t0: Instant::now(),
            hits: Hitmap::default(),
            commands: Vec::new(),
        }
    }

    fn at(&self, secs: u64) -> Instant {
        self.t0 + Duration::from_secs(secs)
    }

    fn send(&mut self, msg: Msg, secs: u64) {
        let now = self.at(secs);
        let out = self.state.update(msg, now, &self.hits);
        self.commands.extend(out);
    }

    fn act(&mut self, a: Action) {
        self.send(Msg::Action(a), 0);
    }

    fn key(&mut self, code: KeyCode) {
        self.send(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)), 0);
    }

    /// Ctrl plus a letter.
    fn ctrl(&mut self, c: char) {
        self.send(
            Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
            0,
        );
    }

    /// The contents of every file the update asked to write.
    fn saved(&self) -> Vec<&String> {
        self.commands
            .iter()
            .filter_map(|c| match c {
                Command::WriteFile { contents, .. } => Some(contents),
                _ => None,
            })
            .collect()
    }

    fn keys(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    fn answer(&mut self, request: Request, outcome: Result<Response, Problem>) {
        let generation = self.state.session.as_ref().unwrap().generation;
        let event = Event {
            generation,
            request,
            outcome,
            took: Duration::from_millis(120),
        };
        self.send(Msg::Aws(event), 1);
    }

    /// Opens `dev` and answers every panel with the sandbox's data.
    fn connected(config: &str, name: &str) -> Self {
        let mut h = Harness::new(config);
        let i = h
            .state
            .deployments
            .iter()
            .position(|d| d.name == name)
            .unwrap();
        for _ in 0..i {
            h.act(Action::Down);
        }
        h.act(Action::Open);
        h.answer_all(name);
        h
    }

    fn answer_all(&mut self, env: &str) {
        self.answer(
            Request::Identity,
            Ok(Response::Identity(Identity {
                account: "123456789012".into(),
                arn: "arn:aws:sts::123456789012:assumed-role/Dev/alice@example.org".into(),
            })),
        );
        self.answer(Request::Stacks, Ok(Response::Stacks(stacks(env))));
        self.answer(Request::Functions, Ok(Response::Functions(functions(env))));
        self.answer(Request::Queues, Ok(Response::Queues(queues(env))));
        self.answer(Request::LogGroups, Ok(Response::LogGroups(log_groups(env))));
        self.answer(Request::Domain, Ok(Response::Domain(Some(domain(env)))));
    }

    /// Draws at `secs` after t0, 100 × 24, and returns the terminal.
    fn draw_at(&mut self, secs: u64) -> Terminal<TestBackend> {
        let mut terminal = Terminal::new(TestBackend::new(100, 24)).unwrap();
        let clock = Clock {
            now: self.at(secs),
            wall: wall(),
        };
        let state = &self.state;
        let mut hits = Hitmap::default();
        terminal.draw(|f| hits = ui::draw(f, state, clock)).unwrap();
        self.state.list_height = hits.list.map_or(10, |r| usize::from(r.height));
        self.hits = hits;
        terminal
    }

    fn draw(&mut self) -> Terminal<TestBackend> {
        self.draw_at(25)
    }

    fn screen(&mut self) -> String {
        self.draw().backend().to_string()
    }
}

fn stacks(env: &str) -> Vec<StackRow> {
    let row = |name: &str, status: &str, secs| StackRow {
        name: format!("{env}-{name}"),
        status: status.into(),
        status_reason: None,
        updated: ago(secs),
        description: Some(format!("{env}: {name}")),
        outputs: vec![KeyValue {
            key: "LambdaRoleArn".into(),
            value: format!("arn:aws:iam::123456789012:role/{env}-lambda-role"),
        }],
        parameters: vec![KeyValue {
            key: "Environment".into(),
            value: env.into(),
        }],
    };
    vec![
        row("core", "UPDATE_COMPLETE", 180),
        row("events", "CREATE_COMPLETE", 7200),
        row("logs", "CREATE_COMPLETE", 7200),
        row("search", "UPDATE_ROLLBACK_FAILED", 600),
        row("pipeline", "UPDATE_IN_PROGRESS", 20),
    ]
}

fn functions(env: &str) -> Vec<FunctionRow> {
    let row = |name: &str, memory, timeout, concurrency| FunctionRow {
        name: format!("{env}-{name}"),
        runtime: Some("python3.12".into()),
        memory_mb: Some(memory),
        timeout_s: Some(timeout),
        last_modified: ago(86_400 * 3),
        concurrency,
        arn: None,
        // As opsdeck leaves a function it disabled: enable restores "no reservation".
        remembered: (concurrency == Concurrency::Disabled).then_some(Concurrency::Unreserved),
    };
    vec![
        row("api", 512, 30, Concurrency::Unreserved),
        row("indexer", 1024, 300, Concurrency::Reserved(10)),
        row("notifier", 256, 60, Concurrency::Unreserved),
        row("reindexer", 1024, 900, Concurrency::Disabled),
    ]
}

fn queues(env: &str) -> Vec<QueueRow> {
    let row = |name: &str, v, f, d, dlq: Option<&str>, of: &[&str]| QueueRow {
        name: format!("{env}-{name}"),
        url: format!("http://127.0.0.1:4566/123456789012/{env}-{name}"),
        arn: None,
        visible: Some(v),
        in_flight: Some(f),
        delayed: Some(d),
        dead_letter_queue: dlq.map(|q| format!("{env}-{q}")),
        dlq_of: of.iter().map(|q| format!("{env}-{q}")).collect(),
    };
    vec![
        row("notifications", 25, 4, 2, Some("notifications-dlq"), &[]),
        row("notifications-dlq", 3, 0, 0, None, &["notifications"]),
        row("indexer-tasks", 120, 10, 0, Some("indexer-tasks-dlq"), &[]),
        row("indexer-tasks-dlq", 0, 0, 0, None, &["indexer-tasks"]),
    ]
}

fn log_groups(env: &str) -> Vec<LogGroupRow> {
    ["api", "indexer", "notifier"]
        .iter()
        .enumerate()
        .map(|(i, f)| LogGroupRow {
            name: format!("/aws/lambda/{env}-{f}"),
            retention_days: if i == 0 { Some(30) } else { None },
            stored_bytes: Some(1_234_567 * (i as i64 + 1)),
            created: ago(86_400),
        })
        .collect()
}

fn domain(env: &str) -> DomainStatus {
    DomainStatus {
        name: format!("{env}-index"),
        processing: false,
        created: true,
        deleted: false,
        engine_version: Some("OpenSearch_2.11".into()),
        instance_type: Some("r6g.large.search".into()),
        instance_count: Some(2),
        endpoint: Some(format!("search-{env}-index.us-east-1.es.amazonaws.com")),
    }
}

// ---- snapshots -------------------------------------------------------------

#[test]
fn picker() {
    let mut h = Harness::new(SANDBOX);
    insta::assert_snapshot!(h.screen());
}

#[test]
fn picker_without_deployments() {
    let mut h = Harness::new("");
    insta::assert_snapshot!(h.screen());
}

#[test]
fn panels_loading() {
    let mut h = Harness::new(SANDBOX);
    h.act(Action::Open);
    insta::assert_snapshot!(h.screen());
}

#[test]
fn every_panel() {
    let mut h = Harness::connected(SANDBOX, "dev");
    for (panel, name) in [
        (Action::PanelStacks, "stacks"),
        (Action::PanelFunctions, "functions"),
        (Action::PanelQueues, "queues"),
        (Action::PanelLogGroups, "log_groups"),
        (Action::PanelIndex, "index"),
    ] {
        h.act(panel);
        insta::assert_snapshot!(name, h.screen());
    }
}

#[test]
fn stack_detail() {
    let mut h = Harness::connected(SANDBOX, "dev");
    h.act(Action::Open);
    insta::assert_snapshot!("stack_detail_loading", h.screen());
    let detail = StackDetail {
        resources: vec![StackResource {
            logical_id: "LambdaRole".into(),
            physical_id: Some("dev-lambda-role".into()),
            kind: "AWS::IAM::Role".into(),
            status: "CREATE_COMPLETE".into(),
        }],
        events: vec![
            StackEvent {
                time: ago(180),
                logical_id: "dev-core".into(),
                status: "UPDATE_COMPLETE".into(),
                reason: None,
            },
            StackEvent {
                time: ago(200),
                logical_id: "dev-core".into(),
                status: "UPDATE_IN_PROGRESS".into(),
                reason: Some("User Initiated".into()),
            },
        ],
    };
    h.answer(
        Request::StackDetail("dev-core".into()),
        Ok(Response::StackDetail("dev-core".into(), detail)),
    );
    insta::assert_snapshot!("stack_detail", h.screen());
}

#[test]
fn help_is_generated_from_the_keymap() {
    let mut h = Harness::connected(SANDBOX, "dev");
    h.keys("?");
    insta::assert_snapshot!(h.screen());
}

#[test]
fn palette_narrows_as_you_type() {
    let mut h = Harness::connected(SANDBOX, "dev");
    h.keys(":");
    insta::assert_snapshot!("palette_all", h.screen());
    h.keys("ref");
    insta::assert_snapshot!("palette_ref", h.screen());
}

#[test]
fn live_filter() {
    let mut h = Harness::connected(SANDBOX, "dev");
    h.act(Action::PanelQueues);
    h.keys("/dlq");
    insta::assert_snapshot!(h.screen());
}

#[test]
fn config_problems() {
    let broken = "theme = \"ligth\"\n[[deployment]]\nname = \"dev\"\nregin = \"x\"\n";
    let mut h = Harness::new(broken);
    insta::assert_snapshot!("problems_hint", h.screen());
    h.keys("!");
    insta::assert_snapshot!("problems", h.screen());
}

#[test]
fn credentials_problem_in_header_and_panels() {
    let mut h = Harness::new(SANDBOX);
    h.act(Action::Open);
    let expired = Problem::new(
        ProblemKind::CredentialsExpired,
        "the SSO session of profile `azul-dev` has expired or was never started: run `aws sso login --profile azul-dev`, then press r",
    );
    h.answer(Request::Identity, Err(expired.clone()));
    h.answer(Request::Stacks, Err(expired));
    insta::assert_snapshot!(h.screen());
}

#[test]
fn protected_deployment() {
    let mut h = Harness::connected(SANDBOX, "prod");
    insta::assert_snapshot!(h.screen());
}

#[test]
fn light_theme_renders_the_same_text() {
    let mut dark = Harness::connected(SANDBOX, "dev");
    let mut light = Harness::with_theme(SANDBOX, "light");
    light.act(Action::Open);
    light.answer_all("dev");
    assert_eq!(dark.screen(), light.screen());
    let d = dark.draw();
    let l = light.draw();
    assert_ne!(
        d.backend().buffer()[(2, 4)].fg,
        l.backend().buffer()[(2, 4)].fg
    );
}

// ---- colours (snapshots do not carry them) ---------------------------------

fn find(t: &Terminal<TestBackend>, text: &str) -> (u16, u16) {
    let buf = t.backend().buffer();
    for y in 0..buf.area.height {
        let line: String = (0..buf.area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        if let Some(i) = line.find(text) {
            return (line[..i].chars().count() as u16, y);
        }
    }
    panic!("`{text}` not on screen");
}

#[test]
fn colours_carry_meaning() {
    let mut h = Harness::connected(SANDBOX, "dev");
    let theme = h.state.theme.clone();
    let t = h.draw();
    let buf = t.backend().buffer();
    let at = |text: &str| {
        let (x, y) = find(&t, text);
        buf[(x, y)].clone()
    };
    assert_eq!(
        at("UPDATE_ROLLBACK_FAILED").fg,
        theme.style(Slot::Failed).fg.unwrap()
    );
    assert_eq!(
        at("UPDATE_IN_PROGRESS").fg,
        theme.style(Slot::Progress).fg.unwrap()
    );
    assert_eq!(
        at("CREATE_COMPLETE").fg,
        theme.style(Slot::Success).fg.unwrap()
    );
    // The selected row is highlighted.
    assert_eq!(at("dev-core").bg, theme.style(Slot::Selection).bg.unwrap());

    h.act(Action::PanelFunctions);
    let t = h.draw();
    let (x, y) = find(&t, "disabled (0)");
    assert_eq!(
        t.backend().buffer()[(x, y)].fg,
        theme.style(Slot::Failed).fg.unwrap()
    );

    h.act(Action::PanelQueues);
    let t = h.draw();
    // Messages waiting in a DLQ stand out; an empty DLQ does not.
    let (x, y) = find(&t, "│dev-notifications-dlq ");
    let depth = (x..t.backend().buffer().area.width)
        .map(|x| &t.backend().buffer()[(x, y)])
        .find(|c| c.symbol() == "3")
        .unwrap();
    assert_eq!(depth.fg, theme.style(Slot::Failed).fg.unwrap());
}

#[test]
fn a_protected_deployment_looks_different_at_a_glance() {
    let mut prod = Harness::connected(SANDBOX, "prod");
    let mut dev = Harness::connected(SANDBOX, "dev");
    let protected = prod.state.theme.style(Slot::Protected);
    let p = prod.draw();
    let d = dev.draw();
    let (x, y) = find(&p, "PROTECTED");
    assert_eq!(p.backend().buffer()[(x, y)].bg, protected.bg.unwrap());
    // The whole header line and the panel frame carry the accent.
    assert_eq!(p.backend().buffer()[(99, 0)].bg, protected.bg.unwrap());
    assert_ne!(d.backend().buffer()[(99, 0)].bg, protected.bg.unwrap());
    assert_eq!(p.backend().buffer()[(0, 2)].fg, protected.bg.unwrap());
    assert_ne!(
        d.backend().buffer()[(0, 2)].fg,
        p.backend().buffer()[(0, 2)].fg
    );
}

// ---- behaviour driven by keys ----------------------------------------------

#[test]
fn q_types_into_the_filter_instead_of_quitting() {
    let mut h = Harness::connected(SANDBOX, "dev");
    h.keys("/q");
    assert!(!h.state.quit);
    assert_eq!(h.state.session.as_ref().unwrap().stacks.filter, "q");
    h.key(KeyCode::Enter);
    h.keys("q");
    assert!(h.state.quit);
}

#[test]
fn esc_clears_the_filter_and_enter_keeps_it() {
    let mut h = Harness::connected(SANDBOX, "dev");
    h.keys("/core");
    h.key(KeyCode::Enter);
    let s = h.state.session.as_ref().unwrap();
    assert_eq!((s.stacks.view.len(), s.editing_filter), (1, false));
    h.keys("/");
    h.key(KeyCode::Esc);
    assert_eq!(h.state.session.as_ref().unwrap().stacks.view.len(), 5);
}

#[test]
fn panels_cycle_and_jump() {
    let mut h = Harness::connected(SANDBOX, "dev");
    let focus = |h: &Harness| h.state.session.as_ref().unwrap().focus;
    h.key(KeyCode::Tab);
    assert_eq!(focus(&h), PanelId::Functions);
    h.key(KeyCode::BackTab);
    h.key(KeyCode::BackTab);
    assert_eq!(focus(&h), PanelId::Jobs);
    h.keys("3");
    assert_eq!(focus(&h), PanelId::Queues);
}

#[test]
fn palette_runs_the_chosen_action() {
    let mut h = Harness::connected(SANDBOX, "dev");
    h.keys(":panel_log");
    h.key(KeyCode::Enter);
    assert_eq!(h.state.overlay, None);
    assert_eq!(h.state.session.as_ref().unwrap().focus, PanelId::LogGroups);
}

#[test]
fn help_closes_with_esc_and_q_does_not_quit_from_it() {
    let mut h = Harness::connected(SANDBOX, "dev");
    h.keys("?");
    assert!(matches!(h.state.overlay, Some(Overlay::Help { .. })));
    h.keys("q");
    assert_eq!(h.state.overlay, None);
    assert!(!h.state.quit);
}

#[test]
fn switching_deployments_drops_answers_for_the_old_one() {
    let mut h = Harness::connected(SANDBOX, "dev");
    let old = h.state.session.as_ref().unwrap().generation;
    h.keys("d");
    assert_eq!(h.state.screen, Screen::Picker);
    h.act(Action::Down);
    h.act(Action::Open);
    let s = h.state.session.as_ref().unwrap();
    assert_eq!(s.deployment.name, "prod");
    assert_ne!(s.generation, old);
    // A late answer of dev's worker must not land in prod's panels.
    let late = Event {
        generation: old,
        request: Request::Stacks,
        outcome: Ok(Response::Stacks(stacks("dev"))),
        took: Duration::ZERO,
    };
    h.send(Msg::Aws(late), 2);
    assert!(h.state.session.as_ref().unwrap().stacks.rows.is_empty());
}

#[test]
fn a_refresh_while_one_runs_is_coalesced() {
    let mut h = Harness::connected(SANDBOX, "dev");
    h.commands.clear();
    h.keys("rrrr");
    let sent = |h: &Harness| {
        h.commands
            .iter()
            .filter(|c| **c == Command::Send(Request::Stacks))
            .count()
    };
    assert_eq!(sent(&h), 1);
    h.answer(Request::Stacks, Ok(Response::Stacks(stacks("dev"))));
    // The three extra presses became exactly one follow-up request.
    assert_eq!(sent(&h), 2);
    h.answer(Request::Stacks, Ok(Response::Stacks(stacks("dev"))));
    assert_eq!(sent(&h), 2);
}

#[test]
fn the_focused_panel_refreshes_when_its_interval_passes() {
    let mut h = Harness::connected(SANDBOX, "dev");
    h.commands.clear();
    h.send(Msg::Tick, 20);
    assert!(h.commands.is_empty());
    h.send(Msg::Tick, 32);
    assert_eq!(h.commands, [Command::Send(Request::Stacks)]);
    // Idle means asleep: the next wake is a label change or the next refresh, not a busy loop.
    let wake = h.state.next_wake(h.at(32)).unwrap();
    assert!(wake > h.at(32));
}

#[test]
fn mouse_selects_rows_and_tabs() {
    let mut h = Harness::connected(SANDBOX, "dev");
    h.draw();
    let list = h.hits.list.unwrap();
    let click = |x, y| MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: x,
        row: y,
        modifiers: KeyModifiers::NONE,
    };
    h.send(Msg::Mouse(click(list.x + 2, list.y + 2)), 2);
    assert_eq!(h.state.session.as_ref().unwrap().stacks.selected, 2);
    let (tab, _) = h.hits.tabs[2];
    h.send(Msg::Mouse(click(tab.x + 1, tab.y)), 2);
    assert_eq!(h.state.session.as_ref().unwrap().focus, PanelId::Queues);
}

#[test]
fn hundreds_of_rows_scroll_and_render_only_what_fits() {
    let mut h = Harness::connected(SANDBOX, "dev");
    let many: Vec<LogGroupRow> = (0..800)
        .map(|i| LogGroupRow {
            name: format!("/aws/lambda/dev-fn-{i:04}"),
            retention_days: Some(7),
            stored_bytes: Some(i),
            created: None,
        })
        .collect();
    h.act(Action::PanelLogGroups);
    h.answer(Request::LogGroups, Ok(Response::LogGroups(many)));
    h.draw();
    h.key(KeyCode::End);
    let screen = h.screen();
    assert!(screen.contains("dev-fn-0799"), "{screen}");
    assert!(!screen.contains("dev-fn-0000"));
    assert!(screen.contains("Log groups (800)"));
}

// ---- the log view ------------------------------------------------------------

use opsdeck::aws::tail::{TailEvent, TailStatus, TailUpdate};

fn tail_id(h: &Harness) -> u64 {
    h.state
        .session
        .as_ref()
        .unwrap()
        .logs
        .as_ref()
        .expect("a tail")
        .id
}

fn tail_update(h: &mut Harness, update: TailUpdate) {
    let id = tail_id(h);
    h.answer(Request::StopTail(id), Ok(Response::Tail { id, update }));
}

const T: i64 = 1_795_000_000_000;

fn log_events() -> Vec<TailEvent> {
    let lines = [
        (0, "START RequestId: 8f1e Version: $LATEST"),
        (
            0,
            "{\"level\":\"INFO\",\"message\":\"Received 10 notifications\",\"aws_request_id\":\"8f1e\"}",
        ),
        (1, "[WARN]\t8f1e\tSlow response from upstream: 2412 ms"),
        (
            0,
            "[ERROR]\t8f1e\tFailed to index bundle: ConnectionError(timeout after 30s)",
        ),
        (
            1,
            "{\"level\":\"ERROR\",\"message\":\"OpenSearch rejected bulk request\"}",
        ),
        (0, "END RequestId: 8f1e"),
        (
            0,
            "REPORT RequestId: 8f1e\tDuration: 812.40 ms\tBilled Duration: 813 ms\tMemory Size: 512 MB\tMax Memory Used: 88 MB",
        ),
    ];
    lines
        .iter()
        .enumerate()
        .map(|(i, (g, m))| TailEvent {
            group: *g,
            stream: "2026/11/22/[$LATEST]0a1b2c3d".into(),
            ts: T + i as i64 * 250,
            id: i.to_string(),
            message: m.to_string(),
        })
        .collect()
}

/// Connected to dev, two log groups marked and tailed, events in, UTC times.
fn tailing() -> Harness {
    let mut h = Harness::connected(SANDBOX, "dev");
    h.act(Action::PanelLogGroups);
    h.keys("  "); // mark the first two groups
    h.commands.clear();
    h.keys("t");
    let sent: Vec<_> = h
        .commands
        .iter()
        .filter_map(|c| match c {
            Command::Send(Request::Tail { spec, .. }) => Some(spec.groups.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        sent,
        [vec![
            "/aws/lambda/dev-api".to_string(),
            "/aws/lambda/dev-indexer".to_string()
        ]]
    );
    assert_eq!(h.state.session.as_ref().unwrap().focus, PanelId::Logs);
    h.keys("u");
    tail_update(&mut h, TailUpdate::Status(TailStatus::CaughtUp));
    tail_update(&mut h, TailUpdate::Events(log_events()));
    h
}

#[test]
fn logs_following() {
    let mut h = tailing();
    insta::assert_snapshot!(h.screen());
}

#[test]
fn logs_without_a_tail_say_how_to_start_one() {
    let mut h = Harness::connected(SANDBOX, "dev");
    h.keys("6");
    insta::assert_snapshot!(h.screen());
}

#[test]
fn logs_paused_count_new_lines() {
    let mut h = tailing();
    h.keys("kk");
    let more: Vec<TailEvent> = (0..3)
        .map(|i| TailEvent {
            group: 0,
            stream: "s".into(),
            ts: T + 10_000 + i,
            id: format!("n{i}"),
            message: format!("[INFO] later {i}"),
        })
        .collect();
    tail_update(&mut h, TailUpdate::Events(more));
    let screen = h.screen();
    assert!(screen.contains("paused (+3 new)"), "{screen}");
    insta::assert_snapshot!(screen);
    // G goes back to following, at the newest line.
    h.keys("G");
    assert!(h.screen().contains("later 2"));
    assert!(
        h.state
            .session
            .as_ref()
            .unwrap()
            .logs
            .as_ref()
            .unwrap()
            .follow
    );
}

#[test]
fn logs_search_highlights_and_jumps() {
    let mut h = tailing();
    h.keys("/error");
    // q is text in the prompt, not quit.
    assert!(!h.state.quit);
    h.key(KeyCode::Enter);
    let v = h.state.session.as_ref().unwrap().logs.as_ref().unwrap();
    // Following: the newest match is selected.
    assert_eq!(v.cursor, 4);
    insta::assert_snapshot!(h.screen());
    h.keys("N");
    assert_eq!(
        h.state
            .session
            .as_ref()
            .unwrap()
            .logs
            .as_ref()
            .unwrap()
            .cursor,
        3
    );
    h.keys("n");
    assert_eq!(
        h.state
            .session
            .as_ref()
            .unwrap()
            .logs
            .as_ref()
            .unwrap()
            .cursor,
        4
    );
}

#[test]
fn logs_json_detail() {
    let mut h = tailing();
    h.keys("kkk"); // onto the JSON ERROR line? no: line 4 is JSON; cursor starts at 6
    h.keys("j");
    let v = h.state.session.as_ref().unwrap().logs.as_ref().unwrap();
    assert_eq!(v.cursor, 4);
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(
        screen.contains("\"message\": \"OpenSearch rejected bulk request\""),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
    h.key(KeyCode::Esc);
    assert!(
        h.state
            .session
            .as_ref()
            .unwrap()
            .logs
            .as_ref()
            .unwrap()
            .detail
            .is_none()
    );
}

#[test]
fn log_levels_and_lambda_lines_have_their_colours() {
    let mut h = tailing();
    let theme = h.state.theme.clone();
    let t = h.draw();
    let fg = |text: &str| {
        let (x, y) = find(&t, text);
        t.backend().buffer()[(x, y)].fg
    };
    assert_eq!(fg("Failed to index"), theme.style(Slot::Error).fg.unwrap());
    assert_eq!(fg("Slow response"), theme.style(Slot::Warning).fg.unwrap());
    assert_eq!(fg("START RequestId"), theme.style(Slot::Muted).fg.unwrap());
    // REPORT: duration and memory stand out from the dimmed line.
    assert_eq!(
        fg("812.4 ms · 88/512 MB"),
        theme.style(Slot::Info).fg.unwrap()
    );
}

#[test]
fn a_function_tails_its_own_log_group() {
    let mut h = Harness::connected(SANDBOX, "dev");
    h.act(Action::PanelFunctions);
    h.keys("jt");
    let groups: Vec<_> = h
        .commands
        .iter()
        .filter_map(|c| match c {
            Command::Send(Request::Tail { spec, .. }) => Some(spec.groups.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(groups, [vec!["/aws/lambda/dev-indexer".to_string()]]);
}

#[test]
fn a_new_tail_stops_the_old_one_and_ignores_its_late_lines() {
    let mut h = tailing();
    let old = tail_id(&h);
    h.keys("H");
    h.key(KeyCode::Char('u')); // ctrl-less: typed into the prompt
    h.ctrl('u');
    h.keys("2h");
    h.key(KeyCode::Enter);
    assert!(h.commands.contains(&Command::Send(Request::StopTail(old))));
    let v = h.state.session.as_ref().unwrap().logs.as_ref().unwrap();
    assert_eq!((v.since.as_str(), v.store.len()), ("2h", 0));
    // A late batch of the old tail is dropped.
    h.answer(
        Request::StopTail(old),
        Ok(Response::Tail {
            id: old,
            update: TailUpdate::Events(log_events()),
        }),
    );
    assert_eq!(
        h.state
            .session
            .as_ref()
            .unwrap()
            .logs
            .as_ref()
            .unwrap()
            .store
            .len(),
        0
    );
}

#[test]
fn a_bad_since_is_refused_inline() {
    let mut h = tailing();
    h.keys("H");
    h.ctrl('u');
    h.keys("last tuesday");
    h.key(KeyCode::Enter);
    let m = h.state.message.as_ref().unwrap();
    assert!(m.text.contains("is not a time"), "{}", m.text);
    // The prompt stays open to fix it; the tail keeps running.
    assert!(
        h.state
            .session
            .as_ref()
            .unwrap()
            .logs
            .as_ref()
            .unwrap()
            .prompt
            .is_some()
    );
}

#[test]
fn a_stopped_tail_says_why() {
    let mut h = tailing();
    tail_update(
        &mut h,
        TailUpdate::Ended(Some(Problem::new(
            ProblemKind::NotFound,
            "log group /aws/lambda/dev-api does not exist",
        ))),
    );
    let screen = h.screen();
    assert!(
        screen.contains("✗ log group /aws/lambda/dev-api does not exist"),
        "{screen}"
    );
    assert!(screen.contains("stopped"), "{screen}");
}

#[test]
fn dropped_lines_are_shown_when_the_buffer_is_full() {
    let config = format!("log_buffer_lines = 1000\n{SANDBOX}");
    let mut h = Harness::connected(&config, "dev");
    h.act(Action::PanelLogs);
    h.keys("t");
    let many: Vec<TailEvent> = (0..1500)
        .map(|i| TailEvent {
            group: 0,
            stream: "s".into(),
            ts: T + i,
            id: i.to_string(),
            message: format!("line {i}"),
        })
        .collect();
    tail_update(&mut h, TailUpdate::Events(many));
    let screen = h.screen();
    assert!(
        screen.contains("1000 lines (500 oldest dropped, cap 1000)"),
        "{screen}"
    );
    assert!(screen.contains("line 1499"));
}

#[test]
fn the_logs_panel_sets_no_timer_of_its_own() {
    // A deadline in the past would make the loop spin; Logs is woken by its tail.
    let mut h = tailing();
    assert_eq!(h.state.next_wake(h.at(3600)), None);
    h.commands.clear();
    h.send(Msg::Tick, 3600);
    assert!(h.commands.is_empty(), "{:?}", h.commands);
}

fn sent_tails(h: &Harness) -> Vec<(u64, opsdeck::aws::tail::TailSpec)> {
    h.commands
        .iter()
        .filter_map(|c| match c {
            Command::Send(Request::Tail { id, spec }) => Some((*id, (**spec).clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn scrolling_past_the_oldest_line_loads_older_ones() {
    let mut h = tailing();
    h.keys("g"); // to the oldest line
    h.commands.clear();
    h.keys("k"); // and past it
    let sent = sent_tails(&h);
    assert_eq!(sent.len(), 1, "{:?}", h.commands);
    let (older_id, spec) = &sent[0];
    let v = h.state.session.as_ref().unwrap().logs.as_ref().unwrap();
    // Just before what is loaded, back as far again: no overlap, no follow.
    assert!(!spec.follow);
    assert_eq!(spec.range.start, v.start_ms);
    assert!(spec.range.end.unwrap() < spec.range.start + 2 * 3_600_000);
    assert!(h.screen().contains("loading older lines"));
    // A second press while loading sends nothing more.
    h.commands.clear();
    h.keys("k");
    assert!(sent_tails(&h).is_empty());

    let older: Vec<TailEvent> = (0..3)
        .map(|i| TailEvent {
            group: 0,
            stream: "s".into(),
            ts: T - 10_000 + i,
            id: format!("o{i}"),
            message: format!("[INFO] older {i}"),
        })
        .collect();
    let id = *older_id;
    h.answer(
        Request::StopTail(id),
        Ok(Response::Tail {
            id,
            update: TailUpdate::Events(older),
        }),
    );
    h.answer(
        Request::StopTail(id),
        Ok(Response::Tail {
            id,
            update: TailUpdate::Ended(None),
        }),
    );
    let v = h.state.session.as_ref().unwrap().logs.as_ref().unwrap();
    assert_eq!(v.store.len(), 10);
    assert_eq!(v.store.get(0).unwrap().text, "[INFO] older 0");
    // The cursor stays on the line it was on; the older lines are above it.
    assert_eq!(v.cursor, 3);
    assert_eq!(
        v.store.get(v.cursor).unwrap().text,
        "START RequestId: 8f1e Version: $LATEST"
    );

    // Nothing older the next time: said, and not asked again.
    h.keys("gk");
    let (id, _) = sent_tails(&h).last().cloned().unwrap();
    h.answer(
        Request::StopTail(id),
        Ok(Response::Tail {
            id,
            update: TailUpdate::Ended(None),
        }),
    );
    assert!(h.screen().contains("nothing older"));
    h.commands.clear();
    h.keys("k");
    assert!(sent_tails(&h).is_empty());
}

#[test]
fn a_closed_range_is_read_without_following() {
    let mut h = tailing();
    h.commands.clear();
    h.keys("H");
    h.ctrl('u');
    h.keys("3h..1h");
    h.key(KeyCode::Enter);
    let (_, spec) = sent_tails(&h).pop().unwrap();
    assert!(!spec.follow);
    assert_eq!(spec.range.end.unwrap() - spec.range.start, 2 * 3_600_000);
    assert!(h.screen().contains("since 3h until 1h"));
    // An end before the start is refused inline.
    h.keys("H");
    h.ctrl('u');
    h.keys("1h..3h");
    h.key(KeyCode::Enter);
    assert!(h.state.message.as_ref().unwrap().text.contains("ends"));
}

#[test]
fn a_selection_is_copied_and_saved() {
    let mut h = tailing();
    h.keys("kkk"); // onto line 3
    h.keys("vjj"); // select lines 3..=5
    assert!(h.screen().contains("3 selected"));
    h.commands.clear();
    h.keys("y");
    let copied: Vec<&String> = h
        .commands
        .iter()
        .filter_map(|c| match c {
            Command::Clipboard(t) => Some(t),
            _ => None,
        })
        .collect();
    assert_eq!(copied.len(), 1);
    assert_eq!(copied[0].lines().count(), 3);
    assert!(copied[0].starts_with("[ERROR]\t8f1e\tFailed to index"));
    h.ctrl('s');
    h.ctrl('u');
    h.keys("/tmp/sel.log");
    h.key(KeyCode::Enter);
    let saved = h.saved();
    assert_eq!(saved[0].lines().count(), 3);
    assert!(
        saved[0]
            .lines()
            .next()
            .unwrap()
            .ends_with("\tFailed to index bundle: ConnectionError(timeout after 30s)")
    );
    // Esc ends the selection; saving then writes the whole buffer.
    h.key(KeyCode::Esc);
    h.commands.clear();
    h.ctrl('s');
    h.key(KeyCode::Enter);
    let saved = h.saved();
    assert_eq!(saved[0].lines().count(), 7);
}

// ---- the VPN panel and the confirm dialog ----------------------------------

/// The sandbox config with each deployment's PKI in a fresh folder, seeded
/// by the sandbox's own PKI seeding (alice valid, bob revoked, carol pending).
fn with_pki() -> (tempfile::TempDir, String) {
    // A path of the same length on every machine, whatever $TMPDIR is: the
    // dialogs wrap text around it, so its length shapes the snapshots. At 20
    // characters it is whole wherever a row shows it (a row cut at the
    // panel's edge shows 27), and what a dialog leaves in sight of such a row
    // (characters 20 to 26) is the fixed part after it.
    let tmp = tempfile::Builder::new()
        .prefix("opsdeck-")
        .rand_bytes(7)
        .tempdir_in("/tmp")
        .unwrap();
    assert_eq!(tmp.path().as_os_str().len(), 20);
    let mut config = SANDBOX.to_string();
    for env in ["dev", "prod"] {
        let dir = tmp.path().join(env);
        opsdeck::sandbox::seed_pki(env, &dir).unwrap();
        config = config.replace(&format!("target/sandbox/pki-{env}"), dir.to_str().unwrap());
    }
    (tmp, config)
}

/// Runs the job the last command started with the real job code (on the
/// test's real PKI), then feeds its end back as the runner would.
fn run_job(h: &mut Harness) {
    let job = h.commands.iter().rev().find_map(|c| match c {
        Command::StartJob { id, plan, .. } => Some((*id, (**plan).clone())),
        _ => None,
    });
    let Some((id, plan)) = job else {
        panic!("no job started: {:?}", h.commands)
    };
    let audit_dir = tempfile::tempdir().unwrap();
    let audit = opsdeck::jobs::AuditLog::at(audit_dir.path().join("audit.jsonl"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let ctx = opsdeck::jobs::Ctx::new(tx, Default::default());
    let outcome = rt.block_on(opsdeck::jobs::run(
        &plan,
        &audit,
        opsdeck::jobs::Source::Console,
        None,
        None,
        ctx,
    ));
    h.send(
        Msg::Job(opsdeck::jobs::JobEvent {
            id,
            update: opsdeck::jobs::JobUpdate::Finished(outcome),
        }),
        1,
    );
    // The job's end refreshes the VPN panel: answer that listing.
    list_pki(h);
}

/// Answers the last PKI listing the update asked for, from the real PKI.
fn list_pki(h: &mut Harness) {
    let Some(dir) = h.commands.iter().rev().find_map(|c| match c {
        Command::Send(Request::Pki(dir)) => Some(dir.clone()),
        _ => None,
    }) else {
        panic!("no PKI listing asked for: {:?}", h.commands)
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // No endpoint: the listing never loads the AWS config.
    let outcome = rt
        .block_on(opsdeck::aws::ca::run(None, dir.clone(), None))
        .map(|l| Response::Ca(Box::new(l)));
    h.answer(Request::Pki(dir), outcome);
}

/// The newest toast: how a finished job reports.
fn toast(h: &Harness) -> String {
    h.state
        .toasts
        .last()
        .map(|t| t.text.clone())
        .unwrap_or_default()
}

fn vpn(config: &str, env: &str) -> Harness {
    // Connecting asked for the listing already; answer it.
    let mut h = Harness::connected(config, env);
    h.keys("7");
    list_pki(&mut h);
    h
}

/// Serials, dates and temporary paths differ on every run.
fn masked(screen: &str, tmp: &std::path::Path) -> String {
    // Masked with text of the same length, so the layout stays as drawn.
    let path = tmp.to_str().unwrap();
    let s = screen.replace(path, &format!("<tmp{}>", "-".repeat(path.len() - 5)));
    let s = regex::Regex::new("[0-9A-F]{12,}")
        .unwrap()
        .replace_all(&s, "<serial>");
    // What a dialog leaves visible of a serial, at the panel's edge.
    let s = regex::Regex::new("[0-9A-F]{3,}│")
        .unwrap()
        .replace_all(&s, "<s>│");
    let s = regex::Regex::new(r"\d{4}-\d\d-\d\d")
        .unwrap()
        .replace_all(&s, "<date----->");
    // Days left round down, so they tick over while a test runs.
    regex::Regex::new(r"\b(179|180|824|825) ")
        .unwrap()
        .replace_all(&s, "<n> ")
        .into_owned()
}

fn row_of(h: &Harness, cn: &str) -> usize {
    let s = h.state.session.as_ref().unwrap();
    s.vpn.visible_rows().position(|r| r.cn() == cn).unwrap()
}

#[test]
fn vpn_panel_lists_certificates_and_requests() {
    let (tmp, config) = with_pki();
    let mut h = vpn(&config, "dev");
    let screen = h.screen();
    assert!(
        screen.contains("carol@dev.example.org") && screen.contains("pending request"),
        "{screen}"
    );
    assert!(screen.contains("alice@dev.example.org") && screen.contains("valid"));
    assert!(screen.contains("bob@dev.example.org") && screen.contains("revoked"));
    // Whole days, rounded down: 180 right after writing, 179 a second later.
    let crl = regex::Regex::new("1 revoked, next update in 1(79|80) days").unwrap();
    assert!(crl.is_match(&screen), "{screen}");
    insta::assert_snapshot!(masked(&screen, tmp.path()));
}

#[test]
fn revoking_asks_first_and_then_revokes() {
    let (tmp, config) = with_pki();
    let mut h = vpn(&config, "dev");
    let alice = row_of(&h, "alice@dev.example.org");
    h.state.session.as_mut().unwrap().vpn.select(alice, 10);
    h.commands.clear();
    h.keys("X");
    assert!(matches!(h.state.overlay, Some(Overlay::Confirm(_))));
    insta::assert_snapshot!(masked(&h.screen(), tmp.path()));
    // Enter alone does not confirm; nothing is sent until `y`.
    h.key(KeyCode::Enter);
    assert!(h.commands.is_empty());
    h.keys("y");
    run_job(&mut h);
    let msg = toast(&h);
    assert!(msg.contains(": revoked alice@dev.example.org"), "{msg}");
    let s = h.state.session.as_ref().unwrap();
    let revoked = s.vpn.visible_rows().filter(|r| matches!(r, opsdeck::app::vpn::VpnRow::Cert(c, _) if c.status == opsdeck::pki::CertStatus::Revoked)).count();
    assert_eq!(revoked, 2);
}

#[test]
fn esc_cancels_and_changes_nothing() {
    let (_tmp, config) = with_pki();
    let mut h = vpn(&config, "dev");
    h.commands.clear();
    h.keys("C");
    h.key(KeyCode::Esc);
    assert_eq!(h.state.overlay, None);
    assert!(h.commands.is_empty());
    assert!(
        h.state
            .message
            .as_ref()
            .unwrap()
            .text
            .contains("nothing was changed")
    );
}

#[test]
fn a_protected_deployment_wants_its_name_typed() {
    let (tmp, config) = with_pki();
    let mut h = vpn(&config, "prod");
    let carol = row_of(&h, "carol@prod.example.org");
    h.state.session.as_mut().unwrap().vpn.select(carol, 10);
    h.commands.clear();
    h.keys("A");
    insta::assert_snapshot!(masked(&h.screen(), tmp.path()));
    // `y` is just a letter here; a wrong name is refused.
    h.keys("y");
    h.key(KeyCode::Enter);
    assert!(h.commands.is_empty());
    assert!(
        h.state
            .message
            .as_ref()
            .unwrap()
            .text
            .contains("type the deployment name `prod`")
    );
    h.key(KeyCode::Backspace);
    h.keys("prod");
    h.key(KeyCode::Enter);
    run_job(&mut h);
    assert!(
        toast(&h).contains(": signed carol@prod.example.org"),
        "{}",
        toast(&h)
    );
    let s = h.state.session.as_ref().unwrap();
    assert!(
        s.vpn
            .visible_rows()
            .all(|r| !matches!(r, opsdeck::app::vpn::VpnRow::Pending(_)))
    );
}

#[test]
fn read_only_offers_and_sends_nothing_mutating() {
    let (tmp, config) = with_pki();
    // dev's endpoint is a server that records every request (EC2 answers an
    // error to each; the listing's reads may fail, they are not the point).
    let server = common::TestServer::start("ec2", "us-east-1", common::Protocol::Ec2, |_, _| {
        common::Reply::ec2_error(
            400,
            "InvalidClientVpnEndpointId.NotFound",
            "no such endpoint",
        )
    });
    let config = config
        .replacen("http://127.0.0.1:4566", &server.endpoint, 1)
        .replace("name = \"dev\"", "name = \"dev\"\nread_only = true")
        .replace(
            "opensearch_domain = \"dev-index\"",
            "opensearch_domain = \"dev-index\"\nvpn_endpoint = \"cvpn-endpoint-0123456789abcdef0\"",
        );
    let mut h = vpn(&config, "dev");
    let files = |dir: &std::path::Path| -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
        let mut out = std::collections::BTreeMap::new();
        let mut todo = vec![dir.to_path_buf()];
        while let Some(d) = todo.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    todo.push(p);
                } else {
                    out.insert(p.clone(), std::fs::read(&p).unwrap());
                }
            }
        }
        out
    };
    let pki = tmp.path().join("dev");
    let before = files(&pki);
    let requests_before = server.total();
    h.commands.clear();
    let mut opened = Vec::new();
    for (key, row) in [
        ("X", Some("alice@dev.example.org")),
        ("A", Some("carol@dev.example.org")),
        ("C", None),
        ("P", None),
    ] {
        if let Some(cn) = row {
            let i = row_of(&h, cn);
            h.state.session.as_mut().unwrap().vpn.select(i, 10);
        }
        h.keys(key);
        if h.state.overlay.is_some() {
            // Had a dialog opened, confirm it as a user would.
            opened.push(key);
            h.keys("y");
        }
    }
    // Carry out whatever was asked, through the jobs' and the worker's own
    // code, so that the world, not only opsdeck's word, shows that nothing
    // changed.
    let d = h.state.session.as_ref().unwrap().deployment.clone();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let audit_dir = tempfile::tempdir().unwrap();
    let audit = opsdeck::jobs::AuditLog::at(audit_dir.path().join("audit.jsonl"));
    for c in &h.commands {
        match c {
            Command::StartJob { plan, .. } => {
                let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
                let ctx = opsdeck::jobs::Ctx::new(tx, Default::default());
                rt.block_on(opsdeck::jobs::run(
                    plan,
                    &audit,
                    opsdeck::jobs::Source::Console,
                    None,
                    None,
                    ctx,
                ));
            }
            Command::Send(Request::Pki(dir)) => {
                let _ = rt.block_on(async {
                    let c = opsdeck::aws::Clients::connect(&d).await.unwrap();
                    opsdeck::aws::ca::run(
                        Some(&c),
                        dir.clone(),
                        d.resources.vpn_endpoint.as_deref(),
                    )
                    .await
                });
            }
            _ => {}
        }
    }
    assert_eq!(files(&pki), before, "the PKI folder changed");
    assert_eq!(
        server.total(),
        requests_before,
        "the endpoint received requests: {:?}",
        server.requests()
    );
    // It would have heard them: a read of dev's endpoint reaches this server.
    let _ = rt.block_on(async {
        let c = opsdeck::aws::Clients::connect(&d).await.unwrap();
        opsdeck::aws::ca::run(Some(&c), pki.clone(), d.resources.vpn_endpoint.as_deref()).await
    });
    assert!(
        server.total() > requests_before,
        "the test endpoint is not dev's endpoint"
    );
    assert!(opened.is_empty(), "{opened:?} opened a dialog");
    assert!(h.commands.is_empty(), "{:?}", h.commands);
    assert!(h.state.message.as_ref().unwrap().text.contains("read-only"));
    // Nor are they offered: not in the palette, not in help.
    assert!(
        opsdeck::app::palette::palette_matches("vpn", true)
            .iter()
            .all(|a| !a.is_mutating())
    );
    h.keys("?");
    assert!(!h.screen().contains("vpn_revoke"));
}

#[test]
fn publishing_the_crl_warns_that_connections_reset() {
    let (_tmp, config) = with_pki();
    // Without an endpoint configured there is nothing to publish to.
    let mut h = vpn(&config, "dev");
    h.commands.clear();
    h.keys("P");
    assert_eq!(h.state.overlay, None);
    assert!(
        h.state
            .message
            .as_ref()
            .unwrap()
            .text
            .contains("set resources.vpn_endpoint")
    );
    // With one, on protected prod: the dialog says what happens, and wants the name.
    let config = config.replace(
        "opensearch_domain = \"prod-index\"",
        "opensearch_domain = \"prod-index\"\nvpn_endpoint = \"cvpn-endpoint-0123456789abcdef0\"",
    );
    let mut h = vpn(&config, "prod");
    h.commands.clear();
    h.keys("P");
    let screen = h.screen();
    assert!(
        screen.contains("cvpn-endpoint-0123456789abcdef0"),
        "{screen}"
    );
    assert!(
        screen.contains("This resets every connection on the endpoint"),
        "{screen}"
    );
    assert!(screen.contains("Type prod and press enter"), "{screen}");
    h.keys("prod");
    h.key(KeyCode::Enter);
    assert!(
        h.commands.iter().any(|c| matches!(
            c,
            Command::StartJob { plan, .. }
                if matches!(plan.op, opsdeck::jobs::Op::PublishCrl { .. })
        )),
        "{:?}",
        h.commands
    );
}

#[test]
fn the_vpn_panel_shows_the_endpoint_and_whether_its_crl_matches() {
    let (_tmp, config) = with_pki();
    let mut h = vpn(&config, "dev");
    // The worker's answer for a deployment with an endpoint (its AWS side is
    // tested with replayed EC2 traffic in vpn_aws.rs).
    let mut listing = h.state.session.as_ref().unwrap().ca.clone().unwrap();
    listing.endpoint = Some(Ok(opsdeck::aws::ca::EndpointInfo {
        id: "cvpn-endpoint-0123456789abcdef0".into(),
        state: "available · vpn.example.org · split tunnel".into(),
        crl: "the endpoint's CRL lacks 1 revocation (serial 1A2B)".into(),
        crl_matches: false,
    }));
    let dir = listing.dir.clone();
    h.answer(Request::Pki(dir), Ok(Response::Ca(listing)));
    let theme = h.state.theme.clone();
    let t = h.draw();
    let screen = t.backend().to_string();
    assert!(
        screen.contains(
            "VPN cvpn-endpoint-0123456789abcdef0 · available · vpn.example.org · split tunnel"
        ),
        "{screen}"
    );
    let (x, y) = find(&t, "the endpoint's CRL lacks");
    assert_eq!(
        t.backend().buffer()[(x, y)].fg,
        theme.style(Slot::Warning).fg.unwrap()
    );
}

#[test]
fn connecting_asks_for_each_panel_once() {
    let mut h = Harness::new(SANDBOX);
    h.act(Action::Open);
    let count = |r: &Request| {
        h.commands
            .iter()
            .filter(|c| **c == Command::Send(r.clone()))
            .count()
    };
    for r in [
        Request::Identity,
        Request::Stacks,
        Request::Functions,
        Request::Queues,
        Request::LogGroups,
        Request::Domain,
    ] {
        assert_eq!(count(&r), 1, "{r:?}");
    }
    // The Logs panel is fed by its tail: nothing is fetched for it, and it never looks busy.
    let s = h.state.session.as_ref().unwrap();
    assert!(!s.fetch(PanelId::Logs).in_flight);
}

// ---- jobs: the one safety path, the Jobs panel, peek, sparklines ----------

/// The job ids and plans the update asked the runner to start.
fn started(h: &Harness) -> Vec<(u64, opsdeck::jobs::Plan)> {
    h.commands
        .iter()
        .filter_map(|c| match c {
            Command::StartJob { id, plan, .. } => Some((*id, (**plan).clone())),
            _ => None,
        })
        .collect()
}

fn job_event(h: &mut Harness, id: u64, update: opsdeck::jobs::JobUpdate) {
    h.send(Msg::Job(opsdeck::jobs::JobEvent { id, update }), 2);
}

/// Structural: every confirmed action of the action table, from wherever it
/// can be planned, opens the one confirm dialog and sends nothing before
/// the yes; the yes starts exactly one job.
#[test]
fn every_confirmed_action_asks_first_and_sends_nothing_before_the_yes() {
    let (_tmp, config) = with_pki();
    let config = config.replace(
        "opensearch_domain = \"dev-index\"",
        "opensearch_domain = \"dev-index\"\nvpn_endpoint = \"cvpn-endpoint-0123456789abcdef0\"",
    );
    let confirmed: Vec<Action> = Action::ALL
        .iter()
        .copied()
        .filter(|a| a.effect() == opsdeck::jobs::Effect::Confirmed)
        .collect();
    assert!(confirmed.len() >= 7, "{confirmed:?}");
    for action in confirmed {
        let mut opened = false;
        'panels: for panel in PanelId::ALL {
            let mut h = vpn(&config, "dev");
            h.act(opsdeck::app::update::panel_action(panel));
            for row in 0..6 {
                h.act(Action::Top);
                for _ in 0..row {
                    h.act(Action::Down);
                }
                h.commands.clear();
                h.state.message = None;
                h.act(action);
                if !matches!(h.state.overlay, Some(Overlay::Confirm(_))) {
                    continue;
                }
                opened = true;
                assert!(started(&h).is_empty(), "{action}: sent before the yes");
                // Enter alone and other letters do nothing.
                h.key(KeyCode::Enter);
                h.keys("q");
                assert!(started(&h).is_empty(), "{action}");
                h.keys("y");
                let jobs = started(&h);
                assert_eq!(jobs.len(), 1, "{action}: {:?}", h.commands);
                assert_eq!(jobs[0].1.action, action.name());
                break 'panels;
            }
        }
        assert!(opened, "{action} never opened the confirm dialog");
    }
}

fn on_queues(env: &str) -> Harness {
    let mut h = Harness::connected(SANDBOX, env);
    h.act(Action::PanelQueues);
    h.commands.clear();
    h
}

fn select_queue(h: &mut Harness, name: &str) {
    let s = h.state.session.as_mut().unwrap();
    let i = s
        .queues
        .visible_rows()
        .position(|r| r.name == name)
        .unwrap();
    s.queues.select(i, 10);
}

#[test]
fn purging_a_queue_says_its_depth_and_waits_for_y() {
    let mut h = on_queues("dev");
    select_queue(&mut h, "dev-notifications");
    h.keys("P");
    let screen = h.screen();
    assert!(
        screen
            .contains("Delete every message in queue dev-notifications (25 visible, 4 in flight,"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
    h.keys("y");
    let jobs = started(&h);
    assert_eq!(jobs.len(), 1);
    assert!(matches!(&jobs[0].1.op, opsdeck::jobs::Op::Purge { queues } if queues.len() == 1));
}

#[test]
fn purging_on_protected_prod_wants_the_name() {
    let mut h = on_queues("prod");
    select_queue(&mut h, "prod-notifications");
    h.keys("P");
    h.keys("y");
    h.key(KeyCode::Enter);
    assert!(started(&h).is_empty());
    insta::assert_snapshot!(h.screen());
    for _ in 0..1 {
        h.key(KeyCode::Backspace);
    }
    h.keys("prod");
    h.key(KeyCode::Enter);
    assert_eq!(started(&h).len(), 1);
}

#[test]
fn read_only_refuses_a_peek_and_starts_nothing() {
    let config = SANDBOX.replace("name = \"dev\"", "name = \"dev\"\nread_only = true");
    let mut h = Harness::connected(&config, "dev");
    h.act(Action::PanelQueues);
    h.commands.clear();
    h.act(Action::QueuePeek);
    h.act(Action::QueuePurgeAll);
    assert!(started(&h).is_empty(), "{:?}", h.commands);
    assert!(h.state.overlay.is_none());
    assert!(h.state.message.as_ref().unwrap().text.contains("read-only"));
}

fn peeked_messages() -> Vec<PeekedMessage> {
    vec![
        PeekedMessage {
            id: "4f1c2a9e-0b7d-4c55-9a61-1d2e3f4a5b6c".into(),
            body: r#"{"bucket":"dev-uploads","key":"2026/12/02/report.csv","size":1832}"#.into(),
            attributes: vec![KeyValue {
                key: "SenderId".into(),
                value: "AIDAEXAMPLE".into(),
            }],
            message_attributes: vec![KeyValue {
                key: "origin (String)".into(),
                value: "s3-event".into(),
            }],
            receive_count: Some(4),
            sent: ago(3600),
        },
        PeekedMessage {
            id: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d".into(),
            body: "plain text: retry budget exhausted".into(),
            attributes: vec![],
            message_attributes: vec![],
            receive_count: Some(5),
            sent: ago(7200),
        },
    ]
}

#[test]
fn a_peek_starts_at_once_and_shows_what_it_saw() {
    let mut h = on_queues("dev");
    select_queue(&mut h, "dev-notifications-dlq");
    h.keys("v");
    // A change, not a confirmed one: no dialog, straight to a job.
    assert!(h.state.overlay.is_none());
    let jobs = started(&h);
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].1.effect, opsdeck::jobs::Effect::Change);
    job_event(
        &mut h,
        jobs[0].0,
        opsdeck::jobs::JobUpdate::Finished(opsdeck::jobs::Outcome::Ok {
            summary: "peeked at 2 message(s) of dev-notifications-dlq".into(),
            detail: Some(opsdeck::jobs::Detail::Peek {
                queue: "dev-notifications-dlq".into(),
                messages: peeked_messages(),
            }),
        }),
    );
    assert!(matches!(h.state.overlay, Some(Overlay::Job { .. })));
    let screen = h.screen();
    assert!(
        screen.contains("was a receive: it raised the receive count"),
        "{screen}"
    );
    assert!(
        screen.contains("\"key\": \"2026/12/02/report.csv\","),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn queue_rows_show_their_depth_over_time() {
    let mut h = on_queues("dev");
    for (i, depth) in [0u64, 2, 5, 9, 20, 40, 25].iter().enumerate() {
        let mut rows = queues("dev");
        rows[0].visible = Some(*depth);
        h.send(Msg::Action(Action::Refresh), 100 + i as u64);
        h.answer(Request::Queues, Ok(Response::Queues(rows)));
    }
    let screen = h.screen();
    assert!(screen.contains("▆▁▂▂▃▅█▆"), "{screen}");
    insta::assert_snapshot!(screen);
}

/// Three jobs: one running with progress, one failed, one cancelled.
fn with_jobs() -> Harness {
    use opsdeck::jobs::{JobUpdate, Outcome, Progress};
    let mut h = on_queues("dev");
    select_queue(&mut h, "dev-notifications-dlq");
    h.act(Action::QueueRedrive);
    h.keys("y");
    h.act(Action::QueuePurgeAll);
    h.keys("y");
    select_queue(&mut h, "dev-indexer-tasks");
    h.act(Action::QueuePurge);
    h.keys("y");
    let ids: Vec<u64> = started(&h).iter().map(|(id, _)| *id).collect();
    assert_eq!(ids.len(), 3);
    job_event(
        &mut h,
        ids[0],
        JobUpdate::Progress(Progress {
            done: 20,
            total: Some(30),
            phase: "moving".into(),
        }),
    );
    job_event(
        &mut h,
        ids[0],
        JobUpdate::Line("moved a batch of 10".into()),
    );
    job_event(
        &mut h,
        ids[1],
        JobUpdate::Finished(Outcome::failed(
            "purged 3 of 4 queues; failed: dev-indexer-tasks (purged less than a minute ago)",
        )),
    );
    job_event(
        &mut h,
        ids[2],
        JobUpdate::Finished(Outcome::Cancelled("cancelled before it began".into())),
    );
    h.act(Action::PanelJobs);
    h
}

#[test]
fn the_jobs_panel_shows_running_failed_and_cancelled_jobs() {
    let mut h = with_jobs();
    let screen = h.screen();
    assert!(screen.contains("20/30 moving"), "{screen}");
    assert!(screen.contains("failed"), "{screen}");
    assert!(screen.contains("cancelled"), "{screen}");
    // A failure stays as a toast until dismissed.
    assert!(screen.contains("(esc dismisses)"), "{screen}");
    insta::assert_snapshot!(screen);
    h.key(KeyCode::Esc);
    assert!(h.state.toasts.is_empty());
    // enter shows the selected job's output; x cancels a running one.
    h.act(Action::Bottom);
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(screen.contains("moved a batch of 10"), "{screen}");
    h.commands.clear();
    h.keys("x");
    assert_eq!(h.commands, [Command::CancelJob(1)]);
}

#[test]
fn a_job_survives_a_deployment_switch_and_reports_there() {
    let mut h = on_queues("dev");
    select_queue(&mut h, "dev-notifications");
    h.keys("P");
    h.keys("y");
    let (id, plan) = started(&h).remove(0);
    assert_eq!(plan.deployment.name, "dev");
    // Switch to prod while the purge runs.
    h.act(Action::SwitchDeployment);
    h.act(Action::Down);
    h.act(Action::Open);
    assert_eq!(h.state.session.as_ref().unwrap().deployment.name, "prod");
    h.commands.clear();
    job_event(
        &mut h,
        id,
        opsdeck::jobs::JobUpdate::Finished(opsdeck::jobs::Outcome::ok("purged dev-notifications")),
    );
    let row = h.state.jobs.get(id).unwrap();
    assert_eq!((row.deployment.as_str(), row.status()), ("dev", "ok"));
    assert!(
        toast(&h).contains("dev: purged dev-notifications"),
        "{}",
        toast(&h)
    );
    // prod's panels are not refreshed for dev's job.
    assert!(h.commands.is_empty(), "{:?}", h.commands);
}

#[test]
fn a_prefilled_prompt_is_replaced_and_a_success_clears_the_error() {
    let mut h = Harness::connected(SANDBOX, "dev");
    h.act(Action::PanelLogGroups);
    h.act(Action::TailLogs);
    h.keys("H");
    // The prompt holds 15m; typing replaces it instead of appending.
    h.keys("2x");
    h.key(KeyCode::Enter);
    assert!(h.state.message.as_ref().unwrap().text.contains("2x"));
    h.key(KeyCode::Backspace);
    h.key(KeyCode::Backspace);
    h.keys("1h");
    h.key(KeyCode::Enter);
    let s = h.state.session.as_ref().unwrap();
    assert_eq!(s.logs.as_ref().unwrap().since, "1h");
    assert_eq!(h.state.message, None);
}

// ---- the fleet overview ------------------------------------------------------

mod fleet_overview {
    use super::*;
    use opsdeck::aws::fleet::{Answer, Report};
    use opsdeck::model::fleet::*;

    const FOUR: &str = r#"
[[deployment]]
name = "dev"
region = "us-east-1"
[deployment.resources]
log_groups = { prefix = "/aws/lambda/dev-" }
opensearch_domain = "dev-index"

[[deployment]]
name = "prod"
region = "us-west-2"
protected = true
[deployment.resources]
log_groups = { prefix = "/aws/lambda/prod-" }
opensearch_domain = "prod-index"

[[deployment]]
name = "qa"
region = "eu-west-1"

[[deployment]]
name = "staging"
profile = "helio-staging"
region = "eu-west-1"
"#;

    /// The tag of the fetch the overview sent for `name`.
    fn tag(h: &Harness, name: &str) -> u64 {
        h.commands
            .iter()
            .rev()
            .find_map(|c| match c {
                Command::FetchFleet { deployment, tag } if deployment.name == name => Some(*tag),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no fetch of {name}: {:?}", h.commands))
    }

    fn report(h: &mut Harness, name: &str, report: Report) {
        let tag = tag(h, name);
        h.send(
            Msg::Fleet(Answer {
                deployment: name.into(),
                tag,
                report,
            }),
            1,
        );
    }

    fn cell(h: &mut Harness, name: &str, update: CellUpdate) {
        report(h, name, Report::Cell(update));
    }

    fn identity() -> CellUpdate {
        CellUpdate::Identity(Cell::Ready(Identity {
            account: "123456789012".into(),
            arn: "arn:aws:sts::123456789012:assumed-role/Dev/alice".into(),
        }))
    }

    /// Every cell of `name` answered: quiet, plus whatever `extra` changes.
    fn healthy(h: &mut Harness, name: &str, extra: Vec<CellUpdate>) {
        let mut cells = vec![
            identity(),
            CellUpdate::Stacks(Cell::Ready(StacksHealth {
                total: 3,
                ..Default::default()
            })),
            CellUpdate::Functions(Cell::Ready(FunctionsHealth {
                total: 4,
                disabled: vec![],
            })),
            CellUpdate::Queues(Cell::Ready(QueuesHealth {
                visible: 145,
                dlq_messages: 0,
                dlqs: vec![],
            })),
            CellUpdate::Errors(Cell::Ready(ErrorsHealth {
                count: 0,
                capped: false,
                groups: vec![format!("/aws/lambda/{name}-api")],
            })),
            CellUpdate::Index(Cell::Ready(IndexHealth {
                domain: format!("{name}-index"),
                state: "active".into(),
                cluster_status: None,
            })),
            CellUpdate::Vpn(Cell::Ready(VpnHealth {
                crl_days_left: Some(180),
            })),
        ];
        cells.extend(extra);
        for c in cells {
            cell(h, name, c);
        }
        report(h, name, Report::Done);
    }

    fn sick_prod(h: &mut Harness) {
        healthy(
            h,
            "prod",
            vec![
                CellUpdate::Queues(Cell::Ready(QueuesHealth {
                    visible: 148,
                    dlq_messages: 3,
                    dlqs: vec!["prod-notifications-dlq".into()],
                })),
                CellUpdate::Errors(Cell::Ready(ErrorsHealth {
                    count: 12,
                    capped: false,
                    groups: vec![
                        "/aws/lambda/prod-api".into(),
                        "/aws/lambda/prod-indexer".into(),
                    ],
                })),
            ],
        );
    }

    fn overview() -> Harness {
        let mut h = Harness::new(FOUR);
        h.send(Msg::Tick, 0);
        h
    }

    #[test]
    fn every_deployment_is_fetched_at_once_when_the_overview_shows() {
        let h = overview();
        let fetched: Vec<&str> = h
            .commands
            .iter()
            .filter_map(|c| match c {
                Command::FetchFleet { deployment, .. } => Some(deployment.name.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(fetched, ["dev", "prod", "qa", "staging"]);
    }

    #[test]
    fn fleet_loading() {
        let mut h = overview();
        insta::assert_snapshot!(h.screen());
    }

    #[test]
    fn fleet_mixed() {
        let mut h = overview();
        healthy(&mut h, "dev", vec![]);
        sick_prod(&mut h);
        // qa: one cell still loading, one denied.
        cell(&mut h, "qa", identity());
        cell(
            &mut h,
            "qa",
            CellUpdate::Queues(Cell::Failed(Problem::new(
                ProblemKind::AccessDenied,
                "ListQueues: access denied for profile `qa`",
            ))),
        );
        let expired = Problem::new(
            ProblemKind::CredentialsExpired,
            "SSO session for profile `helio-staging` expired: run `aws sso login --profile helio-staging`",
        );
        for c in [
            CellUpdate::Identity(Cell::Failed(expired.clone())),
            CellUpdate::Stacks(Cell::Failed(expired.clone())),
            CellUpdate::Functions(Cell::Failed(expired.clone())),
            CellUpdate::Queues(Cell::Failed(expired.clone())),
            CellUpdate::Errors(Cell::Unset),
            CellUpdate::Index(Cell::Unset),
            CellUpdate::Vpn(Cell::Unset),
        ] {
            cell(&mut h, "staging", c);
        }
        report(&mut h, "staging", Report::Done);
        // The cursor follows the first row: the worst one.
        h.act(Action::Top);
        insta::assert_snapshot!(h.screen());

        // Worst first: unreachable, attention, then by name.
        let order: Vec<&str> = h
            .state
            .fleet
            .order
            .iter()
            .map(|&i| h.state.deployments[i].name.as_str())
            .collect();
        assert_eq!(order, ["staging", "prod", "qa", "dev"]);

        // A login-needing deployment is not retried on a timer; the others are.
        h.commands.clear();
        h.send(Msg::Tick, 3600);
        let again: Vec<&str> = h
            .commands
            .iter()
            .filter_map(|c| match c {
                Command::FetchFleet { deployment, .. } => Some(deployment.name.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            again,
            ["dev", "prod"],
            "qa is still running; staging needs a login"
        );
        // r retries it.
        h.commands.clear();
        h.act(Action::Refresh);
        assert!(h.commands.iter().any(
            |c| matches!(c, Command::FetchFleet { deployment, .. } if deployment.name == "staging")
        ));
    }

    #[test]
    fn fleet_all_ok() {
        let mut h = overview();
        for name in ["dev", "prod", "qa", "staging"] {
            healthy(&mut h, name, vec![]);
        }
        insta::assert_snapshot!(h.screen());
    }

    #[test]
    fn the_worst_cell_and_the_verdict_are_coloured_and_protected_keeps_its_accent() {
        let mut h = overview();
        healthy(&mut h, "dev", vec![]);
        sick_prod(&mut h);
        let theme = h.state.theme.clone();
        // The cursor is on dev (the config's first), not on prod's row.
        let t = h.draw();
        let buf = t.backend().buffer();
        let at = |text: &str| {
            let (x, y) = find(&t, text);
            buf[(x, y)].clone()
        };
        assert_eq!(at("attention").fg, theme.style(Slot::Warning).fg.unwrap());
        assert_eq!(at("148 · 3").fg, theme.style(Slot::Error).fg.unwrap());
        // Only the worst cell: the errors cell is plain text.
        assert_eq!(
            at("12     active").fg,
            theme
                .style(Slot::Text)
                .fg
                .unwrap_or(ratatui::style::Color::Reset)
        );
        let (x, y) = find(&t, "│prod ");
        assert_eq!(buf[(x + 1, y)].fg, theme.style(Slot::Protected).fg.unwrap());
        assert_eq!(buf[(x + 1, y)].bg, theme.style(Slot::Protected).bg.unwrap());
    }

    #[test]
    fn one_key_opens_the_errors_and_another_the_dead_letter_queues() {
        let mut h = overview();
        healthy(&mut h, "dev", vec![]);
        sick_prod(&mut h);
        // prod needs attention, so it is the first row: the cursor is on it.
        h.act(Action::Top);
        h.commands.clear();
        h.keys("e");
        let s = h.state.session.as_ref().expect("prod opened");
        assert_eq!(s.deployment.name, "prod");
        assert_eq!(s.focus, PanelId::Logs);
        let v = s.logs.as_ref().unwrap();
        assert_eq!(v.min_level, Some(opsdeck::logs::line::Level::Error));
        assert_eq!(v.since, "15m");
        let groups: Vec<Vec<String>> = h
            .commands
            .iter()
            .filter_map(|c| match c {
                Command::Send(Request::Tail { spec, .. }) => Some(spec.groups.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(
            groups,
            [vec![
                "/aws/lambda/prod-api".to_string(),
                "/aws/lambda/prod-indexer".to_string()
            ]]
        );
        // ERROR and worse only: the WARN and INFO lines are not on screen.
        tail_update(&mut h, TailUpdate::Events(log_events()));
        let screen = h.screen();
        assert!(screen.contains("Failed to index bundle"), "{screen}");
        assert!(!screen.contains("Slow response"), "{screen}");
        assert!(screen.contains("ERROR+ only"), "{screen}");

        // d, the row, Q: the Queues panel on the dead-letter queue.
        h.keys("d");
        assert_eq!(h.state.screen, Screen::Picker);
        h.keys("Q");
        let s = h.state.session.as_ref().unwrap();
        assert_eq!(s.focus, PanelId::Queues);
        assert_eq!(s.queues.filter, "prod-notifications-dlq");
    }

    #[test]
    fn the_level_filter_works_on_the_buffer_without_restarting_the_tail() {
        let mut h = tailing();
        h.commands.clear();
        h.keys("L");
        let screen = h.screen();
        assert!(screen.contains("WARN+ only"), "{screen}");
        assert!(screen.contains("Slow response"), "{screen}");
        assert!(!screen.contains("START RequestId"), "{screen}");
        assert!(!screen.contains("Received 10 notifications"), "{screen}");
        h.keys("L");
        let screen = h.screen();
        assert!(screen.contains("ERROR+ only"), "{screen}");
        assert!(!screen.contains("Slow response"), "{screen}");
        assert!(
            screen.contains("OpenSearch rejected bulk request"),
            "{screen}"
        );
        // Paused, the cursor moves over shown lines only.
        h.keys("k");
        let v = h.state.session.as_ref().unwrap().logs.as_ref().unwrap();
        assert_eq!(
            v.store.get(v.cursor).unwrap().level,
            opsdeck::logs::line::Level::Error
        );
        assert!(
            v.store
                .get(v.cursor)
                .unwrap()
                .text
                .contains("Failed to index")
        );
        h.keys("L");
        let screen = h.screen();
        assert!(screen.contains("START RequestId"), "{screen}");
        assert!(
            h.commands.is_empty(),
            "no request: the tail runs on: {:?}",
            h.commands
        );
    }
}

// ---- functions: the emergency switch and invoke ------------------------------

fn on_functions(env: &str) -> Harness {
    let mut h = Harness::connected(SANDBOX, env);
    h.act(Action::PanelFunctions);
    h.commands.clear();
    h
}

fn select_function(h: &mut Harness, name: &str) {
    let s = h.state.session.as_mut().unwrap();
    let i = s
        .functions
        .visible_rows()
        .position(|r| r.name == name)
        .unwrap();
    s.functions.select(i, 10);
}

#[test]
fn disable_all_on_prod_lists_what_changes_and_wants_the_name() {
    let mut h = on_functions("prod");
    // X on the Functions panel: the emergency switch.
    h.keys("X");
    let Some(Overlay::Confirm(c)) = &h.state.overlay else {
        panic!("{:?}", h.state.overlay)
    };
    assert_eq!(c.plan.action, "lambda_disable_all");
    let screen = h.screen();
    assert!(
        screen.contains("prod-indexer: 10 reserved → disabled (0)"),
        "{screen}"
    );
    assert!(
        screen.contains("Already disabled, left alone: prod-reindexer"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
    h.keys("y");
    assert!(started(&h).is_empty(), "y alone does not confirm on prod");
    h.key(KeyCode::Backspace);
    h.keys("prod");
    h.key(KeyCode::Enter);
    let jobs = started(&h);
    assert_eq!(jobs.len(), 1);
    let opsdeck::jobs::Op::LambdaDisable { functions } = &jobs[0].1.op else {
        panic!("{:?}", jobs[0].1.op)
    };
    assert_eq!(functions.len(), 3);
}

#[test]
fn enable_all_says_which_function_stays_disabled() {
    let mut h = on_functions("dev");
    let rows = &mut h.state.session.as_mut().unwrap().functions.rows;
    // One the emergency switch turned off, one that was at 0 before it.
    rows[0].concurrency = Concurrency::Disabled;
    rows[0].remembered = Some(Concurrency::Reserved(7));
    rows[3].remembered = None;
    h.keys("A");
    let Some(Overlay::Confirm(c)) = &h.state.overlay else {
        panic!("{:?}", h.state.overlay)
    };
    let lines = c.plan.lines.join("\n");
    assert!(
        lines.contains("dev-api: disabled (0) → 7 reserved"),
        "{lines}"
    );
    assert!(lines.contains("Stay disabled"), "{lines}");
    assert!(lines.contains("dev-reindexer"), "{lines}");
}

#[test]
fn the_invoke_popup_checks_json_before_sending() {
    let mut h = on_functions("dev");
    select_function(&mut h, "dev-api");
    h.keys("i");
    assert!(matches!(h.state.overlay, Some(Overlay::Invoke(_))));
    // The pre-filled `{}` is replaced by what is typed; enter is a new line.
    h.keys("{\"ping\": ");
    h.key(KeyCode::Enter);
    h.keys("  {\"n\": 1}}");
    let valid = h.screen();
    assert!(valid.contains("valid JSON · 21 bytes"), "{valid}");
    insta::assert_snapshot!("invoke_popup_valid", valid);
    h.key(KeyCode::Backspace);
    let invalid = h.screen();
    assert!(invalid.contains("the payload is not JSON"), "{invalid}");
    insta::assert_snapshot!("invoke_popup_invalid", invalid);
    // ctrl-s with bad JSON sends nothing and keeps the popup.
    h.ctrl('s');
    assert!(started(&h).is_empty());
    assert!(matches!(h.state.overlay, Some(Overlay::Invoke(_))));
    h.keys("}");
    h.key(KeyCode::Tab);
    h.key(KeyCode::Tab);
    h.ctrl('s');
    let jobs = started(&h);
    assert_eq!(jobs.len(), 1, "{:?}", h.commands);
    let plan = &jobs[0].1;
    assert_eq!(
        plan.effect,
        opsdeck::jobs::Effect::Read,
        "a dry run is a read"
    );
    // The next invoke of the function opens on the payload sent last.
    h.state.overlay = None;
    h.keys("i");
    let Some(Overlay::Invoke(p)) = &h.state.overlay else {
        panic!()
    };
    assert_eq!(p.input.text(), "{\"ping\": \n  {\"n\": 1}}");
}

#[test]
fn an_invoke_on_prod_is_confirmed_with_the_name() {
    let mut h = on_functions("prod");
    select_function(&mut h, "prod-api");
    h.keys("i");
    h.ctrl('s');
    assert!(matches!(h.state.overlay, Some(Overlay::Confirm(_))));
    assert!(started(&h).is_empty());
    h.keys("prod");
    h.key(KeyCode::Enter);
    assert_eq!(started(&h).len(), 1);
}

#[test]
fn an_invoke_result_shows_the_error_payload_and_coloured_log_tail() {
    let mut h = on_functions("dev");
    select_function(&mut h, "dev-api");
    h.keys("i");
    h.ctrl('s');
    let jobs = started(&h);
    assert_eq!(jobs.len(), 1);
    let invoked = opsdeck::jobs::lambdas::Invoked {
        function: "dev-api".into(),
        kind: opsdeck::jobs::lambdas::InvokeKind::RequestResponse,
        status: 200,
        executed_version: Some("$LATEST".into()),
        function_error: Some("Unhandled".into()),
        payload: "{\n  \"errorMessage\": \"'bundle'\",\n  \"errorType\": \"KeyError\"\n}".into(),
        log_tail: vec![
            "START RequestId: 42 Version: $LATEST".into(),
            "[INFO] indexing bundle 7".into(),
            "[ERROR] KeyError: 'bundle'".into(),
            "END RequestId: 42".into(),
        ],
    };
    job_event(
        &mut h,
        jobs[0].0,
        opsdeck::jobs::JobUpdate::Finished(opsdeck::jobs::Outcome::Failed {
            message: "dev-api returned a function error (Unhandled): 'bundle'".into(),
            detail: Some(opsdeck::jobs::Detail::Invoke(Box::new(invoked))),
        }),
    );
    assert!(matches!(h.state.overlay, Some(Overlay::Job { .. })));
    let t = h.draw();
    let screen = t.backend().to_string();
    assert!(screen.contains("FunctionError: Unhandled"), "{screen}");
    let (x, y) = find(&t, "[ERROR] KeyError");
    let cell = &t.backend().buffer()[(x, y)];
    assert_eq!(cell.fg, h.state.theme.style(Slot::Error).fg.unwrap());
    insta::assert_snapshot!(screen);
}
