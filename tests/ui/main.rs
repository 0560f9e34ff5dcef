//! What the user sees: render snapshots of every screen, panel and dialog
//! (ratatui `TestBackend` + insta), their colours, and key sequences driven
//! through the real update function.
//!
//! Worker answers are built here as the workers' own `Event` values: these
//! tests are about the UI; the workers are tested against moto in `aws_moto.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod deploy;
mod fleet;
mod functions;
mod health;
mod index;
mod jobs;
mod lambda_deploy;
mod logs;
mod stack_events;
mod vpn;

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

const SANDBOX: &str = include_str!("../../config/sandbox.toml");

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
        code_sha256: None,
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
        dedicated_masters: Some((3, "m6g.large.search".into())),
        storage: Some("EBS gp3 100 GiB".into()),
        ..DomainStatus::default()
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
                ..Default::default()
            },
            StackEvent {
                time: ago(200),
                logical_id: "dev-core".into(),
                status: "UPDATE_IN_PROGRESS".into(),
                reason: Some("User Initiated".into()),
                ..Default::default()
            },
        ],
        template: Some(Ok("{\n  \"Resources\": {}\n}".into())),
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
