//! Command deploys with real scripts (no AWS at all): output order and
//! colours, exit codes, the environment, and a cancel that reaches the
//! command's children and leaves no process behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use opsdeck::config::Config;
use opsdeck::jobs::{self, AuditLog, Ctx, JobUpdate, Outcome, Source};

const CONFIG: &str = r#"
[[deployment]]
name = "dev"
region = "us-east-1"
profile = "azul-dev"

[[deployment.command]]
name = "colours"
run = "printf '\\033[32mstep 1 ok\\033[0m\\n'; echo 'a warning' >&2; sleep 0.2; printf '\\033[1;31mstep 2 red\\033[0m\\n'"

[[deployment.command]]
name = "fails"
run = "echo about to fail; exit 3"

[[deployment.command]]
name = "env"
run = "echo \"$OPSDECK_DEPLOYMENT $AWS_REGION $AWS_PROFILE $STAGE $(pwd)\""
workdir = "/tmp"
env = { STAGE = "blue" }

[[deployment]]
name = "prod"
protected = true

[[deployment.command]]
name = "colours"
run = "true"
"#;

fn config(dir: &Path, extra: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, format!("{CONFIG}{extra}")).unwrap();
    path
}

fn cli(dir: &Path, args: &[&str]) -> std::process::Output {
    common::opsdeck_cli(&config(dir, ""), &dir.join("audit.jsonl"), args)
}

#[test]
fn output_keeps_its_order_and_colours_and_the_exit_status_decides() {
    let dir = tempfile::tempdir().unwrap();
    let out = cli(
        dir.path(),
        &["--deployment", "dev", "deploy", "colours", "--yes"],
    );
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let one = stderr
        .find("\x1b[32mstep 1 ok\x1b[0m")
        .expect("green, as printed");
    let two = stderr
        .find("\x1b[1;31mstep 2 red\x1b[0m")
        .expect("red, as printed");
    assert!(stderr.contains("a warning"), "{stderr}");
    assert!(one < two, "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("deploy `colours` done (exit status 0"),
        "{out:?}"
    );
    let out = cli(
        dir.path(),
        &["--deployment", "dev", "deploy", "fails", "--yes"],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("about to fail"), "{stderr}");
    assert!(
        stderr.contains("deploy `fails` failed: exit status 3"),
        "{stderr}"
    );
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    let results: Vec<&str> = audit
        .lines()
        .filter(|l| l.contains("\"action\":\"command_deploy\""))
        .map(|l| {
            if l.contains("\"result\":\"ok\"") {
                "ok"
            } else if l.contains("\"result\":\"failed\"") {
                "failed"
            } else {
                "started"
            }
        })
        .collect();
    assert_eq!(results, ["started", "ok", "started", "failed"]);
}

#[test]
fn the_command_gets_the_deployments_environment_and_workdir() {
    let dir = tempfile::tempdir().unwrap();
    let out = cli(
        dir.path(),
        &["--deployment", "dev", "deploy", "env", "--yes"],
    );
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("dev us-east-1 azul-dev blue /tmp"),
        "{stderr}"
    );
}

#[test]
fn refusals_come_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let why = common::one_line_refusal(&cli(
        dir.path(),
        &["--deployment", "dev", "deploy", "colour", "--yes"],
    ));
    assert!(
        why.contains("no deploy command `colour` (configured: colours, fails, env)"),
        "{why}"
    );
    let why = common::one_line_refusal(&cli(
        dir.path(),
        &["--deployment", "prod", "deploy", "colours", "--yes"],
    ));
    assert!(why.contains("--confirm prod"), "{why}");
    let why = common::one_line_refusal(&cli(
        dir.path(),
        &[
            "--read-only",
            "--deployment",
            "dev",
            "deploy",
            "colours",
            "--yes",
        ],
    ));
    assert!(why.contains("read-only"), "{why}");
    assert!(!dir.path().join("audit.jsonl").exists());
}

fn alive(pid: i32) -> bool {
    // A zombie is dead, only not yet reaped by whoever adopted it.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit(')').next().map(|r| r.trim_start().to_string()))
        .is_some_and(|r| !r.starts_with('Z'))
}

