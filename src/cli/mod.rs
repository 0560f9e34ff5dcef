//! Command-line entry: flags, subcommands, and starting the console.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use color_eyre::eyre::{Result, WrapErr, bail};

pub mod audit;
pub mod completions;
pub mod config_init;
pub mod deploy;
pub mod fleet;
pub mod health;
pub mod index;
pub mod jobs;
pub mod lambdas;
pub mod logs;
pub mod queues;
pub mod stacks;
pub mod vpn;

use crate::app::{Action, State};
use crate::config::{self, Diagnostic, Loaded};
use crate::runtime::Runtime;

#[derive(Debug, Parser)]
#[command(
    name = "opsdeck",
    version = env!("OPSDECK_VERSION"),
    about = "A terminal operations console for AWS deployments"
)]
pub struct Cli {
    /// Config file (else $OPSDECK_CONFIG, else the platform config dir).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Open this deployment straight away.
    #[arg(long, global = true, env = "OPSDECK_DEPLOYMENT", value_name = "NAME")]
    pub deployment: Option<String>,

    /// Send every deployment's AWS calls to this endpoint (like the AWS CLI's flag).
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Send every deployment's OpenSearch data-plane requests here (a tunnel,
    /// or the sandbox's data plane), as --endpoint-url does for the AWS APIs.
    #[arg(long, global = true, value_name = "URL")]
    pub opensearch_url: Option<String>,

    /// Offer and send nothing that changes AWS, whatever the config says.
    #[arg(long, global = true)]
    pub read_only: bool,

    /// Check the config, theme and keymap files; print each problem with
    /// file, line and column; exit non-zero if any is an error.
    #[arg(long)]
    pub check_config: bool,

    /// Print every action name with its keys and what it does.
    #[arg(long)]
    pub list_actions: bool,

    /// One-shot commands give up on an endpoint that has not answered for
    /// this long (e.g. 30s, 2m); --follow and the console keep retrying.
    #[arg(
        long,
        global = true,
        env = "OPSDECK_GIVE_UP_AFTER",
        value_name = "DURATION",
        default_value = "30s",
        value_parser = parse_give_up
    )]
    pub give_up_after: std::time::Duration,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The local AWS sandbox (a moto server on this machine).
    #[command(subcommand)]
    Sandbox(SandboxCommand),
    /// Every deployment's health (or one's, with --deployment), as the overview shows it.
    Fleet(fleet::FleetArgs),
    /// Log events of a deployment's log groups.
    #[command(subcommand)]
    Logs(logs::LogsCommand),
    /// The VPN certificate authority: CA, client and server certificates, CRL.
    #[command(subcommand)]
    Vpn(vpn::VpnCommand),
    /// A deployment's SQS queues: list, purge, peek, redrive.
    #[command(subcommand)]
    Queues(queues::QueuesCommand),
    /// A deployment's search domain: health, and create, delete or reindex its indices.
    #[command(subcommand)]
    Index(index::IndexCommand),
    /// A deployment's Lambda functions: list, disable, enable, invoke.
    #[command(subcommand)]
    Lambdas(lambdas::LambdasCommand),
    /// Run a configured deploy command (`[[deployment.command]]`) as a job.
    Deploy(deploy::DeployArgs),
    /// The deployment's health URLs: status, latency and version of each
    /// (exit 3 when a check fails).
    Health(health::HealthArgs),
    /// A deployment's CloudFormation stacks: deploy (change sets), cancel, events.
    #[command(subcommand)]
    Stacks(stacks::StacksCommand),
    /// The audit log: every confirmed change, when it started and how it ended.
    Audit {
        /// Only entries since then: 1d, 2h, 2026-11-20, RFC 3339.
        #[arg(long)]
        since: Option<String>,
        /// One JSON object a line, as stored.
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script (e.g. `opsdeck completions bash > /etc/bash_completion.d/opsdeck`).
    Completions {
        #[arg(value_enum)]
        shell: completions::CompletionShell,
    },
    /// Print the man page (roff), e.g. `opsdeck man > ~/.local/share/man/man1/opsdeck.1`.
    Man,
    /// opsdeck's own config file.
    #[command(subcommand)]
    Config(config_init::ConfigCommand),
}

