//! Turns SDK errors into [`Problem`]s that name the profile and what to run.

use std::error::Error;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::model::{Problem, ProblemKind};

/// Who was calling, so that messages can say which profile to fix.
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    pub deployment: String,
    pub profile: Option<String>,
    pub endpoint: Option<String>,
    pub region: Option<String>,
}

impl CallContext {
    fn profile_phrase(&self) -> String {
        match &self.profile {
            Some(p) => format!("profile `{p}`"),
            None => "the default credentials".to_string(),
        }
    }

    fn login_hint(&self) -> String {
        match &self.profile {
            Some(p) => format!("aws sso login --profile {p}"),
            None => "aws sso login".to_string(),
        }
    }

    fn target(&self) -> String {
        match (&self.endpoint, &self.region) {
            (Some(e), _) => e.clone(),
            (None, Some(r)) => format!("AWS in {r}"),
            (None, None) => "AWS".to_string(),
        }
    }

    /// Classifies an error that is not an SDK call error: loading the
    /// config, resolving credentials, a timeout around the whole load.
    pub fn problem_from_text(&self, operation: &str, text: &str) -> Problem {
        classify_text(self, operation, text).unwrap_or_else(|| {
            Problem::new(ProblemKind::Other, format!("{operation} failed: {text}"))
        })
    }

    /// Classifies an SDK call error.
    pub fn problem<E, R>(&self, operation: &str, err: &SdkError<E, R>) -> Problem
    where
        E: ProvideErrorMetadata + Error + 'static,
        R: std::fmt::Debug,
    {
        if let SdkError::ServiceError(ctx) = err {
            let e = ctx.err();
            let code = e.code().unwrap_or("Unknown");
            let msg = e.message().unwrap_or("").trim();
            if let Some(p) = classify_code(self, operation, code, msg) {
                return p;
            }
            return Problem::new(
                ProblemKind::Other,
                format!("{operation} failed: {code}: {msg}"),
            );
        }
        let text = DisplayErrorContext(err).to_string();
        if let SdkError::TimeoutError(_) = err {
            return Problem::new(
                ProblemKind::Unreachable,
                format!(
                    "{operation} timed out talking to {}; check the network or the endpoint",
                    self.target()
                ),
            );
        }
        self.problem_from_text(operation, &text)
    }
}

fn classify_code(ctx: &CallContext, operation: &str, code: &str, msg: &str) -> Option<Problem> {
    let who = ctx.profile_phrase();
    Some(match code {
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" | "TokenRefreshRequired" => {
            Problem::new(
                ProblemKind::CredentialsExpired,
                format!(
                    "the credentials of {who} have expired: run `{}`, then press r",
                    ctx.login_hint()
                ),
            )
        }
        "InvalidClientTokenId"
        | "UnrecognizedClientException"
        | "SignatureDoesNotMatch"
        | "InvalidSignatureException"
        | "IncompleteSignature" => Problem::new(
            ProblemKind::CredentialsRejected,
            format!(
                "AWS rejected the credentials of {who} ({code}): check them with `aws sts get-caller-identity`"
            ),
        ),
        "Throttling"
        | "ThrottlingException"
        | "TooManyRequestsException"
        | "RequestLimitExceeded"
        | "LimitExceededException"
        | "RequestThrottled" => Problem::new(
            ProblemKind::Throttled,
            format!("{operation} is throttled by AWS ({code}); opsdeck backs off and tries again"),
        ),
        "AccessDenied"
        | "AccessDeniedException"
        | "UnauthorizedOperation"
        | "AuthorizationError" => Problem::new(
            ProblemKind::AccessDenied,
            format!("{operation} was denied for {who}: {msg}"),
        ),
        "ResourceNotFoundException"
        | "NotFoundException"
        | "ResourceNotFound"
        | "AWS.SimpleQueueService.NonExistentQueue"
        | "QueueDoesNotExist" => Problem::new(
            ProblemKind::NotFound,
            format!("{operation}: not found: {msg}"),
        ),
        "ValidationError" if msg.contains("does not exist") => {
            Problem::new(ProblemKind::NotFound, format!("{operation}: {msg}"))
        }
        _ => return None,
    })
}

