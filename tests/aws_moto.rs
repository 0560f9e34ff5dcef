//! The AWS workers against a real moto server, through the real SDK.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Moto, deployment, free_port, sandbox_deployments, seeded};
use opsdeck::aws::{self, Clients, Event, Request, Response, Worker};
use opsdeck::config::Selector;
use opsdeck::model::{Concurrency, ProblemKind, QueueRow};

async fn clients(d: &opsdeck::config::Deployment) -> Clients {
    Clients::connect(d).await.unwrap()
}

#[tokio::test]
async fn every_panel_fetches_the_seeded_dev_deployment() {
    let (_moto, ds) = seeded().await;
    let dev = deployment(&ds, "dev");
    let c = clients(&dev).await;
    let r = &dev.resources;

    let id = aws::sts::identity(&c).await.unwrap();
    assert_eq!(id.account, "123456789012");
    assert!(id.arn.starts_with("arn:aws:"), "{}", id.arn);

    let mut stacks = aws::cloudformation::stacks(&c, r.stacks.as_ref())
        .await
        .unwrap();
    stacks.sort_by(|a, b| a.name.cmp(&b.name));
    let names: Vec<_> = stacks
        .iter()
        .map(|s| (s.name.as_str(), s.status.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("dev-core", "UPDATE_COMPLETE"),
            ("dev-events", "CREATE_COMPLETE"),
            ("dev-logs", "CREATE_COMPLETE"),
            ("dev-web", "CREATE_COMPLETE")
        ]
    );
    let core = &stacks[0];
    assert!(
        core.outputs
            .iter()
            .any(|o| o.key == "LambdaRoleArn" && o.value.ends_with(":role/dev-lambda-role"))
    );
    assert!(
        core.parameters
            .iter()
            .any(|p| p.key == "Environment" && p.value == "dev")
    );
    assert!(core.updated.is_some());

    let mut functions = aws::lambda::functions(&c, r.lambdas.as_ref())
        .await
        .unwrap();
    functions.sort_by(|a, b| a.name.cmp(&b.name));
    let summary: Vec<_> = functions
        .iter()
        .map(|f| (f.name.as_str(), f.memory_mb, f.timeout_s, f.concurrency))
        .collect();
    assert_eq!(
        summary,
        [
            ("dev-api", Some(512), Some(30), Concurrency::Unreserved),
            (
                "dev-indexer",
                Some(1024),
                Some(300),
                Concurrency::Reserved(10)
            ),
            ("dev-notifier", Some(256), Some(60), Concurrency::Unreserved),
            // Only the sandbox's troubled prod has it switched off.
            (
                "dev-reindexer",
                Some(1024),
                Some(900),
                Concurrency::Unreserved
            ),
        ]
    );
    assert!(
        functions
            .iter()
            .all(|f| f.runtime.as_deref() == Some("python3.12") && f.last_modified.is_some())
    );

    let queues = aws::sqs::queues(&c, r.queues.as_ref()).await.unwrap();
    let q = |name: &str| -> &QueueRow { queues.iter().find(|q| q.name == name).expect(name) };
    assert_eq!(queues.len(), 5, "{queues:#?}");
    let n = q("dev-notifications");
    assert_eq!(
        (n.visible, n.in_flight, n.delayed),
        (Some(25), Some(4), Some(2))
    );
    assert_eq!(
        n.dead_letter_queue.as_deref(),
        Some("dev-notifications-dlq")
    );
    assert_eq!(q("dev-notifications-dlq").dlq_of, ["dev-notifications"]);
    // Only the sandbox's troubled prod has messages in a DLQ.
    assert_eq!(q("dev-notifications-dlq").visible, Some(0));
    assert_eq!(q("dev-indexer-tasks").visible, Some(120));
    assert!(q("dev-bucket-events").dead_letter_queue.is_none());

    let groups = aws::logs::log_groups(&c, r.log_groups.as_ref())
        .await
        .unwrap();
    let g: Vec<_> = groups
        .iter()
        .map(|g| (g.name.as_str(), g.retention_days))
        .collect();
    assert_eq!(
        g,
        [
            ("/aws/lambda/dev-api", Some(30)),
            ("/aws/lambda/dev-indexer", Some(14)),
            ("/aws/lambda/dev-notifier", Some(14)),
            ("/aws/lambda/dev-reindexer", Some(14)),
        ]
    );

    let domain = aws::opensearch::domain(&c, "dev-index").await.unwrap();
    assert_eq!(domain.engine_version.as_deref(), Some("OpenSearch_2.11"));
    assert_eq!(domain.instance_count, Some(2));
    assert_eq!(domain.instance_type.as_deref(), Some("r6g.large.search"));
    assert!(domain.endpoint.is_some());
    assert!(!domain.processing);
}

