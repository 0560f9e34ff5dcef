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
            ("dev-logs", "CREATE_COMPLETE")
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
    assert_eq!(stacks.len(), 3);
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
            Response::Stacks(s) if s.len() == 3 => "stacks",
            Response::Functions(f) if f.len() == 4 => "functions",
            Response::Queues(q) if q.len() == 5 => "queues",
            Response::LogGroups(g) if g.len() == 4 => "log_groups",
            Response::Domain(Some(d)) if d.name == "dev-index" => "domain",
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

#[tokio::test]
async fn credential_problems_name_the_profile_and_what_to_run() {
    let moto = Moto::start();
    let base = deployment(&sandbox_deployments(&moto.endpoint), "dev");
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("config");
    // A shared config with an SSO profile whose login never happened.
    std::fs::write(
        &cfg,
        "[profile team-sso]\nsso_session = team\nsso_account_id = 123456789012\nsso_role_name = Dev\nregion = us-east-1\n\
         [sso-session team]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n",
    )
    .unwrap();
    // SAFETY: the only test in this binary that reads or writes these
    // variables; the others use sandbox credentials, which never read them.
    unsafe {
        std::env::set_var("AWS_CONFIG_FILE", &cfg);
        std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", &cfg);
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    }
    let identity_problem = |profile: &str| {
        let mut d = base.clone();
        d.sandbox_credentials = false;
        d.profile = Some(profile.to_string());
        async move {
            match Clients::connect(&d).await {
                Err(p) => p,
                Ok(c) => aws::sts::identity(&c).await.unwrap_err(),
            }
        }
    };

    let missing = identity_problem("opsdeck-test-no-such-profile").await;
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

    let sso = identity_problem("team-sso").await;
    assert_eq!(sso.kind, ProblemKind::CredentialsExpired, "{sso}");
    assert!(
        sso.message.contains("aws sso login --profile team-sso"),
        "{sso}"
    );
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
