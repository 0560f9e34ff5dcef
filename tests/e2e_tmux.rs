//! End to end: the real binary in tmux, against a moto server seeded by the
//! real `opsdeck sandbox seed`, driven with send-keys and read with capture-pane.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{Moto, repo};

const BIN: &str = env!("CARGO_BIN_EXE_opsdeck");

struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts `opsdeck` with `args` in a 160×45 tmux session; the pane stays
    /// after the program exits so that its exit status can be read.
    fn start(tag: &str, args: &[&str]) -> Tmux {
        let tmux = Tmux {
            socket: format!("opsdeck-e2e-{tag}-{}", std::process::id()),
        };
        let log = std::env::temp_dir().join(format!("{}.log", tmux.socket));
        // Jobs write their audit lines beside the log, never to the user's data dir.
        let audit = tmux.audit_log();
        let _ = std::fs::remove_file(&audit);
        let mut cmd = format!(
            "env AWS_EC2_METADATA_DISABLED=true OPSDECK_LOG={} OPSDECK_AUDIT_LOG={} {BIN}",
            log.display(),
            audit.display()
        );
        for a in args {
            cmd.push_str(&format!(" '{a}'"));
        }
        tmux.run(&[
            "new-session",
            "-d",
            "-x",
            "160",
            "-y",
            "45",
            "-s",
            "e2e",
            "-c",
            repo().to_str().unwrap(),
            &cmd,
        ]);
        tmux.run(&["set-option", "-t", "e2e", "remain-on-exit", "on"]);
        tmux
    }

    fn audit_log(&self) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("{}.audit.jsonl", self.socket))
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux is installed (make test checks)");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.run(&["send-keys", "-t", "e2e", k]);
            // Let each key land on its own, so Esc is not read as Alt-<next key>.
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "e2e"])
    }

    fn pane(&self, format: &str) -> String {
        self.run(&["display-message", "-p", "-t", "e2e", format])
            .trim()
            .to_string()
    }

    /// Waits until every text is on screen; panics with the screen if not.
    fn wait_for(&self, texts: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if texts.iter().all(|t| screen.contains(t)) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("waited 30 s for {texts:?}; the screen shows:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_exit(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.pane("#{pane_dead}") != "1" {
            assert!(
                Instant::now() < deadline,
                "opsdeck did not exit:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        // The terminal was restored: the alternate screen was left, so the
        // TUI's frame is gone from what the pane shows.
        let screen = self.screen();
        assert!(
            !screen.contains('╭') && !screen.contains('│'),
            "the TUI is still on screen:\n{screen}"
        );
        assert_ne!(
            self.pane("#{alternate_on}"),
            "1",
            "still in the alternate screen"
        );
        // tmux may see the pty close a moment before it has the exit status.
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let status = self.pane("#{pane_dead_status}");
            let signal = self.pane("#{pane_dead_signal}");
            if !status.is_empty() {
                return status;
            }
            if !signal.is_empty() {
                return format!("killed by signal {signal}");
            }
            // tmux sometimes leaves the exited process unreaped (a zombie);
            // the kernel keeps its wait status as the last field of its stat.
            let pid = self.pane("#{pane_pid}");
            let wait_status = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| {
                    s.split_whitespace()
                        .last()
                        .and_then(|v| v.parse::<i32>().ok())
                });
            if Instant::now() > deadline {
                return match wait_status {
                    Some(w) if w & 0x7f == 0 => ((w >> 8) & 0xff).to_string(),
                    Some(w) => format!("killed by signal {}", w & 0x7f),
                    None => "unknown".into(),
                };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

fn seeded_moto() -> Moto {
    let moto = Moto::start();
    let out = Command::new(BIN)
        .args([
            "--config",
            "config/sandbox.toml",
            "--endpoint-url",
            &moto.endpoint,
            "sandbox",
            "seed",
        ])
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "seed failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("dev: search domain dev-index ready"),
        "{stdout}"
    );
    assert!(
        stdout.contains("prod: search domain prod-index ready"),
        "{stdout}"
    );
    moto
}

#[test]
fn pick_dev_and_visit_every_panel() {
    let moto = seeded_moto();
    let t = Tmux::start(
        "visit",
        &[
            "--config",
            "config/sandbox.toml",
            "--endpoint-url",
            &moto.endpoint,
        ],
    );

    // The first screen is the fleet: both verdicts, prod (needing attention) first.
    let s = t.wait_for(&["Deployments", "attention", " ok ", "every cell is fine"]);
    let prod = s.find("│prod ").expect("prod row");
    let dev = s.find("│dev ").expect("dev row");
    assert!(prod < dev, "worst first:\n{s}");
    // The cursor stays on dev, the first deployment of the config.
    t.keys(&["Enter"]);
    // Header: account and caller ARN from STS.
    t.wait_for(&[
        "account 123456789012",
        "arn:aws:",
        "Stacks (3)",
        "dev-core",
        "UPDATE_COMPLETE",
        "dev-events",
    ]);

    t.keys(&["2"]);
    t.wait_for(&[
        "Functions (4)",
        "dev-reindexer",
        "enabled (10 reserved)",
        "python3.12",
        "1024 MB",
    ]);

    t.keys(&["3"]);
    let s = t.wait_for(&[
        "Queues (5)",
        "dev-notifications-dlq",
        "dev-indexer-tasks",
        "dev-bucket-events",
    ]);
    let row = s
        .lines()
        .find(|l| l.contains("│dev-notifications "))
        .expect("notifications row");
    assert!(
        row.contains(" 25 ")
            && row.contains(" 4 ")
            && row.contains(" 2 ")
            && row.contains("dev-notifications-dlq"),
        "{row}"
    );

    t.keys(&["Tab"]);
    t.wait_for(&[
        "Log groups (4)",
        "/aws/lambda/dev-api",
        "30 days",
        "14 days",
    ]);

    t.keys(&["5"]);
    t.wait_for(&[
        "dev-index",
        "OpenSearch_2.11",
        "2 × r6g.large.search",
        "active",
    ]);

    // Stack detail with resources and events from CloudFormation.
    t.keys(&["1", "Enter"]);
    t.wait_for(&[
        "Stack dev-core",
        "LambdaRoleArn",
        "AWS::IAM::Role",
        "Recent events",
        "UPDATE_COMPLETE",
    ]);
    t.keys(&["Escape"]);
    t.wait_for(&["Stacks (3)"]);

    // Live filter narrows as you type; q goes into the filter, not to quit.
    t.keys(&["3", "/", "d", "l", "q"]);
    t.wait_for(&["filter “dlq”", "Queues (2)"]);
    t.keys(&["Enter"]);

    // Help and palette come from the keymap and the action table.
    t.keys(&["?"]);
    t.wait_for(&["Keys", "switch_deployment", "Pick another deployment"]);
    t.keys(&["Escape"]);
    t.keys(&[":", "l", "o", "g", " ", "g", "r", "o", "u", "p", "s"]);
    t.wait_for(&["Commands", "panel_log_groups"]);
    t.keys(&["Enter"]);
    t.wait_for(&["Log groups (4)"]);

    // Switching is one key away; prod is visibly protected.
    t.keys(&["d", "k", "Enter"]);
    t.wait_for(&["prod", "PROTECTED", "us-west-2", "prod-core"]);
    // prod is the sandbox's troubled deployment: its function switched off.
    t.keys(&["2"]);
    t.wait_for(&["prod-reindexer", "disabled (0)"]);

    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), "0", "exit status");
}

