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
        Tmux::start_with(tag, &[], args)
    }

    /// As [`Tmux::start`], with `env` (NAME=value) in the program's environment.
    fn start_with(tag: &str, env: &[&str], args: &[&str]) -> Tmux {
        Tmux::start_logged(tag, env, args, None)
    }

    /// As [`Tmux::start_with`], with the program's stderr going to `stderr`
    /// (what a program prints as it dies does not reliably reach a tmux pane
    /// that closes with it).
    fn start_logged(
        tag: &str,
        env: &[&str],
        args: &[&str],
        stderr: Option<&std::path::Path>,
    ) -> Tmux {
        let tmux = Tmux {
            socket: format!("opsdeck-e2e-{tag}-{}", std::process::id()),
        };
        let log = std::env::temp_dir().join(format!("{}.log", tmux.socket));
        // Jobs write their audit lines beside the log, never to the user's data dir.
        let audit = tmux.audit_log();
        let _ = std::fs::remove_file(&audit);
        let mut cmd = format!(
            "env -u OPSDECK_DEPLOYMENT AWS_EC2_METADATA_DISABLED=true OPSDECK_LOG={} OPSDECK_AUDIT_LOG={} {} {BIN}",
            log.display(),
            audit.display(),
            env.iter()
                .map(|e| format!("'{e}'"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        for a in args {
            cmd.push_str(&format!(" '{a}'"));
        }
        if let Some(path) = stderr {
            cmd.push_str(&format!(" 2>'{}'", path.display()));
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
        // OSC 52 from the program sets a tmux paste buffer, as it would the
        // clipboard of a terminal.
        tmux.run(&["set-option", "-s", "set-clipboard", "on"]);
        tmux
    }

    /// Types `text` as it is (no key names).
    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "e2e", "-l", text]);
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
        self.wait_until(&format!("{texts:?}"), |s| {
            texts.iter().all(|t| s.contains(t))
        })
    }

    /// Waits until no text of `texts` is on screen any more.
    fn wait_gone(&self, texts: &[&str]) -> String {
        self.wait_until(&format!("{texts:?} to go"), |s| {
            !texts.iter().any(|t| s.contains(t))
        })
    }

    fn wait_until(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("waited 30 s for {what}; the screen shows:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(20));
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
        "Stacks (4)",
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
    t.wait_gone(&["Stack dev-core", "Recent events"]);
    t.wait_for(&["Stacks (4)"]);

    // Live filter narrows as you type; q goes into the filter, not to quit.
    t.keys(&["3", "/", "d", "l", "q"]);
    t.wait_for(&["filter “dlq”", "Queues (2)"]);
    t.keys(&["Enter"]);

    // Help and palette come from the keymap and the action table.
    t.keys(&["?"]);
    t.wait_for(&["Keys", "switch_deployment", "Pick another deployment"]);
    t.keys(&["Escape"]);
    // Only once the Esc was handled may ':' follow, or the terminal may
    // deliver the two as one Alt-':'.
    t.wait_gone(&["switch_deployment", "Pick another deployment"]);
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
    // moto does not stream StartLiveTail: the tail says so and polls. (Not
    // just "live", which "live tail unavailable" also contains.)
    t.wait_for(&[
        "Logs · 2 groups",
        "polling (live tail unavailable: the endpoint does not stream it)",
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
    // Paused at the newest line, the search looks forward; N goes back to
    // the marker.
    t.keys(&["N"]);

    // `y` copies the line under the cursor by OSC 52; tmux decodes what the
    // program wrote into a paste buffer.
    t.keys(&["y"]);
    t.wait_for(&["copied the line"]);
    let copied = t.run(&["show-buffer"]);
    assert!(copied.contains(&format!("[ERROR] {marker}")), "{copied:?}");
    assert_eq!(copied.lines().count(), 1, "{copied:?}");

    // ctrl-s writes the buffer to the file it names, and says so.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tail.log");
    t.keys(&["C-s", "C-u"]);
    t.type_text(path.to_str().unwrap());
    t.keys(&["Enter"]);
    let said = format!("lines to {}", path.display());
    let screen = t.wait_for(&[&said]);
    let count: usize = regex::Regex::new(r"saved (\d+) lines to")
        .unwrap()
        .captures(&screen)
        .and_then(|c| c[1].parse().ok())
        .expect("the number of lines saved");
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(written.lines().count(), count, "{written}");
    assert!(written.contains(&marker), "{written}");
    assert!(written.contains("START RequestId"), "{written}");

    t.keys(&["G"]);
    t.wait_for(&["following"]);
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), "0", "exit status");
}

#[test]
fn an_error_exit_and_a_panic_leave_a_clean_terminal() {
    // Nothing listens here; the fault comes first anyway.
    let endpoint = format!("http://127.0.0.1:{}", common::free_port());
    let args = [
        "--config",
        "config/sandbox.toml",
        "--endpoint-url",
        &endpoint,
        "--deployment",
        "dev",
    ];
    let dir = tempfile::tempdir().unwrap();
    for (fault, status, said) in [
        (
            "error",
            "1",
            "opsdeck: failing on purpose (OPSDECK_TEST_FAULT=error)",
        ),
        (
            "panic",
            "101",
            "panicking on purpose (OPSDECK_TEST_FAULT=panic)",
        ),
    ] {
        let stderr = dir.path().join(format!("{fault}.stderr"));
        let t = Tmux::start_logged(
            fault,
            &[&format!("OPSDECK_TEST_FAULT={fault}")],
            &args,
            Some(&stderr),
        );
        // The first frame was drawn: the fault strikes in the TUI, not before it.
        let log = std::env::temp_dir().join(format!("{}.log", t.socket));
        // wait_exit checks that the alternate screen was left and no frame remains.
        assert_eq!(t.wait_exit(), status, "{fault}: exit status");
        let printed = std::fs::read_to_string(&stderr).unwrap();
        assert!(printed.contains(said), "{fault}: {printed}");
        let logged = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(logged.contains("first frame drawn"), "{fault}: {logged}");
    }
}

#[test]
fn a_hung_endpoint_keeps_the_console_responsive() {
    // Accepts connections and never answers, unlike a closed port.
    let hung = common::Silent::start();
    let t = Tmux::start_with(
        "hung",
        // The deployment comes from the environment, as a user's shell sets it.
        &["OPSDECK_DEPLOYMENT=dev"],
        &[
            "--config",
            "config/sandbox.toml",
            "--endpoint-url",
            &hung.endpoint,
        ],
    );
    t.wait_for(&["dev", "us-east-1", "connecting…", "Stacks · loading…"]);
    // Each panel says it is waiting, and each switch shows at once.
    for (key, title) in [
        ("2", "Functions · loading…"),
        ("3", "Queues · loading…"),
        ("4", "Log groups · loading…"),
        ("1", "Stacks · loading…"),
    ] {
        let asked = Instant::now();
        t.keys(&[key]);
        t.wait_for(&[title]);
        let took = asked.elapsed();
        eprintln!("panel {key} shown after {} ms", took.as_millis());
        // A console waiting on the endpoint would show it after the SDK's
        // 20 s attempt timeout; the margin is for tmux's own commands, which
        // are slow on a busy machine (a switch takes ~70 ms here).
        assert!(took < Duration::from_secs(5), "panel {key} took {took:?}");
    }
    t.keys(&["5"]);
    let screen = t.wait_for(&["Index", "loading…"]);
    assert!(!screen.contains("Stacks · loading…"), "{screen}");
    // The worker did try the endpoint (on a loaded machine its first
    // connection may come after the panels said they wait).
    let deadline = Instant::now() + Duration::from_secs(30);
    while hung.connections.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        assert!(
            Instant::now() < deadline,
            "nothing connected to the hung endpoint in 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Still waiting (no answer came), still connecting, and quits at once.
    assert!(screen.contains("connecting…"), "{screen}");
    // Timed from the key's delivery to the process's end, watched in /proc:
    // tmux's own commands take long on a busy machine and are not the
    // program's doing.
    let pid = t.pane("#{pane_pid}");
    t.run(&["send-keys", "-t", "e2e", "q"]);
    let asked = Instant::now();
    // Gone, or a zombie waiting for tmux to reap it.
    let gone = || match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    };
    while !gone() && asked.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let took = asked.elapsed();
    eprintln!("quit after {} ms", took.as_millis());
    assert_eq!(t.wait_exit(), "0", "exit status");
    assert!(took < Duration::from_secs(1), "quitting took {took:?}");
}

/// What `opsdeck <what> list --json` prints for a sandbox deployment.
fn listed(moto: &Moto, deployment: &str, what: &str) -> Vec<serde_json::Value> {
    let out = Command::new(BIN)
        .args([
            "--config",
            "config/sandbox.toml",
            "--endpoint-url",
            &moto.endpoint,
            "--deployment",
            deployment,
            what,
            "list",
            "--json",
        ])
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    rows.as_array().unwrap().clone()
}

/// The visible depth of a queue, as `opsdeck queues list --json` reads it.
fn visible(moto: &Moto, deployment: &str, queue: &str) -> u64 {
    listed(moto, deployment, "queues")
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

/// Each function of a deployment as `opsdeck lambdas list --json` reads it:
/// (name, reserved concurrency).
fn reserved(moto: &Moto, deployment: &str) -> Vec<(String, Option<i64>)> {
    listed(moto, deployment, "lambdas")
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["reserved_concurrency"].as_i64(),
            )
        })
        .collect()
}

