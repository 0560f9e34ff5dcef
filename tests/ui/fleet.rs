//! The fleet overview.

use super::logs::{log_events, tail_update, tailing};
use super::*;
use opsdeck::aws::fleet::{Answer, Report};
use opsdeck::aws::tail::TailUpdate;
use opsdeck::model::fleet::*;

const FOUR: &str = r#"
[[deployment]]
name = "dev"
region = "us-east-1"
[deployment.resources]
log_groups = { prefix = "/aws/lambda/dev-" }
opensearch_domain = "dev-index"

[[deployment]]
name = "prod"
region = "us-west-2"
protected = true
[deployment.resources]
log_groups = { prefix = "/aws/lambda/prod-" }
opensearch_domain = "prod-index"

[[deployment]]
name = "qa"
region = "eu-west-1"

[[deployment]]
name = "staging"
profile = "helio-staging"
region = "eu-west-1"
"#;

/// The tag of the fetch the overview sent for `name`.
fn tag(h: &Harness, name: &str) -> u64 {
    h.commands
        .iter()
        .rev()
        .find_map(|c| match c {
            Command::FetchFleet { deployment, tag } if deployment.name == name => Some(*tag),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no fetch of {name}: {:?}", h.commands))
}

fn report(h: &mut Harness, name: &str, report: Report) {
    let tag = tag(h, name);
    h.send(
        Msg::Fleet(Answer {
            deployment: name.into(),
            tag,
            report,
        }),
        1,
    );
}

fn cell(h: &mut Harness, name: &str, update: CellUpdate) {
    report(h, name, Report::Cell(update));
}

fn identity() -> CellUpdate {
    CellUpdate::Identity(Cell::Ready(Identity {
        account: "123456789012".into(),
        arn: "arn:aws:sts::123456789012:assumed-role/Dev/alice".into(),
    }))
}

/// Every cell of `name` answered: quiet, plus whatever `extra` changes.
fn healthy(h: &mut Harness, name: &str, extra: Vec<CellUpdate>) {
    let mut cells = vec![
        identity(),
        CellUpdate::Stacks(Cell::Ready(StacksHealth {
            total: 3,
            ..Default::default()
        })),
        CellUpdate::Functions(Cell::Ready(FunctionsHealth {
            total: 4,
            disabled: vec![],
        })),
        CellUpdate::Queues(Cell::Ready(QueuesHealth {
            visible: 145,
            dlq_messages: 0,
            dlqs: vec![],
        })),
        CellUpdate::Errors(Cell::Ready(ErrorsHealth {
            count: 0,
            capped: false,
            groups: vec![format!("/aws/lambda/{name}-api")],
        })),
        CellUpdate::Index(Cell::Ready(IndexHealth {
            domain: format!("{name}-index"),
            state: "active".into(),
            cluster_status: None,
        })),
        CellUpdate::Vpn(Cell::Ready(VpnHealth {
            crl_days_left: Some(180),
        })),
    ];
    cells.extend(extra);
    for c in cells {
        cell(h, name, c);
    }
    report(h, name, Report::Done);
}

fn sick_prod(h: &mut Harness) {
    healthy(
        h,
        "prod",
        vec![
            CellUpdate::Queues(Cell::Ready(QueuesHealth {
                visible: 148,
                dlq_messages: 3,
                dlqs: vec!["prod-notifications-dlq".into()],
            })),
            CellUpdate::Errors(Cell::Ready(ErrorsHealth {
                count: 12,
                capped: false,
                groups: vec![
                    "/aws/lambda/prod-api".into(),
                    "/aws/lambda/prod-indexer".into(),
                ],
            })),
        ],
    );
}

fn overview() -> Harness {
    let mut h = Harness::new(FOUR);
    h.send(Msg::Tick, 0);
    h
}

#[test]
fn every_deployment_is_fetched_at_once_when_the_overview_shows() {
    let h = overview();
    let fetched: Vec<&str> = h
        .commands
        .iter()
        .filter_map(|c| match c {
            Command::FetchFleet { deployment, .. } => Some(deployment.name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(fetched, ["dev", "prod", "qa", "staging"]);
}

#[test]
fn fleet_loading() {
    let mut h = overview();
    insta::assert_snapshot!(h.screen());
}

#[test]
fn fleet_mixed() {
    let mut h = overview();
    healthy(&mut h, "dev", vec![]);
    sick_prod(&mut h);
    // qa: one cell still loading, one denied.
    cell(&mut h, "qa", identity());
    cell(
        &mut h,
        "qa",
        CellUpdate::Queues(Cell::Failed(Problem::new(
            ProblemKind::AccessDenied,
            "ListQueues: access denied for profile `qa`",
        ))),
    );
    let expired = Problem::new(
        ProblemKind::CredentialsExpired,
        "SSO session for profile `helio-staging` expired: run `aws sso login --profile helio-staging`",
    );
    for c in [
        CellUpdate::Identity(Cell::Failed(expired.clone())),
        CellUpdate::Stacks(Cell::Failed(expired.clone())),
        CellUpdate::Functions(Cell::Failed(expired.clone())),
        CellUpdate::Queues(Cell::Failed(expired.clone())),
        CellUpdate::Errors(Cell::Unset),
        CellUpdate::Index(Cell::Unset),
        CellUpdate::Vpn(Cell::Unset),
    ] {
        cell(&mut h, "staging", c);
    }
    report(&mut h, "staging", Report::Done);
    // The cursor follows the first row: the worst one.
    h.act(Action::Top);
    insta::assert_snapshot!(h.screen());

    // Worst first: unreachable, attention, then by name.
    let order: Vec<&str> = h
        .state
        .fleet
        .order
        .iter()
        .map(|&i| h.state.deployments[i].name.as_str())
        .collect();
    assert_eq!(order, ["staging", "prod", "qa", "dev"]);

    // A login-needing deployment is not retried on a timer; the others are.
    h.commands.clear();
    h.send(Msg::Tick, 3600);
    let again: Vec<&str> = h
        .commands
        .iter()
        .filter_map(|c| match c {
            Command::FetchFleet { deployment, .. } => Some(deployment.name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        again,
        ["dev", "prod"],
        "qa is still running; staging needs a login"
    );
    // r retries it.
    h.commands.clear();
    h.act(Action::Refresh);
    assert!(h.commands.iter().any(
        |c| matches!(c, Command::FetchFleet { deployment, .. } if deployment.name == "staging")
    ));
}

#[test]
fn fleet_all_ok() {
    let mut h = overview();
    for name in ["dev", "prod", "qa", "staging"] {
        healthy(&mut h, name, vec![]);
    }
    insta::assert_snapshot!(h.screen());
}

#[test]
fn the_worst_cell_and_the_verdict_are_coloured_and_protected_keeps_its_accent() {
    let mut h = overview();
    healthy(&mut h, "dev", vec![]);
    sick_prod(&mut h);
    let theme = h.state.theme.clone();
    // The cursor is on dev (the config's first), not on prod's row.
    let t = h.draw();
    let buf = t.backend().buffer();
    let at = |text: &str| {
        let (x, y) = find(&t, text);
        buf[(x, y)].clone()
    };
    assert_eq!(at("attention").fg, theme.style(Slot::Warning).fg.unwrap());
    assert_eq!(at("148 · 3").fg, theme.style(Slot::Error).fg.unwrap());
    // Only the worst cell: the errors cell is plain text.
    assert_eq!(
        at("12     active").fg,
        theme
            .style(Slot::Text)
            .fg
            .unwrap_or(ratatui::style::Color::Reset)
    );
    let (x, y) = find(&t, "│prod ");
    assert_eq!(buf[(x + 1, y)].fg, theme.style(Slot::Protected).fg.unwrap());
    assert_eq!(buf[(x + 1, y)].bg, theme.style(Slot::Protected).bg.unwrap());
}

#[test]
fn one_key_opens_the_errors_and_another_the_dead_letter_queues() {
    let mut h = overview();
    healthy(&mut h, "dev", vec![]);
    sick_prod(&mut h);
    // prod needs attention, so it is the first row: the cursor is on it.
    h.act(Action::Top);
    h.commands.clear();
    h.keys("e");
    let s = h.state.session.as_ref().expect("prod opened");
    assert_eq!(s.deployment.name, "prod");
    assert_eq!(s.focus, PanelId::Logs);
    let v = s.logs.as_ref().unwrap();
    assert_eq!(v.min_level, Some(opsdeck::logs::line::Level::Error));
    assert_eq!(v.since, "15m");
    let groups: Vec<Vec<String>> = h
        .commands
        .iter()
        .filter_map(|c| match c {
            Command::Send(Request::Tail { spec, .. }) => Some(spec.groups.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        groups,
        [vec![
            "/aws/lambda/prod-api".to_string(),
            "/aws/lambda/prod-indexer".to_string()
        ]]
    );
    // ERROR and worse only: the WARN and INFO lines are not on screen.
    tail_update(&mut h, TailUpdate::Events(log_events()));
    let screen = h.screen();
    assert!(screen.contains("Failed to index bundle"), "{screen}");
    assert!(!screen.contains("Slow response"), "{screen}");
    assert!(screen.contains("ERROR+ only"), "{screen}");

    // d, the row, Q: the Queues panel on the dead-letter queue.
    h.keys("d");
    assert_eq!(h.state.screen, Screen::Picker);
    h.keys("Q");
    let s = h.state.session.as_ref().unwrap();
    assert_eq!(s.focus, PanelId::Queues);
    assert_eq!(s.queues.filter, "prod-notifications-dlq");
}

#[test]
fn the_level_filter_works_on_the_buffer_without_restarting_the_tail() {
    let mut h = tailing();
    h.commands.clear();
    h.keys("L");
    let screen = h.screen();
    assert!(screen.contains("WARN+ only"), "{screen}");
    assert!(screen.contains("Slow response"), "{screen}");
    assert!(!screen.contains("START RequestId"), "{screen}");
    assert!(!screen.contains("Received 10 notifications"), "{screen}");
    h.keys("L");
    let screen = h.screen();
    assert!(screen.contains("ERROR+ only"), "{screen}");
    assert!(!screen.contains("Slow response"), "{screen}");
    assert!(
        screen.contains("OpenSearch rejected bulk request"),
        "{screen}"
    );
    // Paused, the cursor moves over shown lines only.
    h.keys("k");
    let v = h.state.session.as_ref().unwrap().logs.as_ref().unwrap();
    assert_eq!(
        v.store.get(v.cursor).unwrap().level,
        opsdeck::logs::line::Level::Error
    );
    assert!(
        v.store
            .get(v.cursor)
            .unwrap()
            .text
            .contains("Failed to index")
    );
    h.keys("L");
    let screen = h.screen();
    assert!(screen.contains("START RequestId"), "{screen}");
    assert!(
        h.commands.is_empty(),
        "no request: the tail runs on: {:?}",
        h.commands
    );
}
