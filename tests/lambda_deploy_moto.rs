//! Lambda code deploys and rollbacks, through the real CLI binary against
//! a real moto server seeded by the sandbox: moto implements
//! UpdateFunctionCode, GetFunction's LastUpdateStatus, PublishVersion and
//! aliases, so nothing here is replayed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::{config_file, deployment, one_line_refusal, opsdeck_cli, seeded};
use opsdeck::aws::Clients;

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
    assert_eq!(versions(&c, "dev-api").await, ["$LATEST"]);
    let out = ok_stdout(&deploy(&v1));
    assert_eq!(
        out.trim(),
        "deployed dev-api: version 1; alias ACTIVE: (new) → 1"
    );
    assert_eq!(alias(&c, "dev-api", "ACTIVE").await, "1");
    // The same zip again: nothing uploaded, nothing published.
    let out = ok_stdout(&deploy(&v1));
    assert!(out.starts_with("dev-api already runs this code"), "{out}");
    assert_eq!(versions(&c, "dev-api").await, ["$LATEST", "1"]);
    let out = ok_stdout(&deploy(&v2));
    assert_eq!(
        out.trim(),
        "deployed dev-api: version 2; alias ACTIVE: 1 → 2"
    );
    // The published version carries the new code.
    let got = c
        .lambda
        .get_function()
        .function_name("dev-api")
        .qualifier("2")
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
    // Rollback: to the version before, then forward again with --to.
    let out = ok_stdout(&cli(&["rollback", "dev-api", "--yes"]));
    assert_eq!(out.trim(), "rolled back dev-api: alias ACTIVE: 2 → 1");
    assert_eq!(alias(&c, "dev-api", "ACTIVE").await, "1");
    let why = one_line_refusal(&cli(&["rollback", "dev-api", "--yes"]));
    assert!(
        why.contains("no published version comes before it"),
        "{why}"
    );
    let why = one_line_refusal(&cli(&["rollback", "dev-api", "--to", "7", "--yes"]));
    assert!(
        why.contains("no published version 7 (published: 1, 2)"),
        "{why}"
    );
    let out = ok_stdout(&cli(&["rollback", "dev-api", "--to", "2", "--yes"]));
    assert_eq!(out.trim(), "rolled back dev-api: alias ACTIVE: 1 → 2");
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
    assert_eq!(versions(&prod, "prod-api").await, ["$LATEST"]);
    // With the name, prod deploys.
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
    assert!(ok_stdout(&out).contains("version 1 published; no alias moved"));
    assert_eq!(versions(&prod, "prod-api").await, ["$LATEST", "1"]);
}
