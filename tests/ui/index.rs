//! Index: the domain, the cluster's health badge, the indices as a list, the
//! header badge from every panel, and a reindex job on its way.

use super::jobs::{job_event, started};
use super::*;
use opsdeck::jobs::{JobUpdate, Progress};

/// The Index panel's data as the worker answers it, in one of three colours.
/// `dev-projects` is missing, so `index_create` has something to do.
pub(crate) fn index_view(env: &str, colour: &str) -> IndexView {
    let unassigned = match colour {
        "green" => 0,
        "yellow" => 5,
        _ => 8,
    };
    let row = |name: &str, health: &str, docs: u64, pri: u32, alias: Option<&str>| IndexRow {
        name: name.into(),
        health: Some(health.into()),
        status: "open".into(),
        docs: Some(docs),
        deleted: Some(docs / 400),
        size: Some(docs * 1_700),
        primary_size: Some(docs * 850),
        primaries: Some(pri),
        replicas: Some(1),
        aliases: alias.map(|a| vec![a.to_string()]).unwrap_or_default(),
    };
    IndexView {
        domain: Some(domain(env)),
        endpoint: Some("http://127.0.0.1:4567".into()),
        health: Some(ClusterHealth {
            cluster_name: format!("123456789012:{env}-index"),
            status: ClusterColour::parse(colour),
            nodes: 2,
            data_nodes: 2,
            active_primary_shards: if colour == "red" { 4 } else { 5 },
            active_shards: 10 - unassigned,
            relocating_shards: 0,
            initializing_shards: 0,
            unassigned_shards: unassigned,
            pending_tasks: 0,
            active_shards_percent: (10 - unassigned) as f64 * 10.0,
        }),
        indices: vec![
            row(
                &format!("{env}-files-v1"),
                colour,
                12_840,
                3,
                Some(&format!("{env}-files")),
            ),
            row(
                &format!("{env}-samples-v1"),
                "green",
                4_210,
                2,
                Some(&format!("{env}-samples")),
            ),
            row(".opendistro-job-scheduler-lock", "green", 2, 1, None),
        ],
        problem: None,
    }
}

/// `env` connected, its Index panel answered in `colour`.
pub(crate) fn with_cluster(env: &str, colour: &str) -> Harness {
    let mut h = Harness::connected(SANDBOX, env);
    h.answer(
        Request::Domain,
        Ok(Response::Index(Box::new(index_view(env, colour)))),
    );
    h
}

#[test]
fn the_index_panel_green_yellow_and_red() {
    for colour in ["green", "yellow", "red"] {
        let mut h = with_cluster("dev", colour);
        h.act(Action::PanelIndex);
        insta::assert_snapshot!(format!("index_{colour}"), h.screen());
    }
}

#[test]
fn the_index_list_filters_sorts_and_counts() {
    let mut h = with_cluster("dev", "green");
    h.act(Action::PanelIndex);
    assert_eq!(
        h.state.session.as_ref().unwrap().count(PanelId::Index),
        Some(3)
    );
    h.act(Action::Filter);
    h.keys("samples");
    h.key(KeyCode::Enter);
    let s = h.screen();
    assert!(s.contains("dev-samples-v1"), "{s}");
    assert!(!s.contains("dev-files-v1"), "{s}");
    assert!(s.contains("filter “samples”"), "{s}");
    h.key(KeyCode::Esc);
    // Sort by docs: the biggest first.
    for _ in 0..3 {
        h.act(Action::SortNext);
    }
    let s = h.screen();
    let files = s.find("dev-files-v1").unwrap();
    let samples = s.find("dev-samples-v1").unwrap();
    let lock = s.find(".opendistro").unwrap();
    assert!(files < samples && samples < lock, "{s}");
}

