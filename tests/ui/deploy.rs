//! Stack deploys in the console: D in the Stacks panel starts the preview
//! job (it creates a change set: a change, no dialog); its result opens the
//! one confirm with the diff; y executes, esc discards the change set; the
//! running and the failed deploy in the job's output.

use super::jobs::{job_event, started};
use super::*;
use opsdeck::jobs::stacks::{ChangeSetPreview, ParameterChange, ResourceChange};
use opsdeck::jobs::{Detail, JobUpdate, Op, Outcome};

pub(crate) fn on_stacks() -> Harness {
    let mut h = Harness::connected(SANDBOX, "dev");
    let mut rows = stacks("dev");
    rows.push(StackRow {
        name: "dev-web".into(),
        status: "CREATE_COMPLETE".into(),
        status_reason: None,
        updated: ago(3600),
        description: Some("web: the upload queue and the static bucket".into()),
        outputs: vec![],
        parameters: vec![KeyValue {
            key: "Version".into(),
            value: "1".into(),
        }],
    });
    h.answer(Request::Stacks, Ok(Response::Stacks(rows)));
    h.act(Action::PanelStacks);
    let s = h.state.session.as_mut().unwrap();
    let i = s
        .stacks
        .visible_rows()
        .position(|r| r.name == "dev-web")
        .unwrap();
    s.stacks.select(i, 10);
    h.commands.clear();
    h
}

fn preview() -> ChangeSetPreview {
    let change = |action: &str, id: &str, kind: &str, replacement: Option<&str>| ResourceChange {
        action: action.into(),
        logical_id: id.into(),
        kind: kind.into(),
        replacement: replacement.map(str::to_string),
    };
    ChangeSetPreview {
        stack: "dev-web".into(),
        change_set: "opsdeck-20261202-101500-042".into(),
        change_set_id:
            "arn:aws:cloudformation:us-east-1:123456789012:changeSet/opsdeck-20261202-101500-042/x"
                .into(),
        create: false,
        changes: vec![
            change("Add", "UploadTopic", "AWS::SNS::Topic", None),
            change("Modify", "UploadQueue", "AWS::SQS::Queue", Some("True")),
            change(
                "Modify",
                "UploadPolicy",
                "AWS::SQS::QueuePolicy",
                Some("False"),
            ),
            change("Remove", "StaticBucket", "AWS::S3::Bucket", None),
        ],
        parameters: vec![ParameterChange {
            key: "Version".into(),
            from: Some("1".into()),
            to: "2".into(),
        }],
    }
}

/// D, then the preview job's result: the confirm dialog with the diff.
fn previewed() -> Harness {
    let mut h = on_stacks();
    h.keys("D");
    let jobs = started(&h);
    assert_eq!(jobs.len(), 1, "{:?}", h.commands);
    let (id, plan) = &jobs[0];
    // The preview is a change that starts at once: no dialog before it.
    assert!(h.state.overlay.is_none());
    assert_eq!(plan.action, "stack_deploy");
    let Op::StackPreview { source, keep } = &plan.op else {
        panic!("{:?}", plan.op);
    };
    assert!(*keep);
    assert_eq!(source.name, "dev-web");
    let d = plan.deployment.clone();
    let next = opsdeck::jobs::stacks::execute(&d, &preview());
    h.commands.clear();
    job_event(
        &mut h,
        *id,
        JobUpdate::Finished(Outcome::Ok {
            summary:
                "change set opsdeck-20261202-101500-042 for stack dev-web: waiting for the confirm"
                    .into(),
            detail: Some(Detail::Next(Box::new(next))),
        }),
    );
    h
}

#[test]
fn the_diff_is_the_confirm_and_nothing_runs_before_the_yes() {
    let mut h = previewed();
    assert!(matches!(h.state.overlay, Some(Overlay::Confirm(_))));
    assert!(started(&h).is_empty(), "{:?}", h.commands);
    let theme = h.state.theme.clone();
    let t = h.draw();
    let screen = t.backend().to_string();
    insta::assert_snapshot!(screen);
    let fg = |text: &str| {
        let (x, y) = find(&t, text);
        t.backend().buffer()[(x, y)].fg
    };
    // A replacement and a removal in the warning colour; the rest plain.
    assert_eq!(
        fg("~ Modify UploadQueue"),
        theme.style(Slot::Warning).fg.unwrap()
    );
    assert_eq!(
        fg("- Remove StaticBucket"),
        theme.style(Slot::Warning).fg.unwrap()
    );
    assert_eq!(
        fg("+ Add    UploadTopic"),
        theme.style(Slot::Text).fg.unwrap()
    );
    assert!(screen.contains("Version: 1 → 2"), "{screen}");
    h.keys("y");
    let jobs = started(&h);
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].1.action, "stack_execute");
}

