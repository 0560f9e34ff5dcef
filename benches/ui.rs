//! Budgets from DESIGN.md that the console itself owns:
//! - start-up to the first frame (< 50 ms, independent of AWS latency): config
//!   load, state, a deployment preselected, and the first draw, with no AWS answer;
//! - a frame of each list panel holding 10 000 rows, at 200×50;
//! - one keystroke of live filtering over 10 000 rows;
//! - the Index panel with a domain of 2 000 indices, at 200×50.
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
                        code_sha256: None,
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

/// The fleet overview with 50 deployments, every cell answered (a third of
/// them needing attention), at 200×50: the frame the on-call engineer waits on.
fn fleet_frame(c: &mut Criterion) {
    use opsdeck::aws::fleet::{Answer, Report};
    use opsdeck::model::fleet::*;
    let mut text = String::new();
    for i in 0..50u32 {
        text.push_str(&format!(
            "[[deployment]]\nname = \"env{i:02}\"\nregion = \"us-east-1\"\nprotected = {}\n",
            i.is_multiple_of(10)
        ));
    }
    let (config, _) = opsdeck::config::Config::parse(&text, Path::new("fleet.toml"));
    let mut state = State::new(config::Loaded {
        config,
        theme: config::theme::load("default", None).0,
        keymap: config::keymap::load("default", None).0,
        diagnostics: vec![],
    });
    let now = Instant::now();
    let commands = state.update(Msg::Tick, now, &Hitmap::default());
    for c in commands {
        let opsdeck::app::Command::FetchFleet { deployment, tag } = c else {
            continue;
        };
        let i: usize = deployment.name[3..].parse().unwrap();
        let sick = i.is_multiple_of(3);
        let cells = [
            CellUpdate::Identity(Cell::Ready(opsdeck::model::Identity {
                account: format!("{:012}", 100_000 + i),
                arn: "arn".into(),
            })),
            CellUpdate::Stacks(Cell::Ready(StacksHealth {
                total: 12,
                failed: u64::from(sick),
                ..Default::default()
            })),
            CellUpdate::Functions(Cell::Ready(FunctionsHealth {
                total: 20,
                disabled: vec![],
            })),
            CellUpdate::Queues(Cell::Ready(QueuesHealth {
                visible: 1000,
                dlq_messages: if sick { 7 } else { 0 },
                dlqs: vec![],
            })),
            CellUpdate::Errors(Cell::Ready(ErrorsHealth {
                count: if sick { 1000 } else { 0 },
                capped: sick,
                groups: vec![],
            })),
            CellUpdate::Index(Cell::Ready(IndexHealth {
                domain: "x".into(),
                state: "active".into(),
                cluster_status: None,
            })),
            CellUpdate::Vpn(Cell::Ready(VpnHealth {
                crl_days_left: Some(90),
            })),
        ];
        for update in cells.into_iter().map(Report::Cell).chain([Report::Done]) {
            let answer = Answer {
                deployment: deployment.name.clone(),
                tag,
                report: update,
            };
            state.update(Msg::Fleet(answer), now, &Hitmap::default());
        }
    }
    assert!(state.fleet.completed.is_some());
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).unwrap();
    c.bench_function("fleet_overview_frame_50_deployments_200x50", |b| {
        b.iter(|| {
            terminal
                .draw(|f| {
                    ui::draw(f, &state, Clock::now());
                })
                .unwrap();
        })
    });
}

/// The Jobs panel holding 1 000 jobs (earlier runs' jobs from the audit log).
fn jobs_frame(c: &mut Criterion) {
    let mut state = loaded_state();
    let entries = (0..1000)
        .map(|i| opsdeck::jobs::audit::Entry {
            time: format!("2026-12-01T{:02}:{:02}:00Z", (i / 60) % 24, i % 60),
            job: format!("{i:016x}"),
            deployment: if i % 3 == 0 { "prod" } else { "dev" }.into(),
            account: Some("123456789012".into()),
            arn: Some("arn:aws:sts::123456789012:assumed-role/OnCall/alice".into()),
            region: Some("us-east-1".into()),
            action: "queue_purge".into(),
            target: format!("queue dev-queue-{i:04}"),
            parameters: serde_json::json!({ "queues": [format!("dev-queue-{i:04}")] }),
            result: if i % 10 == 0 { "failed" } else { "ok" }.into(),
            message: "purged".into(),
            duration_ms: Some(120),
            source: "console".into(),
        })
        .collect();
    state.job_history(entries);
    state.update(
        Msg::Action(Action::PanelJobs),
        Instant::now(),
        &Hitmap::default(),
    );
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).unwrap();
    c.bench_function("frame_jobs_1000_jobs_200x50", |b| {
        b.iter(|| {
            terminal
                .draw(|f| {
                    ui::draw(f, &state, Clock::now());
                })
                .unwrap();
        })
    });
}

fn index_frame(c: &mut Criterion) {
    use opsdeck::model::{ClusterColour, ClusterHealth, DomainStatus, IndexRow, IndexView};
    let mut state = loaded_state();
    let generation = state.session.as_ref().unwrap().generation;
    let indices: Vec<IndexRow> = (0..2_000u64)
        .map(|i| IndexRow {
            name: format!("dev-catalog-{i:04}-v1"),
            health: Some(if i % 97 == 0 { "yellow" } else { "green" }.into()),
            status: "open".into(),
            docs: Some(1_000 + i * 7),
            deleted: Some(i),
            size: Some(i * 1_700_000),
            primary_size: Some(i * 850_000),
            primaries: Some(3),
            replicas: Some(1),
            aliases: vec![format!("dev-catalog-{i:04}")],
        })
        .collect();
    let view = IndexView {
        domain: Some(DomainStatus {
            name: "dev-index".into(),
            created: true,
            engine_version: Some("OpenSearch_2.11".into()),
            ..DomainStatus::default()
        }),
        endpoint: Some("http://127.0.0.1:4567".into()),
        health: Some(ClusterHealth {
            status: Some(ClusterColour::Yellow),
            ..ClusterHealth::default()
        }),
        indices,
        problem: None,
    };
    let event = Event {
        generation,
        request: Request::Domain,
        outcome: Ok(Response::Index(Box::new(view))),
        took: Duration::ZERO,
    };
    let now = Instant::now();
    state.update(Msg::Aws(event), now, &Hitmap::default());
    state.update(Msg::Action(Action::PanelIndex), now, &Hitmap::default());
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).unwrap();
    let clock = Clock::now();
    c.bench_function("frame_index_2000_indices_200x50", |b| {
        b.iter(|| {
            terminal
                .draw(|f| {
                    ui::draw(f, &state, clock);
                })
                .unwrap();
        })
    });
}

criterion_group!(
    benches,
    first_frame,
    panel_frames,
    filter_keystroke,
    fleet_frame,
    jobs_frame,
    index_frame
);
criterion_main!(benches);
