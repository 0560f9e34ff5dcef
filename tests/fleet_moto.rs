//! The fleet overview against a real moto server, through the real SDK:
//! numbers, verdicts and `opsdeck fleet --check` exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_sdk_sqs::types::QueueAttributeName;
use common::{Moto, deployment, free_port, repo, seeded};
use opsdeck::aws::Clients;
use opsdeck::aws::fleet::{Fleet, Report};
use opsdeck::config::{Deployment, Resources, Selector};
use opsdeck::model::fleet::{Cell, FleetRow, Verdict};

const BIN: &str = env!("CARGO_BIN_EXE_opsdeck");

fn bare(name: &str, region: &str, endpoint: &str) -> Deployment {
    let prefix = |p: &str| Some(Selector::Prefix(p.to_string()));
    Deployment {
        name: name.into(),
        profile: None,
        region: Some(region.into()),
        endpoint_url: Some(endpoint.into()),
        protected: false,
        read_only: false,
        sandbox_credentials: true,
        resources: Resources {
            stacks: prefix(&format!("{name}-")),
            lambdas: prefix(&format!("{name}-")),
            queues: prefix(&format!("{name}-")),
            log_groups: prefix(&format!("/aws/lambda/{name}-")),
            ..Resources::default()
        },
    }
}

/// `q`: two messages in a dead-letter queue and a function switched off.
async fn seed_queue_trouble(d: &Deployment, role: &str) {
    let c = Clients::connect(d).await.unwrap();
    let zip = {
        let mut buf = std::io::Cursor::new(Vec::new());
        let mut z = zip::ZipWriter::new(&mut buf);
        z.start_file("index.py", zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut z, b"def handler(e, c):\n    return 1\n").unwrap();
        z.finish().unwrap();
        buf.into_inner()
    };
    for name in ["q-worker", "q-api"] {
        c.lambda
            .create_function()
            .function_name(name)
            .runtime(aws_sdk_lambda::types::Runtime::Python312)
            .role(role)
            .handler("index.handler")
            .code(
                aws_sdk_lambda::types::FunctionCode::builder()
                    .zip_file(aws_sdk_lambda::primitives::Blob::new(zip.clone()))
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    c.lambda
        .put_function_concurrency()
        .function_name("q-worker")
        .reserved_concurrent_executions(0)
        .send()
        .await
        .unwrap();
    let dlq = c
        .sqs
        .create_queue()
        .queue_name("q-jobs-dlq")
        .send()
        .await
        .unwrap();
    let dlq_url = dlq.queue_url().unwrap().to_string();
    let arn = c
        .sqs
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes()
        .unwrap()[&QueueAttributeName::QueueArn]
        .clone();
    let jobs = c
        .sqs
        .create_queue()
        .queue_name("q-jobs")
        .attributes(
            QueueAttributeName::RedrivePolicy,
            serde_json::json!({ "deadLetterTargetArn": arn, "maxReceiveCount": 3 }).to_string(),
        )
        .send()
        .await
        .unwrap();
    for body in ["a", "b", "c", "d", "e"] {
        c.sqs
            .send_message()
            .queue_url(jobs.queue_url().unwrap())
            .message_body(body)
            .send()
            .await
            .unwrap();
    }
    for body in ["failed 1", "failed 2"] {
        c.sqs
            .send_message()
            .queue_url(&dlq_url)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }
}

/// `e`: five ERROR-or-worse lines in the last 15 minutes among lines that
/// an error pattern would also match but the level detection does not count.
async fn seed_error_lines(d: &Deployment) {
    let c = Clients::connect(d).await.unwrap();
    let group = "/aws/lambda/e-api";
    c.logs
        .create_log_group()
        .log_group_name(group)
        .send()
        .await
        .unwrap();
    c.logs
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name("s")
        .send()
        .await
        .unwrap();
    let now = jiff::Timestamp::now().as_millisecond();
    let lines: &[(i64, &str)] = &[
        // Older than 15 minutes: not counted.
        (30 * 60_000, "[ERROR]\tabc\told failure"),
        (5 * 60_000, "[ERROR]\tabc\tFailed to index bundle"),
        (5 * 60_000 - 1, "[INFO]\tabc\trecovered after ERROR"),
        (4 * 60_000, "no error found in batch"),
        (
            4 * 60_000 - 1,
            "{\"level\":\"ERROR\",\"message\":\"bulk rejected\"}",
        ),
        (3 * 60_000, "FATAL: out of memory"),
        (2 * 60_000, "[ERROR]\tdef\tUnhandled exception"),
        (2 * 60_000 - 1, "[INFO]\tdef\tHandled GET / 200"),
        (60_000, "ERROR: timeout after 30s"),
    ];
    let events: Vec<InputLogEvent> = lines
        .iter()
        .map(|(ago, text)| {
            InputLogEvent::builder()
                .timestamp(now - ago)
                .message(*text)
                .build()
                .unwrap()
        })
        .collect();
    c.logs
        .put_log_events()
        .log_group_name(group)
        .log_stream_name("s")
        .set_log_events(Some(events))
        .send()
        .await
        .unwrap();
}

fn row<'a>(rows: &'a [FleetRow], name: &str) -> &'a FleetRow {
    rows.iter().find(|r| r.deployment == name).expect(name)
}

