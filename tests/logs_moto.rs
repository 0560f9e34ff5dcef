//! Tailing logs against a real moto server, through the real SDK.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use common::{Moto, deployment, repo, sandbox_deployments};
use opsdeck::aws::Clients;
use opsdeck::aws::tail::{self, TailEvent, TailSpec, TailStatus, TailUpdate};
use opsdeck::logs::Range;
use opsdeck::model::ProblemKind;
use tokio::sync::mpsc;

async fn dev(moto: &Moto) -> Clients {
    let d = deployment(&sandbox_deployments(&moto.endpoint), "dev");
    Clients::connect(&d).await.unwrap()
}

async fn put(c: &Clients, group: &str, stream: &str, events: &[(i64, String)]) {
    let _ = c.logs.create_log_group().log_group_name(group).send().await;
    let _ = c
        .logs
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await;
    // PutLogEvents takes at most 10 000 events a call, in timestamp order.
    let mut sorted = events.to_vec();
    sorted.sort_by_key(|e| e.0);
    for batch in sorted.chunks(10_000) {
        let batch = batch
            .iter()
            .map(|(ts, m)| {
                InputLogEvent::builder()
                    .timestamp(*ts)
                    .message(m)
                    .build()
                    .unwrap()
            })
            .collect();
        c.logs
            .put_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .set_log_events(Some(batch))
            .send()
            .await
            .unwrap();
    }
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn spec(groups: &[&str], start: i64, end: Option<i64>, follow: bool) -> TailSpec {
    TailSpec {
        groups: groups.iter().map(|g| g.to_string()).collect(),
        range: Range { start, end },
        filter: None,
        follow,
        poll_every: Duration::from_millis(300),
    }
}

/// Runs a tail to its end; returns the events and how it ended.
async fn run(c: &Clients, spec: TailSpec) -> (Vec<TailEvent>, Option<opsdeck::model::Problem>) {
    let (tx, mut rx) = mpsc::channel(16);
    let c2 = c.clone();
    let budget = c.logs_budget.clone();
    tokio::spawn(async move { tail::poll(&c2, spec, budget, tx).await });
    let mut events = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .unwrap()
        {
            Some(TailUpdate::Events(e)) => events.extend(e),
            Some(TailUpdate::Status(_)) => {}
            Some(TailUpdate::Ended(p)) => return (events, p),
            None => panic!("the tail stopped without saying why"),
        }
    }
}

fn assert_ordered(events: &[TailEvent]) {
    assert!(
        events.windows(2).all(|w| w[0].ts <= w[1].ts),
        "events out of timestamp order"
    );
}

#[tokio::test]
async fn merges_groups_and_streams_in_timestamp_order() {
    let moto = Moto::start();
    let c = dev(&moto).await;
    let t0 = now_ms() - 60_000;
    let mut expected: HashMap<String, i64> = HashMap::new();
    for (g, group) in ["/aws/lambda/dev-a", "/aws/lambda/dev-b"]
        .iter()
        .enumerate()
    {
        for s in 0..2 {
            let events: Vec<(i64, String)> = (0..300)
                .map(|i| {
                    // Interleaved across groups and streams, with repeated milliseconds.
                    let ts = t0 + (i * 7 + g as i64 * 3 + s) / 2;
                    (ts, format!("g{g} s{s} line {i}"))
                })
                .collect();
            for (ts, m) in &events {
                expected.insert(m.clone(), *ts);
            }
            put(&c, group, &format!("stream-{s}"), &events).await;
        }
    }
    let (events, end) = run(
        &c,
        spec(
            &["/aws/lambda/dev-a", "/aws/lambda/dev-b"],
            t0 - 1,
            None,
            false,
        ),
    )
    .await;
    assert_eq!(end, None);
    assert_ordered(&events);
    assert_eq!(events.len(), expected.len(), "every event exactly once");
    for e in &events {
        assert_eq!(expected.get(&e.message), Some(&e.ts), "{e:?}");
        let group = if e.message.starts_with("g0") { 0 } else { 1 };
        assert_eq!(e.group, group);
    }
}

#[tokio::test]
async fn many_events_in_one_millisecond_across_pages_arrive_once() {
    let moto = Moto::start();
    let c = dev(&moto).await;
    let t0 = now_ms() - 30_000;
    // 12 000 events share one millisecond: they straddle a 10 000-event page.
    let mut events: Vec<(i64, String)> =
        (0..12_000).map(|i| (t0, format!("same-ms {i}"))).collect();
    events.extend((0..500).map(|i| (t0 + 1 + i, format!("after {i}"))));
    put(&c, "/aws/lambda/dev-burst", "s", &events).await;
    let (got, _) = run(&c, spec(&["/aws/lambda/dev-burst"], t0, None, false)).await;
    assert_eq!(got.len(), 12_500);
    let mut ids: Vec<&str> = got.iter().map(|e| e.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 12_500, "no event twice");
    assert_ordered(&got);
}

