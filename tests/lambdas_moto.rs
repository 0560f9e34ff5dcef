//! The function verbs as jobs: the emergency switch and invoke, against a
//! real moto server through the real SDK and the same plans, job code and
//! CLI the console uses. What moto received is read back from moto's own
//! request recorder. Lambda's REST API has no X-Amz-Target, so a request is
//! named by its method and path.
//!
//! Function errors, log tails, denied tags, throttling and deleted
//! functions are not produced by the emulator; those tests replay recorded
//! Lambda responses (`StaticReplayClient`) through the real SDK client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use common::Moto;
use opsdeck::aws::Clients;
use opsdeck::config::Deployment;
use opsdeck::jobs::lambdas::{self, FunctionRef, InvokeKind, TAG};
use opsdeck::jobs::{self, AuditLog, Ctx, Detail, Effect, JobUpdate, Op, Outcome, Plan, Source};
use opsdeck::model::{Concurrency, FunctionRow};
use serde_json::json;

// ---- moto ------------------------------------------------------------------

fn post(moto: &Moto, path: &str) {
    let out = Command::new("curl")
        .args(["-sf", "-X", "POST", &format!("{}{path}", moto.endpoint)])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// moto's recorder writes one file in the working directory, shared by
/// every moto of this test binary: one test records at a time, from empty.
static RECORDER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn recording(moto: &Moto, on: bool) {
    if on {
        post(moto, "/moto-api/recorder/reset-recording");
    }
    post(
        moto,
        if on {
            "/moto-api/recorder/start-recording"
        } else {
            "/moto-api/recorder/stop-recording"
        },
    );
}

/// The Lambda requests moto received while recording, as
/// (method, path, invocation type header).
fn received(moto: &Moto) -> Vec<(String, String, String)> {
    let out = Command::new("curl")
        .args([
            "-sf",
            &format!("{}/moto-api/recorder/download-recording", moto.endpoint),
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            let url = v["url"].as_str()?;
            let path = url
                .split_once("://")
                .map_or(url, |(_, rest)| rest.find('/').map_or("/", |i| &rest[i..]));
            let path = path.split('?').next().unwrap_or(path).to_string();
            // Lambda's REST paths are dated: /2015-03-31/functions/…
            path.starts_with("/20").then(|| {
                (
                    v["method"].as_str().unwrap_or("?").to_string(),
                    path,
                    v["headers"]["X-Amz-Invocation-Type"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                )
            })
        })
        .collect()
}

/// What changes a function: concurrency, tags, and any invoke but a dry run.
fn mutating(requests: &[(String, String, String)]) -> Vec<&(String, String, String)> {
    requests
        .iter()
        .filter(|(method, path, kind)| {
            let invoke = path.ends_with("/invocations");
            match method.as_str() {
                "GET" | "HEAD" => false,
                "POST" if invoke => kind != "DryRun",
                _ => true,
            }
        })
        .collect()
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

async fn functions(d: &Deployment) -> (Clients, Vec<FunctionRow>) {
    let c = Clients::connect(d).await.unwrap();
    let rows = opsdeck::aws::lambda::functions(&c, d.resources.lambdas.as_ref())
        .await
        .unwrap();
    (c, rows)
}

async fn reserved(c: &Clients, name: &str) -> Option<i32> {
    c.lambda
        .get_function_concurrency()
        .function_name(name)
        .send()
        .await
        .unwrap()
        .reserved_concurrent_executions()
}

async fn tag(c: &Clients, name: &str) -> Option<String> {
    let arn = c
        .lambda
        .get_function()
        .function_name(name)
        .send()
        .await
        .unwrap()
        .configuration()
        .unwrap()
        .function_arn()
        .unwrap()
        .to_string();
    c.lambda
        .list_tags()
        .resource(arn)
        .send()
        .await
        .unwrap()
        .tags()
        .and_then(|t| t.get(TAG).cloned())
}

async fn run(plan: &Plan, c: &Clients, audit: &AuditLog) -> (Outcome, Vec<JobUpdate>) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let ctx = Ctx::new(tx, Default::default());
    // The caller is known, so the job asks STS nothing (replayed clients
    // answer only the Lambda calls).
    let who = opsdeck::model::Identity {
        account: "123456789012".into(),
        arn: "arn:aws:sts::123456789012:assumed-role/OnCall/alice".into(),
    };
    let outcome = jobs::run(plan, audit, Source::Cli, Some(who), Some(c.clone()), ctx).await;
    let mut updates = Vec::new();
    while let Ok(u) = rx.try_recv() {
        updates.push(u);
    }
    (outcome, updates)
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

// ---- the emergency switch --------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disable_then_enable_in_two_processes_restores_7_and_no_reservation() {
    let (moto, deployments) = common::seeded().await;
    let d = common::deployment(&deployments, "dev");
    let (c, _) = functions(&d).await;
    c.lambda
        .put_function_concurrency()
        .function_name("dev-notifier")
        .reserved_concurrent_executions(7)
        .send()
        .await
        .unwrap();
    assert_eq!(reserved(&c, "dev-api").await, None);
    let tmp = tempfile::tempdir().unwrap();
    let config = common::config_file(tmp.path(), &moto, false);
    let audit = tmp.path().join("audit.jsonl");

    let out = common::opsdeck_cli(
        &config,
        &audit,
        &[
            "--deployment",
            "dev",
            "lambdas",
            "disable",
            "dev-notifier",
            "dev-api",
            "--yes",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(reserved(&c, "dev-notifier").await, Some(0));
    assert_eq!(reserved(&c, "dev-api").await, Some(0));
    // The way back lives on the function, not in this process.
    assert_eq!(tag(&c, "dev-notifier").await.as_deref(), Some("7"));
    assert_eq!(tag(&c, "dev-api").await.as_deref(), Some("none"));

    let list = common::opsdeck_cli(&config, &audit, &["--deployment", "dev", "lambdas", "list"]);
    let listed = text(&list);
    assert!(
        listed.contains("DISABLED (restores 7 reserved)"),
        "{listed}"
    );

    let out = common::opsdeck_cli(
        &config,
        &audit,
        &[
            "--deployment",
            "dev",
            "lambdas",
            "enable",
            "dev-notifier",
            "dev-api",
            "--yes",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(reserved(&c, "dev-notifier").await, Some(7));
    assert_eq!(reserved(&c, "dev-api").await, None);
    assert_eq!(tag(&c, "dev-notifier").await, None);
    assert_eq!(tag(&c, "dev-api").await, None);
    // Two confirmed changes: a start and an end line each.
    let log = std::fs::read_to_string(&audit).unwrap();
    assert_eq!(log.lines().count(), 4, "{log}");
    assert!(log.contains("\"action\":\"lambda_enable\""), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disable_all_then_enable_all_over_a_mix_restores_each_and_leaves_the_one_that_was_at_0() {
    let (_moto, deployments) = common::seeded().await;
    let d = common::deployment(&deployments, "dev");
    let (c, _) = functions(&d).await;
    // The mix: api and notifier unreserved, indexer 10, reindexer already at 0
    // (dev's sandbox leaves it enabled, so switch it off here, with no tag).
    c.lambda
        .put_function_concurrency()
        .function_name("dev-reindexer")
        .reserved_concurrent_executions(0)
        .send()
        .await
        .unwrap();
    let (c, rows) = functions(&d).await;
    let tmp = tempfile::tempdir().unwrap();
    let audit = AuditLog::at(tmp.path().join("audit.jsonl"));
    let all: Vec<&FunctionRow> = rows.iter().collect();
    let plan = lambdas::disable(&d, &all, true).unwrap();
    assert_eq!(plan.action, "lambda_disable_all");
    assert_eq!(plan.effect, Effect::Confirmed);
    let dialog = plan.lines.join("\n");
    assert!(dialog.contains("3 functions"), "{dialog}");
    assert!(
        dialog.contains("dev-indexer: 10 reserved → disabled (0)"),
        "{dialog}"
    );
    assert!(
        dialog.contains("Already disabled, left alone: dev-reindexer"),
        "{dialog}"
    );

    let (outcome, updates) = run(&plan, &c, &audit).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(
        lines(&updates).len(),
        3,
        "one result per function: {updates:?}"
    );
    for f in ["dev-api", "dev-indexer", "dev-notifier", "dev-reindexer"] {
        assert_eq!(reserved(&c, f).await, Some(0), "{f}");
    }

    let (_, rows) = functions(&d).await;
    let by = |n: &str| rows.iter().find(|r| r.name == n).unwrap().remembered;
    assert_eq!(by("dev-indexer"), Some(Concurrency::Reserved(10)));
    assert_eq!(by("dev-api"), Some(Concurrency::Unreserved));
    assert_eq!(by("dev-reindexer"), None);
    let all: Vec<&FunctionRow> = rows.iter().collect();
    let plan = lambdas::enable(&d, &all, true).unwrap();
    let dialog = plan.lines.join("\n");
    assert!(
        dialog.contains("dev-indexer: disabled (0) → 10 reserved"),
        "{dialog}"
    );
    assert!(dialog.contains("Stay disabled"), "{dialog}");
    assert!(dialog.contains("dev-reindexer"), "{dialog}");
    let (outcome, updates) = run(&plan, &c, &audit).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(lines(&updates).len(), 3, "{updates:?}");
    assert_eq!(reserved(&c, "dev-api").await, None);
    assert_eq!(reserved(&c, "dev-indexer").await, Some(10));
    assert_eq!(reserved(&c, "dev-notifier").await, None);
    assert_eq!(reserved(&c, "dev-reindexer").await, Some(0));
    assert_eq!(tag(&c, "dev-indexer").await, None);

    // Nothing left that opsdeck disabled: enable-all says so and plans nothing.
    let (_, rows) = functions(&d).await;
    let all: Vec<&FunctionRow> = rows.iter().collect();
    let why = lambdas::enable(&d, &all, true).unwrap_err();
    assert!(why.contains("dev-reindexer"), "{why}");
}

/// The function detail view's fetch, against moto: configuration, the
/// environment, versions, aliases and the remembered setting of a function
/// disabled by opsdeck's own job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_detail_reads_configuration_environment_versions_aliases_and_the_remembered_setting() {
    use aws_sdk_lambda::types::Environment;
    let (_moto, deployments) = common::seeded().await;
    let d = common::deployment(&deployments, "dev");
    let (c, rows) = functions(&d).await;
    c.lambda
        .update_function_configuration()
        .function_name("dev-notifier")
        .environment(
            Environment::builder()
                .variables("LOG_LEVEL", "INFO")
                .variables("DB_PASSWORD", "hunter2")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let v1 = c
        .lambda
        .publish_version()
        .function_name("dev-notifier")
        .description("first release")
        .send()
        .await
        .unwrap();
    let v1 = v1.version().unwrap().to_string();
    c.lambda
        .create_alias()
        .function_name("dev-notifier")
        .name("ACTIVE")
        .function_version(&v1)
        .send()
        .await
        .unwrap();
    c.lambda
        .put_function_concurrency()
        .function_name("dev-notifier")
        .reserved_concurrent_executions(7)
        .send()
        .await
        .unwrap();
    // Disabled the way the console does it, so the tag is opsdeck's own.
    let row = rows
        .iter()
        .find(|r| r.name == "dev-notifier")
        .unwrap()
        .clone();
    let row = FunctionRow {
        concurrency: Concurrency::Reserved(7),
        ..row
    };
    let plan = lambdas::disable(&d, &[&row], false).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (outcome, _) = run(&plan, &c, &AuditLog::at(tmp.path().join("audit.jsonl"))).await;
    assert!(outcome.is_ok(), "{outcome:?}");

    let detail = opsdeck::aws::lambda::detail(&c, "dev-notifier")
        .await
        .unwrap();
    let env: Vec<(&str, &str)> = detail
        .environment
        .iter()
        .map(|kv| (kv.key.as_str(), kv.value.as_str()))
        .collect();
    assert_eq!(env, [("DB_PASSWORD", "hunter2"), ("LOG_LEVEL", "INFO")]);
    assert_eq!(detail.concurrency, Concurrency::Disabled);
    assert_eq!(detail.remembered, Some(Concurrency::Reserved(7)));
    let versions: Vec<&str> = detail.versions.iter().map(|v| v.version.as_str()).collect();
    assert!(
        versions.contains(&"$LATEST") && versions.contains(&v1.as_str()),
        "{versions:?}"
    );
    assert_eq!(detail.aliases.len(), 1);
    assert_eq!(detail.aliases[0].name, "ACTIVE");
    assert_eq!(detail.aliases[0].version, v1);
    assert!(
        detail.runtime.is_some() && detail.handler.is_some(),
        "{detail:?}"
    );

    // A function deleted since the list was loaded is named as such.
    let gone = opsdeck::aws::lambda::detail(&c, "dev-nope")
        .await
        .unwrap_err();
    assert!(
        gone.message.contains("dev-nope") || gone.message.to_lowercase().contains("not found"),
        "{gone:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_sends_no_mutating_request_and_a_dry_run_still_works() {
    let _recorder = RECORDER.lock().await;
    let (moto, deployments) = common::seeded().await;
    let tmp = tempfile::tempdir().unwrap();
    let config = common::config_file(tmp.path(), &moto, true);
    let audit = tmp.path().join("audit.jsonl");
    recording(&moto, true);
    for args in [
        &[
            "--deployment",
            "dev",
            "lambdas",
            "disable",
            "--all",
            "--yes",
        ][..],
        &["--deployment", "dev", "lambdas", "enable", "--all", "--yes"],
        &[
            "--deployment",
            "dev",
            "lambdas",
            "disable",
            "dev-api",
            "--yes",
        ],
        &[
            "--deployment",
            "dev",
            "lambdas",
            "invoke",
            "dev-api",
            "--payload",
            "{}",
        ],
        &[
            "--deployment",
            "dev",
            "lambdas",
            "invoke",
            "dev-api",
            "--type",
            "event",
        ],
    ] {
        let out = common::opsdeck_cli(&config, &audit, args);
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("read-only"), "{stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    }
    let out = common::opsdeck_cli(
        &config,
        &audit,
        &[
            "--deployment",
            "dev",
            "lambdas",
            "invoke",
            "dev-api",
            "--type",
            "dry-run",
            "--payload",
            r#"{"ping": 1}"#,
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = common::opsdeck_cli(
        &config,
        &audit,
        &["--deployment", "dev", "lambdas", "list", "--json"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 4);
    recording(&moto, false);

    let requests = received(&moto);
    assert!(
        requests
            .iter()
            .any(|(m, p, k)| m == "POST" && p.ends_with("/invocations") && k == "DryRun"),
        "the dry run reached moto: {requests:?}"
    );
    assert_eq!(mutating(&requests), Vec::<&(String, String, String)>::new());
    let d = common::deployment(&deployments, "dev");
    let (c, _) = functions(&d).await;
    assert_eq!(reserved(&c, "dev-api").await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_protected_deployment_needs_the_name_before_any_call() {
    let _recorder = RECORDER.lock().await;
    let (moto, deployments) = common::seeded().await;
    let tmp = tempfile::tempdir().unwrap();
    let config = common::config_file(tmp.path(), &moto, false);
    let audit = tmp.path().join("audit.jsonl");
    let disable = [
        "--deployment",
        "prod",
        "lambdas",
        "disable",
        "--all",
        "--yes",
    ];
    recording(&moto, true);
    let out = common::opsdeck_cli(&config, &audit, &disable);
    assert!(!out.status.success());
    assert!(text(&out).contains("--confirm prod"), "{}", text(&out));
    let mut wrong = disable.to_vec();
    wrong.extend(["--confirm", "dev"]);
    let out = common::opsdeck_cli(&config, &audit, &wrong);
    assert!(
        text(&out).contains("does not name this deployment"),
        "{}",
        text(&out)
    );
    // An invoke on prod is confirmed too.
    let out = common::opsdeck_cli(
        &config,
        &audit,
        &[
            "--deployment",
            "prod",
            "lambdas",
            "invoke",
            "prod-api",
            "--yes",
        ],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("--confirm prod"), "{}", text(&out));
    recording(&moto, false);
    assert_eq!(received(&moto), Vec::<(String, String, String)>::new());
    assert!(!audit.exists());

    let mut ok = disable.to_vec();
    ok.extend(["--confirm", "prod"]);
    let out = common::opsdeck_cli(&config, &audit, &ok);
    assert!(out.status.success(), "{}", text(&out));
    let d = common::deployment(&deployments, "prod");
    let (c, _) = functions(&d).await;
    for f in [
        "prod-api",
        "prod-indexer",
        "prod-notifier",
        "prod-reindexer",
    ] {
        assert_eq!(reserved(&c, f).await, Some(0), "{f}");
    }
}

// ---- invoke ----------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_round_trips_a_payload_and_refuses_one_that_is_not_json() {
    let _recorder = RECORDER.lock().await;
    let (moto, _deployments) = common::seeded().await;
    let tmp = tempfile::tempdir().unwrap();
    let config = common::config_file(tmp.path(), &moto, false);
    let audit = tmp.path().join("audit.jsonl");
    let payload = r#"{"ping": {"n": 1, "from": "opsdeck"}}"#;
    let out = common::opsdeck_cli(
        &config,
        &audit,
        &[
            "--deployment",
            "dev",
            "lambdas",
            "invoke",
            "dev-api",
            "--payload",
            payload,
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["status"], 200);
    assert_eq!(result["function_error"], serde_json::Value::Null);
    // moto without Docker echoes the event back.
    assert_eq!(
        result["payload"],
        serde_json::from_str::<serde_json::Value>(payload).unwrap()
    );

    let file = tmp.path().join("event.json");
    std::fs::write(&file, r#"{"from": "file"}"#).unwrap();
    let out = common::opsdeck_cli(
        &config,
        &audit,
        &[
            "--deployment",
            "dev",
            "lambdas",
            "invoke",
            "dev-api",
            "--payload-file",
            file.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"from\": \"file\""));

    recording(&moto, true);
    let out = common::opsdeck_cli(
        &config,
        &audit,
        &[
            "--deployment",
            "dev",
            "lambdas",
            "invoke",
            "dev-api",
            "--payload",
            "{ping",
        ],
    );
    recording(&moto, false);
    assert!(!out.status.success());
    assert!(text(&out).contains("not JSON"), "{}", text(&out));
    assert_eq!(received(&moto), Vec::<(String, String, String)>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_plans_decide_their_effect() {
    let (_moto, deployments) = common::seeded().await;
    let (dev, prod) = (
        common::deployment(&deployments, "dev"),
        common::deployment(&deployments, "prod"),
    );
    let (_, rows) = functions(&dev).await;
    let f = &rows[0];
    let effect = |d: &Deployment, k| lambdas::invoke(d, f, "{}", k).unwrap().effect;
    assert_eq!(effect(&dev, InvokeKind::RequestResponse), Effect::Change);
    assert_eq!(
        effect(&prod, InvokeKind::RequestResponse),
        Effect::Confirmed
    );
    assert_eq!(effect(&prod, InvokeKind::Event), Effect::Confirmed);
    assert_eq!(effect(&prod, InvokeKind::DryRun), Effect::Read);
    let big = format!("\"{}\"", "x".repeat(lambdas::PAYLOAD_MAX));
    let why = lambdas::invoke(&dev, f, &big, InvokeKind::RequestResponse).unwrap_err();
    assert!(why.contains("6 MB"), "{why}");
}

// ---- recorded responses ----------------------------------------------------

const ENDPOINT: &str = "https://lambda.us-east-1.amazonaws.com";
const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:dev-api";

fn replay_clients(replay: &StaticReplayClient) -> Clients {
    common::Replay {
        endpoint: ENDPOINT,
        deployment: "replay",
        retries: false,
    }
    .clients(replay)
}

fn response(status: u16, headers: &[(&'static str, &str)], body: &str) -> ReplayEvent {
    ReplayEvent::new(
        HttpRequest::new(SdkBody::empty()),
        http(status, headers, body),
    )
}

fn http(status: u16, headers: &[(&'static str, &str)], body: &str) -> HttpResponse {
    let mut r = HttpResponse::new(
        StatusCode::try_from(status).unwrap(),
        SdkBody::from(body.to_string()),
    );
    r.headers_mut().insert("content-type", "application/json");
    r.headers_mut().insert("x-amzn-requestid", "replayed");
    for (k, v) in headers {
        r.headers_mut().insert(*k, v.to_string());
    }
    r
}

fn error(status: u16, code: &str, message: &str) -> ReplayEvent {
    let body = json!({"Type": "User", "message": message}).to_string();
    let r = http(status, &[("x-amzn-errortype", code)], &body);
    ReplayEvent::new(HttpRequest::new(SdkBody::empty()), r)
}

fn sent(replay: &StaticReplayClient) -> Vec<(String, String)> {
    replay
        .actual_requests()
        .map(|r| (r.method().to_string(), r.uri().to_string()))
        .collect()
}

fn replay_plan(op: Op) -> Plan {
    // Any deployment that is not read-only: the clients given decide where calls go.
    let d = common::deployment(&common::sandbox_deployments("http://127.0.0.1:9"), "dev");
    Plan {
        action: "lambda_disable",
        deployment: d,
        target: "function dev-api".into(),
        parameters: json!({}),
        title: "replay".into(),
        lines: vec![],
        effect: Effect::Confirmed,
        op,
    }
}

fn dev_api() -> FunctionRef {
    FunctionRef {
        name: "dev-api".into(),
        arn: Some(ARN.into()),
    }
}

#[tokio::test]
async fn a_function_error_shows_its_status_version_payload_and_decoded_log_tail() {
    use base64::Engine as _;
    let log = "START RequestId: 42 Version: $LATEST\n[ERROR] KeyError: 'bundle'\n[WARNING] retrying\nEND RequestId: 42\nREPORT RequestId: 42\tDuration: 3.1 ms\n";
    let tail = base64::engine::general_purpose::STANDARD.encode(log);
    let replay = StaticReplayClient::new(vec![response(
        200,
        &[
            ("x-amz-function-error", "Unhandled"),
            ("x-amz-executed-version", "$LATEST"),
            ("x-amz-log-result", &tail),
        ],
        r#"{"errorMessage": "'bundle'", "errorType": "KeyError"}"#,
    )]);
    let c = replay_clients(&replay);
    let tmp = tempfile::tempdir().unwrap();
    let plan = replay_plan(Op::LambdaInvoke {
        function: dev_api(),
        payload: "{}".into(),
        kind: InvokeKind::RequestResponse,
    });
    let (outcome, _) = run(&plan, &c, &AuditLog::at(tmp.path().join("a.jsonl"))).await;
    assert!(
        !outcome.is_ok(),
        "a FunctionError is a failure: {outcome:?}"
    );
    assert!(
        outcome
            .message()
            .contains("function error (Unhandled): 'bundle'"),
        "{outcome:?}"
    );
    let Some(Detail::Invoke(i)) = outcome.detail() else {
        panic!("{outcome:?}")
    };
    assert_eq!(i.status, 200);
    assert_eq!(i.executed_version.as_deref(), Some("$LATEST"));
    assert_eq!(i.function_error.as_deref(), Some("Unhandled"));
    assert!(
        i.payload.contains("\"errorType\": \"KeyError\""),
        "{}",
        i.payload
    );
    assert_eq!(i.log_tail[1], "[ERROR] KeyError: 'bundle'");
    assert_eq!(i.log_tail.len(), 5);
    // The tail is asked for, and the invoke went out once.
    let requests: Vec<_> = replay.actual_requests().collect();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].headers().get("x-amz-log-type"), Some("Tail"));
}

#[tokio::test]
async fn a_timeout_and_a_throttled_invoke_each_say_so_and_are_not_retried() {
    let replay = StaticReplayClient::new(vec![
        response(
            200,
            &[("x-amz-function-error", "Unhandled")],
            r#"{"errorMessage": "2026-12-02T09:00:00Z 42 Task timed out after 3.00 seconds"}"#,
        ),
        error(429, "TooManyRequestsException", "Rate Exceeded."),
    ]);
    let c = replay_clients(&replay);
    let tmp = tempfile::tempdir().unwrap();
    let audit = AuditLog::at(tmp.path().join("a.jsonl"));
    let plan = replay_plan(Op::LambdaInvoke {
        function: dev_api(),
        payload: "{}".into(),
        kind: InvokeKind::RequestResponse,
    });
    let (outcome, _) = run(&plan, &c, &audit).await;
    assert!(
        outcome.message().contains("dev-api timed out: "),
        "{outcome:?}"
    );
    let (outcome, _) = run(&plan, &c, &audit).await;
    assert!(
        outcome
            .message()
            .contains("throttled the invoke of dev-api"),
        "{outcome:?}"
    );
    assert!(outcome.message().contains("not retried"), "{outcome:?}");
    assert_eq!(sent(&replay).len(), 2);
}

#[tokio::test]
async fn a_tag_that_cannot_be_written_leaves_the_function_enabled() {
    let replay = StaticReplayClient::new(vec![
        response(200, &[], r#"{"ReservedConcurrentExecutions": 7}"#),
        error(
            403,
            "AccessDeniedException",
            "not authorized to perform: lambda:TagResource",
        ),
    ]);
    let c = replay_clients(&replay);
    let tmp = tempfile::tempdir().unwrap();
    let plan = replay_plan(Op::LambdaDisable {
        functions: vec![dev_api()],
    });
    let (outcome, _) = run(&plan, &c, &AuditLog::at(tmp.path().join("a.jsonl"))).await;
    let m = outcome.message();
    assert!(
        m.contains("access denied on TagResource for dev-api"),
        "{m}"
    );
    assert!(m.contains("dev-api was not disabled"), "{m}");
    let sent = sent(&replay);
    assert_eq!(
        sent.len(),
        2,
        "no PutFunctionConcurrency after the denied tag: {sent:?}"
    );
    assert!(sent[1].1.contains("/tags/"), "{sent:?}");
}

#[tokio::test]
async fn throttling_is_a_wait_and_a_deleted_function_says_so() {
    let replay = StaticReplayClient::new(vec![
        error(429, "TooManyRequestsException", "Rate exceeded"),
        response(200, &[], r#"{"ReservedConcurrentExecutions": 7}"#),
        response(204, &[], ""),
        response(200, &[], r#"{"ReservedConcurrentExecutions": 0}"#),
        error(
            404,
            "ResourceNotFoundException",
            "Function not found: dev-gone",
        ),
    ]);
    let c = replay_clients(&replay);
    let tmp = tempfile::tempdir().unwrap();
    let audit = AuditLog::at(tmp.path().join("a.jsonl"));
    let plan = replay_plan(Op::LambdaDisable {
        functions: vec![dev_api()],
    });
    let (outcome, updates) = run(&plan, &c, &audit).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    assert!(
        updates.iter().any(
            |u| matches!(u, JobUpdate::Progress(p) if p.phase.contains("throttling; waiting"))
        ),
        "{updates:?}"
    );
    assert_eq!(lines(&updates), ["disabled dev-api (was 7 reserved)"]);

    let plan = replay_plan(Op::LambdaDisable {
        functions: vec![FunctionRef {
            name: "dev-gone".into(),
            arn: None,
        }],
    });
    let (outcome, _) = run(&plan, &c, &audit).await;
    assert!(
        outcome.message().contains("dev-gone no longer exists"),
        "{outcome:?}"
    );
}