/// Runs the deploy `run` as a job, cancels it once `ready` is printed, and
/// returns the outcome, the lines and how long the cancel took.
async fn cancelled(run: &str, ready: &str) -> (Outcome, Vec<String>, Duration) {
    let (config, _) = Config::parse(
        &format!(
            "[[deployment]]\nname = \"dev\"\n[[deployment.command]]\nname = \"slow\"\nrun = '''{run}'''\n"
        ),
        Path::new("t.toml"),
    );
    let d = config.deployments[0].clone();
    let plan = jobs::command::plan(&d, &d.resources.deploy_commands[0]);
    assert_eq!(plan.op.cancellable(), Ok(()));
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::at(dir.path().join("audit.jsonl"));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let token = tokio_util::sync::CancellationToken::new();
    let ctx = Ctx::new(tx, token.clone());
    let job =
        tokio::spawn(async move { jobs::run(&plan, &audit, Source::Cli, None, None, ctx).await });
    let mut lines = Vec::new();
    let mut asked = None;
    while let Some(u) = rx.recv().await {
        if let JobUpdate::Line(l) = u {
            if l.contains(ready) && asked.is_none() {
                token.cancel();
                asked = Some(Instant::now());
            }
            lines.push(l);
        }
    }
    let outcome = job.await.unwrap();
    (outcome, lines, asked.unwrap().elapsed())
}

fn pid_in(lines: &[String], tag: &str) -> i32 {
    lines
        .iter()
        .find_map(|l| l.strip_prefix(tag))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn cancel_sends_sigint_to_the_group_and_leaves_no_orphan() {
    // A deploy that cleans up on SIGINT, with a child of its own.
    let (outcome, lines, took) = cancelled(
        "sleep 300 & echo child $!; trap 'echo cleaning up; exit 130' INT; echo ready; while true; do sleep 0.1; done",
        "ready",
    )
    .await;
    let child = pid_in(&lines, "child ");
    let Outcome::Cancelled(message) = &outcome else {
        panic!("{outcome:?} {lines:?}");
    };
    assert!(message.contains("exit status 130"), "{message}");
    assert!(lines.iter().any(|l| l == "cleaning up"), "{lines:?}");
    assert!(took < jobs::command::GRACE, "SIGINT was enough: {took:?}");
    // The background child got the SIGINT too (or the group's SIGTERM after).
    let deadline = Instant::now() + Duration::from_secs(3);
    while alive(child) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !alive(child),
        "the child {child} was left running: {lines:?}"
    );
}

#[tokio::test]
async fn a_command_that_ignores_sigint_gets_sigterm_after_the_grace_period() {
    let (outcome, lines, took) = cancelled(
        "trap '' INT; echo pid $$; echo ready; while true; do sleep 0.1; done",
        "ready",
    )
    .await;
    let pid = pid_in(&lines, "pid ");
    assert!(matches!(outcome, Outcome::Cancelled(_)), "{outcome:?}");
    assert!(
        lines.iter().any(|l| l.contains("after SIGINT: SIGTERM")),
        "{lines:?}"
    );
    assert!(took >= jobs::command::GRACE, "{took:?}");
    assert!(!alive(pid));
}

/// The sandbox's own command deploy: coloured progress, then a stack update
/// through the emulator (moto), by the same opsdeck binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandboxs_command_deploy_updates_its_stack_through_the_emulator() {
    let (moto, deployments) = common::seeded().await;
    let dir = tempfile::tempdir().unwrap();
    let config = common::config_file(dir.path(), &moto, false);
    let out = common::opsdeck_cli(
        &config,
        &dir.path().join("audit.jsonl"),
        &["--deployment", "dev", "deploy", "web", "--yes"],
    );
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let progress = stderr
        .find("\x1b[36m==>\x1b[0m planning")
        .expect("coloured progress");
    let done = stderr
        .find("stack dev-web: UPDATE_COMPLETE")
        .expect("the stack deployed");
    assert!(progress < done, "{stderr}");
    let c = opsdeck::aws::Clients::connect(&common::deployment(&deployments, "dev"))
        .await
        .unwrap();
    let out = c
        .cloudformation
        .list_stack_resources()
        .stack_name("dev-web")
        .send()
        .await
        .unwrap();
    let mut ids: Vec<&str> = out
        .stack_resource_summaries()
        .iter()
        .filter_map(|r| r.logical_resource_id())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, ["UploadQueue", "UploadTopic"]);
}
