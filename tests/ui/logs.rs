//! The log view: following, pausing, search, JSON detail, history and selections.

use super::*;

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

pub(crate) fn tail_update(h: &mut Harness, update: TailUpdate) {
    let id = tail_id(h);
    h.answer(Request::StopTail(id), Ok(Response::Tail { id, update }));
}

const T: i64 = 1_795_000_000_000;

pub(crate) fn log_events() -> Vec<TailEvent> {
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
pub(crate) fn tailing() -> Harness {
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
