//! Budgets from DESIGN.md that the console itself owns:
//! - start-up to the first frame (< 50 ms, independent of AWS latency): config
//!   load, state, a deployment preselected, and the first draw, with no AWS answer;
//! - a frame of each list panel holding 10 000 rows, at 200×50;
//! - one keystroke of live filtering over 10 000 rows.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use opsdeck::app::{Action, Hitmap, Msg, State};
use opsdeck::aws::{Event, Request, Response};
use opsdeck::config::{self, Source};
use opsdeck::model::{Concurrency, FunctionRow, LogGroupRow, QueueRow, StackRow};
use opsdeck::ui::{self, Clock};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const ROWS: usize = 10_000;

fn first_frame(c: &mut Criterion) {
    let source = Source::Flag(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/sandbox.toml"));
    c.bench_function("startup_to_first_frame_200x50", |b| {
        b.iter(|| {
            let loaded = config::load(Some(&source));
            let mut state = State::new(loaded);
            // Preselected, as with --deployment: the connect is only a command;
            // nothing waits for AWS before the frame.
            let commands = state.select_deployment("dev", Instant::now()).unwrap();
            assert!(!commands.is_empty());
            let mut terminal = Terminal::new(TestBackend::new(200, 50)).unwrap();
            terminal
                .draw(|f| {
                    ui::draw(f, &state, Clock::now());
                })
                .unwrap();
        })
    });
}

fn loaded_state() -> State {
    let source = Source::Flag(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/sandbox.toml"));
    let mut state = State::new(config::load(Some(&source)));
    let now = Instant::now();
    state.select_deployment("dev", now).unwrap();
    let generation = state.session.as_ref().unwrap().generation;
    let wall = Some(SystemTime::now());
    let answers = [
        (
            Request::Stacks,
            Response::Stacks(
                (0..ROWS)
                    .map(|i| StackRow {
                        name: format!("dev-stack-{i:05}"),
                        status: "UPDATE_COMPLETE".into(),
                        status_reason: None,
                        updated: wall,
                        description: None,
                        outputs: vec![],
                        parameters: vec![],
                    })
                    .collect(),
            ),
        ),
        (
            Request::Functions,
            Response::Functions(
                (0..ROWS)
                    .map(|i| FunctionRow {
                        name: format!("dev-fn-{i:05}"),
                        runtime: Some("python3.12".into()),
                        memory_mb: Some(512),
                        timeout_s: Some(30),
                        last_modified: wall,
                        arn: None,
                        remembered: None,
                        concurrency: Concurrency::Reserved(5),
                    })
                    .collect(),
            ),
        ),
        (
            Request::Queues,
            Response::Queues(
                (0..ROWS)
                    .map(|i| QueueRow {
                        name: format!("dev-queue-{i:05}"),
                        url: String::new(),
                        arn: None,
                        visible: Some(i as u64),
                        in_flight: Some(1),
                        delayed: Some(0),
                        dead_letter_queue: Some("dev-dlq".into()),
                        dlq_of: vec![],
                    })
                    .collect(),
            ),
        ),
        (
            Request::LogGroups,
            Response::LogGroups(
                (0..ROWS)
                    .map(|i| LogGroupRow {
                        name: format!("/aws/lambda/dev-{i:05}"),
                        retention_days: Some(14),
                        stored_bytes: Some(i as i64),
                        created: wall,
                    })
                    .collect(),
            ),
        ),
    ];
    for (request, response) in answers {
        let event = Event {
            generation,
            request,
            outcome: Ok(response),
            took: Duration::ZERO,
        };
        state.update(Msg::Aws(event), now, &Hitmap::default());
    }
    state
}

fn panel_frames(c: &mut Criterion) {
    let mut state = loaded_state();
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).unwrap();
    for (action, name) in [
        (Action::PanelStacks, "frame_stacks_10k_rows_200x50"),
        (Action::PanelFunctions, "frame_functions_10k_rows_200x50"),
        (Action::PanelQueues, "frame_queues_10k_rows_200x50"),
        (Action::PanelLogGroups, "frame_log_groups_10k_rows_200x50"),
    ] {
        state.update(Msg::Action(action), Instant::now(), &Hitmap::default());
        let clock = Clock::now();
        c.bench_function(name, |b| {
            b.iter(|| {
                terminal
                    .draw(|f| {
                        ui::draw(f, &state, clock);
                    })
                    .unwrap();
            })
        });
    }
}

fn filter_keystroke(c: &mut Criterion) {
    let mut state = loaded_state();
    state.update(
        Msg::Action(Action::PanelLogGroups),
        Instant::now(),
        &Hitmap::default(),
    );
    c.bench_function("filter_keystroke_10k_rows", |b| {
        b.iter(|| {
            let s = state.session.as_mut().unwrap();
            s.log_groups.set_filter("dev-0042".into());
            s.log_groups.set_filter(String::new());
        })
    });
}

criterion_group!(benches, first_frame, panel_frames, filter_keystroke);
criterion_main!(benches);