#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Create the deployments of the config (e.g. config/sandbox.toml) in the emulator.
    Seed {
        /// Then keep appending log lines until stopped.
        #[arg(long)]
        follow: bool,
        /// Log lines per second for --follow.
        #[arg(long, default_value_t = 5.0)]
        rate: f64,
    },
    /// Keep appending log lines to the deployments' log groups until stopped.
    Follow {
        #[arg(long, default_value_t = 5.0)]
        rate: f64,
    },
}

pub fn main() -> ExitCode {
    let started = std::time::Instant::now();
    if let Err(e) = color_eyre::install() {
        eprintln!("opsdeck: {e}");
    }
    let cli = Cli::parse();
    match run(cli, started) {
        Ok(code) => code,
        Err(e) => {
            crate::terminal::restore();
            // One line a person can act on: each cause after the last.
            let chain: Vec<String> = e.chain().map(ToString::to_string).collect();
            eprintln!("opsdeck: {}", chain.join(": "));
            ExitCode::FAILURE
        }
    }
}

/// Loads the config with the command line's overrides applied.
pub fn load(cli: &Cli) -> Loaded {
    let env = std::env::var_os("OPSDECK_CONFIG").map(PathBuf::from);
    let source = config::locate(cli.config.as_deref(), env.as_deref());
    let mut loaded = config::load(source.as_ref());
    let file = source.as_ref().map_or_else(
        || PathBuf::from("(command line)"),
        |s| s.path().to_path_buf(),
    );
    if let Some(url) = &cli.endpoint_url {
        if url::Url::parse(url).is_err() {
            loaded.diagnostics.push(
                Diagnostic::error(Path::new("--endpoint-url"), format!("`{url}` is not a URL"))
                    .help("write it like http://127.0.0.1:5000"),
            );
        } else {
            for d in &mut loaded.config.deployments {
                if let Err(e) = d.override_endpoint(url) {
                    loaded.diagnostics.push(Diagnostic::error(&file, e));
                }
            }
        }
    }
    if let Some(url) = &cli.opensearch_url {
        match url::Url::parse(url) {
            Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {
                for d in &mut loaded.config.deployments {
                    if d.sandbox_credentials && !crate::config::deployments::is_loopback_url(url) {
                        loaded.diagnostics.push(Diagnostic::error(
                            &file,
                            format!(
                                "deployment `{}` uses sandbox_credentials, which only work with a loopback --opensearch-url, not {url}",
                                d.name
                            ),
                        ));
                    } else {
                        d.resources.opensearch_url = Some(url.clone());
                    }
                }
            }
            _ => loaded.diagnostics.push(
                Diagnostic::error(
                    Path::new("--opensearch-url"),
                    format!("`{url}` is not an http(s) URL"),
                )
                .help("write it like http://127.0.0.1:9200"),
            ),
        }
    }
    if cli.read_only {
        for d in &mut loaded.config.deployments {
            d.read_only = true;
        }
    }
    loaded
}

