//! Health checks in the console: V from any panel starts the deployment's
//! checks as a read job (no confirm, read-only deployments too), whose
//! table opens when it ends; a deploy whose checks fail is "unhealthy" in
//! the Jobs panel, its table in its output.

use std::time::Duration;

use super::jobs::{job_event, started};
use super::*;
use opsdeck::jobs::health::{Check, Failure, Report};
use opsdeck::jobs::stacks::{ChangeSetPreview, ResourceChange};
use opsdeck::jobs::{Detail, Effect, JobUpdate, Op, Outcome};

fn report(env: &str) -> Report {
    let check = |path: &str, status: Option<u16>, ms, version: Option<&str>| Check {
        url: format!("http://127.0.0.1:4568/{env}/{path}"),
        status,
        latency: Duration::from_millis(ms),
        version: version.map(str::to_string),
        failure: None,
        note: None,
    };
    let mut failing = check("ready", Some(500), 38, None);
    failing.note = Some("upstream connect error".into());
    let mut hung = check("version", None, 5000, None);
    hung.failure = Some(Failure::Timeout(Duration::from_secs(5)));
    Report {
        deployment: env.into(),
        checks: vec![
            check("health", Some(200), 12, Some("2")),
            failing,
            hung,
            check("release", Some(200), 4, Some("dev-web 2 (3f2a9c1d0e4b)")),
        ],
    }
}

#[test]
fn the_health_key_runs_the_checks_from_any_panel_and_opens_the_table() {
    // Read-only: the check is a read, so it is offered there too.
    let config = SANDBOX.replace("name = \"dev\"", "name = \"dev\"\nread_only = true");
    for panel in [PanelId::Logs, PanelId::Queues, PanelId::Jobs] {
        let mut h = Harness::connected(&config, "dev");
        h.act(opsdeck::app::update::panel_action(panel));
        h.commands.clear();
        h.keys("V");
        let jobs = started(&h);
        assert_eq!(jobs.len(), 1, "{panel:?}: {:?}", h.commands);
        let plan = &jobs[0].1;
        assert_eq!(plan.action, "health_check");
        assert_eq!(plan.effect, Effect::Read);
        assert_eq!(plan.op, Op::Health);
        assert!(!plan.op.needs_aws());
        assert_eq!(plan.target, "health (2 URLs)");
        // No confirm before a read.
        assert!(h.state.overlay.is_none(), "{panel:?}");
    }
    let mut h = Harness::connected(&config, "dev");
    h.act(Action::PanelStacks);
    h.commands.clear();
    h.keys("V");
    let (id, _) = started(&h).remove(0);
    let r = report("dev");
    for c in &r.checks {
        job_event(&mut h, id, JobUpdate::Line(c.line()));
    }
    job_event(
        &mut h,
        id,
        JobUpdate::Finished(Outcome::Unhealthy {
            message: r.summary(),
            detail: Some(Detail::Health(Box::new(r))),
        }),
    );
    assert_eq!(h.state.jobs.get(id).unwrap().status(), "unhealthy");
    assert!(
        matches!(h.state.overlay, Some(Overlay::Job { .. })),
        "the table opens when the job ends"
    );
    let theme = h.state.theme.clone();
    let t = h.draw();
    let screen = t.backend().to_string();
    assert!(screen.contains("URL"), "{screen}");
    insta::assert_snapshot!(screen);
    let (x, y) = find(&t, "500");
    assert_eq!(
        t.backend().buffer()[(x, y)].fg,
        theme.style(Slot::Failed).fg.unwrap()
    );
}

#[test]
fn without_health_urls_the_key_says_what_to_configure() {
    let config = SANDBOX.replace(
        "health_urls = [\"http://127.0.0.1:4568/dev/health\", \"http://127.0.0.1:4568/dev/version\"]\n",
        "",
    );
    let mut h = Harness::connected(&config, "dev");
    h.commands.clear();
    h.keys("V");
    assert!(started(&h).is_empty(), "{:?}", h.commands);
    let screen = h.screen();
    assert!(
        screen.contains("deployment `dev` has no health_urls"),
        "{screen}"
    );
}

#[test]
fn a_deploy_whose_checks_fail_is_unhealthy_in_the_jobs_panel() {
    let mut h = Harness::connected(SANDBOX, "dev");
    let mut rows = stacks("dev");
    rows.push(StackRow {
        name: "dev-web".into(),
        status: "CREATE_COMPLETE".into(),
        status_reason: None,
        updated: ago(3600),
        description: None,
        outputs: vec![],
        parameters: vec![],
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
    // D previews; its result is the confirm; y executes.
    h.keys("D");
    let (preview_id, plan) = started(&h).remove(0);
    let preview = ChangeSetPreview {
        stack: "dev-web".into(),
        change_set: "opsdeck-20261202-101500-042".into(),
        change_set_id: "arn:aws:cloudformation:us-east-1:123456789012:changeSet/x/y".into(),
        create: false,
        changes: vec![ResourceChange {
            action: "Add".into(),
            logical_id: "UploadTopic".into(),
            kind: "AWS::SNS::Topic".into(),
            replacement: None,
        }],
        parameters: vec![],
    };
    let next = opsdeck::jobs::stacks::execute(&plan.deployment, &preview);
    job_event(
        &mut h,
        preview_id,
        JobUpdate::Finished(Outcome::Ok {
            summary: "change set ready".into(),
            detail: Some(Detail::Next(Box::new(next))),
        }),
    );
    h.commands.clear();
    h.keys("y");
    let (id, plan) = started(&h).remove(0);
    assert!(plan.op.is_deploy(), "{:?}", plan.op);
    let r = report("dev");
    for l in [
        "executing change set opsdeck-20261202-101500-042 on stack dev-web".to_string(),
        "10:15:21 dev-web AWS::CloudFormation::Stack UPDATE_COMPLETE".into(),
        "post-deploy health check of 4 URL(s):".into(),
    ]
    .into_iter()
    .chain(r.checks.iter().map(|c| c.line()))
    {
        job_event(&mut h, id, JobUpdate::Line(l));
    }
    job_event(
        &mut h,
        id,
        JobUpdate::Finished(Outcome::Unhealthy {
            message: format!(
                "deployed, unhealthy: stack dev-web: UPDATE_COMPLETE; {}",
                r.summary()
            ),
            detail: Some(Detail::Health(Box::new(r))),
        }),
    );
    // A deploy's checks stay in its job: no table pops up over the panels.
    assert!(h.state.overlay.is_none());
    h.act(Action::Back);
    h.act(Action::PanelJobs);
    h.act(Action::Top);
    let theme = h.state.theme.clone();
    let t = h.draw();
    let screen = t.backend().to_string();
    assert!(screen.contains("unhealthy"), "{screen}");
    insta::assert_snapshot!("unhealthy_deploy_in_the_jobs_panel", screen);
    let (x, y) = find(&t, "unhealthy");
    assert_eq!(
        t.backend().buffer()[(x, y)].fg,
        theme.style(Slot::Failed).fg.unwrap()
    );
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(
        screen.contains("deployed, unhealthy: stack dev-web"),
        "{screen}"
    );
    insta::assert_snapshot!("unhealthy_deploy_output", screen);
}