#[tokio::test]
async fn following_picks_up_new_events_and_repeats_none_at_the_boundary() {
    let moto = Moto::start();
    let c = dev(&moto).await;
    let group = "/aws/lambda/dev-follow";
    let t0 = now_ms() - 5_000;
    put(
        &c,
        group,
        "s",
        &[(t0, "first".into()), (t0 + 10, "second".into())],
    )
    .await;
    let (tx, mut rx) = mpsc::channel(16);
    let (c2, budget) = (c.clone(), c.logs_budget.clone());
    let tail =
        tokio::spawn(
            async move { tail::poll(&c2, spec(&[group], t0, None, true), budget, tx).await },
        );
    let mut seen = Vec::new();
    let mut next = async |seen: &mut Vec<String>, n: usize| {
        while seen.len() < n {
            match tokio::time::timeout(Duration::from_secs(20), rx.recv())
                .await
                .unwrap()
                .unwrap()
            {
                TailUpdate::Events(e) => seen.extend(e.into_iter().map(|e| e.message)),
                TailUpdate::Ended(p) => panic!("ended: {p:?}"),
                TailUpdate::Status(_) => {}
            }
        }
    };
    next(&mut seen, 2).await;
    // Same millisecond as the last event seen, plus a later one.
    put(
        &c,
        group,
        "s",
        &[
            (t0 + 10, "same ms as second".into()),
            (t0 + 20, "third".into()),
        ],
    )
    .await;
    next(&mut seen, 4).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    while let Ok(u) = rx.try_recv() {
        if let TailUpdate::Events(e) = u {
            seen.extend(e.into_iter().map(|e| e.message));
        }
    }
    assert_eq!(seen, ["first", "second", "same ms as second", "third"]);
    tail.abort();
}

#[tokio::test]
async fn time_ranges_and_filter_patterns_narrow_the_events() {
    let moto = Moto::start();
    let c = dev(&moto).await;
    let group = "/aws/lambda/dev-range";
    let t0 = now_ms() - 100_000;
    let events: Vec<(i64, String)> = (0..100)
        .map(|i| {
            (
                t0 + i * 1000,
                format!("{} event {i}", if i % 10 == 0 { "ERROR" } else { "INFO" }),
            )
        })
        .collect();
    put(&c, group, "s", &events).await;
    let (got, _) = run(&c, spec(&[group], t0 + 20_000, Some(t0 + 29_999), false)).await;
    let numbers: Vec<&str> = got
        .iter()
        .map(|e| e.message.rsplit(' ').next().unwrap())
        .collect();
    assert_eq!(
        numbers,
        ["20", "21", "22", "23", "24", "25", "26", "27", "28", "29"]
    );

    let mut filtered = spec(&[group], t0, None, false);
    filtered.filter = Some("ERROR".into());
    let (got, _) = run(&c, filtered).await;
    assert_eq!(got.len(), 10);
    assert!(got.iter().all(|e| e.message.starts_with("ERROR")));
}

#[tokio::test]
async fn a_missing_group_ends_the_tail_with_its_name() {
    let moto = Moto::start();
    let c = dev(&moto).await;
    let (_, end) = run(&c, spec(&["/aws/lambda/dev-nope"], 0, None, true)).await;
    let p = end.expect("a problem");
    assert_eq!(p.kind, ProblemKind::NotFound);
    assert!(p.message.contains("/aws/lambda/dev-nope"), "{p}");
}

#[tokio::test]
async fn an_outage_is_retried_and_the_tail_resumes_without_loss_or_repeats() {
    let mut moto = Moto::start();
    let port = moto.port;
    let c = dev(&moto).await;
    let group = "/aws/lambda/dev-outage";
    let t0 = now_ms() - 10_000;
    let before: Vec<(i64, String)> = (0..5).map(|i| (t0 + i, format!("before {i}"))).collect();
    put(&c, group, "s", &before).await;

    let (tx, mut rx) = mpsc::channel(16);
    let (c2, budget) = (c.clone(), c.logs_budget.clone());
    let tail =
        tokio::spawn(
            async move { tail::poll(&c2, spec(&[group], t0, None, true), budget, tx).await },
        );
    let mut seen: Vec<String> = Vec::new();
    let mut unreachable = false;
    let mut pump = async |seen: &mut Vec<String>,
                          unreachable: &mut bool,
                          until: &dyn Fn(&[String], bool) -> bool| {
        while !until(seen, *unreachable) {
            match tokio::time::timeout(Duration::from_secs(60), rx.recv())
                .await
                .unwrap()
                .unwrap()
            {
                TailUpdate::Events(e) => seen.extend(e.into_iter().map(|e| e.message)),
                TailUpdate::Status(TailStatus::Unreachable(_)) => *unreachable = true,
                TailUpdate::Status(_) => {}
                TailUpdate::Ended(p) => panic!("the tail gave up: {p:?}"),
            }
        }
    };
    pump(&mut seen, &mut unreachable, &|s, _| s.len() == 5).await;

    moto.stop();
    pump(&mut seen, &mut unreachable, &|_, u| u).await;

    // The endpoint comes back (empty, as moto keeps no state): the events the
    // tail already showed are written again, plus new ones.
    let _moto = Moto::start_on(port);
    let mut again = before.clone();
    again.extend((0..3).map(|i| (t0 + 100 + i, format!("after {i}"))));
    put(&c, group, "s", &again).await;
    pump(&mut seen, &mut unreachable, &|s, _| s.len() >= 8).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    while let Ok(u) = rx.try_recv() {
        if let TailUpdate::Events(e) = u {
            seen.extend(e.into_iter().map(|e| e.message));
        }
    }
    assert_eq!(
        seen,
        [
            "before 0", "before 1", "before 2", "before 3", "before 4", "after 0", "after 1",
            "after 2"
        ]
    );
    tail.abort();
}