fn run(cli: Cli, started: std::time::Instant) -> Result<ExitCode> {
    if cli.list_actions {
        let loaded = load(&cli);
        let mut out = std::io::stdout().lock();
        for a in Action::ALL {
            writeln!(
                out,
                "{:<20} {:<22} {}",
                a.name(),
                loaded.keymap.describe(*a),
                a.description()
            )?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    if cli.check_config {
        return check_config(&cli);
    }
    let patience = crate::aws::session::Patience::GiveUpAfter(cli.give_up_after);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .build()?;
    match &cli.command {
        Some(Command::Sandbox(cmd)) => runtime.block_on(sandbox(&cli, cmd)),
        Some(Command::Vpn(cmd)) => {
            let loaded = load(&cli);
            vpn::run(
                cmd,
                false,
                &loaded,
                cli.deployment.as_deref(),
                &runtime,
                patience,
            )
        }
        Some(Command::Fleet(args)) => {
            let loaded = load(&cli);
            if loaded.has_errors() {
                for d in &loaded.diagnostics {
                    eprintln!("{d}");
                }
                bail!("the config has errors");
            }
            runtime.block_on(fleet::run(args, &loaded.config, cli.deployment.as_deref()))
        }
        Some(Command::Logs(cmd)) => {
            let loaded = load_or_bail(&cli)?;
            runtime.block_on(logs::run(
                cmd,
                &loaded.config,
                cli.deployment.as_deref(),
                cli.give_up_after,
            ))
        }
        Some(Command::Completions { shell }) => {
            completions::completions(*shell, &mut std::io::stdout().lock())
        }
        Some(Command::Man) => completions::man(&mut std::io::stdout().lock()),
        Some(Command::Config(config_init::ConfigCommand::Init(args))) => {
            // Where the config would be read from, except that it need not exist yet.
            let env = std::env::var_os("OPSDECK_CONFIG")
                .map(PathBuf::from)
                .filter(|p| !p.as_os_str().is_empty());
            let target = cli.config.clone().or(env);
            config_init::run(args, target.as_deref(), &runtime)
        }
        Some(Command::Queues(cmd)) => {
            let loaded = load_or_bail(&cli)?;
            runtime.block_on(queues::run(cmd, &loaded.config, cli.deployment.as_deref()))
        }
        Some(Command::Index(cmd)) => {
            let loaded = load_or_bail(&cli)?;
            runtime.block_on(index::run(cmd, &loaded.config, cli.deployment.as_deref()))
        }
        Some(Command::Lambdas(cmd)) => {
            let loaded = load_or_bail(&cli)?;
            runtime.block_on(lambdas::run(cmd, &loaded.config, cli.deployment.as_deref()))
        }
        Some(Command::Deploy(args)) => {
            let loaded = load_or_bail(&cli)?;
            runtime.block_on(deploy::run(args, &loaded.config, cli.deployment.as_deref()))
        }
        Some(Command::Health(args)) => {
            let loaded = load_or_bail(&cli)?;
            runtime.block_on(health::run(args, &loaded.config, cli.deployment.as_deref()))
        }
        Some(Command::Stacks(cmd)) => {
            let loaded = load_or_bail(&cli)?;
            runtime.block_on(stacks::run(cmd, &loaded.config, cli.deployment.as_deref()))
        }
        Some(Command::Audit { since, json }) => audit::run(since.as_deref(), *json),
        None => {
            let _log = init_logging();
            let loaded = load(&cli);
            let state = State::new(loaded);
            let result =
                runtime.block_on(Runtime::new(state).run(cli.deployment.as_deref(), started));
            // Requests still in flight (a slow DNS lookup, say) must not hold up the exit.
            runtime.shutdown_timeout(std::time::Duration::from_millis(200));
            result?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The config, or the end of a command that needs one without errors.
fn load_or_bail(cli: &Cli) -> Result<Loaded> {
    let loaded = load(cli);
    if loaded.has_errors() {
        for d in &loaded.diagnostics {
            eprintln!("{d}");
        }
        bail!("the config has errors");
    }
    Ok(loaded)
}

fn check_config(cli: &Cli) -> Result<ExitCode> {
    let loaded = load(cli);
    let mut err = std::io::stderr().lock();
    for d in &loaded.diagnostics {
        writeln!(err, "{d}")?;
    }
    if let Some(name) = &cli.deployment
        && loaded.config.deployment(name).is_none()
    {
        writeln!(err, "error: --deployment `{name}` is not in the config")?;
        return Ok(ExitCode::FAILURE);
    }
    if loaded.has_errors() {
        let n = loaded.diagnostics.iter().filter(|d| d.is_error()).count();
        writeln!(err, "{n} error{} found", if n == 1 { "" } else { "s" })?;
        return Ok(ExitCode::FAILURE);
    }
    let where_ = loaded
        .config
        .path
        .as_ref()
        .map_or_else(|| "no config file".to_string(), |p| p.display().to_string());
    println!(
        "config OK: {} deployment{} ({where_}), theme `{}`, keymap `{}`",
        loaded.config.deployments.len(),
        if loaded.config.deployments.len() == 1 {
            ""
        } else {
            "s"
        },
        loaded.config.theme,
        loaded.config.keymap,
    );
    Ok(ExitCode::SUCCESS)
}

async fn sandbox(cli: &Cli, cmd: &SandboxCommand) -> Result<ExitCode> {
    let loaded = load_or_bail(cli)?;
    let deployments: Vec<_> = loaded
        .config
        .deployments
        .into_iter()
        .filter(|d| cli.deployment.as_ref().is_none_or(|n| &d.name == n))
        .collect();
    if deployments.is_empty() {
        bail!("no deployments to seed: pass --config config/sandbox.toml");
    }
    let (follow, rate) = match cmd {
        SandboxCommand::Seed { follow, rate } => {
            let mut out = std::io::stdout();
            for d in &deployments {
                crate::sandbox::seed(d, &mut out)
                    .await
                    .wrap_err_with(|| format!("seeding deployment `{}`", d.name))?;
            }
            (*follow, *rate)
        }
        SandboxCommand::Follow { rate } => (true, *rate),
    };
    if follow {
        // The search domains' data plane lives as long as the log lines flow.
        for (url, server) in crate::sandbox::serve_search(&deployments).await? {
            println!(
                "OpenSearch data plane (sandbox, {}) on {url}",
                crate::sandbox::search::VERSION
            );
            std::mem::forget(server);
        }
        // Without them the logs still flow: a busy port costs the checks only.
        match crate::sandbox::serve_health(&deployments).await {
            Ok(servers) => {
                for (url, server) in servers {
                    let paths: Vec<String> = server.with(|d| {
                        d.sites
                            .keys()
                            .map(|n| format!("/{n}/health, /{n}/version"))
                            .collect()
                    });
                    println!("health endpoints (sandbox) on {url}: {}", paths.join("; "));
                    std::mem::forget(server);
                }
            }
            Err(e) => eprintln!("warning: no health endpoints: {e:#}"),
        }
        println!("writing log lines at ~{rate}/s; Ctrl-C stops");
        tokio::select! {
            r = crate::sandbox::follow(&deployments, rate) => r?,
            _ = tokio::signal::ctrl_c() => {}
            _ = async {
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(mut s) => { s.recv().await; }
                    Err(_) => std::future::pending::<()>().await,
                }
            } => {}
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Logs go to a file, never to the terminal the console draws on:
/// `$OPSDECK_LOG`, else `opsdeck.log` in the platform state/data dir.
fn init_logging() -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let path = std::env::var_os("OPSDECK_LOG")
        .map(PathBuf::from)
        .or_else(|| {
            directories::ProjectDirs::from("", "", "opsdeck").map(|d| {
                d.state_dir()
                    .unwrap_or_else(|| d.data_local_dir())
                    .join("opsdeck.log")
            })
        })?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).ok()?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = tracing_subscriber::EnvFilter::try_from_env("OPSDECK_LOG_LEVEL")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("opsdeck=info"));
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .ok()?;
    Some(guard)
}

/// `--give-up-after`: a duration such as `30s` or `2m` (jiff's friendly format).
fn parse_give_up(s: &str) -> Result<std::time::Duration, String> {
    let d: jiff::SignedDuration = s
        .parse()
        .map_err(|e| format!("`{s}` is not a duration such as 30s or 2m ({e})"))?;
    std::time::Duration::try_from(d)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("`{s}` must be longer than zero"))
}
