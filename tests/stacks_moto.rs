//! Stack deploys through change sets, against a real moto server through
//! the real SDK, the same plans and jobs, and the real CLI binary. The
//! sandbox seeds `dev-web` from config/templates/web.yaml; the config
//! deploys web-changed.yaml over it (a topic added, the queue web-dev-uploads modified, the
//! bucket removed, parameter Version 1 → 2).
//!
//! moto executes change sets synchronously and gives no `Replacement` and
//! no CancelUpdateStack: the live stream, the failed update and cancel are
//! in `stacks_replay.rs`, on recorded responses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{config_file, deployment, one_line_refusal, opsdeck_cli, seeded};
use opsdeck::aws::Clients;
use opsdeck::config::Deployment;
use opsdeck::jobs::{self, AuditLog, Ctx, Detail, Effect, Op, Outcome, Plan, Source};

/// The logical ids of a stack's resources, sorted.
async fn resources(c: &Clients, stack: &str) -> Vec<String> {
    let out = c
        .cloudformation
        .list_stack_resources()
        .stack_name(stack)
        .send()
        .await
        .unwrap();
    let mut ids: Vec<String> = out
        .stack_resource_summaries()
        .iter()
        .map(|r| r.logical_resource_id().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// Change sets of a stack that could still be executed.
async fn pending_change_sets(c: &Clients, stack: &str) -> Vec<String> {
    let out = c
        .cloudformation
        .list_change_sets()
        .stack_name(stack)
        .send()
        .await
        .unwrap();
    out.summaries()
        .iter()
        .filter(|s| s.execution_status().map(|e| e.as_str()) == Some("AVAILABLE"))
        .map(|s| s.change_set_name().unwrap().to_string())
        .collect()
}

async fn status(c: &Clients, stack: &str) -> Option<String> {
    let out = c
        .cloudformation
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .ok()?;
    out.stacks()
        .first()
        .and_then(|s| s.stack_status())
        .map(|s| s.as_str().to_string())
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

async fn run(plan: &Plan, c: &Clients, audit: &AuditLog) -> (Outcome, Vec<String>) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let ctx = Ctx::new(tx, tokio_util::sync::CancellationToken::new());
    let outcome = jobs::run(plan, audit, Source::Console, None, Some(c.clone()), ctx).await;
    let mut lines = Vec::new();
    while let Ok(u) = rx.try_recv() {
        if let jobs::JobUpdate::Line(l) = u {
            lines.push(l);
        }
    }
    (outcome, lines)
}

fn dev(deployments: &[Deployment]) -> Deployment {
    deployment(deployments, "dev")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_shows_the_diff_changes_nothing_and_leaves_no_change_set() {
    let (moto, deployments) = seeded().await;
    let c = Clients::connect(&dev(&deployments)).await.unwrap();
    let before = resources(&c, "dev-web").await;
    assert_eq!(before, ["StaticBucket", "UploadQueue"]);
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), &moto, false);
    let audit = dir.path().join("audit.jsonl");
    let out = opsdeck_cli(
        &config,
        &audit,
        &["--deployment", "dev", "stacks", "deploy", "dev-web"],
    );
    assert!(out.status.success(), "{out:?}");
    let diff = stdout(&out);
    let line = |needle: &str| {
        diff.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle} in\n{diff}"))
            .to_string()
    };
    assert!(line("UploadTopic").contains("+ Add"), "{diff}");
    assert!(line("UploadTopic").contains("AWS::SNS::Topic"), "{diff}");
    assert!(line("UploadQueue").contains("~ Modify"), "{diff}");
    // A removal is drawn in the warning colour.
    assert!(line("StaticBucket").starts_with("⚠ - Remove"), "{diff}");
    assert!(diff.contains("Version: 1 → 2"), "{diff}");
    assert!(
        diff.contains("nothing was executed and the change set was deleted"),
        "{diff}"
    );
    assert_eq!(resources(&c, "dev-web").await, before);
    assert_eq!(
        status(&c, "dev-web").await.as_deref(),
        Some("CREATE_COMPLETE")
    );
    assert_eq!(
        pending_change_sets(&c, "dev-web").await,
        Vec::<String>::new()
    );
    assert_eq!(
        common::audit_lines(&audit, &["action", "result"]),
        ["stack_deploy started", "stack_deploy ok"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_with_yes_updates_the_stack_and_a_second_finds_no_changes() {
    let (moto, deployments) = seeded().await;
    let c = Clients::connect(&dev(&deployments)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), &moto, false);
    let audit = dir.path().join("audit.jsonl");
    let args = [
        "--deployment",
        "dev",
        "stacks",
        "deploy",
        "dev-web",
        "--yes",
    ];
    let out = opsdeck_cli(&config, &audit, &args);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout(&out).contains("stack dev-web: UPDATE_COMPLETE"),
        "{out:?}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The diff, then the stack's events, in the job's output.
    let diff_at = stderr
        .find("+ Add    UploadTopic")
        .expect("diff in the output");
    let event_at = stderr
        .find("UPDATE_COMPLETE")
        .expect("events in the output");
    assert!(diff_at < event_at, "{stderr}");
    assert_eq!(
        resources(&c, "dev-web").await,
        ["UploadQueue", "UploadTopic"]
    );
    assert_eq!(
        status(&c, "dev-web").await.as_deref(),
        Some("UPDATE_COMPLETE")
    );
    let again = opsdeck_cli(&config, &audit, &args);
    assert!(again.status.success(), "{again:?}");
    assert!(
        stdout(&again).starts_with("no changes: stack dev-web"),
        "{again:?}"
    );
    assert_eq!(
        pending_change_sets(&c, "dev-web").await,
        Vec::<String>::new()
    );
    let actions = common::audit_lines(&audit, &["action", "result"]);
    assert_eq!(
        actions,
        [
            "stack_deploy started",
            "stack_deploy ok",
            "stack_execute started",
            "stack_execute ok",
            "stack_deploy started",
            "stack_deploy ok"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_stack_is_created_through_a_create_change_set() {
    let (moto, deployments) = seeded().await;
    let c = Clients::connect(&dev(&deployments)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), &moto, false);
    let audit = dir.path().join("audit.jsonl");
    let base = [
        "--deployment",
        "dev",
        "stacks",
        "deploy",
        "dev-fresh",
        "--template",
        "config/templates/web.yaml",
        "--parameter",
        "Stage=fresh",
    ];
    // The preview of a creation leaves no empty REVIEW_IN_PROGRESS stack.
    let preview = opsdeck_cli(&config, &audit, &base);
    assert!(preview.status.success(), "{preview:?}");
    assert!(
        stdout(&preview).starts_with("create stack dev-fresh"),
        "{preview:?}"
    );
    assert!(
        stdout(&preview).contains("Stage: (not set) → fresh"),
        "{preview:?}"
    );
    assert_eq!(status(&c, "dev-fresh").await, None);
    let mut args = base.to_vec();
    args.push("--yes");
    let out = opsdeck_cli(&config, &audit, &args);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout(&out).contains("stack dev-fresh: CREATE_COMPLETE"),
        "{out:?}"
    );
    assert_eq!(
        resources(&c, "dev-fresh").await,
        ["StaticBucket", "UploadQueue"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_flow_declined_discards_the_change_set() {
    let (_moto, deployments) = seeded().await;
    let d = dev(&deployments);
    let c = Clients::connect(&d).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::at(dir.path().join("audit.jsonl"));
    let source = d.stack_source("dev-web").unwrap();
    let preview = jobs::stacks::preview(&d, source, true);
    assert_eq!(preview.effect, Effect::Change);
    let (outcome, _) = run(&preview, &c, &audit).await;
    let Some(Detail::Next(execute)) = outcome.detail() else {
        panic!("{outcome:?}");
    };
    // The next plan is the confirmed execution, its lines the diff.
    assert_eq!(execute.effect, Effect::Confirmed);
    assert!(
        execute
            .lines
            .iter()
            .any(|l| l.contains("+ Add    UploadTopic")),
        "{:?}",
        execute.lines
    );
    let Op::StackExecute { preview: p } = &execute.op else {
        panic!("{:?}", execute.op);
    };
    assert_eq!(
        pending_change_sets(&c, "dev-web").await,
        vec![p.change_set.clone()]
    );
    // Nothing changes without the confirm: declining discards it.
    let discard = execute.declined().unwrap();
    let (outcome, _) = run(&discard, &c, &audit).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(
        pending_change_sets(&c, "dev-web").await,
        Vec::<String>::new()
    );
    assert_eq!(
        resources(&c, "dev-web").await,
        ["StaticBucket", "UploadQueue"]
    );
    // A change set gone by the time of the yes is refused, not half-run.
    let (outcome, _) = run(execute, &c, &audit).await;
    assert!(matches!(outcome, Outcome::Refused(_)), "{outcome:?}");
    assert_eq!(
        resources(&c, "dev-web").await,
        ["StaticBucket", "UploadQueue"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_refuses_even_the_preview_and_protected_needs_the_name_to_execute() {
    let (moto, deployments) = seeded().await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let ro = config_file(dir.path(), &moto, true);
    let out = opsdeck_cli(
        &ro,
        &audit,
        &["--deployment", "dev", "stacks", "deploy", "dev-web"],
    );
    let why = one_line_refusal(&out);
    assert!(why.contains("read-only"), "{why}");
    let c = Clients::connect(&dev(&deployments)).await.unwrap();
    let sets = c
        .cloudformation
        .list_change_sets()
        .stack_name("dev-web")
        .send()
        .await
        .unwrap();
    assert!(sets.summaries().is_empty(), "{sets:?}");

    let config = config_file(dir.path(), &moto, false);
    let prod = deployment(&deployments, "prod");
    let p = Clients::connect(&prod).await.unwrap();
    // Executing on prod needs --confirm prod, refused before any AWS call.
    let out = opsdeck_cli(
        &config,
        &audit,
        &[
            "--deployment",
            "prod",
            "stacks",
            "deploy",
            "prod-web",
            "--yes",
        ],
    );
    let why = one_line_refusal(&out);
    assert!(why.contains("--confirm prod"), "{why}");
    let out = opsdeck_cli(
        &config,
        &audit,
        &[
            "--deployment",
            "prod",
            "stacks",
            "deploy",
            "prod-web",
            "--yes",
            "--confirm",
            "dev",
        ],
    );
    let why = one_line_refusal(&out);
    assert!(why.contains("does not name this deployment"), "{why}");
    assert_eq!(
        resources(&p, "prod-web").await,
        ["StaticBucket", "UploadQueue"]
    );
    // A preview on prod needs no name: it changes no resource.
    let out = opsdeck_cli(
        &config,
        &audit,
        &["--deployment", "prod", "stacks", "deploy", "prod-web"],
    );
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("UploadTopic"), "{out:?}");
    let out = opsdeck_cli(
        &config,
        &audit,
        &[
            "--deployment",
            "prod",
            "stacks",
            "deploy",
            "prod-web",
            "--yes",
            "--confirm",
            "prod",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        resources(&p, "prod-web").await,
        ["UploadQueue", "UploadTopic"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_before_anything_is_created() {
    let (moto, _deployments) = seeded().await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let config = config_file(dir.path(), &moto, false);
    let out = opsdeck_cli(
        &config,
        &audit,
        &["--deployment", "dev", "stacks", "deploy", "dev-core"],
    );
    let why = one_line_refusal(&out);
    assert!(why.contains("no template for stack dev-core"), "{why}");
    let out = opsdeck_cli(
        &config,
        &audit,
        &[
            "--deployment",
            "dev",
            "stacks",
            "deploy",
            "dev-web",
            "--template",
            "nope.yaml",
        ],
    );
    let why = one_line_refusal(&out);
    assert!(why.contains("nope.yaml is not a readable file"), "{why}");
    let out = opsdeck_cli(
        &config,
        &audit,
        &[
            "--deployment",
            "dev",
            "stacks",
            "deploy",
            "dev-web",
            "--parameter",
            "novalue",
        ],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("`novalue` is not KEY=VALUE"),
        "{out:?}"
    );
    assert!(!audit.exists(), "nothing was audited, as nothing started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_print_the_history_oldest_first_and_the_template_is_read() {
    let (moto, deployments) = seeded().await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let config = config_file(dir.path(), &moto, false);
    let out = opsdeck_cli(
        &config,
        &audit,
        &["--deployment", "dev", "stacks", "events", "dev-web"],
    );
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    let first = text.find("CREATE_IN_PROGRESS").expect("a create event");
    let last = text.rfind("CREATE_COMPLETE").expect("the stack created");
    assert!(first < last, "{text}");
    // The stack view's template: GetTemplate, as deployed.
    let c = Clients::connect(&dev(&deployments)).await.unwrap();
    let detail = opsdeck::aws::cloudformation::detail(&c, "dev-web")
        .await
        .unwrap();
    let template = detail.template.unwrap().unwrap();
    assert!(template.contains("web-${Stage}-uploads"), "{template}");
    assert!(template.contains("StaticBucket"), "{template}");
    // The console's history asks the same worker for pages: every event with
    // its id and resource type, newest first (moto sends one page).
    let d = dev(&deployments);
    let request = opsdeck::aws::Request::StackEvents {
        stack: "dev-web".into(),
        next: None,
    };
    let answer = opsdeck::aws::fetch(&c, &d.resources, &request)
        .await
        .unwrap();
    let opsdeck::aws::Response::StackEvents { events, next } = answer else {
        panic!("{answer:?}");
    };
    assert_eq!(next, None);
    let ids: std::collections::HashSet<&str> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), events.len(), "unique ids: {events:?}");
    // moto records the stack's own events only (no resource events).
    let statuses: Vec<&str> = events.iter().map(|e| e.status.as_str()).collect();
    assert_eq!(
        statuses,
        ["CREATE_COMPLETE", "CREATE_IN_PROGRESS"],
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .all(|e| e.kind == "AWS::CloudFormation::Stack"),
        "{events:?}"
    );
    assert!(
        events.windows(2).all(|w| w[0].time >= w[1].time),
        "newest first: {events:?}"
    );
}