#[tokio::test]
async fn deployments_see_only_their_own_resources() {
    let (_moto, ds) = seeded().await;
    let prod = deployment(&ds, "prod");
    let c = clients(&prod).await;
    let r = &prod.resources;
    // prod lives in us-west-2; nothing of dev (us-east-1) may show up.
    let stacks = aws::cloudformation::stacks(&c, r.stacks.as_ref())
        .await
        .unwrap();
    assert_eq!(stacks.len(), 4);
    assert!(stacks.iter().all(|s| s.name.starts_with("prod-")));
    let queues = aws::sqs::queues(&c, r.queues.as_ref()).await.unwrap();
    assert!(!queues.is_empty() && queues.iter().all(|q| q.name.starts_with("prod-")));
    let domain = aws::opensearch::domain(&c, "prod-index").await.unwrap();
    assert_eq!(domain.instance_count, Some(3));
}

#[tokio::test]
async fn stack_detail_lists_resources_and_recent_events() {
    let (_moto, ds) = seeded().await;
    let c = clients(&deployment(&ds, "dev")).await;
    let d = aws::cloudformation::detail(&c, "dev-logs").await.unwrap();
    assert_eq!(d.resources.len(), 4);
    assert!(
        d.resources
            .iter()
            .all(|r| r.kind == "AWS::Logs::LogGroup" && r.status == "CREATE_COMPLETE")
    );
    assert!(
        d.events
            .iter()
            .any(|e| e.status == "CREATE_COMPLETE" && e.logical_id == "dev-logs")
    );
    // Newest first.
    let times: Vec<_> = d.events.iter().filter_map(|e| e.time).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
}

#[tokio::test]
async fn name_selectors_pick_exactly_those_and_skip_missing_ones() {
    let (_moto, ds) = seeded().await;
    let mut dev = deployment(&ds, "dev");
    dev.resources.stacks = Some(Selector::Names(vec![
        "dev-core".into(),
        "dev-not-there".into(),
    ]));
    dev.resources.lambdas = Some(Selector::Names(vec!["dev-api".into(), "prod-api".into()]));
    dev.resources.log_groups = Some(Selector::Names(vec!["/aws/lambda/dev-api".into()]));
    let c = clients(&dev).await;
    let r = &dev.resources;
    let stacks = aws::cloudformation::stacks(&c, r.stacks.as_ref())
        .await
        .unwrap();
    assert_eq!(
        stacks.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["dev-core"]
    );
    let functions = aws::lambda::functions(&c, r.lambdas.as_ref())
        .await
        .unwrap();
    assert_eq!(
        functions
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>(),
        ["dev-api"]
    );
    let groups = aws::logs::log_groups(&c, r.log_groups.as_ref())
        .await
        .unwrap();
    assert_eq!(
        groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
        ["/aws/lambda/dev-api"]
    );
}

#[tokio::test]
async fn lists_follow_every_page() {
    let moto = Moto::start();
    let dev = deployment(&sandbox_deployments(&moto.endpoint), "dev");
    let c = clients(&dev).await;
    // DescribeLogGroups returns at most 50 a page; ListQueues 1000 but moto pages smaller.
    for i in 0..130 {
        c.logs
            .create_log_group()
            .log_group_name(format!("/aws/lambda/dev-many-{i:03}"))
            .send()
            .await
            .unwrap();
    }
    for i in 0..120 {
        c.sqs
            .create_queue()
            .queue_name(format!("dev-many-{i:03}"))
            .send()
            .await
            .unwrap();
    }
    let groups = aws::logs::log_groups(&c, dev.resources.log_groups.as_ref())
        .await
        .unwrap();
    assert_eq!(groups.len(), 130);
    let queues = aws::sqs::queues(&c, dev.resources.queues.as_ref())
        .await
        .unwrap();
    assert_eq!(queues.len(), 120);
}