fn config_file(deployments: &[Deployment]) -> tempfile::NamedTempFile {
    let mut text = String::new();
    for d in deployments {
        let r = &d.resources;
        let sel = |s: &Option<Selector>| match s {
            Some(Selector::Prefix(p)) => format!("{{ prefix = \"{p}\" }}"),
            _ => unreachable!(),
        };
        text.push_str(&format!(
            "[[deployment]]\nname = \"{}\"\nregion = \"{}\"\nendpoint_url = \"{}\"\nsandbox_credentials = true\n\
             [deployment.resources]\nstacks = {}\nlambdas = {}\nqueues = {}\nlog_groups = {}\n",
            d.name,
            d.region.as_deref().unwrap(),
            d.endpoint_url.as_deref().unwrap(),
            sel(&r.stacks),
            sel(&r.lambdas),
            sel(&r.queues),
            sel(&r.log_groups),
        ));
        if let Some(domain) = &r.opensearch_domain {
            text.push_str(&format!("opensearch_domain = \"{domain}\"\n"));
        }
    }
    let mut f = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut f, text.as_bytes()).unwrap();
    f
}

fn fleet_cli(config: &std::path::Path, args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(BIN)
        .arg("--config")
        .arg(config)
        .args(args)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .current_dir(repo())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test]