// ---- the CLI ----------------------------------------------------------------

fn cli(moto: &Moto, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args([
            "--config",
            "config/sandbox.toml",
            "--endpoint-url",
            &moto.endpoint,
            "--deployment",
            "dev",
            "logs",
            "tail",
        ])
        .args(args)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .current_dir(repo())
        .output()
        .unwrap()
}

#[tokio::test]
async fn the_cli_prints_every_event_in_order_as_text_or_json() {
    let moto = Moto::start();
    let c = dev(&moto).await;
    let t0 = jiff::Timestamp::from_millisecond(now_ms() - 120_000)
        .unwrap()
        .as_millisecond();
    put(
        &c,
        "/aws/lambda/dev-cli-a",
        "a",
        &[
            (t0, "from a".into()),
            (t0 + 2, "{\"level\":\"ERROR\"}".into()),
        ],
    )
    .await;
    put(
        &c,
        "/aws/lambda/dev-cli-b",
        "b",
        &[(t0 + 1, "from b\twith a tab".into())],
    )
    .await;

    let out = cli(
        &moto,
        &[
            "--since",
            "1h",
            "/aws/lambda/dev-cli-a",
            "/aws/lambda/dev-cli-b",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let time = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms)
            .unwrap()
            .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()
    };
    let expected = format!(
        "{} a from a\n{} b from b\twith a tab\n{} a {{\"level\":\"ERROR\"}}\n",
        time(t0),
        time(t0 + 1),
        time(t0 + 2)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);

    let out = cli(
        &moto,
        &["--since", "1h", "--format", "json", "/aws/lambda/dev-cli-b"],
    );
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(line["group"], "/aws/lambda/dev-cli-b");
    assert_eq!(line["stream"], "b");
    assert_eq!(line["message"], "from b\twith a tab");
    assert_eq!(line["timestamp"], t0 + 1);

    // Without groups: the deployment's configured log groups (prefix /aws/lambda/dev-).
    let out = cli(&moto, &["--since", "1h"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
}

#[tokio::test]
async fn the_cli_refuses_bad_input_with_a_reason() {
    let moto = Moto::start();
    let out = cli(&moto, &["--since", "yesterday-ish", "/aws/lambda/dev-x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not a time"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = cli(&moto, &["--since", "1h", "/aws/lambda/dev-does-not-exist"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("log group /aws/lambda/dev-does-not-exist does not exist"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_group_recreated_by_a_deploy_does_not_end_the_tail() {
    let moto = Moto::start();
    let c = dev(&moto).await;
    let group = "/aws/lambda/dev-recreated";
    let t0 = now_ms() - 5_000;
    put(&c, group, "s", &[(t0, "old".into())]).await;
    let (tx, mut rx) = mpsc::channel(16);
    let (c2, budget) = (c.clone(), c.logs_budget.clone());
    let tail =
        tokio::spawn(
            async move { tail::poll(&c2, spec(&[group], t0, None, true), budget, tx).await },
        );
    let mut seen = Vec::new();
    let mut missing = false;
    let mut pump = async |seen: &mut Vec<String>,
                          missing: &mut bool,
                          done: &dyn Fn(&[String], bool) -> bool| {
        while !done(seen, *missing) {
            match tokio::time::timeout(Duration::from_secs(30), rx.recv())
                .await
                .unwrap()
                .unwrap()
            {
                TailUpdate::Events(e) => seen.extend(e.into_iter().map(|e| e.message)),
                TailUpdate::Status(TailStatus::Missing(p)) => {
                    assert!(p.message.contains(group), "{p}");
                    *missing = true;
                }
                TailUpdate::Status(_) => {}
                TailUpdate::Ended(p) => panic!("the tail gave up: {p:?}"),
            }
        }
    };
    pump(&mut seen, &mut missing, &|s, _| s.len() == 1).await;
    c.logs
        .delete_log_group()
        .log_group_name(group)
        .send()
        .await
        .unwrap();
    pump(&mut seen, &mut missing, &|_, m| m).await;
    put(&c, group, "s", &[(t0 + 100, "new".into())]).await;
    pump(&mut seen, &mut missing, &|s, _| s.len() == 2).await;
    assert_eq!(seen, ["old", "new"]);
    tail.abort();
}