#[tokio::test]
async fn the_worker_answers_requests_tagged_with_its_generation() {
    let (_moto, ds) = seeded().await;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Event>(16);
    let worker = Worker::spawn(deployment(&ds, "dev"), 7, tx);
    for r in [
        Request::Identity,
        Request::Stacks,
        Request::Functions,
        Request::Queues,
        Request::LogGroups,
        Request::Domain,
    ] {
        assert!(worker.send(r));
    }
    let mut seen = Vec::new();
    for _ in 0..6 {
        let e = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(e.generation, 7);
        let ok = e.outcome.unwrap();
        seen.push(match ok {
            Response::Identity(_) => "identity",
            Response::Stacks(s) if s.len() == 4 => "stacks",
            Response::Functions(f) if f.len() == 4 => "functions",
            Response::Queues(q) if q.len() == 5 => "queues",
            Response::LogGroups(g) if g.len() == 4 => "log_groups",
            Response::Domain(Some(d)) if d.name == "dev-index" => "domain",
            // With a data plane configured, the domain comes with its cluster
            // (here none answers: the view says why, beside the domain).
            Response::Index(v) if v.domain.as_ref().is_some_and(|d| d.name == "dev-index") => {
                "domain"
            }
            other => panic!("unexpected {other:?}"),
        });
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            "domain",
            "functions",
            "identity",
            "log_groups",
            "queues",
            "stacks"
        ]
    );
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_clear_problem() {
    let port = free_port(); // nothing listens here
    let mut dev = deployment(&sandbox_deployments("http://127.0.0.1:1"), "dev");
    dev.override_endpoint(&format!("http://127.0.0.1:{port}"))
        .unwrap();
    let c = clients(&dev).await;
    let p = aws::sts::identity(&c).await.unwrap_err();
    assert_eq!(p.kind, ProblemKind::Unreachable, "{p}");
    assert!(p.message.contains(&format!("127.0.0.1:{port}")), "{p}");
    assert!(p.message.contains("connection refused"), "{p}");
}

// ---- credentials, in a child process -----------------------------------------------
//
// aws-config reads AWS_PROFILE, AWS_REGION, AWS_CONFIG_FILE, AWS_ENDPOINT_URL_*
// and the rest from the process environment. Setting them in this process
// would race with every other test here that loads a config, so each
// scenario runs in a child: this test binary again, running only the ignored
// test `child`, with exactly the environment the scenario needs.

/// The shared config file of the scenarios. `base` has static keys (moto
/// takes any) and moto as its endpoint, `plain` the keys alone; `assumer` assumes a role through moto's STS with them; `proc`
/// gets its keys from a credential_process that leaves a mark in `marker`;
/// `team-sso` is an SSO profile whose login never happened.
fn aws_config_file(
    dir: &std::path::Path,
    endpoint: &str,
    marker: &std::path::Path,
) -> std::path::PathBuf {
    let path = dir.join("config");
    let process = format!(
        "sh -c 'echo ran >> {}; echo {{\\\"Version\\\": 1, \\\"AccessKeyId\\\": \\\"AKIAOPSDECKPROCESS\\\", \\\"SecretAccessKey\\\": \\\"process-secret\\\"}}'",
        marker.display()
    );
    std::fs::write(
        &path,
        format!(
            "[profile base]\n\
             aws_access_key_id = AKIAOPSDECKBASE\n\
             aws_secret_access_key = base-secret\n\
             region = us-east-1\n\
             endpoint_url = {endpoint}\n\
             [profile assumer]\n\
             role_arn = arn:aws:iam::123456789012:role/opsdeck-test\n\
             role_session_name = opsdeck-session\n\
             source_profile = base\n\
             region = us-east-1\n\
             endpoint_url = {endpoint}\n\
             [profile plain]\n\
             aws_access_key_id = AKIAOPSDECKPLAIN\n\
             aws_secret_access_key = plain-secret\n\
             [profile proc]\n\
             credential_process = {process}\n\
             region = us-east-1\n\
             [profile team-sso]\n\
             sso_session = team\n\
             sso_account_id = 123456789012\n\
             sso_role_name = Dev\n\
             region = us-east-1\n\
             [sso-session team]\n\
             sso_start_url = https://example.awsapps.com/start\n\
             sso_region = us-east-1\n"
        ),
    )
    .unwrap();
    path
}