#[test]
fn sigterm_and_a_dead_endpoint_leave_a_clean_terminal() {
    // Nothing listens on this port: every panel must say so, and nothing may hang.
    let port = common::free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let t = Tmux::start(
        "term",
        &[
            "--config",
            "config/sandbox.toml",
            "--endpoint-url",
            &endpoint,
            "--deployment",
            "dev",
        ],
    );
    t.wait_for(&["cannot reach", &endpoint, "connection refused", "Stacks ✗"]);
    // The UI stays responsive while AWS is unreachable.
    t.keys(&["2"]);
    t.wait_for(&["Functions", "Press r to try again."]);
    let pid = t.pane("#{pane_pid}");
    let kill = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(kill.success());
    assert_eq!(t.wait_exit(), "0", "exit status");
}

/// Stops a child process when dropped.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn tailing_the_sandbox_shows_new_lines_as_they_are_written() {
    let moto = seeded_moto();
    // The sandbox's own log generator, as `make demo` runs it.
    let _follow = Child(
        Command::new(BIN)
            .args([
                "--config",
                "config/sandbox.toml",
                "--endpoint-url",
                &moto.endpoint,
                "--deployment",
                "dev",
            ])
            .args(["sandbox", "follow", "--rate", "20"])
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .current_dir(repo())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let t = Tmux::start(
        "logs",
        &[
            "--config",
            "config/sandbox.toml",
            "--endpoint-url",
            &moto.endpoint,
            "--deployment",
            "dev",
        ],
    );
    t.wait_for(&["Log groups (4)"]);
    // Mark two log groups in the Log groups panel and tail them.
    t.keys(&["4", "Space", "Space", "t"]);
    t.wait_for(&[
        "Logs · 2 groups",
        "live",
        "following",
        "dev-api",
        "dev-indexer",
        "START RequestId",
    ]);
    t.keys(&["u"]); // UTC, to compare with what we write below

    // A line written now must reach the screen while following.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dev = common::deployment(&common::sandbox_deployments(&moto.endpoint), "dev");
    let marker = format!("opsdeck-e2e-marker-{}", std::process::id());
    let written = Instant::now();
    rt.block_on(async {
        let c = opsdeck::aws::Clients::connect(&dev).await.unwrap();
        let _ = c
            .logs
            .create_log_stream()
            .log_group_name("/aws/lambda/dev-api")
            .log_stream_name("e2e")
            .send()
            .await;
        let event = aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
            .timestamp(jiff::Timestamp::now().as_millisecond())
            .message(format!("[ERROR] {marker}"))
            .build()
            .unwrap();
        c.logs
            .put_log_events()
            .log_group_name("/aws/lambda/dev-api")
            .log_stream_name("e2e")
            .log_events(event)
            .send()
            .await
            .unwrap();
    });
    t.wait_for(&[&marker]);
    eprintln!(
        "new line to screen: {} ms (polling)",
        written.elapsed().as_millis()
    );

    // Pause, search, and resume.
    t.keys(&["f"]);
    t.wait_for(&["paused"]);
    t.keys(&["/", "m", "a", "r", "k", "e", "r", "Enter"]);
    t.wait_for(&["/marker/"]);
    t.keys(&["G"]);
    t.wait_for(&["following"]);
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), "0", "exit status");
}

