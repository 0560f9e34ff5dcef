//! Functions: the emergency switch and invoke.

use super::jobs::{job_event, started};
use super::*;

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