/// Runs `scenario` in a child with the AWS config above and `env`; fails
/// with the child's output if the child fails.
fn in_child(scenario: &str, endpoint: &str, config: &std::path::Path, env: &[(&str, &str)]) {
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "child",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env_clear()
    .env("PATH", std::env::var_os("PATH").unwrap_or_default())
    .env("OPSDECK_TEST_SCENARIO", scenario)
    .env("OPSDECK_TEST_ENDPOINT", endpoint)
    .env("AWS_CONFIG_FILE", config)
    .env("AWS_SHARED_CREDENTIALS_FILE", config)
    .env("AWS_EC2_METADATA_DISABLED", "true");
    if let Some(moto) = std::env::var_os("OPSDECK_MOTO_SERVER") {
        cmd.env("OPSDECK_MOTO_SERVER", moto);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "scenario {scenario} failed:\n{text}");
    assert!(
        text.contains("1 passed"),
        "scenario {scenario} did not run:\n{text}"
    );
}

struct Scenario {
    dir: tempfile::TempDir,
    config: std::path::PathBuf,
    marker: std::path::PathBuf,
}

fn scenario(endpoint: &str) -> Scenario {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("credential_process-ran");
    let config = aws_config_file(dir.path(), endpoint, &marker);
    Scenario {
        dir,
        config,
        marker,
    }
}

#[tokio::test]
async fn credential_problems_name_the_profile_and_what_to_run() {
    let moto = Moto::start();
    let s = scenario(&moto.endpoint);
    in_child("problems", &moto.endpoint, &s.config, &[]);
    drop(s.dir);
}

#[tokio::test]
async fn an_assume_role_profile_assumes_the_role_through_sts() {
    let moto = Moto::start();
    let s = scenario(&moto.endpoint);
    in_child("assume_role", &moto.endpoint, &s.config, &[]);
}

#[tokio::test]
async fn credential_process_provides_the_keys() {
    let moto = Moto::start();
    let s = scenario(&moto.endpoint);
    in_child("credential_process", &moto.endpoint, &s.config, &[]);
    let ran = std::fs::read_to_string(&s.marker).unwrap_or_default();
    assert!(ran.contains("ran"), "the credential_process never ran");
}

#[tokio::test]
async fn aws_profile_and_aws_region_pick_the_identity_and_the_region() {
    let (moto, _) = seeded().await;
    let s = scenario(&moto.endpoint);
    in_child(
        "env_profile_region",
        &moto.endpoint,
        &s.config,
        &[("AWS_PROFILE", "assumer"), ("AWS_REGION", "us-west-2")],
    );
}

#[tokio::test]
async fn aws_endpoint_url_per_service_reaches_moto() {
    let (moto, _) = seeded().await;
    let s = scenario(&moto.endpoint);
    in_child(
        "service_endpoints",
        &moto.endpoint,
        &s.config,
        &[
            ("AWS_ENDPOINT_URL_STS", moto.endpoint.as_str()),
            ("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", moto.endpoint.as_str()),
        ],
    );
}

