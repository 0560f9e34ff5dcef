//! Log budgets from DESIGN.md:
//! - ingest (parse, level detection, filter, insert into the buffer): ≥ 500 000 events/s on one core;
//! - a frame with 1 000 000 buffered lines at 200×50: ≤ 2 ms (following, and paused mid-buffer with a search);
//! - memory per buffered line ≤ 1.5× its text (printed; asserted by a unit test of the store).
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::Instant;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use opsdeck::app::{Action, Hitmap, Msg, State};
use opsdeck::aws::tail::{TailEvent, TailUpdate};
use opsdeck::aws::{Event, Request, Response};
use opsdeck::config::{self, Source};
use opsdeck::logs::LogStore;
use opsdeck::ui::{self, Clock};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// Realistic Lambda lines, as the sandbox writes them.
fn lines(n: usize) -> Vec<String> {
    let mut rng = fastrand::Rng::with_seed(11);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        out.extend(opsdeck::sandbox::lines::invocation(&mut rng, "dev-api"));
    }
    out.truncate(n);
    out
}

fn ingest(c: &mut Criterion) {
    let input = lines(100_000);
    let filter = regex::Regex::new("(?i)timeout|rejected").unwrap();
    let mut g = c.benchmark_group("ingest");
    g.throughput(Throughput::Elements(input.len() as u64));
    g.bench_function("parse_detect_filter_store_100k", |b| {
        b.iter_batched(
            || LogStore::new(200_000),
            |mut store| {
                let src = store.intern(0, "2026/11/22/[$LATEST]0a1b2c3d");
                let mut matches = 0usize;
                for (i, line) in input.iter().enumerate() {
                    // Search matching counts as the filter step of ingest.
                    matches += usize::from(filter.is_match(line));
                    store.push(1_795_000_000_000 + i as i64, src, line);
                }
                (store, matches)
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

/// A state tailing one group with `n` lines buffered.
fn tailing(n: usize) -> State {
    let source = Source::Flag(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/sandbox.toml"));
    let mut loaded = config::load(Some(&source));
    loaded.config.log_buffer_lines = n;
    let mut state = State::new(loaded);
    let now = Instant::now();
    state.select_deployment("dev", now).unwrap();
    let hits = Hitmap::default();
    // The deployment's log groups, as the worker would answer.
    let generation = state.session.as_ref().unwrap().generation;
    let groups = Event {
        generation,
        request: Request::LogGroups,
        outcome: Ok(Response::LogGroups(vec![opsdeck::model::LogGroupRow {
            name: "/aws/lambda/dev-api".into(),
            retention_days: Some(14),
            stored_bytes: None,
            created: None,
        }])),
        took: std::time::Duration::ZERO,
    };
    state.update(Msg::Aws(groups), now, &hits);
    state.update(Msg::Action(Action::PanelLogs), now, &hits);
    state.update(Msg::Action(Action::TailLogs), now, &hits);
    let s = state.session.as_ref().unwrap();
    let (generation, id) = (s.generation, s.logs.as_ref().unwrap().id);
    let text = lines(n);
    for (k, chunk) in text.chunks(50_000).enumerate() {
        let events = chunk
            .iter()
            .enumerate()
            .map(|(i, m)| TailEvent {
                group: 0,
                stream: "2026/11/22/[$LATEST]0a1b2c3d".into(),
                ts: 1_795_000_000_000 + (k * 50_000 + i) as i64,
                id: String::new(),
                message: m.clone(),
            })
            .collect();
        let event = Event {
            generation,
            request: Request::StopTail(id),
            outcome: Ok(Response::Tail {
                id,
                update: TailUpdate::Events(events),
            }),
            took: std::time::Duration::ZERO,
        };
        state.update(Msg::Aws(event), now, &hits);
    }
    state
}

fn frames(c: &mut Criterion) {
    let mut state = tailing(1_000_000);
    let v = state.session.as_ref().unwrap().logs.as_ref().unwrap();
    let text: usize = v.store.iter_from(0).map(|l| l.text.len()).sum();
    eprintln!(
        "memory: {} lines, {:.2}× their text ({} MiB buffered for {} MiB of text)",
        v.store.len(),
        v.store.heap_bytes() as f64 / text as f64,
        v.store.heap_bytes() >> 20,
        text >> 20
    );
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).unwrap();
    let clock = Clock::now();
    c.bench_function("frame_logs_1M_lines_following_200x50", |b| {
        b.iter(|| {
            terminal
                .draw(|f| {
                    ui::draw(f, &state, clock);
                })
                .unwrap();
        })
    });
    // Paused in the middle, with a search highlighting matches.
    {
        let v = state.session.as_mut().unwrap().logs.as_mut().unwrap();
        v.pause(48);
        v.cursor = 500_000;
        v.top = 500_000;
        v.search = Some(opsdeck::app::logs::Search {
            pattern: "error".into(),
            regex: regex::Regex::new("(?i)error").unwrap(),
        });
    }
    c.bench_function("frame_logs_1M_lines_paused_search_200x50", |b| {
        b.iter(|| {
            terminal
                .draw(|f| {
                    ui::draw(f, &state, clock);
                })
                .unwrap();
        })
    });
}

criterion_group!(benches, ingest, frames);
criterion_main!(benches);
