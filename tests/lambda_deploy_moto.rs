//! Lambda code deploys and rollbacks against a real moto server seeded by
//! the sandbox, through the real CLI binary and through the plans the
//! console builds run by the same `jobs::run`: moto implements
//! UpdateFunctionCode, GetFunction's LastUpdateStatus, PublishVersion and
//! aliases, so nothing here is replayed. The sandbox's `dev-api` and
//! `prod-api` start with versions 1 and 2, alias ACTIVE on 2.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::{config_file, deployment, one_line_refusal, opsdeck_cli, seeded};
use opsdeck::aws::Clients;
use opsdeck::config::Deployment;
use opsdeck::jobs::lambda_code::{self, CodeSource};
use opsdeck::jobs::{self, AuditLog, Ctx, JobUpdate, Outcome, Plan, Source};

fn zip(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    let mut z = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    z.start_file("index.py", zip::write::SimpleFileOptions::default())
        .unwrap();
    z.write_all(body.as_bytes()).unwrap();
    z.finish().unwrap();
    path
}

async fn versions(c: &Clients, f: &str) -> Vec<String> {
    let out = c
        .lambda
        .list_versions_by_function()
        .function_name(f)
        .send()
        .await
        .unwrap();
    out.versions()
        .iter()
        .filter_map(|v| v.version().map(str::to_string))
        .collect()
}

async fn alias(c: &Clients, f: &str, a: &str) -> String {
    c.lambda
        .get_alias()
        .function_name(f)
        .name(a)
        .send()
        .await
        .unwrap()
        .function_version()
        .unwrap()
        .to_string()
}

/// `$LATEST`'s CodeSha256 and LastModified: what an upload would change.
async fn latest(c: &Clients, f: &str) -> (String, String) {
    let got = c
        .lambda
        .get_function()
        .function_name(f)
        .send()
        .await
        .unwrap();
    let conf = got.configuration().unwrap();
    (
        conf.code_sha256().unwrap().to_string(),
        conf.last_modified().unwrap().to_string(),
    )
}

/// Runs a plan as the console's runner does (Source::Console, its own
/// connect), collecting the job's output lines.
async fn run_as_console(plan: &Plan, audit: &AuditLog) -> (Outcome, Vec<String>) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let ctx = Ctx::new(tx, Default::default());
    let outcome = jobs::run(plan, audit, Source::Console, None, None, ctx).await;
    let mut lines = Vec::new();
    while let Ok(u) = rx.try_recv() {
        if let JobUpdate::Line(l) = u {
            lines.push(l);
        }
    }
    (outcome, lines)
}

/// dev, with dev-api's zip in `dir` and `build` as its build command.
fn dev_building(deployments: &[Deployment], dir: &Path, build: &str) -> (Deployment, PathBuf) {
    let mut d = deployment(deployments, "dev");
    let zip = dir.join("api.zip");
    let f = d
        .resources
        .deploy_functions
        .iter_mut()
        .find(|f| f.name == "dev-api")
        .expect("config/sandbox.toml configures dev-api's code deploy");
    assert_eq!(f.alias, "ACTIVE");
    f.zip = zip.clone();
    f.build = Some(build.replace("{zip}", zip.to_str().unwrap()));
    (d, zip)
}

/// The plan the console makes for U on dev-api: the configured source and
/// alias, the zip as read now, and the deployed hash as listed.
async fn console_deploy_plan(d: &Deployment, c: &Clients) -> Plan {
    let (source, alias) = CodeSource::configured(d, "dev-api").unwrap();
    let deployed = latest(c, "dev-api").await.0;
    lambda_code::deploy(
        d,
        "dev-api",
        &source,
        Some(&alias),
        lambda_code::inspect(&source.zip),
        Some(&deployed),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seeded_function_has_two_versions_and_active_on_the_second_and_a_reseed_keeps_them() {
    let (_moto, deployments) = seeded().await;
    let d = deployment(&deployments, "dev");
    let c = Clients::connect(&d).await.unwrap();
    assert_eq!(versions(&c, "dev-api").await, ["$LATEST", "1", "2"]);
    assert_eq!(alias(&c, "dev-api", "ACTIVE").await, "2");
    let prod = Clients::connect(&deployment(&deployments, "prod"))
        .await
        .unwrap();
    assert_eq!(versions(&prod, "prod-api").await, ["$LATEST", "1", "2"]);
    // The two versions run different code.
    let sha = |v: &'static str| {
        let c = c.clone();
        async move {
            c.lambda
                .get_function()
                .function_name("dev-api")
                .qualifier(v)
                .send()
                .await
                .unwrap()
                .configuration()
                .unwrap()
                .code_sha256()
                .unwrap()
                .to_string()
        }
    };
    assert_ne!(sha("1").await, sha("2").await);
    // Seeding again against the same moto changes nothing and fails nothing.
    let mut out = Vec::new();
    for d in &deployments {
        opsdeck::sandbox::seed(d, &mut out).await.unwrap();
    }
    assert_eq!(versions(&c, "dev-api").await, ["$LATEST", "1", "2"]);
    assert_eq!(alias(&c, "dev-api", "ACTIVE").await, "2");
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("dev: 4 functions ready (dev-api: versions 1 and 2, alias ACTIVE on 2)"),
        "{out}"
    );
}

