//! `opsdeck config init`: a starter config from the AWS shared config, one
//! deployment per profile, so a new user starts from the profiles, regions
//! and SSO sessions they already have instead of a blank file.
//!
//! The shared config is read with the AWS SDK's own parser (`aws-runtime`'s
//! `env_config`), so opsdeck sees the profiles exactly as it will when it
//! loads them later, and a malformed line is reported the way the SDK would
//! report it, with its file and line.
//!
//! Nothing is written until everything is known to be good: the target must
//! not exist, every chosen profile must have a region, and the generated text
//! must pass the same checks as `--check-config`. It is then written to a
//! temporary file beside the target and renamed into place, so an
//! interrupted run leaves no partial config behind.

use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_types::os_shim_internal::{Env, Fs};
use clap::{Args, Subcommand};
use color_eyre::eyre::{Result, WrapErr, bail, eyre};

use crate::config::{self, Config};

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Write a starter config from ~/.aws/config (or $AWS_CONFIG_FILE): one
    /// deployment per profile. Never overwrites an existing config.
    Init(InitArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Only this profile (repeatable); without it, every profile, or the
    /// ones picked on a terminal.
    #[arg(long = "profile", value_name = "NAME")]
    pub profiles: Vec<String>,
    /// Print the config to stdout instead of writing the file.
    #[arg(long)]
    pub print: bool,
    /// Take every profile without asking.
    #[arg(long)]
    pub yes: bool,
}

/// One profile of the shared config, as far as a deployment needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsProfile {
    pub name: String,
    pub region: Option<String>,
    /// How the profile gets credentials, for a person: "SSO session `x`", ...
    pub credentials: String,
    /// What to run when its credentials are missing or expired, if anything.
    pub login: Option<String>,
    pub needs_mfa: bool,
}