#[test]
fn the_header_shows_a_yellow_or_red_cluster_from_every_panel() {
    let mut h = with_cluster("dev", "yellow");
    let theme = h.state.theme.clone();
    for panel in PanelId::ALL {
        h.act(opsdeck::app::update::panel_action(panel));
        let t = h.draw();
        let (x, y) = find(&t, "CLUSTER YELLOW");
        assert_eq!(y, 0, "{panel:?}: the badge is in the header");
        assert_eq!(
            t.backend().buffer()[(x, y)].fg,
            theme.style(Slot::Warning).fg.unwrap(),
            "{panel:?}"
        );
    }
    h.act(Action::PanelStacks);
    insta::assert_snapshot!("index_header_badge_yellow", h.screen());
    let mut red = with_cluster("dev", "red");
    let t = red.draw();
    let (x, y) = find(&t, "CLUSTER RED");
    assert_eq!(
        t.backend().buffer()[(x, y)].fg,
        theme.style(Slot::Failed).fg.unwrap()
    );
    // Green says nothing in the header.
    let mut green = with_cluster("dev", "green");
    assert!(!green.screen().contains("CLUSTER"));
}

#[test]
fn a_data_plane_problem_shows_beside_the_domain_facts() {
    let mut h = with_cluster("dev", "green");
    let mut view = index_view("dev", "green");
    view.health = None;
    view.indices = Vec::new();
    view.problem = Some(Problem::new(
        ProblemKind::Unreachable,
        "unreachable: the domain is in a VPC; set opensearch_url to a tunnel (https://vpc-dev-index.us-east-1.es.amazonaws.com did not answer)",
    ));
    h.answer(Request::Domain, Ok(Response::Index(Box::new(view))));
    h.act(Action::PanelIndex);
    let s = h.screen();
    assert!(s.contains("Domain    dev-index  active"), "{s}");
    assert!(s.contains("✗ unreachable: the domain is in a VPC"), "{s}");
    assert!(s.contains("(the list below is from the last"), "{s}");
    assert!(s.contains("dev-files-v1"), "the last rows stay: {s}");
}

#[test]
fn a_reindex_asks_first_then_runs_as_a_job_with_its_progress() {
    let mut h = with_cluster("dev", "green");
    h.act(Action::PanelIndex);
    h.act(Action::IndexReindex);
    insta::assert_snapshot!("index_reindex_confirm", h.screen());
    assert!(started(&h).is_empty());
    h.keys("y");
    let jobs = started(&h);
    assert_eq!(jobs.len(), 1);
    let (id, plan) = &jobs[0];
    assert_eq!(plan.action, "index_reindex");
    job_event(
        &mut h,
        *id,
        JobUpdate::Line("created dev-files-20261202-113000".into()),
    );
    job_event(
        &mut h,
        *id,
        JobUpdate::Progress(Progress {
            done: 5_000,
            total: Some(12_840),
            phase: "dev-files: 5000 of 12840 documents, 2000/s".into(),
        }),
    );
    h.act(Action::PanelJobs);
    insta::assert_snapshot!("index_reindex_running", h.screen());
}

#[test]
fn index_verbs_are_refused_before_the_cluster_is_read() {
    let mut h = Harness::connected(SANDBOX, "dev");
    h.act(Action::PanelIndex);
    h.act(Action::IndexDelete);
    assert!(h.state.overlay.is_none());
    let m = h.state.message.clone().unwrap();
    assert!(m.text.contains("not loaded yet"), "{m:?}");
}

/// The frame of a 2 000-index list at 200×50, timed and printed (the budget
/// is `frame_index_2000_indices_200x50` in `benches/ui.rs`).
#[test]
fn a_frame_of_2000_indices() {
    let mut h = with_cluster("dev", "yellow");
    let mut view = index_view("dev", "yellow");
    let template = view.indices[1].clone();
    view.indices = (0..2_000)
        .map(|i| IndexRow {
            name: format!("dev-catalog-{i:04}-v1"),
            aliases: vec![format!("dev-catalog-{i:04}")],
            ..template.clone()
        })
        .collect();
    h.answer(Request::Domain, Ok(Response::Index(Box::new(view))));
    h.act(Action::PanelIndex);
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).unwrap();
    let clock = Clock {
        now: h.at(25),
        wall: wall(),
    };
    let mut took = Vec::new();
    for _ in 0..50 {
        let start = Instant::now();
        terminal
            .draw(|f| {
                ui::draw(f, &h.state, clock);
            })
            .unwrap();
        took.push(start.elapsed());
    }
    took.sort();
    let screen = terminal.backend().to_string();
    assert!(screen.contains("5 Index (2000)"), "{screen}");
    assert!(screen.contains("dev-catalog-0000-v1"), "{screen}");
    eprintln!(
        "frame of 2000 indices at 200x50 (debug build): median {:?}",
        took[25]
    );
}