/// The console's path: U on dev-api builds the sandbox's function with the
/// configured command (its coloured output in the job), uploads, publishes
/// version 3 and moves ACTIVE; the same build again deploys nothing; a
/// rollback to a chosen version moves the alias there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_deploy_builds_publishes_and_moves_the_alias_and_rolls_back_to_a_chosen_version()
 {
    let (_moto, deployments) = seeded().await;
    let dir = tempfile::tempdir().unwrap();
    let (d, zip) = dev_building(
        &deployments,
        dir.path(),
        "scripts/sandbox-build-function.sh api {zip}",
    );
    let c = Clients::connect(&d).await.unwrap();
    let audit = AuditLog::at(dir.path().join("audit.jsonl"));
    let plan = console_deploy_plan(&d, &c).await;
    assert!(
        !zip.exists(),
        "the build runs in the job, not before the confirm"
    );
    assert!(plan.lines[0].starts_with("First build it: `scripts/sandbox-build-function.sh api "));
    let (outcome, lines) = run_as_console(&plan, &audit).await;
    assert_eq!(
        outcome,
        Outcome::ok("deployed dev-api: version 3; alias ACTIVE: 2 → 3"),
        "{lines:#?}"
    );
    // The build's own output, colours kept, comes before the upload.
    let zipping = lines
        .iter()
        .position(|l| l.contains("zipping config/functions/api into"))
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert!(lines[zipping].contains("\u{1b}[36m==>"), "{lines:#?}");
    let published = lines
        .iter()
        .position(|l| l == "published version 3 of dev-api")
        .unwrap();
    assert!(zipping < published);
    assert_eq!(versions(&c, "dev-api").await, ["$LATEST", "1", "2", "3"]);
    assert_eq!(alias(&c, "dev-api", "ACTIVE").await, "3");
    let built = lambda_code::code_sha256(&std::fs::read(&zip).unwrap());
    let v3 = c
        .lambda
        .get_function()
        .function_name("dev-api")
        .qualifier("3")
        .send()
        .await
        .unwrap();
    assert_eq!(
        v3.configuration().unwrap().code_sha256(),
        Some(built.as_str())
    );

    // Built again from the same sources: the same bytes, nothing to deploy,
    // and the confirm already says so.
    let plan = console_deploy_plan(&d, &c).await;
    let (outcome, _) = run_as_console(&plan, &audit).await;
    assert!(
        outcome.is_ok()
            && outcome
                .message()
                .starts_with("dev-api already runs this code"),
        "{outcome:?}"
    );
    assert_eq!(versions(&c, "dev-api").await, ["$LATEST", "1", "2", "3"]);
    let as_is = lambda_code::deploy(
        &d,
        "dev-api",
        &CodeSource::zip(&zip),
        Some("ACTIVE"),
        lambda_code::inspect(&zip),
        Some(&built),
    )
    .unwrap();
    assert!(
        as_is.lines[2].starts_with("Unchanged:"),
        "{:?}",
        as_is.lines
    );

    // Rollback to a chosen version, as the pick list asks for it.
    let plan = lambda_code::rollback(&d, "dev-api", "ACTIVE", Some("1"), Some("3"));
    let (outcome, _) = run_as_console(&plan, &audit).await;
    assert_eq!(
        outcome,
        Outcome::ok("rolled back dev-api: alias ACTIVE: 3 → 1")
    );
    assert_eq!(alias(&c, "dev-api", "ACTIVE").await, "1");
    // Deployed again after the rollback: $LATEST has this code already, so
    // nothing is uploaded or published, and ACTIVE goes back to its version.
    let plan = console_deploy_plan(&d, &c).await;
    let (outcome, _) = run_as_console(&plan, &audit).await;
    assert!(
        outcome.is_ok()
            && outcome
                .message()
                .starts_with("dev-api already runs this code")
            && outcome
                .message()
                .ends_with("alias ACTIVE: 1 → 3, the version with this code"),
        "{outcome:?}"
    );
    assert_eq!(versions(&c, "dev-api").await, ["$LATEST", "1", "2", "3"]);
    assert_eq!(alias(&c, "dev-api", "ACTIVE").await, "3");
    let audit = std::fs::read_to_string(audit.path()).unwrap();
    let lines: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let results: Vec<String> = lines
        .iter()
        .map(|v| {
            format!(
                "{} {}",
                v["action"].as_str().unwrap(),
                v["result"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        results,
        [
            "lambda_deploy started",
            "lambda_deploy ok",
            "lambda_deploy started",
            "lambda_deploy ok",
            "lambda_rollback started",
            "lambda_rollback ok",
            "lambda_deploy started",
            "lambda_deploy ok"
        ]
    );
    assert_eq!(
        lines[0]["parameters"]["build"],
        serde_json::json!(format!(
            "scripts/sandbox-build-function.sh api {}",
            zip.display()
        ))
    );
}

/// A build that fails ends the job before anything reaches Lambda: no
/// upload ($LATEST's hash and time stay), no version, the alias stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_build_sends_nothing_to_lambda() {
    let (_moto, deployments) = seeded().await;
    let dir = tempfile::tempdir().unwrap();
    let (d, zip) = dev_building(
        &deployments,
        dir.path(),
        "echo compiling; echo 'error[E0425]: cannot find value' >&2; exit 3",
    );
    let c = Clients::connect(&d).await.unwrap();
    let before = latest(&c, "dev-api").await;
    let audit = AuditLog::at(dir.path().join("audit.jsonl"));
    let plan = console_deploy_plan(&d, &c).await;
    let (outcome, lines) = run_as_console(&plan, &audit).await;
    assert!(
        matches!(&outcome, Outcome::Failed { message, .. } if message.starts_with("the build `echo compiling;") && message.ends_with("failed (exit status 3 after 0 s); nothing was sent to Lambda")),
        "{outcome:?}"
    );
    assert!(lines.contains(&"compiling".to_string()), "{lines:#?}");
    assert!(
        lines.contains(&"error[E0425]: cannot find value".to_string()),
        "{lines:#?}"
    );
    assert!(!zip.exists());
    assert_eq!(latest(&c, "dev-api").await, before);
    assert_eq!(versions(&c, "dev-api").await, ["$LATEST", "1", "2"]);
    assert_eq!(alias(&c, "dev-api", "ACTIVE").await, "2");
    let audit = std::fs::read_to_string(audit.path()).unwrap();
    assert!(audit.contains("\"result\":\"failed\""), "{audit}");
}

/// Read-only refuses the console's deploy before its build runs, and its
/// rollback; a zip changed after its confirm is not uploaded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_refuses_before_the_build_and_a_zip_changed_since_the_confirm_is_not_sent() {
    let (_moto, deployments) = seeded().await;
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("built");
    let (mut d, _) = dev_building(
        &deployments,
        dir.path(),
        &format!(
            "touch {} && scripts/sandbox-build-function.sh api {{zip}}",
            marker.display()
        ),
    );
    let c = Clients::connect(&d).await.unwrap();
    let audit = AuditLog::at(dir.path().join("audit.jsonl"));
    let plan = console_deploy_plan(&d, &c).await;
    d.read_only = true;
    let ro = Plan {
        deployment: d.clone(),
        ..plan
    };
    let (outcome, _) = run_as_console(&ro, &audit).await;
    assert!(
        matches!(&outcome, Outcome::Refused(m) if m.contains("read-only")),
        "{outcome:?}"
    );
    let rollback = lambda_code::rollback(&d, "dev-api", "ACTIVE", Some("1"), Some("2"));
    let (outcome, _) = run_as_console(&rollback, &audit).await;
    assert!(
        matches!(&outcome, Outcome::Refused(m) if m.contains("read-only")),
        "{outcome:?}"
    );
    assert!(!marker.exists(), "the build ran on a read-only deployment");
    assert_eq!(alias(&c, "dev-api", "ACTIVE").await, "2");

    // Confirmed as one zip, found as another when the job reads it.
    d.read_only = false;
    let path = zip(
        dir.path(),
        "picked.zip",
        "def handler(e, c):\n    return 'a'\n",
    );
    let plan = lambda_code::deploy(
        &d,
        "dev-api",
        &CodeSource::zip(&path),
        Some("ACTIVE"),
        lambda_code::inspect(&path),
        None,
    )
    .unwrap();
    zip(
        dir.path(),
        "picked.zip",
        "def handler(e, c):\n    return 'b'\n",
    );
    let (outcome, _) = run_as_console(&plan, &audit).await;
    assert!(
        matches!(&outcome, Outcome::Refused(m) if m.contains("changed since the confirm")),
        "{outcome:?}"
    );
    assert_eq!(versions(&c, "dev-api").await, ["$LATEST", "1", "2"]);
}

fn ok_stdout(out: &std::process::Output) -> String {
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_publishes_and_moves_the_alias_an_unchanged_zip_publishes_nothing_and_rollback_goes_back()
 {
    let (moto, deployments) = seeded().await;
    let c = Clients::connect(&deployment(&deployments, "dev"))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), &moto, false);
    let audit = dir.path().join("audit.jsonl");
    let v1 = zip(dir.path(), "v1.zip", "def handler(e, c):\n    return 1\n");
    let v2 = zip(dir.path(), "v2.zip", "def handler(e, c):\n    return 2\n");
    let cli = |args: &[&str]| {
        let mut all = vec!["--deployment", "dev", "lambdas"];
        all.extend_from_slice(args);
        opsdeck_cli(&config, &audit, &all)
    };
    let deploy = |z: &PathBuf| {
        cli(&[
            "deploy",
            "dev-api",
            "--zip",
            z.to_str().unwrap(),
            "--alias",
            "ACTIVE",
            "--yes",
        ])
    };
    assert_eq!(versions(&c, "dev-api").await, ["$LATEST", "1", "2"]);
    let out = ok_stdout(&deploy(&v1));
    assert_eq!(
        out.trim(),
        "deployed dev-api: version 3; alias ACTIVE: 2 → 3"
    );
    assert_eq!(alias(&c, "dev-api", "ACTIVE").await, "3");
    // The same zip again: nothing uploaded, nothing published.
    let out = ok_stdout(&deploy(&v1));
    assert!(out.starts_with("dev-api already runs this code"), "{out}");
    assert_eq!(versions(&c, "dev-api").await, ["$LATEST", "1", "2", "3"]);
    let out = ok_stdout(&deploy(&v2));
    assert_eq!(
        out.trim(),
        "deployed dev-api: version 4; alias ACTIVE: 3 → 4"
    );
    // The published version carries the new code.
    let got = c
        .lambda
        .get_function()
        .function_name("dev-api")
        .qualifier("4")
        .send()
        .await
        .unwrap();
    let sha = got
        .configuration()
        .unwrap()
        .code_sha256()
        .unwrap()
        .to_string();
    assert_eq!(
        sha,
        opsdeck::jobs::lambda_code::code_sha256(&std::fs::read(&v2).unwrap())
    );
    // Rollback (the configured alias): to the version before, then to the
    // first, then forward again with --to.
    let out = ok_stdout(&cli(&["rollback", "dev-api", "--yes"]));
    assert_eq!(out.trim(), "rolled back dev-api: alias ACTIVE: 4 → 3");
    assert_eq!(alias(&c, "dev-api", "ACTIVE").await, "3");
    let out = ok_stdout(&cli(&["rollback", "dev-api", "--to", "1", "--yes"]));
    assert_eq!(out.trim(), "rolled back dev-api: alias ACTIVE: 3 → 1");
    let why = one_line_refusal(&cli(&["rollback", "dev-api", "--yes"]));
    assert!(
        why.contains("no published version comes before it"),
        "{why}"
    );
    let why = one_line_refusal(&cli(&["rollback", "dev-api", "--to", "7", "--yes"]));
    assert!(
        why.contains("no published version 7 (published: 1, 2, 3, 4)"),
        "{why}"
    );
    let out = ok_stdout(&cli(&["rollback", "dev-api", "--to", "4", "--yes"]));
    assert_eq!(out.trim(), "rolled back dev-api: alias ACTIVE: 1 → 4");
    // Without --zip: the configured zip, built first (its output on stderr),
    // and the configured alias.
    let built = dir.path().join("built").join("api.zip");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("target/sandbox/api.zip", built.to_str().unwrap());
    std::fs::write(&config, text).unwrap();
    let out = cli(&["deploy", "dev-api", "--yes"]);
    assert_eq!(
        ok_stdout(&out).trim(),
        "deployed dev-api: version 5; alias ACTIVE: 4 → 5"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("zipping config/functions/api into"),
        "{stderr}"
    );
    assert!(built.exists());
    let why = one_line_refusal(&cli(&["deploy", "dev-notifier", "--yes"]));
    assert!(
        why.contains(
            "no zip for dev-notifier: pass --zip FILE, or add a [[deployment.function]] table"
        ),
        "{why}"
    );
    let audit = std::fs::read_to_string(&audit).unwrap();
    assert!(audit.contains("\"action\":\"lambda_deploy\""), "{audit}");
    assert!(audit.contains("\"action\":\"lambda_rollback\""), "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_protected_and_bad_zips_are_refused_before_any_upload() {
    let (moto, deployments) = seeded().await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let v1 = zip(dir.path(), "v1.zip", "def handler(e, c):\n    return 1\n");
    let v1 = v1.to_str().unwrap();
    let ro = config_file(dir.path(), &moto, true);
    let why = one_line_refusal(&opsdeck_cli(
        &ro,
        &audit,
        &[
            "--deployment",
            "dev",
            "lambdas",
            "deploy",
            "dev-api",
            "--zip",
            v1,
            "--yes",
        ],
    ));
    assert!(why.contains("read-only"), "{why}");
    let why = one_line_refusal(&opsdeck_cli(
        &ro,
        &audit,
        &[
            "--deployment",
            "dev",
            "lambdas",
            "rollback",
            "dev-api",
            "--yes",
        ],
    ));
    assert!(why.contains("read-only"), "{why}");
    let config = config_file(dir.path(), &moto, false);
    let why = one_line_refusal(&opsdeck_cli(
        &config,
        &audit,
        &[
            "--deployment",
            "prod",
            "lambdas",
            "deploy",
            "prod-api",
            "--zip",
            v1,
            "--yes",
        ],
    ));
    assert!(why.contains("--confirm prod"), "{why}");
    let why = one_line_refusal(&opsdeck_cli(
        &config,
        &audit,
        &[
            "--deployment",
            "dev",
            "lambdas",
            "deploy",
            "dev-api",
            "--zip",
            "missing.zip",
            "--yes",
        ],
    ));
    assert!(why.contains("cannot read the zip missing.zip"), "{why}");
    assert!(!audit.exists(), "nothing started, nothing audited");
    let prod = Clients::connect(&deployment(&deployments, "prod"))
        .await
        .unwrap();
    assert_eq!(versions(&prod, "prod-api").await, ["$LATEST", "1", "2"]);
    // With the name, prod deploys (and moves its configured alias).
    let out = opsdeck_cli(
        &config,
        &audit,
        &[
            "--deployment",
            "prod",
            "lambdas",
            "deploy",
            "prod-api",
            "--zip",
            v1,
            "--yes",
            "--confirm",
            "prod",
        ],
    );
    assert_eq!(
        ok_stdout(&out).trim(),
        "deployed prod-api: version 3; alias ACTIVE: 2 → 3"
    );
    assert_eq!(
        versions(&prod, "prod-api").await,
        ["$LATEST", "1", "2", "3"]
    );
}

/// A cancel during the build stops the build's process group and ends the
/// job before anything is sent (the deployment's endpoint answers nothing:
/// no moto is needed to show that nothing reached it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_during_the_build_stops_it_and_sends_nothing() {
    let (config, _) = opsdeck::config::Config::parse(
        "[[deployment]]\nname = \"dev\"\nregion = \"us-east-1\"\nendpoint_url = \"http://127.0.0.1:9\"\nsandbox_credentials = true\n[[deployment.function]]\nname = \"dev-api\"\nzip = \"never.zip\"\nbuild = \"echo building; sleep 30; touch never.zip\"\n",
        Path::new("t.toml"),
    );
    let d = config.deployments[0].clone();
    let (source, alias) = CodeSource::configured(&d, "dev-api").unwrap();
    let plan = lambda_code::deploy(
        &d,
        "dev-api",
        &source,
        Some(&alias),
        lambda_code::inspect(&source.zip),
        None,
    )
    .unwrap();
    assert_eq!(plan.op.cancellable(), Ok(()));
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::at(dir.path().join("audit.jsonl"));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let token = tokio_util::sync::CancellationToken::new();
    let ctx = Ctx::new(tx, token.clone());
    let started = std::time::Instant::now();
    let job =
        tokio::spawn(
            async move { jobs::run(&plan, &audit, Source::Console, None, None, ctx).await },
        );
    while let Some(u) = rx.recv().await {
        if matches!(&u, JobUpdate::Line(l) if l == "building") {
            token.cancel();
        }
    }
    let outcome = job.await.unwrap();
    assert!(
        matches!(&outcome, Outcome::Cancelled(m) if m.starts_with("cancelled during the build `echo building; sleep 30; touch never.zip`") && m.ends_with("nothing was sent to Lambda")),
        "{outcome:?}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert!(!Path::new("never.zip").exists());
}
