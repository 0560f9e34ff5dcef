//! Command deploys: `make deploy`, `cdk deploy`, Terraform, run as a job.
//!
//! The command runs under `sh -c` in its own process group, with the
//! deployment's `AWS_PROFILE`, `AWS_REGION` (and endpoint, for the sandbox),
//! `OPSDECK_DEPLOYMENT` and `OPSDECK` (this binary) in its environment. Its stdout and stderr
//! stream into the job's output line by line, ANSI colours kept as they
//! came (the console turns them into styles when it draws). Its exit status
//! decides the result. A cancel sends SIGINT to the whole group (Terraform
//! and CDK clean up on it), then SIGTERM after a grace period, then SIGKILL;
//! whatever of the group is still alive after the command ends is
//! terminated too, so no child is left behind.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

use super::{Ctx, Effect, Op, Outcome, Plan};
use crate::config::{CommandDeploy, Deployment};

/// How long a cancelled command has after SIGINT, and again after SIGTERM.
pub const GRACE: Duration = Duration::from_secs(5);

/// Runs a configured command deploy.
pub fn plan(d: &Deployment, c: &CommandDeploy) -> Plan {
    let mut lines = vec![format!("Run `{}`", c.run)];
    if let Some(w) = &c.workdir {
        lines[0].push_str(&format!(" in {}", w.display()));
    }
    lines[0].push_str(&format!(
        " for deployment `{}`; its exit status decides.",
        d.name
    ));
    lines.push(
        "A cancel sends SIGINT to it and its children, then SIGTERM if they do not stop.".into(),
    );
    Plan {
        action: "command_deploy",
        deployment: d.clone(),
        target: format!("deploy {}", c.name),
        parameters: json!({ "name": c.name, "run": c.run, "workdir": c.workdir }),
        title: "Run deploy command".into(),
        lines,
        effect: Effect::Confirmed,
        op: Op::CommandDeploy {
            command: Box::new(c.clone()),
        },
    }
}

