//! The one way opsdeck builds a plain HTTP(S) client: hyper over rustls
//! (aws-lc-rs, the system's roots), HTTP/1, a bounded TCP connect. The
//! OpenSearch data plane signs its requests on top of it; the health checks
//! use it as it is (they need no credentials).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// The connector under every client: plain HTTP or HTTPS by the URL's scheme.
pub type Https = hyper_rustls::HttpsConnector<HttpConnector>;

/// A client whose request bodies are whole buffers.
pub type HttpClient = Client<Https, Full<Bytes>>;

/// The TLS settings every client shares: the system's roots are read and
/// parsed once per process, not once per refresh.
fn tls() -> Result<rustls::ClientConfig, String> {
    static TLS: OnceLock<Result<rustls::ClientConfig, String>> = OnceLock::new();
    TLS.get_or_init(|| {
        use hyper_rustls::ConfigBuilderExt as _;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("no TLS settings to check servers with: {e}"))?
            .with_native_roots()
            .map(|b| b.with_no_client_auth())
            .map_err(|e| format!("no TLS roots to check servers with: {e}"))
    })
    .clone()
}

/// A client that gives up a TCP connect after `connect_timeout`; `Err` when
/// the system has no TLS roots to check servers with.
pub fn client(connect_timeout: Duration) -> Result<HttpClient, String> {
    let mut connector = HttpConnector::new();
    connector.enforce_http(false);
    connector.set_connect_timeout(Some(connect_timeout));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls()?)
        .https_or_http()
        .enable_http1()
        .wrap_connector(connector);
    Ok(Client::builder(TokioExecutor::new()).build(https))
}

/// An error with each of its causes, "a: b: c" (repeats dropped).
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.dedup();
    parts.join(": ")
}
