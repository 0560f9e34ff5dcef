//! Jobs: the one safety path, the Jobs panel, queue verbs, peek and sparklines.

use super::vpn::{toast, vpn, with_pki};
use super::*;

/// The job ids and plans the update asked the runner to start.
pub(crate) fn started(h: &Harness) -> Vec<(u64, opsdeck::jobs::Plan)> {
    h.commands
        .iter()
        .filter_map(|c| match c {
            Command::StartJob { id, plan, .. } => Some((*id, (**plan).clone())),
            _ => None,
        })
        .collect()
}

pub(crate) fn job_event(h: &mut Harness, id: u64, update: opsdeck::jobs::JobUpdate) {
    h.send(Msg::Job(opsdeck::jobs::JobEvent { id, update }), 2);
}

/// Structural: every confirmed action of the action table, from wherever it
/// can be planned, opens the one confirm dialog and sends nothing before
/// the yes; the yes starts exactly one job.
#[test]
fn every_confirmed_action_asks_first_and_sends_nothing_before_the_yes() {
    let (_tmp, config) = with_pki();
    let config = config.replace(
        "opensearch_domain = \"dev-index\"",
        "opensearch_domain = \"dev-index\"\nvpn_endpoint = \"cvpn-endpoint-0123456789abcdef0\"",
    );
    let confirmed: Vec<Action> = Action::ALL
        .iter()
        .copied()
        .filter(|a| a.effect() == opsdeck::jobs::Effect::Confirmed)
        .collect();
    assert!(confirmed.len() >= 7, "{confirmed:?}");
    for action in confirmed {
        let mut opened = false;
        'panels: for panel in PanelId::ALL {
            let mut h = vpn(&config, "dev");
            h.act(opsdeck::app::update::panel_action(panel));
            if panel == PanelId::Index {
                // The index verbs plan from what the data plane listed.
                let view = super::index::index_view("dev", "green");
                h.answer(Request::Domain, Ok(Response::Index(Box::new(view))));
            }
            for row in 0..6 {
                h.act(Action::Top);
                for _ in 0..row {
                    h.act(Action::Down);
                }
                h.commands.clear();
                h.state.message = None;
                h.act(action);
                // A code deploy reads its zip, a rollback lists versions, first.
                super::lambda_deploy::through_popup(&mut h);
                if !matches!(h.state.overlay, Some(Overlay::Confirm(_))) {
                    continue;
                }
                opened = true;
                assert!(started(&h).is_empty(), "{action}: sent before the yes");
                // Enter alone and other letters do nothing.
                h.key(KeyCode::Enter);
                h.keys("q");
                assert!(started(&h).is_empty(), "{action}");
                h.keys("y");
                let jobs = started(&h);
                assert_eq!(jobs.len(), 1, "{action}: {:?}", h.commands);
                // A deploy from a typed zip is a deploy: its plan is lambda_deploy's.
                let planned = match action {
                    Action::LambdaDeployZip => Action::LambdaDeploy,
                    a => a,
                };
                assert_eq!(jobs[0].1.action, planned.name());
                break 'panels;
            }
        }
        assert!(opened, "{action} never opened the confirm dialog");
    }
}

fn on_queues(env: &str) -> Harness {
    let mut h = Harness::connected(SANDBOX, env);
    h.act(Action::PanelQueues);
    h.commands.clear();
    h
}

fn select_queue(h: &mut Harness, name: &str) {
    let s = h.state.session.as_mut().unwrap();
    let i = s
        .queues
        .visible_rows()
        .position(|r| r.name == name)
        .unwrap();
    s.queues.select(i, 10);
}