/// Runs `config init`. `target` is where the config goes unless `--print`:
/// `--config`, `$OPSDECK_CONFIG`, else the platform path.
pub fn run(
    args: &InitArgs,
    target: Option<&Path>,
    runtime: &tokio::runtime::Runtime,
) -> Result<ExitCode> {
    let target = match target {
        Some(p) => p.to_path_buf(),
        None => config::platform_dir()
            .map(|d| d.join("config.toml"))
            .ok_or_else(|| {
                eyre!("no home directory to put the config in: pass --config FILE or --print")
            })?,
    };
    // Refuse before asking anything, so nobody picks profiles for nothing.
    if !args.print && target.exists() {
        bail!(
            "{} already exists; `config init` never overwrites a config: move it away first, or use --print to see what it would write",
            target.display()
        );
    }
    let source = aws_config_path()?;
    let profiles = read_profiles(&source, runtime)?;
    if profiles.is_empty() {
        bail!(
            "{} has no profiles: create one with `aws configure sso` or `aws configure`",
            source.display()
        );
    }
    let chosen = choose(args, &profiles, &source)?;
    let text = render(&chosen, &source);
    // A generated config that opsdeck itself would reject is a bug here,
    // not the user's problem to find later.
    let (_, diagnostics) = Config::parse(&text, &target);
    if let Some(d) = diagnostics.iter().find(|d| d.is_error()) {
        bail!("the generated config does not pass --check-config ({d}); please report this");
    }
    if args.print {
        std::io::stdout().lock().write_all(text.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    write_new(&target, &text)?;
    let names: Vec<&str> = chosen.iter().map(|p| p.name.as_str()).collect();
    println!(
        "wrote {} with {} deployment{} ({}); check it with `opsdeck --check-config`, then name each one's resources",
        target.display(),
        chosen.len(),
        if chosen.len() == 1 { "" } else { "s" },
        names.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// `$AWS_CONFIG_FILE` (with `~/` expanded, as the SDK does), else `~/.aws/config`.
fn aws_config_path() -> Result<PathBuf> {
    let home = directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf());
    match std::env::var_os("AWS_CONFIG_FILE").filter(|v| !v.is_empty()) {
        Some(v) => {
            let p = PathBuf::from(&v);
            match (p.strip_prefix("~"), &home) {
                (Ok(rest), Some(home)) => Ok(home.join(rest)),
                _ => Ok(p),
            }
        }
        None => home.map(|h| h.join(".aws").join("config")).ok_or_else(|| {
            eyre!("no home directory to find ~/.aws/config in: set AWS_CONFIG_FILE")
        }),
    }
}

/// The profiles of the shared config at `path`, sorted by name.
pub fn read_profiles(path: &Path, runtime: &tokio::runtime::Runtime) -> Result<Vec<AwsProfile>> {
    // The SDK's loader treats a missing file as empty; a new user needs to
    // hear where opsdeck looked instead.
    let looked = if std::env::var_os("AWS_CONFIG_FILE").is_some() {
        " ($AWS_CONFIG_FILE)"
    } else {
        ""
    };
    std::fs::File::open(path).wrap_err_with(|| {
        format!(
            "could not read the AWS config at {}{looked}: create it with `aws configure sso`, or set AWS_CONFIG_FILE",
            path.display()
        )
    })?;
    let files = EnvConfigFiles::builder()
        .with_file(EnvConfigFileKind::Config, path)
        .build();
    let set = runtime
        .block_on(aws_config::profile::load(
            &Fs::real(),
            &Env::real(),
            &files,
            None,
        ))
        .map_err(|e| {
            // The error itself says only "could not parse profile file"; its
            // source names the file and the line.
            let cause = std::error::Error::source(&e).map(|s| s.to_string().replace("\n ", ""));
            match cause {
                Some(c) => eyre!("{e}: {c}"),
                None => eyre!("{e}"),
            }
        })?;
    let mut names: Vec<&str> = set.profiles().collect();
    names.sort_unstable();
    let mut out = Vec::new();
    for name in names {
        let Some(p) = set.get_profile(name) else {
            continue;
        };
        let get = |k: &str| p.get(k).map(str::to_string);
        let start_url = |session: &str| {
            set.sso_session(session)
                .and_then(|s| s.get("sso_start_url"))
                .map(str::to_string)
        };
        let login = Some(format!("aws sso login --profile {name}"));
        let (credentials, login) = if let Some(session) = get("sso_session") {
            let url = start_url(&session)
                .map(|u| format!(" ({u})"))
                .unwrap_or_default();
            (format!("SSO session `{session}`{url}"), login)
        } else if let Some(url) = get("sso_start_url") {
            (format!("SSO (legacy, no sso-session) at {url}"), login)
        } else if let Some(role) = get("role_arn") {
            let from = match (get("source_profile"), get("credential_source")) {
                (Some(src), _) => format!("with profile `{src}`"),
                (None, Some(src)) => format!("with credentials from {src}"),
                (None, None) => "with web identity".to_string(),
            };
            (format!("assumes {role} {from}"), None)
        } else if get("credential_process").is_some() {
            ("credential_process".to_string(), None)
        } else if get("aws_access_key_id").is_some() {
            ("access keys".to_string(), None)
        } else {
            (
                "none in the config file (~/.aws/credentials or the environment)".to_string(),
                None,
            )
        };
        out.push(AwsProfile {
            name: name.to_string(),
            region: get("region"),
            credentials,
            login,
            needs_mfa: get("mfa_serial").is_some(),
        });
    }
    Ok(out)
}

/// The profiles that become deployments: `--profile`s, else all with
/// `--yes`, else the ones picked on a terminal.
fn choose(args: &InitArgs, profiles: &[AwsProfile], source: &Path) -> Result<Vec<AwsProfile>> {
    let known = || {
        profiles
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let no_region = |p: &AwsProfile| {
        eyre!(
            "profile `{}` in {} has no region: add `region = ...` to its section there (opsdeck does not guess one)",
            p.name,
            source.display()
        )
    };
    if !args.profiles.is_empty() {
        let mut chosen = Vec::new();
        for name in &args.profiles {
            let p = profiles.iter().find(|p| &p.name == name).ok_or_else(|| {
                eyre!(
                    "no profile `{name}` in {} (profiles there: {})",
                    source.display(),
                    known()
                )
            })?;
            if p.region.is_none() {
                return Err(no_region(p));
            }
            if !chosen.contains(p) {
                chosen.push(p.clone());
            }
        }
        return Ok(chosen);
    }
    let (usable, regionless): (Vec<_>, Vec<_>) =
        profiles.iter().cloned().partition(|p| p.region.is_some());
    for p in &regionless {
        eprintln!("skipped: {}", no_region(p));
    }
    if usable.is_empty() {
        bail!(
            "no profile in {} has a region: add `region = ...` to the ones you use",
            source.display()
        );
    }
    if args.yes {
        return Ok(usable);
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        bail!(
            "stdin is not a terminal, so nobody can pick profiles: pass --yes to take every profile, or --profile NAME for each one"
        );
    }
    pick(&usable)
}

/// Asks on the terminal which profiles to take.
fn pick(profiles: &[AwsProfile]) -> Result<Vec<AwsProfile>> {
    let mut err = std::io::stderr().lock();
    writeln!(err, "Profiles with a region:")?;
    let width = profiles.iter().map(|p| p.name.len()).max().unwrap_or(0);
    for (i, p) in profiles.iter().enumerate() {
        writeln!(
            err,
            "  {:>2}  {:<width$}  {:<14}  {}{}",
            i + 1,
            p.name,
            p.region.as_deref().unwrap_or(""),
            p.credentials,
            if is_protected(&p.name) {
                "  [protected]"
            } else {
                ""
            }
        )?;
    }
    write!(
        err,
        "Which become deployments? Numbers or names separated by spaces; Enter takes all: "
    )?;
    err.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    parse_pick(&line, profiles).map_err(|e| eyre!(e))
}

/// Reads an answer to [`pick`]: numbers (1-based) or names; empty means all.
pub fn parse_pick(answer: &str, profiles: &[AwsProfile]) -> Result<Vec<AwsProfile>, String> {
    let words: Vec<&str> = answer
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return Ok(profiles.to_vec());
    }
    let mut chosen: Vec<AwsProfile> = Vec::new();
    for w in words {
        let found = match w.parse::<usize>() {
            Ok(n) => n.checked_sub(1).and_then(|i| profiles.get(i)),
            Err(_) => profiles.iter().find(|p| p.name == w),
        };
        let p = found.ok_or_else(|| format!("`{w}` is neither a listed number nor a profile"))?;
        if !chosen.contains(p) {
            chosen.push(p.clone());
        }
    }
    Ok(chosen)
}

/// Production is whatever says so in its name.
pub fn is_protected(name: &str) -> bool {
    name.to_ascii_lowercase().contains("prod")
}

/// The config text: a header, then one commented deployment per profile.
pub fn render(profiles: &[AwsProfile], source: &Path) -> String {
    let q = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut t = String::new();
    let _ = writeln!(
        t,
        "# opsdeck configuration, written by `opsdeck config init` from {}.",
        source.display()
    );
    t.push_str(
        "# One deployment per AWS profile. Check the file with\n\
         # `opsdeck --check-config`; every key is described in config/example.toml\n\
         # of the opsdeck repository.\n",
    );
    for p in profiles {
        t.push('\n');
        t.push_str("[[deployment]]\n");
        let _ = writeln!(t, "name = {}", q(&p.name));
        let _ = writeln!(t, "# Credentials: {}.", p.credentials);
        if let Some(login) = &p.login {
            let _ = writeln!(t, "# When they expire: `{login}`.");
        }
        if p.needs_mfa {
            t.push_str(
                "# This profile asks for an MFA code, which opsdeck cannot prompt for:\n\
                 # use SSO or credential_process for it.\n",
            );
        }
        let _ = writeln!(t, "profile = {}", q(&p.name));
        if let Some(region) = &p.region {
            let _ = writeln!(t, "region = {}", q(region));
        }
        if is_protected(&p.name) {
            t.push_str(
                "# Production: anything destructive asks for the deployment name to be typed.\n\
                 protected = true\n",
            );
        } else {
            t.push_str("protected = false\n");
        }
        t.push_str(
            "# read_only = true   # offer and send nothing that changes AWS\n\
             \n\
             # What belongs to this deployment; each left out shows all. A selector\n\
             # is { prefix = \"...\" } or { names = [\"...\", ...] }.\n\
             [deployment.resources]\n",
        );
        let stem = &p.name;
        let _ = writeln!(t, "# stacks = {{ prefix = {} }}", q(stem));
        let _ = writeln!(
            t,
            "# lambdas = {{ names = [{}] }}",
            q(&format!("{stem}-api"))
        );
        let _ = writeln!(t, "# queues = {{ prefix = {} }}", q(stem));
        let _ = writeln!(
            t,
            "# log_groups = {{ prefix = {} }}",
            q(&format!("/aws/lambda/{stem}"))
        );
        let _ = writeln!(t, "# opensearch_domain = {}", q(&format!("{stem}-index")));
    }
    t
}

/// Writes `text` to `target`, which must not exist, all or nothing.
fn write_new(target: &Path, text: &str) -> Result<()> {
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)
        .wrap_err_with(|| format!("could not create {}", dir.display()))?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config.toml".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(eyre!("could not write {}: {e}", tmp.display()));
    }
    // A hard link fails if the target appeared meanwhile, where a rename
    // would replace it; a file system without links falls back to the rename
    // after one more look.
    let placed = match std::fs::hard_link(&tmp, target) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let _ = std::fs::remove_file(&tmp);
            bail!(
                "{} appeared while writing; `config init` never overwrites a config",
                target.display()
            );
        }
        Err(_) if target.exists() => {
            let _ = std::fs::remove_file(&tmp);
            bail!(
                "{} appeared while writing; `config init` never overwrites a config",
                target.display()
            );
        }
        Err(_) => std::fs::rename(&tmp, target),
    };
    let _ = std::fs::remove_file(&tmp);
    placed.wrap_err_with(|| format!("could not write {}", target.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(name: &str) -> AwsProfile {
        AwsProfile {
            name: name.into(),
            region: Some("eu-west-1".into()),
            credentials: "access keys".into(),
            login: None,
            needs_mfa: false,
        }
    }

    #[test]
    fn pick_reads_numbers_and_names_and_empty_means_all() {
        let all = [profile("a"), profile("b"), profile("c")];
        assert_eq!(parse_pick("\n", &all).unwrap(), all.to_vec());
        let got = parse_pick("3, a 3\n", &all).unwrap();
        assert_eq!(got, vec![all[2].clone(), all[0].clone()]);
        assert!(parse_pick("4", &all).unwrap_err().contains("`4`"));
        assert!(parse_pick("0", &all).is_err());
        assert!(parse_pick("zz", &all).unwrap_err().contains("`zz`"));
    }

    #[test]
    fn prod_anywhere_in_the_name_is_protected() {
        assert!(is_protected("azul-prod"));
        assert!(is_protected("Production"));
        assert!(!is_protected("azul-dev"));
    }
}