/// The visible depth of a queue, as `opsdeck queues list --json` reads it.
fn visible(moto: &Moto, deployment: &str, queue: &str) -> u64 {
    let out = Command::new(BIN)
        .args([
            "--config",
            "config/sandbox.toml",
            "--endpoint-url",
            &moto.endpoint,
            "--deployment",
            deployment,
            "queues",
            "list",
            "--json",
        ])
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == queue)
        .and_then(|r| r["visible"].as_u64())
        .unwrap()
}

#[test]
fn purging_a_queue_of_protected_prod_from_the_palette_wants_the_typed_name() {
    let moto = seeded_moto();
    assert_eq!(visible(&moto, "prod", "prod-notifications"), 25);
    let t = Tmux::start(
        "purge",
        &[
            "--config",
            "config/sandbox.toml",
            "--endpoint-url",
            &moto.endpoint,
            "--deployment",
            "prod",
        ],
    );
    t.wait_for(&["PROTECTED", "prod-core"]);
    t.keys(&["3"]);
    t.wait_for(&["Queues (5)", "prod-notifications-dlq"]);
    t.keys(&["/"]);
    t.wait_for(&["enter keep"]);
    t.keys(&["p", "r", "o", "d", "-", "n", "o", "t"]);
    t.wait_for(&["Queues (2)"]);
    t.keys(&["Enter"]);
    // The palette runs the action by its exact name, not queue_purge_all.
    t.keys(&[":"]);
    t.wait_for(&["Commands"]);
    for c in "queue_purge".chars() {
        t.keys(&[&c.to_string()]);
    }
    t.keys(&["Enter"]);
    t.wait_for(&[
        "Purge queue",
        "Delete every message in queue prod-notifications (25 visible",
        "Type prod and press enter",
    ]);
    // `y` alone is just a letter here, and Enter with it is refused.
    t.keys(&["y", "Enter"]);
    t.wait_for(&["type the deployment name `prod` exactly"]);
    assert_eq!(visible(&moto, "prod", "prod-notifications"), 25);
    t.keys(&["BSpace", "p", "r", "o", "d", "Enter"]);
    t.wait_for(&["queue_purge prod: purged prod-notifications"]);
    assert_eq!(visible(&moto, "prod", "prod-notifications"), 0);
    // The Jobs panel lists it, and the audit log has its start and end.
    t.keys(&["8"]);
    t.wait_for(&["Jobs", "queue_purge", "queue prod-notifications", "ok"]);
    let audit = std::fs::read_to_string(t.audit_log()).unwrap();
    assert_eq!(audit.lines().count(), 2, "{audit}");
    assert!(audit.contains("\"deployment\":\"prod\""), "{audit}");
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), "0", "exit status");
}
