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

fn dev_api_detail() -> FunctionDetail {
    FunctionDetail {
        description: Some("The public API".into()),
        runtime: Some("python3.12".into()),
        handler: Some("app.handler".into()),
        memory_mb: Some(512),
        timeout_s: Some(30),
        code_size: 5_324,
        code_sha256: Some("k3PqWn0r8uUuVdV1cXJ0bWFya2VyMTIzNDU2Nzg5".into()),
        architectures: vec!["arm64".into()],
        role: Some("arn:aws:iam::123456789012:role/dev-api".into()),
        state: Some("Active".into()),
        last_update_status: Some("Successful".into()),
        last_modified: ago(3 * 86_400),
        environment: vec![
            KeyValue {
                key: "DB_PASSWORD".into(),
                value: "hunter2".into(),
            },
            KeyValue {
                key: "LOG_LEVEL".into(),
                value: "INFO".into(),
            },
        ],
        concurrency: Concurrency::Disabled,
        remembered: Some(Concurrency::Reserved(7)),
        versions: vec![
            FunctionVersion {
                version: "$LATEST".into(),
                description: None,
                code_sha256: Some("k3PqWn0r8uUuVdV1cXJ0bWFya2VyMTIzNDU2Nzg5".into()),
                last_modified: ago(3 * 86_400),
            },
            FunctionVersion {
                version: "1".into(),
                description: Some("first release".into()),
                code_sha256: Some("Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MDEyMzQ1Njc4".into()),
                last_modified: ago(10 * 86_400),
            },
            FunctionVersion {
                version: "2".into(),
                description: None,
                code_sha256: Some("k3PqWn0r8uUuVdV1cXJ0bWFya2VyMTIzNDU2Nzg5".into()),
                last_modified: ago(3 * 86_400),
            },
        ],
        aliases: vec![FunctionAlias {
            name: "ACTIVE".into(),
            version: "2".into(),
            description: Some("what the API gateway calls".into()),
        }],
    }
}

#[test]
fn a_function_detail_shows_its_configuration_versions_and_aliases_with_values_hidden() {
    let mut h = on_functions("dev");
    select_function(&mut h, "dev-api");
    h.key(KeyCode::Enter);
    assert_eq!(
        h.commands,
        vec![Command::Send(Request::FunctionDetail("dev-api".into()))]
    );
    assert!(h.screen().contains("loading configuration"));
    h.answer(
        Request::FunctionDetail("dev-api".into()),
        Ok(Response::FunctionDetail(
            "dev-api".into(),
            Box::new(dev_api_detail()),
        )),
    );
    let screen = h.screen();
    assert!(screen.contains("DB_PASSWORD"), "{screen}");
    assert!(!screen.contains("hunter2"), "values are hidden: {screen}");
    assert!(
        screen.contains("disabled (0)  (enable restores: 7 reserved)"),
        "{screen}"
    );
    assert!(screen.contains("← ACTIVE"), "{screen}");
    insta::assert_snapshot!("function_detail", screen);

    // Asked, the values show; asked again, they hide.
    h.keys("v");
    assert!(h.screen().contains("hunter2"));
    h.keys("v");
    assert!(!h.screen().contains("hunter2"));

    // The function's verbs work from its detail: D plans the disable of it.
    h.keys("D");
    let Some(Overlay::Confirm(c)) = &h.state.overlay else {
        panic!("{:?}", h.state.overlay)
    };
    assert_eq!(c.plan.target, "function dev-api");
    h.key(KeyCode::Esc);

    // An answer for another function (the user moved on) is not shown here.
    h.answer(
        Request::FunctionDetail("dev-notifier".into()),
        Ok(Response::FunctionDetail(
            "dev-notifier".into(),
            Box::default(),
        )),
    );
    assert!(h.screen().contains("DB_PASSWORD"));
    // A refresh fetches it again; esc goes back to the list.
    h.commands.clear();
    h.act(Action::Refresh);
    assert!(
        h.commands
            .contains(&Command::Send(Request::FunctionDetail("dev-api".into())))
    );
    h.key(KeyCode::Esc);
    assert!(h.state.session.as_ref().unwrap().detail.is_none());
    assert!(h.screen().contains("dev-reindexer"));
}

