//! The Index panel's AWS side: the control plane against moto, the data
//! plane against the sandbox's own SigV4-checking OpenSearch stand-in
//! (`opsdeck::sandbox::search`, run in-process on a free port: moto has no
//! data plane, see DESIGN.md), and the lambda reindex strategy against moto,
//! whose Lambda only echoes: the test drains the queue and grows the doc
//! counts itself, as the indexer would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use opsdeck::aws::Clients;
use opsdeck::aws::search::{self, SearchClient, SearchError};
use opsdeck::config::Deployment;
use opsdeck::config::deployments::ReindexStrategy;
use opsdeck::jobs::{self, AuditLog, Ctx, JobUpdate, Outcome, Plan, Source};
use opsdeck::model::{ClusterColour, IndexView};
use opsdeck::sandbox::search::{Cluster, SearchServer};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// The sandbox's clusters for `deployments`, as `sandbox follow` serves them.
async fn data_plane(deployments: &[Deployment]) -> SearchServer {
    let clusters = deployments
        .iter()
        .map(|d| {
            Cluster::sandbox(
                &d.name,
                d.region.as_deref().unwrap(),
                d.name == opsdeck::sandbox::TROUBLED,
            )
        })
        .collect();
    SearchServer::start(([127, 0, 0, 1], 0).into(), clusters)
        .await
        .unwrap()
}

/// moto seeded with the sandbox, and the data plane beside it.
async fn sandbox() -> (common::Moto, Vec<Deployment>, SearchServer) {
    let (moto, mut deployments) = common::seeded().await;
    let server = data_plane(&deployments).await;
    for d in &mut deployments {
        d.resources.opensearch_url = Some(server.endpoint.clone());
    }
    (moto, deployments, server)
}

async fn view(d: &Deployment) -> IndexView {
    let c = Clients::connect(d).await.unwrap();
    search::view(&c, d).await.unwrap()
}

/// Says from a job's update whether to cancel it now.
type CancelWhen = Box<dyn Fn(&JobUpdate) -> bool + Send>;

/// Runs a plan with the real job code, cancelling it once `cancel_when` says so.
async fn run(
    plan: &Plan,
    d: &Deployment,
    cancel_when: Option<CancelWhen>,
) -> (Outcome, Vec<JobUpdate>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::at(dir.path().join("audit.jsonl"));
    let c = Clients::connect(d).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let token = CancellationToken::new();
    let ctx = Ctx::new(tx, token.clone());
    let plan = plan.clone();
    let job =
        tokio::spawn(
            async move { jobs::run(&plan, &audit, Source::Cli, None, Some(c), ctx).await },
        );
    let mut updates = Vec::new();
    while let Some(u) = rx.recv().await {
        if cancel_when.as_ref().is_some_and(|f| f(&u)) {
            token.cancel();
        }
        updates.push(u);
    }
    (job.await.unwrap(), updates, dir)
}

fn lines(updates: &[JobUpdate]) -> Vec<String> {
    updates
        .iter()
        .filter_map(|u| match u {
            JobUpdate::Line(l) => Some(l.clone()),
            _ => None,
        })
        .collect()
}

// ---- control plane against moto --------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_plane_describes_the_domain_and_names_one_that_is_missing() {
    let (_moto, deployments) = common::seeded().await;
    let d = common::deployment(&deployments, "prod");
    let c = Clients::connect(&d).await.unwrap();
    let domain = search::describe(&c, &d).await.unwrap().unwrap();
    assert_eq!(domain.name, "prod-index");
    assert_eq!(domain.engine_version.as_deref(), Some("OpenSearch_2.11"));
    assert_eq!(domain.instance_count, Some(3));
    assert_eq!(domain.instance_type.as_deref(), Some("r6g.large.search"));
    assert!(!domain.vpc);

    let mut missing = d.clone();
    missing.resources.opensearch_domain = Some("prod-gone".into());
    let p = search::describe(&c, &missing).await.unwrap_err();
    assert!(
        p.message
            .starts_with("search domain prod-gone not found in us-west-2"),
        "{p}"
    );
    // The panel's refresh fails the same way, not with an empty list.
    let p = search::view(&c, &missing).await.unwrap_err();
    assert!(p.message.contains("prod-gone not found"), "{p}");
}