async fn three_deployments_give_the_right_numbers_verdicts_and_exit_codes() {
    let (moto, ds) = seeded().await;
    let mut dev = deployment(&ds, "dev");
    // The CRL cell reads local files; this test is about AWS.
    dev.resources.vpn_pki = None;
    let q = bare("q", "eu-west-1", &moto.endpoint);
    let e = bare("e", "eu-central-1", &moto.endpoint);
    seed_queue_trouble(&q, "arn:aws:iam::123456789012:role/dev-lambda-role").await;
    seed_error_lines(&e).await;

    let rows = opsdeck::cli::fleet::fetch(&[dev.clone(), q.clone(), e.clone()]).await;

    let healthy = row(&rows, "dev");
    assert_eq!(healthy.verdict(), (Verdict::Ok, vec![]), "{healthy:#?}");
    let s = healthy.stacks.ready().unwrap();
    assert_eq!((s.total, s.failed, s.in_progress), (4, 0, 0));
    let f = healthy.functions.ready().unwrap();
    assert_eq!((f.total, f.disabled.len()), (4, 0));
    let qs = healthy.queues.ready().unwrap();
    // 25 + 0 + 120 + 0 + 0 visible; the DLQs are empty outside prod.
    assert_eq!((qs.visible, qs.dlq_messages), (145, 0));
    assert_eq!(healthy.errors.ready().unwrap().count, 0);
    assert_eq!(healthy.index.ready().unwrap().state, "active");
    assert_eq!(healthy.index.ready().unwrap().cluster_status, None);
    assert_eq!(healthy.identity.ready().unwrap().account, "123456789012");

    let queued = row(&rows, "q");
    let (v, reasons) = queued.verdict();
    assert_eq!(v, Verdict::Attention);
    assert_eq!(
        reasons,
        [
            "1 disabled function (q-worker)",
            "2 messages in dead-letter queues"
        ]
    );
    assert_eq!(queued.queues.ready().unwrap().dlqs, ["q-jobs-dlq"]);
    assert_eq!(queued.queues.ready().unwrap().visible, 7);
    assert_eq!(queued.index, Cell::Unset, "no domain configured");

    let erring = row(&rows, "e");
    let errors = erring.errors.ready().unwrap();
    assert_eq!(errors.count, 5, "{errors:?}");
    assert!(!errors.capped);
    assert_eq!(errors.groups, ["/aws/lambda/e-api"]);
    assert_eq!(
        erring.verdict(),
        (
            Verdict::Attention,
            vec!["5 ERROR lines in the last 15 minutes".to_string()]
        )
    );
    // Worst first, then by name.
    let order: Vec<&str> = rows.iter().map(|r| r.deployment.as_str()).collect();
    assert_eq!(order, ["e", "q", "dev"]);

    // The CLI: the same numbers as JSON, and --check's exit code.
    let file = config_file(&[dev, q, e]);
    let (code, out) = fleet_cli(file.path(), &["fleet", "--json", "--check"]);
    assert_eq!(code, 1, "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let by = |name: &str| {
        json.as_array()
            .unwrap()
            .iter()
            .find(|o| o["deployment"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(by("dev")["status"], "ok");
    assert_eq!(by("dev")["reasons"], serde_json::json!([]));
    assert_eq!(by("q")["status"], "attention");
    assert_eq!(by("q")["dlq_messages"], 2);
    assert_eq!(by("q")["functions_disabled"], 1);
    assert_eq!(by("q")["stacks_failed"], 0);
    assert_eq!(by("e")["log_errors_15m"], 5);
    assert_eq!(by("e")["log_errors_capped"], false);
    assert_eq!(by("e")["cluster_status"], serde_json::Value::Null);
    assert_eq!(by("e")["crl_days_left"], serde_json::Value::Null);
    let (code, _) = fleet_cli(file.path(), &["--deployment", "dev", "fleet", "--check"]);
    assert_eq!(code, 0, "a healthy deployment alone passes the check");
    let (code, table) = fleet_cli(file.path(), &["fleet"]);
    assert_eq!(code, 0, "without --check the exit code does not page");
    assert!(table.contains("q (attention):"), "{table}");
    assert!(
        table.contains("  - 2 messages in dead-letter queues"),
        "{table}"
    );
}

#[tokio::test]
async fn a_closed_port_is_unreachable_while_the_others_fill() {
    let (_moto, ds) = seeded().await;
    let mut dev = deployment(&ds, "dev");
    let mut prod = deployment(&ds, "prod");
    dev.resources.vpn_pki = None;
    prod.resources.vpn_pki = None;
    let dead = bare(
        "dead",
        "us-east-1",
        &format!("http://127.0.0.1:{}", free_port()),
    );

    let fleet = Fleet::default();
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    for d in [&dead, &dev, &prod] {
        fleet.spawn(d.clone(), 7, tx.clone());
    }
    drop(tx);
    let mut rows: Vec<FleetRow> = [&dead, &dev, &prod]
        .iter()
        .map(|d| FleetRow::new(&d.name, d.protected))
        .collect();
    let mut done = Vec::new();
    let collect = async {
        while let Some(a) = rx.recv().await {
            assert_eq!(a.tag, 7);
            let r = rows
                .iter_mut()
                .find(|r| r.deployment == a.deployment)
                .unwrap();
            match a.report {
                Report::Cell(u) => r.apply(u),
                Report::Done => done.push(a.deployment.clone()),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), collect)
        .await
        .expect("every row answers, the dead one too");
    assert_eq!(done.len(), 3);
    let dead_row = row(&rows, "dead");
    let (v, reasons) = dead_row.verdict();
    assert_eq!(v, Verdict::Unreachable, "{dead_row:#?}");
    assert!(reasons[0].contains("cannot reach"), "{reasons:?}");
    assert_eq!(row(&rows, "dev").verdict().0, Verdict::Ok);
    let (v, reasons) = row(&rows, "prod").verdict();
    assert_eq!(v, Verdict::Attention);
    // The sandbox's troubled deployment: a DLQ, a function off, recent errors.
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(reasons[0].starts_with("1 disabled function (prod-reindexer)"));
    assert_eq!(reasons[1], "3 messages in dead-letter queues");
    assert!(reasons[2].ends_with("ERROR lines in the last 15 minutes"));
    // dev (us-east-1) and prod (us-west-2) share the account, not the region:
    // two budgets; the dead one never learned its account and gets its own.
    assert_eq!(fleet.budgets().len(), 3);
}

#[tokio::test]
async fn deployments_in_one_account_and_region_share_one_budget() {
    let moto = Moto::start();
    let a = bare("a", "us-east-1", &moto.endpoint);
    let b = bare("b", "us-east-1", &moto.endpoint);
    let c = bare("c", "eu-west-1", &moto.endpoint);
    let fleet = Fleet::default();
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    for d in [&a, &b, &c] {
        fleet.spawn(d.clone(), 1, tx.clone());
    }
    drop(tx);
    while rx.recv().await.is_some() {}
    assert_eq!(fleet.budgets().len(), 2);
}
