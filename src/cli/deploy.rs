//! `opsdeck deploy TARGET`: a configured deploy command (Terraform, CDK,
//! `make deploy`) as a job: confirmed like any change, audited, its output
//! on stderr with its colours, its exit status the result. Ctrl-C sends
//! SIGINT to the command's process group (then SIGTERM after a grace period).

use std::process::ExitCode;

use clap::Args;
use color_eyre::eyre::{Result, eyre};

use super::jobs::{self as cli_jobs, Confirmation};
use crate::config::Config;
use crate::jobs::{Effect, command};

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The name of a `[[deployment.command]]` of the deployment.
    pub target: String,
    #[command(flatten)]
    pub confirmation: Confirmation,
}

pub async fn run(args: &DeployArgs, config: &Config, name: Option<&str>) -> Result<ExitCode> {
    let d = super::logs::pick_deployment(config, name)?;
    let target = &args.target;
    let c = d.command_deploy(target).ok_or_else(|| {
            let names: Vec<&str> = d
                .resources
                .deploy_commands
                .iter()
                .map(|c| c.name.as_str())
                .collect();
            eyre!(
                "deployment `{}` has no deploy command `{target}` (configured: {}); add a [[deployment.command]] table with name and run",
                d.name,
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )
        })?;
    let what = format!("run deploy `{target}` of deployment `{}`", d.name);
    cli_jobs::check(Effect::Confirmed, d, &args.confirmation, &what)?;
    let plan = command::plan(d, c);
    cli_jobs::ask(&plan, &args.confirmation)?;
    let outcome = cli_jobs::run(&plan, None).await;
    Ok(cli_jobs::report(&outcome))
}