/// The environment a deploy command gets from its deployment.
pub fn environment(d: &Deployment, c: &CommandDeploy) -> Vec<(String, String)> {
    let mut env = vec![("OPSDECK_DEPLOYMENT".to_string(), d.name.clone())];
    // So a deploy script can call this same opsdeck (`"$OPSDECK" stacks deploy …`).
    if let Ok(me) = std::env::current_exe() {
        env.push(("OPSDECK".into(), me.display().to_string()));
    }
    if let Some(p) = &d.profile {
        env.push(("AWS_PROFILE".into(), p.clone()));
    }
    if let Some(r) = &d.region {
        env.push(("AWS_REGION".into(), r.clone()));
        env.push(("AWS_DEFAULT_REGION".into(), r.clone()));
    }
    if let Some(u) = &d.endpoint_url {
        env.push(("AWS_ENDPOINT_URL".into(), u.clone()));
    }
    if d.sandbox_credentials {
        // The same fixed dummy credentials opsdeck itself uses on a loopback emulator.
        use crate::aws::session::{SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY};
        env.push(("AWS_ACCESS_KEY_ID".into(), SANDBOX_ACCESS_KEY.into()));
        env.push(("AWS_SECRET_ACCESS_KEY".into(), SANDBOX_SECRET_KEY.into()));
    }
    env.extend(c.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    env
}

/// Sends `signal` to every process of group `pgid`; false when none is left.
fn signal_group(pgid: i32, signal: i32) -> bool {
    // SAFETY: kill(2) with a negative pid signals a process group; no memory is touched.
    unsafe { libc::kill(-pgid, signal) == 0 }
}

/// How a command run by [`follow`] ended.
#[derive(Debug)]
pub(super) struct Ended {
    pub success: bool,
    /// "exit status 2", "killed by signal 15".
    pub how: String,
    /// Whole seconds it ran.
    pub took: u64,
    /// The job was cancelled while it ran.
    pub cancelled: bool,
}

pub(super) async fn run(d: &Deployment, c: &CommandDeploy, ctx: &Ctx) -> Outcome {
    let Ended {
        success,
        how,
        took,
        cancelled,
    } = match follow(d, c, ctx).await {
        Ok(e) => e,
        Err(o) => return o,
    };
    if cancelled {
        return Outcome::Cancelled(format!(
            "cancelled: `{}` stopped ({how}) after {took} s",
            c.name
        ));
    }
    if success {
        Outcome::ok(format!("deploy `{}` done ({how}, {took} s)", c.name))
    } else {
        Outcome::failed(format!("deploy `{}` failed: {how} after {took} s", c.name))
    }
}

/// Runs `c` in its own process group, its output into the job, a cancel
/// escalating from SIGINT to SIGKILL; whatever it leaves running in its
/// group is ended with it. `Err`: it could not be started or watched (the
/// outcome says so). Shared by command deploys and function builds.
pub(super) async fn follow(d: &Deployment, c: &CommandDeploy, ctx: &Ctx) -> Result<Ended, Outcome> {
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(&c.run)
        .envs(environment(d, c))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if let Some(w) = &c.workdir {
        cmd.current_dir(w);
    }
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            return Err(Outcome::Refused(format!(
                "nothing ran: cannot start `{}`{}: {e}",
                c.run,
                c.workdir
                    .as_ref()
                    .map(|w| format!(" in {}", w.display()))
                    .unwrap_or_default()
            )));
        }
    };
    let Some(pgid) = child.id().and_then(|p| i32::try_from(p).ok()) else {
        return Err(Outcome::failed(
            "the command ended before it could be watched",
        ));
    };
    ctx.progress(0, None, format!("running `{}`", c.run));
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(Outcome::failed("the command's output could not be read"));
    };
    let mut out = BufReader::new(stdout).lines();
    let mut err = BufReader::new(stderr).lines();
    let (mut out_open, mut err_open) = (true, true);
    let started = Instant::now();
    let mut cancel_at: Option<Instant> = None;
    let mut termed = false;
    let mut lines = 0u64;
    let status = loop {
        let escalate = async {
            match cancel_at {
                Some(t) => tokio::time::sleep_until((t + GRACE).into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            l = out.next_line(), if out_open => match l {
                Ok(Some(l)) => { lines += 1; ctx.line(l); }
                _ => out_open = false,
            },
            l = err.next_line(), if err_open => match l {
                Ok(Some(l)) => { lines += 1; ctx.line(l); }
                _ => err_open = false,
            },
            s = child.wait() => break s,
            _ = ctx.cancel.cancelled(), if cancel_at.is_none() => {
                ctx.line("cancelling: SIGINT to the command and its children");
                signal_group(pgid, libc::SIGINT);
                cancel_at = Some(Instant::now());
            }
            () = escalate => {
                if termed {
                    ctx.line(format!("still running {} s after SIGTERM: SIGKILL", GRACE.as_secs()));
                    signal_group(pgid, libc::SIGKILL);
                    cancel_at = None;
                } else {
                    ctx.line(format!("still running {} s after SIGINT: SIGTERM", GRACE.as_secs()));
                    signal_group(pgid, libc::SIGTERM);
                    termed = true;
                    cancel_at = Some(Instant::now());
                }
            }
        }
        ctx.progress(lines, None, format!("running `{}`", c.run));
    };
    // What the command left running in its group goes with it.
    if signal_group(pgid, libc::SIGTERM) {
        ctx.line("terminated what the command left running in its process group");
        tokio::time::sleep(Duration::from_millis(200)).await;
        signal_group(pgid, libc::SIGKILL);
    }
    // The rest of its output, now that every writer is gone.
    let drain = async {
        while out_open || err_open {
            tokio::select! {
                l = out.next_line(), if out_open => match l {
                    Ok(Some(l)) => ctx.line(l),
                    _ => out_open = false,
                },
                l = err.next_line(), if err_open => match l {
                    Ok(Some(l)) => ctx.line(l),
                    _ => err_open = false,
                },
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), drain).await;
    let took = started.elapsed().as_secs();
    let status = match status {
        Ok(s) => s,
        Err(e) => {
            return Err(Outcome::failed(format!(
                "lost the command `{}`: {e}",
                c.run
            )));
        }
    };
    let how = match (
        status.code(),
        std::os::unix::process::ExitStatusExt::signal(&status),
    ) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => "ended".into(),
    };
    Ok(Ended {
        success: status.success(),
        how,
        took,
        cancelled: ctx.cancelled(),
    })
}