#[test]
fn purging_a_queue_says_its_depth_and_waits_for_y() {
    let mut h = on_queues("dev");
    select_queue(&mut h, "dev-notifications");
    h.keys("P");
    let screen = h.screen();
    assert!(
        screen
            .contains("Delete every message in queue dev-notifications (25 visible, 4 in flight,"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
    h.keys("y");
    let jobs = started(&h);
    assert_eq!(jobs.len(), 1);
    assert!(matches!(&jobs[0].1.op, opsdeck::jobs::Op::Purge { queues } if queues.len() == 1));
}

#[test]
fn purging_on_protected_prod_wants_the_name() {
    let mut h = on_queues("prod");
    select_queue(&mut h, "prod-notifications");
    h.keys("P");
    h.keys("y");
    h.key(KeyCode::Enter);
    assert!(started(&h).is_empty());
    insta::assert_snapshot!(h.screen());
    for _ in 0..1 {
        h.key(KeyCode::Backspace);
    }
    h.keys("prod");
    h.key(KeyCode::Enter);
    assert_eq!(started(&h).len(), 1);
}

#[test]
fn read_only_refuses_a_peek_and_starts_nothing() {
    let config = SANDBOX.replace("name = \"dev\"", "name = \"dev\"\nread_only = true");
    let mut h = Harness::connected(&config, "dev");
    h.act(Action::PanelQueues);
    h.commands.clear();
    h.act(Action::QueuePeek);
    h.act(Action::QueuePurgeAll);
    assert!(started(&h).is_empty(), "{:?}", h.commands);
    assert!(h.state.overlay.is_none());
    assert!(h.state.message.as_ref().unwrap().text.contains("read-only"));
}

fn peeked_messages() -> Vec<PeekedMessage> {
    vec![
        PeekedMessage {
            id: "4f1c2a9e-0b7d-4c55-9a61-1d2e3f4a5b6c".into(),
            body: r#"{"bucket":"dev-uploads","key":"2026/12/02/report.csv","size":1832}"#.into(),
            attributes: vec![KeyValue {
                key: "SenderId".into(),
                value: "AIDAEXAMPLE".into(),
            }],
            message_attributes: vec![KeyValue {
                key: "origin (String)".into(),
                value: "s3-event".into(),
            }],
            receive_count: Some(4),
            sent: ago(3600),
        },
        PeekedMessage {
            id: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d".into(),
            body: "plain text: retry budget exhausted".into(),
            attributes: vec![],
            message_attributes: vec![],
            receive_count: Some(5),
            sent: ago(7200),
        },
    ]
}

#[test]
fn a_peek_starts_at_once_and_shows_what_it_saw() {
    let mut h = on_queues("dev");
    select_queue(&mut h, "dev-notifications-dlq");
    h.keys("v");
    // A change, not a confirmed one: no dialog, straight to a job.
    assert!(h.state.overlay.is_none());
    let jobs = started(&h);
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].1.effect, opsdeck::jobs::Effect::Change);
    job_event(
        &mut h,
        jobs[0].0,
        opsdeck::jobs::JobUpdate::Finished(opsdeck::jobs::Outcome::Ok {
            summary: "peeked at 2 message(s) of dev-notifications-dlq".into(),
            detail: Some(opsdeck::jobs::Detail::Peek {
                queue: "dev-notifications-dlq".into(),
                messages: peeked_messages(),
            }),
        }),
    );
    assert!(matches!(h.state.overlay, Some(Overlay::Job { .. })));
    let screen = h.screen();
    assert!(
        screen.contains("was a receive: it raised the receive count"),
        "{screen}"
    );
    assert!(
        screen.contains("\"key\": \"2026/12/02/report.csv\","),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn queue_rows_show_their_depth_over_time() {
    let mut h = on_queues("dev");
    for (i, depth) in [0u64, 2, 5, 9, 20, 40, 25].iter().enumerate() {
        let mut rows = queues("dev");
        rows[0].visible = Some(*depth);
        h.send(Msg::Action(Action::Refresh), 100 + i as u64);
        h.answer(Request::Queues, Ok(Response::Queues(rows)));
    }
    let screen = h.screen();
    assert!(screen.contains("▆▁▂▂▃▅█▆"), "{screen}");
    insta::assert_snapshot!(screen);
}

/// Three jobs: one running with progress, one failed, one cancelled.
fn with_jobs() -> Harness {
    use opsdeck::jobs::{JobUpdate, Outcome, Progress};
    let mut h = on_queues("dev");
    select_queue(&mut h, "dev-notifications-dlq");
    h.act(Action::QueueRedrive);
    h.keys("y");
    h.act(Action::QueuePurgeAll);
    h.keys("y");
    select_queue(&mut h, "dev-indexer-tasks");
    h.act(Action::QueuePurge);
    h.keys("y");
    let ids: Vec<u64> = started(&h).iter().map(|(id, _)| *id).collect();
    assert_eq!(ids.len(), 3);
    job_event(
        &mut h,
        ids[0],
        JobUpdate::Progress(Progress {
            done: 20,
            total: Some(30),
            phase: "moving".into(),
        }),
    );
    job_event(
        &mut h,
        ids[0],
        JobUpdate::Line("moved a batch of 10".into()),
    );
    job_event(
        &mut h,
        ids[1],
        JobUpdate::Finished(Outcome::failed(
            "purged 3 of 4 queues; failed: dev-indexer-tasks (purged less than a minute ago)",
        )),
    );
    job_event(
        &mut h,
        ids[2],
        JobUpdate::Finished(Outcome::Cancelled("cancelled before it began".into())),
    );
    h.act(Action::PanelJobs);
    h
}

#[test]
fn the_jobs_panel_shows_running_failed_and_cancelled_jobs() {
    let mut h = with_jobs();
    let screen = h.screen();
    assert!(screen.contains("20/30 moving"), "{screen}");
    assert!(screen.contains("failed"), "{screen}");
    assert!(screen.contains("cancelled"), "{screen}");
    // A failure stays as a toast until dismissed.
    assert!(screen.contains("(esc dismisses)"), "{screen}");
    insta::assert_snapshot!(screen);
    h.key(KeyCode::Esc);
    assert!(h.state.toasts.is_empty());
    // enter shows the selected job's output; x cancels a running one.
    h.act(Action::Bottom);
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(screen.contains("moved a batch of 10"), "{screen}");
    h.commands.clear();
    h.keys("x");
    assert_eq!(h.commands, [Command::CancelJob(1)]);
}

#[test]
fn a_job_survives_a_deployment_switch_and_reports_there() {
    let mut h = on_queues("dev");
    select_queue(&mut h, "dev-notifications");
    h.keys("P");
    h.keys("y");
    let (id, plan) = started(&h).remove(0);
    assert_eq!(plan.deployment.name, "dev");
    // Switch to prod while the purge runs.
    h.act(Action::SwitchDeployment);
    h.act(Action::Down);
    h.act(Action::Open);
    assert_eq!(h.state.session.as_ref().unwrap().deployment.name, "prod");
    h.commands.clear();
    job_event(
        &mut h,
        id,
        opsdeck::jobs::JobUpdate::Finished(opsdeck::jobs::Outcome::ok("purged dev-notifications")),
    );
    let row = h.state.jobs.get(id).unwrap();
    assert_eq!((row.deployment.as_str(), row.status()), ("dev", "ok"));
    assert!(
        toast(&h).contains("dev: purged dev-notifications"),
        "{}",
        toast(&h)
    );
    // prod's panels are not refreshed for dev's job.
    assert!(h.commands.is_empty(), "{:?}", h.commands);
}

#[test]
fn a_prefilled_prompt_is_replaced_and_a_success_clears_the_error() {
    let mut h = Harness::connected(SANDBOX, "dev");
    h.act(Action::PanelLogGroups);
    h.act(Action::TailLogs);
    h.keys("H");
    // The prompt holds 15m; typing replaces it instead of appending.
    h.keys("2x");
    h.key(KeyCode::Enter);
    assert!(h.state.message.as_ref().unwrap().text.contains("2x"));
    h.key(KeyCode::Backspace);
    h.key(KeyCode::Backspace);
    h.keys("1h");
    h.key(KeyCode::Enter);
    let s = h.state.session.as_ref().unwrap();
    assert_eq!(s.logs.as_ref().unwrap().since, "1h");
    assert_eq!(h.state.message, None);
}
