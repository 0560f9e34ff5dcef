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

/// How long a one-shot command waits for an endpoint that does not answer,
/// unless told otherwise (`--give-up-after`).
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(30);

/// How a caller treats an endpoint that does not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Patience {
    /// The console and `--follow`: every call is bounded by the timeouts
    /// below, and the caller retries with backoff for as long as it runs.
    Retry,
    /// A one-shot command: a person or a script waits on it, so once the
    /// endpoint has not answered for this long, it gives up. No single call,
    /// config load included, may outlast it.
    GiveUpAfter(Duration),
}

impl Patience {
    /// Connect, attempt, operation and config-load timeouts.
    fn timeouts(self) -> (Duration, Duration, Duration, Duration) {
        let (connect, attempt, operation, load) = (
            Duration::from_secs(3),
            Duration::from_secs(20),
            Duration::from_secs(60),
            LOAD_TIMEOUT,
        );
        match self {
            Patience::Retry => (connect, attempt, operation, load),
            Patience::GiveUpAfter(limit) => (
                connect.min(limit),
                attempt.min(limit),
                operation.min(limit),
                load.min(limit),
            ),
        }
    }
}

/// The access key the sandbox uses; moto accepts any, real AWS none.
pub const SANDBOX_ACCESS_KEY: &str = "opsdeck-sandbox";

/// The secret that goes with [`SANDBOX_ACCESS_KEY`]; the sandbox's own test
/// servers check signatures made with it (`sandbox::sigv4`).
pub const SANDBOX_SECRET_KEY: &str = "opsdeck-sandbox-secret";

/// Builds the shared SDK config of a deployment. Runs off the UI task.
pub async fn load(deployment: &Deployment) -> Result<SdkConfig, Problem> {
    load_with(deployment, Patience::Retry).await
}

/// [`load`], with the timeouts fitted to how long the caller waits.
pub async fn load_with(deployment: &Deployment, patience: Patience) -> Result<SdkConfig, Problem> {
    let ctx = context(deployment);
    let (connect, attempt, operation, load_timeout) = patience.timeouts();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(connect)
                .operation_attempt_timeout(attempt)
                .operation_timeout(operation)
                .build(),
        );
    if let Some(profile) = &deployment.profile {
        // The provider built here does not get the loader's region, and an
        // assume-role profile's own STS call needs one: the deployment's, else
        // AWS_REGION or the profile's, as the loader would find it.
        let region = match &deployment.region {
            Some(r) => Some(Region::new(r.clone())),
            None => {
                let chain = aws_config::default_provider::region::DefaultRegionChain::builder()
                    .profile_name(profile)
                    .build();
                tokio::time::timeout(LOAD_TIMEOUT, chain.region())
                    .await
                    .ok()
                    .flatten()
            }
        };
        let provider_config =
            aws_config::provider_config::ProviderConfig::default().with_region(region);
        // Only this profile: a named profile that is missing or broken must
        // be an error, not a silent fall-back to environment or instance
        // credentials of another identity.
        loader = loader.profile_name(profile).credentials_provider(
            aws_config::profile::ProfileFileCredentialsProvider::builder()
                .configure(&provider_config)
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
            SANDBOX_SECRET_KEY,
            None,
            None,
            "opsdeck-sandbox",
        ));
    }
    let config = tokio::time::timeout(load_timeout, loader.load())
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
            lambda_budget: super::tail::even_budget(super::lambda::CONTROL_RPS),
            config: config.clone(),
        }
    }

    pub async fn connect(deployment: &Deployment) -> Result<Self, Problem> {
        Self::connect_with(deployment, Patience::Retry).await
    }

    pub async fn connect_with(
        deployment: &Deployment,
        patience: Patience,
    ) -> Result<Self, Problem> {
        let config = load_with(deployment, patience).await?;
        Ok(Clients::new(&config, context(deployment)))
    }
}
