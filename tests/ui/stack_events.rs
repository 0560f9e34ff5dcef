//! A stack's whole event history over the Stacks panel (E): paged in as the
//! user scrolls or filters, filtered by resource and status; and the pick
//! list of the deployment's deploy commands (c).

use super::deploy::on_stacks;
use super::*;
use opsdeck::model::StackEvent;

/// `n` events, newest first, seconds apart; every seventh a queue failure.
fn page(from: usize, n: usize) -> Vec<StackEvent> {
    (from..from + n)
        .map(|i| {
            let failed = i % 7 == 3;
            StackEvent {
                id: format!("ev-{i:03}"),
                time: ago(60 + i as u64 * 5),
                logical_id: if i % 2 == 0 {
                    "UploadQueue"
                } else {
                    "StaticBucket"
                }
                .into(),
                kind: if i % 2 == 0 {
                    "AWS::SQS::Queue"
                } else {
                    "AWS::S3::Bucket"
                }
                .into(),
                status: if failed {
                    "UPDATE_FAILED"
                } else {
                    "UPDATE_COMPLETE"
                }
                .into(),
                reason: failed.then(|| "Resource handler returned message: \"Throttling\"".into()),
            }
        })
        .collect()
}

fn asked(h: &Harness) -> Vec<Option<String>> {
    h.commands
        .iter()
        .filter_map(|c| match c {
            Command::Send(Request::StackEvents { stack, next }) if stack == "dev-web" => {
                Some(next.clone())
            }
            _ => None,
        })
        .collect()
}

fn answer_page(h: &mut Harness, asked: Option<&str>, events: Vec<StackEvent>, next: Option<&str>) {
    h.answer(
        Request::StackEvents {
            stack: "dev-web".into(),
            next: asked.map(str::to_string),
        },
        Ok(Response::StackEvents {
            events,
            next: next.map(str::to_string),
        }),
    );
}

fn visible_ids(h: &Harness) -> Vec<String> {
    let s = h.state.session.as_ref().unwrap();
    s.events
        .as_ref()
        .unwrap()
        .list
        .visible_rows()
        .map(|e| e.id.clone())
        .collect()
}

#[test]
fn the_whole_history_pages_in_as_the_user_scrolls_and_filters_by_resource_and_status() {
    let mut h = on_stacks();
    h.act(Action::StackEvents);
    assert_eq!(asked(&h), [None], "the newest page first");
    insta::assert_snapshot!("stack_events_loading", h.screen());
    answer_page(&mut h, None, page(0, 40), Some("page-2"));
    h.draw();
    assert_eq!(
        asked(&h),
        [None],
        "nothing more until the user scrolls near the end"
    );
    insta::assert_snapshot!("stack_events_first_page", h.screen());

    h.act(Action::Bottom);
    assert_eq!(asked(&h), [None, Some("page-2".into())]);
    answer_page(&mut h, Some("page-2"), page(40, 12), None);
    assert_eq!(visible_ids(&h).len(), 52);
    h.act(Action::Bottom);
    assert_eq!(
        asked(&h).len(),
        2,
        "the oldest event is in: nothing more to ask"
    );

    // Resource and status at once: every word must match.
    h.act(Action::Filter);
    h.keys("queue failed");
    let ids = visible_ids(&h);
    let expected: Vec<String> = (0..52)
        .filter(|i| i % 2 == 0 && i % 7 == 3)
        .map(|i| format!("ev-{i:03}"))
        .collect();
    assert_eq!(ids, expected);
    h.key(KeyCode::Enter);
    insta::assert_snapshot!("stack_events_filtered", h.screen());

    // esc clears the filter, then closes the history; the stacks are back.
    h.act(Action::Back);
    assert_eq!(visible_ids(&h).len(), 52);
    h.act(Action::Back);
    assert!(h.state.session.as_ref().unwrap().events.is_none());
    assert!(h.screen().contains("dev-web"));
}

#[test]
fn a_filter_that_leaves_less_than_a_screen_pulls_older_pages_until_the_history_ends() {
    let mut h = on_stacks();
    h.act(Action::StackEvents);
    answer_page(&mut h, None, page(0, 40), Some("page-2"));
    h.draw();
    h.act(Action::Filter);
    h.keys("failed");
    h.key(KeyCode::Enter);
    assert_eq!(asked(&h), [None, Some("page-2".into())]);
    answer_page(&mut h, Some("page-2"), page(40, 40), Some("page-3"));
    assert_eq!(
        asked(&h).len(),
        3,
        "still less than a screen: {:?}",
        asked(&h)
    );
    answer_page(&mut h, Some("page-3"), page(80, 5), None);
    assert_eq!(asked(&h).len(), 3);
    assert_eq!(
        visible_ids(&h).len(),
        (0..85).filter(|i| i % 7 == 3).count()
    );
    let screen = h.screen();
    assert!(screen.contains("all 85"), "{screen}");
}