#[test]
fn a_function_detail_shows_the_last_invoke_of_this_run() {
    let mut h = on_functions("dev");
    select_function(&mut h, "dev-api");
    h.keys("i");
    h.ctrl('s');
    let jobs = started(&h);
    let invoked = opsdeck::jobs::lambdas::Invoked {
        function: "dev-api".into(),
        kind: opsdeck::jobs::lambdas::InvokeKind::RequestResponse,
        status: 200,
        executed_version: Some("2".into()),
        function_error: None,
        payload: "{}".into(),
        log_tail: vec![],
    };
    job_event(
        &mut h,
        jobs[0].0,
        opsdeck::jobs::JobUpdate::Finished(opsdeck::jobs::Outcome::Ok {
            summary: "dev-api answered 200".into(),
            detail: Some(opsdeck::jobs::Detail::Invoke(Box::new(invoked))),
        }),
    );
    h.state.overlay = None;
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(
        screen.contains("request-response · status 200 · version 2"),
        "{screen}"
    );
    assert!(screen.contains("payload  {}"), "{screen}");
}

#[test]
fn read_only_offers_the_invoke_as_a_dry_run_only() {
    let config = SANDBOX.replace("name = \"dev\"", "name = \"dev\"\nread_only = true");
    let mut h = Harness::connected(&config, "dev");
    h.act(Action::PanelFunctions);
    h.commands.clear();
    // The changes are refused at their key …
    h.keys("D");
    assert!(h.state.overlay.is_none());
    assert!(started(&h).is_empty());
    // … the invoke opens, fixed on a dry run.
    h.keys("i");
    let Some(Overlay::Invoke(p)) = &h.state.overlay else {
        panic!("{:?}", h.state.overlay)
    };
    assert_eq!(p.kind, opsdeck::jobs::lambdas::InvokeKind::DryRun);
    h.key(KeyCode::Tab);
    let Some(Overlay::Invoke(p)) = &h.state.overlay else {
        panic!()
    };
    assert_eq!(p.kind, opsdeck::jobs::lambdas::InvokeKind::DryRun);
    let screen = h.screen();
    assert!(screen.contains("read-only: a dry run only"), "{screen}");
    assert!(!screen.contains("request-response"), "{screen}");
    h.ctrl('s');
    let jobs = started(&h);
    assert_eq!(jobs.len(), 1, "{:?}", h.commands);
    assert_eq!(jobs[0].1.effect, opsdeck::jobs::Effect::Read);
    // The palette offers it too, and no other change.
    h.act(Action::Palette);
    h.keys("lambda");
    let screen = h.screen();
    assert!(screen.contains("lambda_invoke"), "{screen}");
    assert!(!screen.contains("lambda_disable"), "{screen}");
}

#[test]
fn a_payload_is_loaded_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("event.json");
    std::fs::write(&good, "{\"bundle\": 7}\n").unwrap();
    let mut h = on_functions("dev");
    select_function(&mut h, "dev-api");
    h.keys("i");
    h.ctrl('o');
    assert!(h.screen().contains("load file:"));
    h.keys(good.to_str().unwrap());
    h.key(KeyCode::Enter);
    assert_eq!(h.commands, vec![Command::LoadPayload(good.clone())]);
    // The runtime reads it with the CLI's reader and answers.
    let text = opsdeck::jobs::lambdas::read_payload_file(&good);
    h.send(
        Msg::PayloadLoaded {
            path: good.clone(),
            text,
        },
        0,
    );
    let Some(Overlay::Invoke(p)) = &h.state.overlay else {
        panic!()
    };
    assert_eq!(p.input.text(), "{\"bundle\": 7}\n");
    let screen = h.screen();
    assert!(screen.contains("valid JSON · 14 bytes · from"), "{screen}");

    // A missing file says so and keeps the payload.
    let missing = dir.path().join("nope.json");
    h.send(
        Msg::PayloadLoaded {
            path: missing.clone(),
            text: opsdeck::jobs::lambdas::read_payload_file(&missing),
        },
        0,
    );
    let screen = h.screen();
    assert!(screen.contains("cannot read the payload file"), "{screen}");
    let Some(Overlay::Invoke(p)) = &h.state.overlay else {
        panic!()
    };
    assert_eq!(p.input.text(), "{\"bundle\": 7}\n");
    // Not JSON: loaded, shown, and refused at ctrl-s.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "bundle=7").unwrap();
    h.send(
        Msg::PayloadLoaded {
            path: bad.clone(),
            text: opsdeck::jobs::lambdas::read_payload_file(&bad),
        },
        0,
    );
    assert!(h.screen().contains("the payload is not JSON"));
    h.ctrl('s');
    assert!(started(&h).is_empty());
}