// ---- data plane against the sandbox's signature-checking server -----------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsigned_request_is_refused_as_a_domain_does() {
    let (_moto, deployments) = common::seeded().await;
    let server = data_plane(&deployments).await;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    write!(
        s,
        "GET /_cluster/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(
        answer
            .contains(r#"{"message":"User: anonymous is not authorized to perform: es:ESHttpGet"#),
        "{answer}"
    );
    assert_eq!(server.with(|d| d.refused.len()), 1);
    assert!(server.with(|d| d.accepted.is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_indices_and_aliases_are_read_signed_dev_green_prod_yellow() {
    let (_moto, deployments, server) = sandbox().await;
    let dev = view(&common::deployment(&deployments, "dev")).await;
    assert_eq!(dev.problem, None);
    assert_eq!(dev.domain.as_ref().unwrap().name, "dev-index");
    let h = dev.health.unwrap();
    assert_eq!(h.status, Some(ClusterColour::Green));
    assert_eq!((h.nodes, h.data_nodes, h.unassigned_shards), (2, 2, 0));
    assert_eq!(h.active_shards, 12);
    let files = dev
        .indices
        .iter()
        .find(|r| r.name == "dev-files-v1")
        .unwrap();
    assert_eq!(files.docs, Some(12_840));
    assert_eq!(files.primaries, Some(3));
    assert_eq!(files.size, Some(12_840 * 850 * 2));
    assert_eq!(files.aliases, vec!["dev-files".to_string()]);

    let prod = view(&common::deployment(&deployments, "prod")).await;
    let h = prod.health.unwrap();
    assert_eq!(h.status, Some(ClusterColour::Yellow));
    assert_eq!(h.unassigned_shards, 6);
    assert!(
        prod.indices
            .iter()
            .all(|r| r.health.as_deref() == Some("yellow"))
    );
    // Every request was signed, and each reached its own region's cluster.
    assert!(server.with(|d| d.refused.is_empty()));
    assert_eq!(server.with(|d| d.accepted.len()), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_answers_with_every_field_of_the_documented_examples() {
    let (_moto, deployments, _server) = sandbox().await;
    let d = common::deployment(&deployments, "dev");
    let c = Clients::connect(&d).await.unwrap();
    let client =
        SearchClient::new(&c, d.resources.opensearch_url.as_deref().unwrap(), false).unwrap();
    let fixture = |name: &str| -> Value {
        serde_json::from_str(
            &std::fs::read_to_string(common::repo().join("tests/fixtures/opensearch").join(name))
                .unwrap(),
        )
        .unwrap()
    };
    let live = |bytes: bytes::Bytes| -> Value { serde_json::from_slice(&bytes).unwrap() };
    let health = live(
        client
            .send("GET", "/_cluster/health", None, "h")
            .await
            .unwrap(),
    );
    let indices = live(
        client
            .send("GET", "/_cat/indices?format=json&bytes=b", None, "i")
            .await
            .unwrap(),
    );
    let aliases = live(
        client
            .send("GET", "/_cat/aliases?format=json", None, "a")
            .await
            .unwrap(),
    );
    let task = client
        .start_reindex("dev-files", "dev-files-x")
        .await
        .unwrap();
    let running = live(
        client
            .send("GET", &format!("/_tasks/{task}"), None, "t")
            .await
            .unwrap(),
    );
    for (fixture, live) in [
        (fixture("cluster_health_green.json"), health),
        (fixture("cat_indices.json")[0].clone(), indices[0].clone()),
        (fixture("cat_aliases.json")[0].clone(), aliases[0].clone()),
        (
            fixture("task_running.json")["task"].clone(),
            running["task"].clone(),
        ),
        (
            fixture("task_running.json")["task"]["status"].clone(),
            running["task"]["status"].clone(),
        ),
    ] {
        for key in fixture.as_object().unwrap().keys() {
            assert!(live.get(key).is_some(), "`{key}` missing from {live}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_runs_to_completion_and_swaps_the_alias() {
    let (_moto, deployments, server) = sandbox().await;
    let d = common::deployment(&deployments, "dev");
    server.with(|s| s.faults.reindex_rate = 20_000.0);
    let v = view(&d).await;
    let plan = jobs::index::reindex(&d, &v.indices, &["dev-files".into()]).unwrap();
    let (outcome, updates, dir) = run(&plan, &d, None).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    let new = server.alias("us-east-1", "dev-files").unwrap();
    assert!(new.starts_with("dev-files-20"), "{new}");
    assert_eq!(server.docs("us-east-1", "dev-files"), Some(12_840));
    assert_eq!(server.docs("us-east-1", "dev-files-v1"), None, "delete_old");
    assert!(
        outcome
            .message()
            .contains(&format!("dev-files-v1 → {new} (12840 of 12840 documents)")),
        "{outcome:?}"
    );
    // Progress named created / total and the rate.
    assert!(
        updates.iter().any(|u| matches!(u, JobUpdate::Progress(p)
            if p.total == Some(12_840) && p.phase.contains("of 12840 documents") && p.phase.ends_with("/s"))),
        "{updates:?}"
    );
    // The new index was made from the definition file.
    let settings = server.with(|s| {
        s.cluster("us-east-1").unwrap().indices[&new]
            .definition
            .clone()
    });
    assert_eq!(settings["mappings"]["properties"]["size"]["type"], "long");
    // Audited, start and end.
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert_eq!(audit.lines().count(), 2, "{audit}");
    assert!(audit.contains("index_reindex"), "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reindex_that_fails_part_way_shows_its_failures_and_leaves_the_alias() {
    let (_moto, deployments, server) = sandbox().await;
    let d = common::deployment(&deployments, "dev");
    server.with(|s| {
        s.faults.reindex_rate = 20_000.0;
        s.faults.fail_next_reindex_after = Some(3_000);
    });
    let v = view(&d).await;
    let plan = jobs::index::reindex(&d, &v.indices, &["dev-files".into()]).unwrap();
    let (outcome, updates, _dir) = run(&plan, &d, None).await;
    let Outcome::Failed { message, .. } = &outcome else {
        panic!("{outcome:?}");
    };
    assert!(
        message.contains("failed after 3000 of 12840 documents"),
        "{message}"
    );
    assert!(message.contains("mapper_parsing_exception"), "{message}");
    assert!(
        message.ends_with("alias dev-files still points at dev-files-v1"),
        "{message}"
    );
    assert!(
        lines(&updates).iter().any(|l| l.starts_with("failure: ")),
        "{updates:?}"
    );
    assert_eq!(
        server.alias("us-east-1", "dev-files").as_deref(),
        Some("dev-files-v1")
    );
    assert_eq!(server.docs("us-east-1", "dev-files-v1"), Some(12_840));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_reindex_cancels_the_task_and_leaves_the_alias() {
    let (_moto, deployments, server) = sandbox().await;
    let d = common::deployment(&deployments, "dev");
    server.with(|s| s.faults.reindex_rate = 1_000.0);
    let v = view(&d).await;
    let plan = jobs::index::reindex(&d, &v.indices, &["dev-files".into()]).unwrap();
    assert!(plan.op.cancellable().is_ok());
    let (outcome, _, _dir) = run(
        &plan,
        &d,
        Some(Box::new(
            |u| matches!(u, JobUpdate::Progress(p) if p.done > 0),
        )),
    )
    .await;
    let Outcome::Cancelled(message) = &outcome else {
        panic!("{outcome:?}");
    };
    assert!(
        message.contains("alias dev-files still points at dev-files-v1"),
        "{message}"
    );
    assert_eq!(
        server.alias("us-east-1", "dev-files").as_deref(),
        Some("dev-files-v1")
    );
    let task = server.with(|s| {
        s.cluster("us-east-1")
            .unwrap()
            .tasks
            .values()
            .next()
            .cloned()
            .unwrap()
    });
    assert!(task.cancelled && task.completed, "{task:?}");
    assert!(task.created < task.total, "{task:?}");
    assert!(server.with(|s| {
        s.accepted
            .iter()
            .any(|(m, t)| m == "POST" && t.ends_with("/_cancel"))
    }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_then_create_recreates_the_missing_indices_empty() {
    let (_moto, deployments, server) = sandbox().await;
    let d = common::deployment(&deployments, "dev");
    let v = view(&d).await;
    let plan = jobs::index::delete(&d, &v.indices, &["dev-samples".into()]).unwrap();
    assert!(
        plan.lines
            .iter()
            .any(|l| l == "  dev-samples-v1 (alias dev-samples): 4210 documents"),
        "{:?}",
        plan.lines
    );
    let (outcome, _, _dir) = run(&plan, &d, None).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(server.alias("us-east-1", "dev-samples"), None);

    let v = view(&d).await;
    let plan = jobs::index::create(&d, &v.indices, &[]).unwrap();
    assert_eq!(plan.target, "indices dev-samples", "only what is missing");
    let (outcome, _, _dir) = run(&plan, &d, None).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    let made = server.alias("us-east-1", "dev-samples").unwrap();
    assert_eq!(server.docs("us-east-1", &made), Some(0));
    assert_eq!(
        server.docs("us-east-1", "dev-files"),
        Some(12_840),
        "untouched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_plane_faults_are_named() {
    let (_moto, deployments, server) = sandbox().await;
    let d = common::deployment(&deployments, "dev");

    server.with(|s| s.faults.truncate_next = 1);
    let p = view(&d).await.problem.unwrap();
    assert!(p.message.contains("truncated"), "{p}");

    server.with(|s| s.faults.malformed_next = 1);
    let p = view(&d).await.problem.unwrap();
    // Health, indices and aliases are asked at once: whichever came first was
    // cut. The overview waits for all three, so no request of this view is
    // still on its way when the next fault is set.
    assert!(p.message.starts_with("malformed answer to GET /_"), "{p}");
    assert!(p.message.contains(": the JSON ends early"), "{p}");

    server.with(|s| s.faults.deny = true);
    let v = view(&d).await;
    let p = v.problem.unwrap();
    // The policy's own message, and who asked (moto's STS names the caller).
    assert!(
        p.message
            .starts_with("the domain's access policy denies arn:aws:"),
        "{p}"
    );
    assert!(
        p.message
            .contains("is not authorized to perform: es:ESHttpGet"),
        "{p}"
    );
    // The domain's facts still show.
    assert_eq!(v.domain.unwrap().name, "dev-index");
    server.with(|s| s.faults.deny = false);

    let c = Clients::connect(&d).await.unwrap();
    // A VPC endpoint with no route from here.
    let vpc = SearchClient::new(&c, "https://10.255.255.1", true).unwrap();
    let e = vpc.health().await.unwrap_err();
    assert!(matches!(e, SearchError::VpcUnreachable { .. }), "{e}");
    assert!(
        e.to_string()
            .starts_with("unreachable: the domain is in a VPC; set opensearch_url to a tunnel"),
        "{e}"
    );
    // An endpoint that accepts and never answers.
    let silent = common::Silent::start();
    let hung = SearchClient::new(&c, &silent.endpoint, false)
        .unwrap()
        .with_timeout(Duration::from_millis(500));
    let e = hung.health().await.unwrap_err();
    assert!(matches!(e, SearchError::Timeout { .. }), "{e}");
    // Nothing listening.
    let closed = SearchClient::new(
        &c,
        &format!("http://127.0.0.1:{}", common::free_port()),
        false,
    )
    .unwrap();
    let e = closed.health().await.unwrap_err();
    assert!(matches!(e, SearchError::Unreachable { .. }), "{e}");
}

// ---- the lambda strategy against moto ----------------------------------------

fn post(moto: &common::Moto, path: &str) {
    let out = std::process::Command::new("curl")
        .args(["-sf", "-X", "POST", &format!("{}{path}", moto.endpoint)])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// The Invoke bodies moto received while recording.
fn invoked_payloads(moto: &common::Moto) -> Vec<String> {
    let out = std::process::Command::new("curl")
        .args([
            "-sf",
            &format!("{}/moto-api/recorder/download-recording", moto.endpoint),
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| {
            v["url"]
                .as_str()
                .is_some_and(|u| u.contains("/invocations"))
        })
        .map(|v| {
            // The recorder keeps bodies base64-encoded.
            let body = v["body"].as_str().unwrap_or_default();
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_else(|_| body.to_string())
        })
        .collect()
}

async fn drain(c: &Clients, queue: &str) {
    let url = c
        .sqs
        .get_queue_url()
        .queue_name(queue)
        .send()
        .await
        .unwrap();
    c.sqs
        .purge_queue()
        .queue_url(url.queue_url().unwrap())
        .send()
        .await
        .unwrap();
}

fn lambda_strategy(d: &mut Deployment, quiet: Duration, timeout: Duration) {
    let Some(ReindexStrategy::Lambda {
        quiet_period,
        timeout: t,
        ..
    }) = d.resources.reindex.as_mut()
    else {
        panic!("the sandbox's prod reindexes with the lambda strategy");
    };
    *quiet_period = quiet;
    *t = timeout;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lambda_strategy_invokes_with_the_payload_and_ends_after_the_quiet_period() {
    let (moto, deployments, server) = sandbox().await;
    let mut d = common::deployment(&deployments, "prod");
    lambda_strategy(&mut d, Duration::from_secs(1), Duration::from_secs(60));
    let v = view(&d).await;
    let plan = jobs::index::reindex(&d, &v.indices, &[]).unwrap();
    post(&moto, "/moto-api/recorder/reset-recording");
    post(&moto, "/moto-api/recorder/start-recording");

    // The indexer, played by the test: once the job has looked at the queue
    // a few times, it works through it and the documents grow.
    let c = Clients::connect(&d).await.unwrap();
    let indexer = {
        let server = server.clone();
        let c = c.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(800)).await;
            server.grow_docs("us-west-2", "prod-files", 25);
            drain(&c, "prod-notifications").await;
        }
    };
    let ((outcome, updates, _dir), ()) = tokio::join!(run(&plan, &d, None), indexer);
    post(&moto, "/moto-api/recorder/stop-recording");
    assert!(outcome.is_ok(), "{outcome:?}");
    assert!(
        outcome
            .message()
            .starts_with("reindex done: prod-notifications stayed empty for 1 s"),
        "{outcome:?}"
    );
    assert!(outcome.message().contains("(+25)"), "{outcome:?}");
    // It saw the queue full before it saw it empty.
    let phases: Vec<_> = updates
        .iter()
        .filter_map(|u| match u {
            JobUpdate::Progress(p) => Some(p.phase.clone()),
            _ => None,
        })
        .collect();
    assert!(
        phases
            .iter()
            .any(|p| p.starts_with("queue prod-notifications: 31 messages")),
        "{phases:?}"
    );
    assert!(
        phases
            .last()
            .unwrap()
            .starts_with("queue prod-notifications: 0 messages"),
        "{phases:?}"
    );
    let payloads = invoked_payloads(&moto);
    assert_eq!(
        payloads,
        vec![r#"{"action": "reindex", "catalog": "prod"}"#.to_string()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lambda_reindex_whose_queue_never_drains_times_out_saying_so() {
    let (_moto, deployments, _server) = sandbox().await;
    let mut d = common::deployment(&deployments, "prod");
    lambda_strategy(&mut d, Duration::from_secs(1), Duration::from_secs(2));
    let v = view(&d).await;
    let plan = jobs::index::reindex(&d, &v.indices, &[]).unwrap();
    let (outcome, _, _dir) = run(&plan, &d, None).await;
    let Outcome::Failed { message, .. } = &outcome else {
        panic!("{outcome:?}");
    };
    assert!(
        message.starts_with(
            "timed out after 2 s: queue prod-notifications never drained (still 31 messages)"
        ),
        "{message}"
    );
}

// ---- the CLI -----------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_health_json_and_the_safety_rules() {
    let (moto, deployments) = common::seeded().await;
    let server = data_plane(&deployments).await;
    let dir = tempfile::tempdir().unwrap();
    let config = common::config_file(dir.path(), &moto, false);
    let audit = dir.path().join("audit.jsonl");
    let url = server.endpoint.clone();
    let cli = move |args: Vec<String>| {
        let (config, audit, url) = (config.clone(), audit.clone(), url.clone());
        tokio::task::spawn_blocking(move || {
            let mut all = vec!["--opensearch-url".to_string(), url];
            all.extend(args);
            let refs: Vec<&str> = all.iter().map(String::as_str).collect();
            common::opsdeck_cli(&config, &audit, &refs)
        })
    };
    let args = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();

    let out = cli(args("--deployment prod index health --json"))
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["domain"]["engine_version"], "OpenSearch_2.11");
    assert_eq!(v["cluster"]["status"], "yellow");
    assert_eq!(v["indices"].as_array().unwrap().len(), 3);
    assert_eq!(v["indices"][0]["aliases"][0], "prod-files");

    let out = cli(args("--deployment dev index health")).await.unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("domain dev-index: active · OpenSearch_2.11 · 2 × r6g.large.search"),
        "{text}"
    );
    assert!(text.contains(": green · 2 nodes (2 data)"), "{text}");
    assert!(text.contains("dev-files-v1"), "{text}");

    // Without a terminal: --yes is needed; prod also needs --confirm prod.
    let e = common::one_line_refusal(&cli(args("--deployment dev index delete")).await.unwrap());
    assert!(e.contains("pass --yes"), "{e}");
    let e = common::one_line_refusal(
        &cli(args("--deployment prod index reindex --yes"))
            .await
            .unwrap(),
    );
    assert!(e.contains("pass --confirm prod"), "{e}");
    let e = common::one_line_refusal(
        &cli(args("--read-only --deployment dev index create --yes"))
            .await
            .unwrap(),
    );
    assert!(e.contains("read-only"), "{e}");
    assert!(
        server.with(|s| !s.accepted.iter().any(|(m, _)| m != "GET")),
        "nothing was sent"
    );

    let out = cli(args("--deployment dev index delete dev-projects --yes"))
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(server.alias("us-east-1", "dev-projects"), None);
    let out = cli(args("--deployment dev index create --yes"))
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("created dev-projects-20"), "{stdout}");
    // A bad data-plane address is an error, and the exit says so.
    let out = tokio::task::spawn_blocking({
        let config = common::config_file(dir.path(), &moto, false);
        let audit = dir.path().join("audit.jsonl");
        move || {
            common::opsdeck_cli(
                &config,
                &audit,
                &[
                    "--opensearch-url",
                    "http://127.0.0.1:9",
                    "--deployment",
                    "dev",
                    "index",
                    "health",
                ],
            )
        }
    })
    .await
    .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unreachable: http://127.0.0.1:9"),
        "{out:?}"
    );
}

// ---- measured ------------------------------------------------------------------

/// A refresh of a domain with 2 000 indices, DescribeDomain against moto
/// included, parsed into 2 000 rows with their aliases. The time is printed
/// (`--nocapture`), not asserted: budgets live in benches (`benches/index.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_of_2000_indices() {
    let (_moto, deployments) = common::seeded().await;
    let mut d = common::deployment(&deployments, "dev");
    let mut cluster = Cluster::new("dev-index", "us-east-1");
    for i in 0..2_000u64 {
        let name = format!("dev-catalog-{i:04}-v1");
        cluster.indices.insert(
            name.clone(),
            opsdeck::sandbox::search::Index::new(1_000 + i * 7, 3, 1),
        );
        cluster.aliases.insert(format!("dev-catalog-{i:04}"), name);
    }
    let server = SearchServer::start(([127, 0, 0, 1], 0).into(), vec![cluster])
        .await
        .unwrap();
    d.resources.opensearch_url = Some(server.endpoint.clone());
    let c = Clients::connect(&d).await.unwrap();
    search::view(&c, &d).await.unwrap(); // warm: connections, credentials
    let mut took = Vec::new();
    for _ in 0..5 {
        let start = std::time::Instant::now();
        let v = search::view(&c, &d).await.unwrap();
        took.push(start.elapsed());
        assert_eq!(v.problem, None);
        assert_eq!(v.indices.len(), 2_000);
        assert!(v.indices.iter().all(|r| r.aliases.len() == 1));
    }
    took.sort();
    eprintln!(
        "refresh of 2000 indices (DescribeDomain + health + cat indices + cat aliases): median {:?}, min {:?}, max {:?}",
        took[2], took[0], took[4]
    );
}