#[test]
fn a_refresh_adds_what_happened_since_on_top_and_a_failed_page_says_so() {
    let mut h = on_stacks();
    h.act(Action::StackEvents);
    answer_page(&mut h, None, page(1, 10), None);
    h.act(Action::Refresh);
    assert_eq!(asked(&h), [None, None]);
    answer_page(&mut h, None, page(0, 10), Some("older"));
    let ids = visible_ids(&h);
    assert_eq!(ids.len(), 11);
    assert_eq!(ids[0], "ev-000", "the new event on top");
    // A refresh does not restart the paging: the history stays complete.
    h.act(Action::Bottom);
    assert_eq!(asked(&h).len(), 2);

    h.act(Action::Refresh);
    h.answer(
        Request::StackEvents {
            stack: "dev-web".into(),
            next: None,
        },
        Err(Problem::new(
            ProblemKind::Throttled,
            "Rate exceeded (DescribeStackEvents)",
        )),
    );
    let screen = h.screen();
    assert!(screen.contains("refresh failed"), "{screen}");
    assert_eq!(visible_ids(&h).len(), 11, "the rows stay");
    assert!(screen.contains("UPDATE_FAILED"), "{screen}");
}

#[test]
fn the_history_opens_from_the_stack_detail_and_closes_back_to_it() {
    let mut h = on_stacks();
    h.act(Action::Open);
    h.act(Action::StackEvents);
    assert_eq!(asked(&h), [None]);
    h.act(Action::Back);
    let s = h.state.session.as_ref().unwrap();
    assert!(s.events.is_none());
    assert!(s.detail.is_some(), "back to the detail it was opened from");
}

const TWO_COMMANDS: &str = r#"
[[deployment]]
name = "dev"
region = "us-east-1"
endpoint_url = "http://127.0.0.1:4566"

[[deployment.command]]
name = "web"
run = "make deploy-web"

[[deployment.command]]
name = "infra"
run = "terraform apply -auto-approve"
workdir = "infra"
"#;

#[test]
fn command_deploy_picks_among_several_then_takes_the_one_confirm() {
    let mut h = Harness::connected(TWO_COMMANDS, "dev");
    h.act(Action::PanelStacks);
    h.act(Action::CommandDeploy);
    let Some(Overlay::Choose(c)) = &h.state.overlay else {
        panic!("{:?}", h.state.overlay);
    };
    let names: Vec<&str> = c.items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["web", "infra"]);
    insta::assert_snapshot!("command_deploy_choose", h.screen());
    h.act(Action::Down);
    h.act(Action::Open);
    let Some(Overlay::Confirm(dialog)) = &h.state.overlay else {
        panic!("{:?}", h.state.overlay);
    };
    assert_eq!(dialog.plan.target, "deploy infra");
    assert!(
        dialog.plan.lines[0].contains("terraform apply -auto-approve` in infra"),
        "{:?}",
        dialog.plan.lines
    );
    assert!(
        h.commands
            .iter()
            .all(|c| !matches!(c, Command::StartJob { .. }))
    );
    // esc on the confirm: nothing runs.
    h.act(Action::Back);
    assert!(h.state.overlay.is_none());
}

#[test]
fn command_deploy_with_one_command_goes_straight_to_the_confirm_and_read_only_refuses() {
    let mut h = on_stacks();
    h.act(Action::CommandDeploy);
    let Some(Overlay::Confirm(dialog)) = &h.state.overlay else {
        panic!("{:?}", h.state.overlay);
    };
    assert_eq!(dialog.plan.target, "deploy web");

    let read_only = TWO_COMMANDS.replace(
        "region = \"us-east-1\"",
        "region = \"us-east-1\"\nread_only = true",
    );
    let mut h = Harness::connected(&read_only, "dev");
    h.act(Action::PanelStacks);
    h.act(Action::CommandDeploy);
    assert!(h.state.overlay.is_none());
    let m = h.state.message.as_ref().unwrap();
    assert!(m.text.contains("read-only"), "{}", m.text);
}