#[test]
fn declining_the_diff_discards_the_change_set() {
    let mut h = previewed();
    h.key(KeyCode::Esc);
    assert!(h.state.overlay.is_none());
    let jobs = started(&h);
    assert_eq!(jobs.len(), 1, "{:?}", h.commands);
    assert_eq!(jobs[0].1.action, "stack_discard");
    assert!(
        matches!(&jobs[0].1.op, Op::StackDiscard { preview } if preview.change_set == "opsdeck-20261202-101500-042")
    );
}

#[test]
fn a_stack_without_a_template_says_how_to_configure_one() {
    let mut h = on_stacks();
    h.act(Action::Top);
    h.keys("D");
    assert!(started(&h).is_empty());
    let text = &h.state.message.as_ref().unwrap().text;
    assert!(
        text.contains("no template is configured for stack dev-core")
            && text.contains("[[deployment.stack]]"),
        "{text}"
    );
}

/// The execution job, with the diff and the first events in its output.
fn deploying() -> (Harness, u64) {
    let mut h = previewed();
    h.keys("y");
    let (id, _) = started(&h).remove(0);
    let p = preview();
    let mut lines = vec![format!(
        "change set {} for stack dev-web: {}",
        p.change_set,
        p.counts()
    )];
    lines.extend(p.lines());
    lines.extend([
        "executing change set opsdeck-20261202-101500-042 on stack dev-web".to_string(),
        "10:15:07 dev-web AWS::CloudFormation::Stack UPDATE_IN_PROGRESS: User Initiated".into(),
        "10:15:09 UploadTopic AWS::SNS::Topic CREATE_IN_PROGRESS".into(),
        "10:15:10 UploadQueue AWS::SQS::Queue UPDATE_IN_PROGRESS: Requested update requires the creation of a new physical resource; hence creating one.".into(),
    ]);
    for l in lines {
        job_event(&mut h, id, JobUpdate::Line(l));
    }
    job_event(
        &mut h,
        id,
        JobUpdate::Progress(opsdeck::jobs::Progress {
            done: 3,
            total: None,
            phase: "dev-web: UPDATE_IN_PROGRESS".into(),
        }),
    );
    h.act(Action::PanelJobs);
    h.act(Action::Top);
    (h, id)
}

