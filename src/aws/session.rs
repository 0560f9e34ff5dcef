//! One `SdkConfig` per deployment, and the service clients built from it.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;

use super::error::CallContext;
use crate::config::Deployment;
use crate::model::Problem;

/// Loading a profile may run SSO or credential_process; never wait forever.
pub const LOAD_TIMEOUT: Duration = Duration::from_secs(20);

/// The access key the sandbox uses; moto accepts any, real AWS none.
pub const SANDBOX_ACCESS_KEY: &str = "opsdeck-sandbox";

/// Builds the shared SDK config of a deployment. Runs off the UI task.
pub async fn load(deployment: &Deployment) -> Result<SdkConfig, Problem> {
    let ctx = context(deployment);
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(20))
                .operation_timeout(Duration::from_secs(60))
                .build(),
        );
    if let Some(profile) = &deployment.profile {
        // Only this profile: a named profile that is missing or broken must
        // be an error, not a silent fall-back to environment or instance
        // credentials of another identity.
        loader = loader.profile_name(profile).credentials_provider(
            aws_config::profile::ProfileFileCredentialsProvider::builder()
                .profile_name(profile)
                .build(),
        );
    }
    if let Some(region) = &deployment.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &deployment.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if deployment.sandbox_credentials {
        // Config validation allows this only with a loopback endpoint.
        loader = loader.credentials_provider(Credentials::new(
            SANDBOX_ACCESS_KEY,
            "opsdeck-sandbox-secret",
            None,
            None,
            "opsdeck-sandbox",
        ));
    }
    let config = tokio::time::timeout(LOAD_TIMEOUT, loader.load())
        .await
        .map_err(|_| ctx.problem_from_text("loading the AWS config", "timed out"))?;
    if config.region().is_none() {
        return Err(Problem::new(
            crate::model::ProblemKind::Other,
            format!(
                "no region for deployment `{}`: set `region` in its config, or AWS_REGION",
                deployment.name
            ),
        ));
    }
    Ok(config)
}

pub fn context(deployment: &Deployment) -> CallContext {
    CallContext {
        deployment: deployment.name.clone(),
        profile: deployment.profile.clone(),
        endpoint: deployment.endpoint_url.clone(),
        region: deployment.region.clone(),
    }
}

/// The service clients of one deployment, all from one `SdkConfig`.
#[derive(Clone, Debug)]
pub struct Clients {
    pub ctx: CallContext,
    pub cloudformation: aws_sdk_cloudformation::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub opensearch: aws_sdk_opensearch::Client,
    pub sts: aws_sdk_sts::Client,
    /// FilterLogEvents requests/s shared by every tail of this deployment.
    pub logs_budget: super::tail::Budget,
    /// Lambda control-plane requests/s shared by every job of this deployment.
    pub lambda_budget: super::tail::Budget,
    /// For the clients built only when needed (ACM, EC2 for the VPN).
    pub config: SdkConfig,
}

impl Clients {
    pub fn new(config: &SdkConfig, ctx: CallContext) -> Self {
        Clients {
            ctx,
            cloudformation: aws_sdk_cloudformation::Client::new(config),
            lambda: aws_sdk_lambda::Client::new(config),
            sqs: aws_sdk_sqs::Client::new(config),
            logs: aws_sdk_cloudwatchlogs::Client::new(config),
            opensearch: aws_sdk_opensearch::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
            logs_budget: super::tail::budget(super::tail::FILTER_TPS),
            lambda_budget: super::tail::budget(super::lambda::CONTROL_RPS),
            config: config.clone(),
        }
    }

    pub async fn connect(deployment: &Deployment) -> Result<Self, Problem> {
        let config = load(deployment).await?;
        Ok(Clients::new(&config, context(deployment)))
    }
}