fn classify_text(ctx: &CallContext, operation: &str, text: &str) -> Option<Problem> {
    let lower = text.to_ascii_lowercase();
    let who = ctx.profile_phrase();
    let login = ctx.login_hint();
    let loading_credentials = lower.contains("loading credentials")
        || lower.contains("credentialsnotloaded")
        || lower.contains("credentials not loaded")
        || lower.contains("credential provider")
        || lower.contains("no credentials");
    let problem = |kind, message: String| Some(Problem::new(kind, message));
    if lower.contains("mfa") {
        return problem(
            ProblemKind::NeedsMfa,
            format!(
                "{who} needs an MFA code, which opsdeck cannot prompt for: use a profile with SSO or credential_process, or export session credentials from `aws sts get-session-token`"
            ),
        );
    }
    if lower.contains("sso")
        && (lower.contains("token") || lower.contains("expired") || lower.contains("refresh"))
    {
        return problem(
            ProblemKind::CredentialsExpired,
            format!(
                "the SSO session of {who} has expired or was never started: run `{login}`, then press r"
            ),
        );
    }
    if lower.contains("expired") {
        return problem(
            ProblemKind::CredentialsExpired,
            format!("the credentials of {who} have expired: run `{login}`, then press r"),
        );
    }
    if lower.contains("profile")
        && (lower.contains("not defined")
            || lower.contains("could not be found")
            || lower.contains("not found"))
    {
        let name = ctx.profile.as_deref().unwrap_or("default");
        return problem(
            ProblemKind::NoCredentials,
            format!(
                "AWS profile `{name}` is not in ~/.aws/config or ~/.aws/credentials: run `aws configure --profile {name}` or `aws configure sso --profile {name}`"
            ),
        );
    }
    if loading_credentials {
        let fix = match &ctx.profile {
            Some(p) => {
                format!("run `aws configure --profile {p}` (or `aws sso login --profile {p}`)")
            }
            None => "set AWS_PROFILE, run `aws configure`, or give the deployment a `profile`"
                .to_string(),
        };
        if lower.contains("not enabled")
            || lower.contains("credentialsnotloaded")
            || lower.contains("no credentials")
        {
            return problem(
                ProblemKind::NoCredentials,
                format!("no AWS credentials found for {who}: {fix}"),
            );
        }
        let cause = innermost(text);
        if lower.contains("assume") {
            return problem(
                ProblemKind::CredentialsRejected,
                format!(
                    "assuming the role of {who} failed ({cause}); if the role needs MFA, opsdeck cannot prompt for it: use SSO or credential_process"
                ),
            );
        }
        return problem(
            ProblemKind::NoCredentials,
            format!("could not load credentials for {who} ({cause}): {fix}"),
        );
    }
    if lower.contains("connection refused")
        || lower.contains("dns error")
        || lower.contains("failed to lookup")
        || lower.contains("io error")
        || lower.contains("connection reset")
        || lower.contains("timed out")
        || lower.contains("timeout")
        || lower.contains("dispatch failure")
    {
        let why = if lower.contains("connection refused") {
            "connection refused"
        } else if lower.contains("dns") || lower.contains("lookup") {
            "name not resolved"
        } else if lower.contains("time") {
            "timed out"
        } else {
            "network error"
        };
        return problem(
            ProblemKind::Unreachable,
            format!(
                "{operation}: cannot reach {} ({why}); is it running, and is the network up?",
                ctx.target()
            ),
        );
    }
    None
}

/// The last cause of a `DisplayErrorContext` text: "a: b: c (Debug…)" → "c".
fn innermost(text: &str) -> &str {
    let head = text.split(" (").next().unwrap_or(text);
    head.rsplit(": ").next().unwrap_or(head).trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> CallContext {
        CallContext {
            deployment: "dev".into(),
            profile: Some("azul-dev".into()),
            endpoint: Some("http://127.0.0.1:1".into()),
            region: Some("us-east-1".into()),
        }
    }

    #[test]
    fn expired_sso_names_the_login_command() {
        let p = ctx().problem_from_text(
            "GetCallerIdentity",
            "the SSO session has expired or is invalid",
        );
        assert_eq!(p.kind, ProblemKind::CredentialsExpired);
        assert!(
            p.message.contains("aws sso login --profile azul-dev"),
            "{p}"
        );
    }

    #[test]
    fn sso_without_a_cached_token_is_not_a_network_error() {
        // What aws-config says for an SSO profile nobody logged in to.
        let text = "dispatch failure: other: an error occurred while loading credentials: an error occurred while loading an access token: failed to load the cached SSO token (DispatchFailure(...IoError...))";
        let p = ctx().problem_from_text("GetCallerIdentity", text);
        assert_eq!(p.kind, ProblemKind::CredentialsExpired, "{p}");
        assert!(
            p.message.contains("aws sso login --profile azul-dev"),
            "{p}"
        );
    }

    #[test]
    fn a_refused_connection_is_unreachable() {
        let text = "dispatch failure: io error: client error (Connect): tcp connect error: Connection refused (os error 111)";
        let p = ctx().problem_from_text("ListQueues", text);
        assert_eq!(p.kind, ProblemKind::Unreachable);
        assert!(
            p.message.contains("http://127.0.0.1:1") && p.message.contains("connection refused"),
            "{p}"
        );
    }

    #[test]
    fn service_codes_classify() {
        let p = classify_code(&ctx(), "ListQueues", "ThrottlingException", "slow down");
        assert_eq!(p.map(|p| p.kind), Some(ProblemKind::Throttled));
        let p = classify_code(&ctx(), "DescribeStacks", "ExpiredToken", "");
        assert_eq!(p.map(|p| p.kind), Some(ProblemKind::CredentialsExpired));
    }
}