/// The emergency switch as on-call uses it: from a fresh console on the
/// protected `prod`, `2` `X`, the typed name and Enter disable every
/// function (3 keys plus the name); `A` and the name bring each back as it
/// was, and the one that was already at 0 stays there.
#[test]
fn disabling_every_function_of_prod_and_enabling_them_again() {
    let moto = seeded_moto();
    let before = reserved(&moto, "prod");
    assert_eq!(
        before,
        [
            ("prod-api".to_string(), None),
            ("prod-indexer".to_string(), Some(10)),
            ("prod-notifier".to_string(), None),
            ("prod-reindexer".to_string(), Some(0)),
        ]
    );
    let t = Tmux::start(
        "lambdas",
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
    t.keys(&["2"]);
    t.wait_for(&["Functions (4)", "prod-indexer"]);
    t.keys(&["X"]);
    t.wait_for(&[
        "prod-indexer: 10 reserved → disabled (0)",
        "Type prod and press enter",
    ]);
    // Nothing changes before the name.
    assert_eq!(reserved(&moto, "prod"), before);
    t.keys(&["p", "r", "o", "d", "Enter"]);
    t.wait_for(&["lambda_disable_all prod"]);
    t.wait_for(&["disabled (0)"]);
    assert!(
        reserved(&moto, "prod").iter().all(|(_, r)| *r == Some(0)),
        "{:?}",
        reserved(&moto, "prod")
    );

    t.keys(&["A"]);
    t.wait_for(&["Type prod and press enter"]);
    t.keys(&["p", "r", "o", "d", "Enter"]);
    t.wait_for(&["lambda_enable_all prod"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while reserved(&moto, "prod") != before {
        assert!(
            Instant::now() < deadline,
            "not restored: {:?}",
            reserved(&moto, "prod")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Two confirmed jobs, each with a start and an end line.
    let audit = std::fs::read_to_string(t.audit_log()).unwrap();
    assert_eq!(audit.lines().count(), 4, "{audit}");
    assert!(
        audit.contains("\"action\":\"lambda_enable_all\""),
        "{audit}"
    );
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), "0", "exit status");
}

#[test]
fn deploying_the_sandboxs_changed_template_from_the_stacks_panel() {
    let moto = seeded_moto();
    // Without the sandbox's health_urls: this test is about the deploy, not
    // about whatever answers on the health port (tests/health.rs checks those).
    let dir = tempfile::tempdir().unwrap();
    let config = common::config_file(dir.path(), &moto, false);
    let config = config.to_str().unwrap();
    let t = Tmux::start(
        "deploy",
        &[
            "--config",
            config,
            "--endpoint-url",
            &moto.endpoint,
            "--deployment",
            "dev",
        ],
    );
    t.wait_for(&["Stacks (4)", "dev-web", "CREATE_COMPLETE"]);
    // dev-web sorts last.
    t.keys(&["G", "D"]);
    // The preview runs as a job; its diff is the confirm dialog.
    t.wait_for(&[
        "Deploy stack",
        "Update stack dev-web with change set opsdeck-",
        "+ Add    UploadTopic  AWS::SNS::Topic",
        "~ Modify UploadQueue  AWS::SQS::Queue",
        "⚠ - Remove StaticBucket AWS::S3::Bucket",
        "Version: 1 → 2",
        "y go ahead",
    ]);
    t.keys(&["y"]);
    t.wait_for(&["stack_execute dev: stack dev-web: UPDATE_COMPLETE"]);
    // The panel refreshed after the job: the stack shows its new status.
    t.wait_for(&["UPDATE_COMPLETE"]);
    let results = common::audit_lines(&t.audit_log(), &["action", "result"]);
    assert_eq!(
        results,
        [
            "stack_deploy started",
            "stack_deploy ok",
            "stack_execute started",
            "stack_execute ok"
        ]
    );
    // The job's output holds the diff and the stack's events.
    t.keys(&["Escape", "8", "g", "Enter"]);
    t.wait_for(&[
        "stack_execute",
        "executing change set",
        "AWS::CloudFormation::Stack UPDATE_COMPLETE",
    ]);
    t.keys(&["Escape"]);
    // Deployed: a second preview finds nothing to change.
    let again = Command::new(BIN)
        .args([
            "--config",
            config,
            "--endpoint-url",
            &moto.endpoint,
            "--deployment",
            "dev",
            "stacks",
            "deploy",
            "dev-web",
        ])
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("OPSDECK_AUDIT_LOG", t.audit_log())
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(again.status.success(), "{again:?}");
    assert!(
        String::from_utf8_lossy(&again.stdout).starts_with("no changes: stack dev-web"),
        "{again:?}"
    );
    // The whole event history, newest first (moto records the stack's own
    // events), narrowed by status with the filter.
    t.keys(&["1", "G", "E"]);
    t.wait_for(&[
        "Events of dev-web",
        "all 4",
        "AWS::CloudFormation::Stack",
        "UPDATE_COMPLETE",
        "CREATE_IN_PROGRESS",
    ]);
    t.keys(&["/"]);
    t.keys(&["u", "p", "d", "a", "t", "e", "Enter"]);
    t.wait_for(&["filter “update”: 2", "UPDATE_IN_PROGRESS"]);
    t.wait_gone(&["CREATE_IN_PROGRESS"]);
    t.keys(&["Escape"]);
    t.wait_for(&["CREATE_IN_PROGRESS"]);
    t.keys(&["Escape"]);
    t.wait_gone(&["Events of dev-web"]);
    // The sandbox's command deploy (dev has one): straight to the confirm,
    // then its coloured progress in the job; it finds the stack deployed.
    t.keys(&["c"]);
    t.wait_for(&[
        "Run deploy command",
        "scripts/sandbox-deploy.sh",
        "y go ahead",
    ]);
    t.keys(&["y"]);
    t.wait_for(&["command_deploy dev: deploy `web` done (exit status 0"]);
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), "0", "exit status");
}

/// U on the Functions panel builds the sandbox function's zip with the
/// configured command and deploys it: version 3, ACTIVE moved, the open
/// detail refreshed; B then picks version 2 and the alias moves back.
#[test]
fn deploying_the_sandbox_functions_zip_from_the_functions_panel_and_rolling_back() {
    let moto = seeded_moto();
    // Without the sandbox's health_urls, as the stack deploy test.
    let dir = tempfile::tempdir().unwrap();
    let config = common::config_file(dir.path(), &moto, false);
    let t = Tmux::start(
        "lambda",
        &[
            "--config",
            config.to_str().unwrap(),
            "--endpoint-url",
            &moto.endpoint,
            "--deployment",
            "dev",
        ],
    );
    t.wait_for(&["Stacks (4)"]);
    t.keys(&["2"]);
    t.wait_for(&["Functions (4)", "dev-api"]);
    // dev-api sorts first: its detail shows the seeded versions.
    t.keys(&["g", "Enter"]);
    t.wait_for(&["Function dev-api", "Versions (3)", "← ACTIVE"]);
    t.keys(&["U"]);
    t.wait_for(&[
        "Deploy function code",
        "First build it: `scripts/sandbox-build-function.sh api target/sandbox/api.zip`",
        "Then move alias ACTIVE to the new version",
        "y go ahead",
    ]);
    t.keys(&["y"]);
    t.wait_for(&["lambda_deploy dev: deployed dev-api: version 3; alias ACTIVE: 2 → 3"]);
    // The detail under it refreshed with the job's end.
    t.wait_for(&["Versions (4)", "ACTIVE          → 3"]);
    t.keys(&["B"]);
    t.wait_for(&["Roll back dev-api: alias ACTIVE", "← ACTIVE now", "> 2 "]);
    t.keys(&["Enter"]);
    t.wait_for(&[
        "Roll back function",
        "from version 3 to version 2",
        "y go ahead",
    ]);
    t.keys(&["y"]);
    t.wait_for(&["rolled back dev-api: alias ACTIVE: 3 → 2"]);
    t.wait_for(&["ACTIVE          → 2"]);
    let results = common::audit_lines(&t.audit_log(), &["action", "result", "source"]);
    assert_eq!(
        results,
        [
            "lambda_deploy started console",
            "lambda_deploy ok console",
            "lambda_rollback started console",
            "lambda_rollback ok console"
        ]
    );
    // The build's own output is in the job.
    t.keys(&["Escape", "8", "G", "Enter"]);
    t.wait_for(&[
        "zipping config/functions/api into target/sandbox/api.zip",
        "published version 3 of dev-api",
    ]);
    t.keys(&["Escape", "q"]);
    assert_eq!(t.wait_exit(), "0", "exit status");
}