#[test]
fn a_running_deploy_shows_its_diff_and_events_and_can_be_cancelled() {
    let (mut h, id) = deploying();
    let screen = h.screen();
    assert!(screen.contains("running      dev-web: UPDATE_"), "{screen}");
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(
        screen.contains("UploadTopic AWS::SNS::Topic CREATE_IN_PROGRESS"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
    h.commands.clear();
    h.keys("x");
    assert_eq!(h.commands, [Command::CancelJob(id)]);
}

#[test]
fn a_failed_deploy_names_the_rollback_and_its_cause() {
    let (mut h, id) = deploying();
    for l in [
        "⚠ 10:15:40 UploadQueue AWS::SQS::Queue UPDATE_FAILED: Resource handler returned message: \"Queue dev-uploads already exists\"",
        "10:15:41 dev-web AWS::CloudFormation::Stack UPDATE_ROLLBACK_IN_PROGRESS: The following resource(s) failed to update: [UploadQueue].",
        "10:16:02 dev-web AWS::CloudFormation::Stack UPDATE_ROLLBACK_COMPLETE",
    ] {
        job_event(&mut h, id, JobUpdate::Line(l.into()));
    }
    job_event(
        &mut h,
        id,
        JobUpdate::Finished(Outcome::failed(
            "stack dev-web: UPDATE_ROLLBACK_COMPLETE: the update failed and was rolled back; first failure: UploadQueue (AWS::SQS::Queue): Resource handler returned message: \"Queue dev-uploads already exists\"",
        )),
    );
    let row = h.state.jobs.get(id).unwrap();
    assert_eq!(row.status(), "failed");
    h.key(KeyCode::Enter);
    h.act(Action::Bottom);
    let theme = h.state.theme.clone();
    let t = h.draw();
    let screen = t.backend().to_string();
    assert!(screen.contains("UPDATE_ROLLBACK_COMPLETE"), "{screen}");
    insta::assert_snapshot!(screen);
    let (x, y) = find(&t, "⚠ 10:15:40 UploadQueue");
    assert_eq!(
        t.backend().buffer()[(x, y)].fg,
        theme.style(Slot::Warning).fg.unwrap()
    );
}

#[test]
fn the_stack_detail_follows_a_running_deploy_live() {
    let (mut h, id) = deploying();
    h.act(Action::PanelStacks);
    h.act(Action::Open);
    let asked = |h: &Harness| {
        h.commands
            .iter()
            .filter(|c| matches!(c, Command::Send(Request::StackDetail(n)) if n == "dev-web"))
            .count()
    };
    assert_eq!(asked(&h), 1, "{:?}", h.commands);
    let detail = |status: &str| StackDetail {
        resources: vec![],
        events: vec![StackEvent {
            time: ago(1),
            logical_id: "UploadQueue".into(),
            status: status.into(),
            reason: None,
            ..Default::default()
        }],
        template: Some(Ok(
            "Resources:\n  UploadQueue:\n    Type: AWS::SQS::Queue".into()
        )),
    };
    h.answer(
        Request::StackDetail("dev-web".into()),
        Ok(Response::StackDetail(
            "dev-web".into(),
            detail("UPDATE_IN_PROGRESS"),
        )),
    );
    // Each tick past the live interval asks again while the job runs.
    h.send(Msg::Tick, 4);
    assert_eq!(asked(&h), 2, "{:?}", h.commands);
    assert!(h.state.next_wake(h.at(4)).is_some());
    h.answer(
        Request::StackDetail("dev-web".into()),
        Ok(Response::StackDetail(
            "dev-web".into(),
            detail("UPDATE_COMPLETE"),
        )),
    );
    let screen = h.screen();
    assert!(
        screen.contains("UploadQueue") && screen.contains("UPDATE_COMPLETE"),
        "{screen}"
    );
    // The template, as deployed, below the events.
    h.act(Action::Bottom);
    let screen = h.screen();
    assert!(
        screen.contains("Template") && screen.contains("Type: AWS::SQS::Queue"),
        "{screen}"
    );
    // Once the job ends, the detail is refreshed only when asked.
    job_event(
        &mut h,
        id,
        JobUpdate::Finished(Outcome::ok("stack dev-web: UPDATE_COMPLETE")),
    );
    let before = asked(&h);
    h.send(Msg::Tick, 30);
    assert_eq!(asked(&h), before, "{:?}", h.commands);
}

/// Any job's output (a command deploy's, here on a running job) keeps the
/// ANSI colours it was printed with, and never shows the escapes.
#[test]
fn ansi_colours_in_a_jobs_output_become_styles() {
    let (mut h, id) = deploying();
    job_event(
        &mut h,
        id,
        JobUpdate::Line(
            "\x1b[32mterraform apply: 3 added\x1b[0m, \x1b[1;31m1 destroyed\x1b[0m".into(),
        ),
    );
    h.key(KeyCode::Enter);
    h.act(Action::Bottom);
    let t = h.draw();
    let screen = t.backend().to_string();
    assert!(
        screen.contains("terraform apply: 3 added, 1 destroyed"),
        "{screen}"
    );
    assert!(
        !screen.contains("[32m") && !screen.contains("[0m"),
        "{screen}"
    );
    let (x, y) = find(&t, "terraform apply");
    assert_eq!(
        t.backend().buffer()[(x, y)].fg,
        ratatui::style::Color::Green
    );
    let (x, y) = find(&t, "1 destroyed");
    let cell = &t.backend().buffer()[(x, y)];
    assert_eq!(cell.fg, ratatui::style::Color::Red);
    assert!(cell.modifier.contains(ratatui::style::Modifier::BOLD));
}
