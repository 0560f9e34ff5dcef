//! The SDK puts a host prefix before the endpoint for some operations
//! (`stream-` for StartLiveTail), which routes to AWS's streaming front end
//! but turns a custom endpoint such as a local emulator's
//! `http://127.0.0.1:5000` into `http://stream-127.0.0.1:5000`, a host that
//! does not resolve. [`StripHostPrefix`] undoes it for custom endpoints only.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_types::endpoint_config::EndpointUrl;

/// The host prefix the SDK puts before the endpoint for StartLiveTail.
pub const STREAM_HOST_PREFIX: &str = "stream-";

/// `uri` with `prefix` taken off its host, if its authority is `prefix`
/// followed by `endpoint`'s authority; `None` otherwise.
///
/// `strip_host_prefix("http://stream-127.0.0.1:5000/", "http://127.0.0.1:5000", "stream-")`
/// is `Some("http://127.0.0.1:5000/")`.
pub fn strip_host_prefix(uri: &str, endpoint: &str, prefix: &str) -> Option<String> {
    let (scheme, rest) = uri.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (_, endpoint_rest) = endpoint.split_once("://")?;
    let endpoint_authority = endpoint_rest.split(['/', '?', '#']).next()?;
    let head = authority.get(..prefix.len())?;
    let stripped = authority.get(prefix.len()..)?;
    (head.eq_ignore_ascii_case(prefix) && stripped.eq_ignore_ascii_case(endpoint_authority))
        .then(|| format!("{scheme}://{stripped}{tail}"))
}

/// Takes the SDK's host prefix (`stream-` for StartLiveTail) off the request
/// when the client has a custom endpoint URL: `http://127.0.0.1:5000` must not
/// become `http://stream-127.0.0.1:5000`. Against AWS's own endpoints (no
/// endpoint URL configured) the prefix is kept: it routes to the streaming
/// front end.
#[derive(Debug, Clone)]
pub struct StripHostPrefix {
    prefix: &'static str,
}

impl StripHostPrefix {
    pub fn new(prefix: &'static str) -> Self {
        StripHostPrefix { prefix }
    }
}

impl Intercept for StripHostPrefix {
    fn name(&self) -> &'static str {
        "StripHostPrefix"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(EndpointUrl(endpoint)) = cfg.load::<EndpointUrl>() else {
            return Ok(());
        };
        let request = context.request_mut();
        if let Some(uri) = strip_host_prefix(request.uri(), endpoint, self.prefix) {
            request.set_uri(uri)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_the_stream_prefix_of_a_custom_endpoint() {
        let e = "http://127.0.0.1:5000";
        assert_eq!(
            strip_host_prefix("http://stream-127.0.0.1:5000/", e, "stream-").as_deref(),
            Some("http://127.0.0.1:5000/")
        );
        assert_eq!(
            strip_host_prefix("http://stream-127.0.0.1:5000", e, "stream-").as_deref(),
            Some("http://127.0.0.1:5000")
        );
        assert_eq!(
            strip_host_prefix(
                "https://stream-localhost:4566/x?y=1",
                "https://localhost:4566/",
                "stream-"
            )
            .as_deref(),
            Some("https://localhost:4566/x?y=1")
        );
        // Already without the prefix, another host, or AWS's own endpoint: kept.
        assert_eq!(
            strip_host_prefix("http://127.0.0.1:5000/", e, "stream-"),
            None
        );
        assert_eq!(
            strip_host_prefix("http://stream-10.0.0.1:5000/", e, "stream-"),
            None
        );
        assert_eq!(
            strip_host_prefix("http://stream-127.0.0.1:5001/", e, "stream-"),
            None
        );
        assert_eq!(
            strip_host_prefix(
                "https://stream-logs.us-east-1.amazonaws.com/",
                "https://vpce-1.logs.us-east-1.vpce.amazonaws.com",
                "stream-"
            ),
            None
        );
    }
}