/// The scenarios' own side; see [`in_child`]. Only ever run by it.
#[tokio::test]
#[ignore = "run in a child process by the credential tests"]
async fn child() {
    let scenario = std::env::var("OPSDECK_TEST_SCENARIO").expect("run by in_child");
    let endpoint = std::env::var("OPSDECK_TEST_ENDPOINT").unwrap();
    let base = deployment(&sandbox_deployments(&endpoint), "dev");
    let with = |profile: Option<&str>, region: Option<&str>, endpoint: Option<&str>| {
        let mut d = base.clone();
        d.sandbox_credentials = false;
        d.profile = profile.map(str::to_string);
        d.region = region.map(str::to_string);
        d.endpoint_url = endpoint.map(str::to_string);
        d
    };
    let identity = async |d: &opsdeck::config::Deployment| match Clients::connect(d).await {
        Err(p) => Err(p),
        Ok(c) => aws::sts::identity(&c).await,
    };
    match scenario.as_str() {
        "problems" => {
            let missing = identity(&with(
                Some("opsdeck-test-no-such-profile"),
                Some("us-east-1"),
                Some(&endpoint),
            ))
            .await
            .unwrap_err();
            assert_eq!(missing.kind, ProblemKind::NoCredentials, "{missing}");
            assert!(
                missing.message.contains("`opsdeck-test-no-such-profile`"),
                "{missing}"
            );
            assert!(
                missing
                    .message
                    .contains("aws configure --profile opsdeck-test-no-such-profile"),
                "{missing}"
            );
            let sso = identity(&with(Some("team-sso"), Some("us-east-1"), Some(&endpoint)))
                .await
                .unwrap_err();
            assert_eq!(sso.kind, ProblemKind::CredentialsExpired, "{sso}");
            assert!(
                sso.message.contains("aws sso login --profile team-sso"),
                "{sso}"
            );
        }
        "assume_role" => {
            let id = identity(&with(Some("assumer"), None, Some(&endpoint)))
                .await
                .unwrap();
            assert_eq!(
                id.arn,
                "arn:aws:sts::123456789012:assumed-role/opsdeck-test/opsdeck-session"
            );
        }
        "credential_process" => {
            let id = identity(&with(Some("proc"), None, Some(&endpoint)))
                .await
                .unwrap();
            assert_eq!(id.account, "123456789012");
        }
        "env_profile_region" => {
            // Neither profile nor region in the deployment: AWS_PROFILE and
            // AWS_REGION decide.
            let d = with(None, None, Some(&endpoint));
            let id = identity(&d).await.unwrap();
            assert_eq!(
                id.arn,
                "arn:aws:sts::123456789012:assumed-role/opsdeck-test/opsdeck-session"
            );
            let c = Clients::connect(&d).await.unwrap();
            let groups = aws::logs::log_groups(&c, None).await.unwrap();
            assert!(!groups.is_empty());
            // us-west-2 is where the sandbox put prod.
            assert!(
                groups
                    .iter()
                    .all(|g| g.name.starts_with("/aws/lambda/prod-")),
                "{groups:?}"
            );
        }
        "service_endpoints" => {
            // No endpoint_url in the deployment: without the variables these
            // calls would go to AWS, which this machine cannot reach.
            let d = with(Some("plain"), Some("us-east-1"), None);
            let c = Clients::connect(&d).await.unwrap();
            let id = aws::sts::identity(&c).await.unwrap();
            assert_eq!(id.account, "123456789012");
            let groups = aws::logs::log_groups(&c, None).await.unwrap();
            assert!(
                !groups.is_empty()
                    && groups
                        .iter()
                        .all(|g| g.name.starts_with("/aws/lambda/dev-")),
                "{groups:?}"
            );
        }
        other => panic!("no scenario {other}"),
    }
}

#[tokio::test]
async fn a_missing_domain_is_not_found() {
    let moto = Moto::start();
    let c = clients(&deployment(&sandbox_deployments(&moto.endpoint), "dev")).await;
    let p = aws::opensearch::domain(&c, "no-such-domain")
        .await
        .unwrap_err();
    assert_eq!(p.kind, ProblemKind::NotFound, "{p}");
}

#[tokio::test]
async fn seeding_refuses_a_remote_endpoint() {
    let mut dev = deployment(&sandbox_deployments("http://127.0.0.1:1"), "dev");
    dev.sandbox_credentials = false;
    dev.endpoint_url = Some("https://cloudformation.us-east-1.amazonaws.com".into());
    let err = opsdeck::sandbox::seed(&dev, &mut Vec::new())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("only seeds an emulator on this machine"),
        "{err}"
    );
}

#[tokio::test]
async fn the_same_worker_recovers_when_the_endpoint_comes_back() {
    let (mut moto, ds) = seeded().await;
    let port = moto.port;
    let dev = deployment(&ds, "dev");
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Event>(16);
    let worker = Worker::spawn(dev.clone(), 1, tx);
    let mut ask = async |r: Request| {
        assert!(worker.send(r));
        tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .unwrap()
            .unwrap()
            .outcome
    };
    assert!(matches!(ask(Request::Queues).await, Ok(Response::Queues(q)) if q.len() == 5));

    moto.stop();
    let down = ask(Request::Queues).await.unwrap_err();
    assert_eq!(down.kind, ProblemKind::Unreachable, "{down}");

    // Back on the same port (empty, as after a real restart), then re-seeded.
    let _moto = Moto::start_on(port);
    opsdeck::sandbox::seed(&dev, &mut Vec::new()).await.unwrap();
    assert!(matches!(ask(Request::Queues).await, Ok(Response::Queues(q)) if q.len() == 5));
}
