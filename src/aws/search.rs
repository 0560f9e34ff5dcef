//! The OpenSearch data plane: one signed HTTP client for a domain's REST API.
//!
//! The SDK covers only the control plane (DescribeDomain); the cluster's own
//! API (`_cluster/health`, `_cat/indices`, `_reindex`, `_tasks`, `_aliases`)
//! is plain HTTP with SigV4 for service `es`. Requests are signed with
//! `aws-sigv4` (the SDK's signer) using the deployment's credentials and
//! region, and sent with hyper (the client the SDK itself is built on, TLS by
//! rustls with the system's roots).
//!
//! Where requests go, first match wins:
//! 1. `--opensearch-url URL` (it sets every deployment's `opensearch_url`);
//! 2. `opensearch_url` in `[deployment.resources]`: a tunnel or VPN into the
//!    domain's VPC, or a proxy;
//! 3. the endpoint DescribeDomain gives (public, or `endpoints["vpc"]`).
//!
//! `--endpoint-url` never changes it: that is for the AWS APIs.
//!
//! Every failure is named for what it is ([`SearchError`]): the access
//! policy's 403 with its message and the caller, a VPC endpoint with no route
//! from here, a timeout, a malformed or truncated answer, OpenSearch's own
//! error with its type and reason.

use std::time::Duration;

use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Clients;
use super::http::chain;
use crate::config::Deployment;
use crate::model::{
    ClusterColour, ClusterHealth, DomainStatus, IndexRow, IndexView, Problem, ProblemKind,
};

/// How long a TCP connect may take: a VPC endpoint seen from outside never answers.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// How long one request may take, answer included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// What went wrong talking to the data plane.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    #[error("the domain's access policy denies {}: {message}", caller.as_deref().unwrap_or("the caller"))]
    Denied {
        message: String,
        caller: Option<String>,
    },
    #[error(
        "unreachable: the domain is in a VPC; set opensearch_url to a tunnel ({endpoint} did not answer)"
    )]
    VpcUnreachable { endpoint: String },
    #[error("unreachable: {endpoint}: {detail}")]
    Unreachable { endpoint: String, detail: String },
    #[error("timed out: {endpoint} did not answer {what} within {} s", after.as_secs())]
    Timeout {
        endpoint: String,
        what: String,
        after: Duration,
    },
    #[error("malformed answer to {what}: {detail}")]
    Malformed { what: String, detail: String },
    #[error("{what} failed: HTTP {status} {kind}: {reason}")]
    Http {
        what: String,
        status: u16,
        kind: String,
        reason: String,
    },
    #[error("no credentials to sign with: {0}")]
    Credentials(String),
}

impl SearchError {
    pub fn problem(&self) -> Problem {
        let kind = match self {
            SearchError::Denied { .. } => ProblemKind::AccessDenied,
            SearchError::VpcUnreachable { .. }
            | SearchError::Unreachable { .. }
            | SearchError::Timeout { .. } => ProblemKind::Unreachable,
            SearchError::Http { status: 404, .. } => ProblemKind::NotFound,
            SearchError::Credentials(_) => ProblemKind::NoCredentials,
            SearchError::Malformed { .. } | SearchError::Http { .. } => ProblemKind::Other,
        };
        Problem::new(kind, self.to_string())
    }

    /// OpenSearch's error type, for a caller that handles one (`resource_already_exists_exception`).
    pub fn kind(&self) -> Option<&str> {
        match self {
            SearchError::Http { kind, .. } => Some(kind),
            _ => None,
        }
    }
}

/// A domain's data plane, signed with a deployment's credentials.
#[derive(Clone)]
pub struct SearchClient {
    /// Without a trailing slash; may carry a path (a proxy's prefix).
    base: String,
    host: String,
    region: String,
    credentials: aws_credential_types::provider::SharedCredentialsProvider,
    http: super::http::HttpClient,
    /// The endpoint came from a VPC domain: a connect failure means no route.
    vpc: bool,
    timeout: Duration,
    /// Asked of STS when a 403 needs it.
    sts: Option<aws_sdk_sts::Client>,
}

impl std::fmt::Debug for SearchClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchClient")
            .field("base", &self.base)
            .field("region", &self.region)
            .field("vpc", &self.vpc)
            .finish()
    }
}

/// `Ok(url)` or why there is no data plane to talk to.
pub fn endpoint_of(d: &Deployment, domain: Option<&DomainStatus>) -> Result<String, Problem> {
    if let Some(url) = &d.resources.opensearch_url {
        return Ok(url.clone());
    }
    let Some(domain) = domain else {
        return Err(Problem::new(
            ProblemKind::Other,
            format!(
                "deployment `{}` names no search domain: set opensearch_domain (or opensearch_url) in [deployment.resources]",
                d.name
            ),
        ));
    };
    if domain.deleted {
        return Err(Problem::new(
            ProblemKind::NotFound,
            format!("search domain {} is being deleted", domain.name),
        ));
    }
    match &domain.endpoint {
        Some(e) if e.starts_with("http://") || e.starts_with("https://") => Ok(e.clone()),
        Some(e) => Ok(format!("https://{e}")),
        None if domain.processing || !domain.created => Err(Problem::new(
            ProblemKind::Other,
            format!(
                "search domain {} is still processing (being created or changed) and has no endpoint yet; try again in a few minutes",
                domain.name
            ),
        )),
        None => Err(Problem::new(
            ProblemKind::Other,
            format!(
                "search domain {} has no endpoint; set opensearch_url to reach it",
                domain.name
            ),
        )),
    }
}

/// The deployment's search domain from the control plane, with its name
/// in the error when it is not there.
pub async fn describe(c: &Clients, d: &Deployment) -> Result<Option<DomainStatus>, Problem> {
    let Some(name) = &d.resources.opensearch_domain else {
        return Ok(None);
    };
    super::opensearch::domain(c, name).await.map(Some).map_err(|p| {
        if p.kind == ProblemKind::NotFound {
            Problem::new(
                ProblemKind::NotFound,
                format!(
                    "search domain {name} not found in {} (opensearch_domain of deployment `{}`)",
                    d.region.as_deref().unwrap_or("the default region"),
                    d.name
                ),
            )
        } else {
            p
        }
    })
}

/// The domain (control plane) and a client for its data plane.
pub async fn connect(
    c: &Clients,
    d: &Deployment,
) -> Result<(Option<DomainStatus>, SearchClient), Problem> {
    let domain = describe(c, d).await?;
    let url = endpoint_of(d, domain.as_ref())?;
    let vpc = d.resources.opensearch_url.is_none() && domain.as_ref().is_some_and(|d| d.vpc);
    let client = SearchClient::new(c, &url, vpc)?;
    Ok((domain, client))
}

/// Everything the Index panel shows. A control-plane failure is the
/// refresh's error; a data-plane one shows beside the domain's facts.
pub async fn view(c: &Clients, d: &Deployment) -> Result<IndexView, Problem> {
    let domain = describe(c, d).await?;
    let mut view = IndexView {
        domain,
        ..IndexView::default()
    };
    let client = endpoint_of(d, view.domain.as_ref()).and_then(|url| {
        view.endpoint = Some(url.clone());
        let vpc =
            d.resources.opensearch_url.is_none() && view.domain.as_ref().is_some_and(|d| d.vpc);
        SearchClient::new(c, &url, vpc)
    });
    let client = match client {
        Ok(client) => client,
        Err(p) => {
            view.problem = Some(p);
            return Ok(view);
        }
    };
    match client.overview().await {
        Ok((health, indices)) => {
            view.health = Some(health);
            view.indices = indices;
        }
        Err(e) => view.problem = Some(e.problem()),
    }
    Ok(view)
}

impl SearchClient {
    pub fn new(c: &Clients, url: &str, vpc: bool) -> Result<Self, Problem> {
        let bad = |why: String| Problem::new(ProblemKind::Other, why);
        let parsed = url::Url::parse(url).map_err(|e| bad(format!("`{url}` is not a URL: {e}")))?;
        let host = match (parsed.host_str(), parsed.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => return Err(bad(format!("`{url}` has no host"))),
        };
        let region = c
            .config
            .region()
            .map(|r| r.to_string())
            .ok_or_else(|| bad("no region to sign the search requests for".into()))?;
        let credentials = c
            .config
            .credentials_provider()
            .ok_or_else(|| bad("no credentials to sign the search requests with".into()))?;
        let http = super::http::client(CONNECT_TIMEOUT)
            .map_err(|e| bad(format!("cannot talk to {url}: {e}")))?;
        Ok(SearchClient {
            base: url.trim_end_matches('/').to_string(),
            host,
            region,
            credentials,
            http,
            vpc,
            timeout: REQUEST_TIMEOUT,
            sts: Some(c.sts.clone()),
        })
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn endpoint(&self) -> &str {
        &self.base
    }

    /// Sends one signed request; the body of a 2xx answer.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Bytes, SearchError> {
        let payload = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let uri = format!("{}{path}", self.base);
        let mut headers = vec![("host".to_string(), self.host.clone())];
        if body.is_some() {
            headers.push(("content-type".into(), "application/json".into()));
        }
        let credentials = self
            .credentials
            .provide_credentials()
            .await
            .map_err(|e| SearchError::Credentials(e.to_string()))?;
        let identity = credentials.into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("es")
            .time(std::time::SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| SearchError::Credentials(e.to_string()))?
            .into();
        let signable = SignableRequest::new(
            method,
            &uri,
            headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            SignableBody::Bytes(&payload),
        )
        .map_err(|e| SearchError::Credentials(format!("cannot sign {uri}: {e}")))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| SearchError::Credentials(e.to_string()))?
            .into_parts();
        let mut request = http::Request::builder().method(method).uri(&uri);
        for (n, v) in &headers {
            request = request.header(n, v);
        }
        for (n, v) in instructions.headers() {
            request = request.header(n, v);
        }
        let request = request
            .body(Full::new(Bytes::from(payload)))
            .map_err(|e| SearchError::Credentials(format!("cannot build the request: {e}")))?;

        let exchange = async {
            let response = self.http.request(request).await.map_err(|e| {
                if e.is_connect() && self.vpc {
                    SearchError::VpcUnreachable {
                        endpoint: self.base.clone(),
                    }
                } else if e.is_connect() {
                    SearchError::Unreachable {
                        endpoint: self.base.clone(),
                        detail: chain(&e),
                    }
                } else {
                    SearchError::Malformed {
                        what: what.to_string(),
                        detail: format!("the connection broke: {}", chain(&e)),
                    }
                }
            })?;
            let status = response.status().as_u16();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| SearchError::Malformed {
                    what: what.to_string(),
                    detail: format!("the answer was truncated: {}", chain(&e)),
                })?
                .to_bytes();
            Ok::<_, SearchError>((status, body))
        };
        let (status, body) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| {
                if self.vpc {
                    SearchError::VpcUnreachable {
                        endpoint: self.base.clone(),
                    }
                } else {
                    SearchError::Timeout {
                        endpoint: self.base.clone(),
                        what: what.to_string(),
                        after: self.timeout,
                    }
                }
            })??;
        if (200..300).contains(&status) {
            return Ok(body);
        }
        let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if status == 403 {
            let message = parsed["message"]
                .as_str()
                .or_else(|| parsed["Message"].as_str())
                .map(str::to_string)
                .unwrap_or_else(|| String::from_utf8_lossy(&body).trim().to_string());
            let caller = match &self.sts {
                Some(sts) => sts
                    .get_caller_identity()
                    .send()
                    .await
                    .ok()
                    .and_then(|o| o.arn().map(str::to_string)),
                None => None,
            };
            return Err(SearchError::Denied { message, caller });
        }
        let error = &parsed["error"];
        let (kind, reason) = match (error["type"].as_str(), error["reason"].as_str()) {
            (Some(k), Some(r)) => (k.to_string(), r.to_string()),
            _ => (
                "error".to_string(),
                String::from_utf8_lossy(&body).chars().take(200).collect(),
            ),
        };
        Err(SearchError::Http {
            what: what.to_string(),
            status,
            kind,
            reason,
        })
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<T, SearchError> {
        let bytes = self.send(method, path, body, what).await?;
        parse(&bytes, what)
    }

    pub async fn health(&self) -> Result<ClusterHealth, SearchError> {
        let raw: RawHealth = self
            .json("GET", "/_cluster/health", None, "GET /_cluster/health")
            .await?;
        Ok(raw.into())
    }

    pub async fn cat_indices(&self) -> Result<Vec<IndexRow>, SearchError> {
        let raw: Vec<RawCatIndex> = self
            .json(
                "GET",
                "/_cat/indices?format=json&bytes=b",
                None,
                "GET /_cat/indices",
            )
            .await?;
        raw.into_iter()
            .map(|r| r.into_row())
            .collect::<Result<_, _>>()
    }

    /// Alias → index pairs.
    pub async fn aliases(&self) -> Result<Vec<(String, String)>, SearchError> {
        let raw: Vec<RawCatAlias> = self
            .json(
                "GET",
                "/_cat/aliases?format=json",
                None,
                "GET /_cat/aliases",
            )
            .await?;
        Ok(raw.into_iter().map(|a| (a.alias, a.index)).collect())
    }

    /// Health, and the indices with their aliases, asked at once.
    ///
    /// Every answer is waited for even when
    /// one fails: a request dropped half-sent would still reach the cluster
    /// and be answered to nobody, and the first failure in the order asked is
    /// the one reported.
    pub async fn overview(&self) -> Result<(ClusterHealth, Vec<IndexRow>), SearchError> {
        let (health, indices, aliases) =
            tokio::join!(self.health(), self.cat_indices(), self.aliases());
        let (health, indices, aliases) = (health?, indices?, aliases?);
        Ok((health, with_aliases(indices, &aliases)))
    }

    /// `PUT /NAME` with settings and mappings (and aliases) from `body`.
    pub async fn create_index(&self, name: &str, body: &Value) -> Result<(), SearchError> {
        self.send(
            "PUT",
            &format!("/{}", enc(name)),
            Some(body),
            &format!("creating index {name}"),
        )
        .await
        .map(drop)
    }

    pub async fn delete_index(&self, name: &str) -> Result<(), SearchError> {
        self.send(
            "DELETE",
            &format!("/{}", enc(name)),
            None,
            &format!("deleting index {name}"),
        )
        .await
        .map(drop)
    }

    pub async fn count(&self, name: &str) -> Result<u64, SearchError> {
        let what = format!("counting the documents of {name}");
        let v: Value = self
            .json("GET", &format!("/{}/_count", enc(name)), None, &what)
            .await?;
        v["count"].as_u64().ok_or(SearchError::Malformed {
            what,
            detail: "no `count`".into(),
        })
    }

    /// Starts `_reindex` as a task; its id.
    pub async fn start_reindex(&self, source: &str, dest: &str) -> Result<String, SearchError> {
        let what = format!("starting the reindex of {source} into {dest}");
        let body = json!({ "source": { "index": source }, "dest": { "index": dest } });
        let v: Value = self
            .json(
                "POST",
                "/_reindex?wait_for_completion=false",
                Some(&body),
                &what,
            )
            .await?;
        v["task"]
            .as_str()
            .map(str::to_string)
            .ok_or(SearchError::Malformed {
                what,
                detail: "no `task` id in the answer".into(),
            })
    }

    pub async fn task(&self, id: &str) -> Result<TaskStatus, SearchError> {
        let what = format!("GET /_tasks/{id}");
        let bytes = self
            .send("GET", &format!("/_tasks/{}", enc(id)), None, &what)
            .await?;
        TaskStatus::parse(&bytes, &what)
    }

    pub async fn cancel_task(&self, id: &str) -> Result<(), SearchError> {
        self.send(
            "POST",
            &format!("/_tasks/{}/_cancel", enc(id)),
            None,
            &format!("cancelling task {id}"),
        )
        .await
        .map(drop)
    }

    /// Points `alias` from `from` (if any) to `to` in one atomic request.
    pub async fn swap_alias(
        &self,
        alias: &str,
        from: Option<&str>,
        to: &str,
    ) -> Result<(), SearchError> {
        let mut actions = Vec::new();
        if let Some(from) = from {
            actions.push(json!({ "remove": { "index": from, "alias": alias } }));
        }
        actions.push(json!({ "add": { "index": to, "alias": alias } }));
        self.send(
            "POST",
            "/_aliases",
            Some(&json!({ "actions": actions })),
            &format!("pointing alias {alias} at {to}"),
        )
        .await
        .map(drop)
    }
}

/// A percent-encoded path segment (index names are plain, task ids have a colon).
fn enc(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes())
        .collect::<String>()
        .replace("%3A", ":")
}

fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, SearchError> {
    serde_json::from_slice(bytes).map_err(|e| SearchError::Malformed {
        what: what.to_string(),
        detail: if e.is_eof() {
            format!("the JSON ends early ({} bytes): {e}", bytes.len())
        } else {
            e.to_string()
        },
    })
}

/// Puts each alias on the index it points at.
pub fn with_aliases(mut indices: Vec<IndexRow>, aliases: &[(String, String)]) -> Vec<IndexRow> {
    for (alias, index) in aliases {
        if let Some(row) = indices.iter_mut().find(|r| &r.name == index) {
            row.aliases.push(alias.clone());
        }
    }
    for row in &mut indices {
        row.aliases.sort();
    }
    indices
}

#[derive(Deserialize)]
struct RawHealth {
    cluster_name: String,
    status: String,
    number_of_nodes: u64,
    number_of_data_nodes: u64,
    active_primary_shards: u64,
    active_shards: u64,
    relocating_shards: u64,
    initializing_shards: u64,
    unassigned_shards: u64,
    #[serde(default)]
    number_of_pending_tasks: u64,
    #[serde(default)]
    active_shards_percent_as_number: f64,
}

impl From<RawHealth> for ClusterHealth {
    fn from(r: RawHealth) -> Self {
        ClusterHealth {
            cluster_name: r.cluster_name,
            status: ClusterColour::parse(&r.status),
            nodes: r.number_of_nodes,
            data_nodes: r.number_of_data_nodes,
            active_primary_shards: r.active_primary_shards,
            active_shards: r.active_shards,
            relocating_shards: r.relocating_shards,
            initializing_shards: r.initializing_shards,
            unassigned_shards: r.unassigned_shards,
            pending_tasks: r.number_of_pending_tasks,
            active_shards_percent: r.active_shards_percent_as_number,
        }
    }
}

/// A row of `_cat/indices?format=json`: every value a string, or null for
/// a closed index.
#[derive(Deserialize)]
struct RawCatIndex {
    health: Option<String>,
    status: Option<String>,
    index: String,
    pri: Option<String>,
    rep: Option<String>,
    #[serde(rename = "docs.count")]
    docs: Option<String>,
    #[serde(rename = "docs.deleted")]
    deleted: Option<String>,
    #[serde(rename = "store.size")]
    size: Option<String>,
    #[serde(rename = "pri.store.size")]
    primary_size: Option<String>,
}

impl RawCatIndex {
    fn into_row(self) -> Result<IndexRow, SearchError> {
        let index = self.index;
        fn num<T: std::str::FromStr>(
            index: &str,
            field: &str,
            v: Option<String>,
        ) -> Result<Option<T>, SearchError> {
            match v {
                None => Ok(None),
                Some(s) => s.parse().map(Some).map_err(|_| SearchError::Malformed {
                    what: "GET /_cat/indices".into(),
                    detail: format!("index {index}: {field} `{s}` is not a number"),
                }),
            }
        }
        Ok(IndexRow {
            health: self.health,
            status: self.status.unwrap_or_default(),
            docs: num(&index, "docs.count", self.docs)?,
            deleted: num(&index, "docs.deleted", self.deleted)?,
            size: num(&index, "store.size", self.size)?,
            primary_size: num(&index, "pri.store.size", self.primary_size)?,
            primaries: num(&index, "pri", self.pri)?,
            replicas: num(&index, "rep", self.rep)?,
            aliases: Vec::new(),
            name: index,
        })
    }
}

#[derive(Deserialize)]
struct RawCatAlias {
    alias: String,
    index: String,
}

/// `GET /_tasks/ID` of a reindex.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskStatus {
    pub completed: bool,
    pub total: u64,
    pub created: u64,
    pub updated: u64,
    pub running: Duration,
    pub cancelled: bool,
    /// Each failure as "index id: type: reason".
    pub failures: Vec<String>,
    /// The task's own error, when it ended in one.
    pub error: Option<String>,
}

impl TaskStatus {
    pub fn parse(bytes: &[u8], what: &str) -> Result<Self, SearchError> {
        let v: Value = parse(bytes, what)?;
        let malformed = |detail: &str| SearchError::Malformed {
            what: what.to_string(),
            detail: detail.to_string(),
        };
        let completed = v["completed"]
            .as_bool()
            .ok_or_else(|| malformed("no `completed`"))?;
        let status = &v["task"]["status"];
        if !status.is_object() {
            return Err(malformed("no `task.status`"));
        }
        let response = &v["response"];
        let from = |k: &str| {
            response[k]
                .as_u64()
                .or_else(|| status[k].as_u64())
                .unwrap_or(0)
        };
        let failures = response["failures"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|f| {
                        let cause = &f["cause"];
                        format!(
                            "{} {}: {}: {}",
                            f["index"].as_str().unwrap_or("?"),
                            f["id"].as_str().unwrap_or("?"),
                            cause["type"].as_str().unwrap_or("failure"),
                            cause["reason"]
                                .as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| f.to_string())
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let error = v["error"].as_object().map(|e| {
            format!(
                "{}: {}",
                e.get("type").and_then(Value::as_str).unwrap_or("error"),
                e.get("reason").and_then(Value::as_str).unwrap_or("")
            )
        });
        Ok(TaskStatus {
            completed,
            total: from("total"),
            created: from("created"),
            updated: from("updated"),
            running: Duration::from_nanos(v["task"]["running_time_in_nanos"].as_u64().unwrap_or(0)),
            cancelled: v["task"]["cancelled"].as_bool().unwrap_or(false)
                || response["canceled"].is_string(),
            failures,
            error,
        })
    }

    /// Documents written so far.
    pub fn done(&self) -> u64 {
        self.created + self.updated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/opensearch")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn documented_answers_parse() {
        let green: RawHealth = parse(&fixture("cluster_health_green.json"), "h").unwrap();
        let green = ClusterHealth::from(green);
        assert_eq!(green.status, Some(ClusterColour::Green));
        assert_eq!((green.nodes, green.active_shards), (2, 16));
        let yellow: RawHealth = parse(&fixture("cluster_health_yellow.json"), "h").unwrap();
        let yellow = ClusterHealth::from(yellow);
        assert_eq!(yellow.status, Some(ClusterColour::Yellow));
        assert_eq!(yellow.unassigned_shards, 8);
        assert_eq!(yellow.active_shards_percent, 50.0);

        let rows: Vec<RawCatIndex> = parse(&fixture("cat_indices.json"), "i").unwrap();
        let rows: Vec<IndexRow> = rows.into_iter().map(|r| r.into_row().unwrap()).collect();
        let aliases: Vec<RawCatAlias> = parse(&fixture("cat_aliases.json"), "a").unwrap();
        let aliases: Vec<_> = aliases.into_iter().map(|a| (a.alias, a.index)).collect();
        let rows = with_aliases(rows, &aliases);
        assert_eq!(rows[0].name, "dev-files-v1");
        assert_eq!(rows[0].docs, Some(12_840));
        assert_eq!(rows[0].size, Some(21_828_000));
        assert_eq!(rows[0].primaries, Some(3));
        assert_eq!(rows[0].aliases, vec!["dev-files".to_string()]);
        // A closed index has no stats: none, not zero.
        assert_eq!(rows[2].status, "close");
        assert_eq!(rows[2].docs, None);

        let running = TaskStatus::parse(&fixture("task_running.json"), "t").unwrap();
        assert!(!running.completed);
        assert_eq!((running.created, running.total), (5_000, 12_840));
        let failed = TaskStatus::parse(&fixture("task_failed.json"), "t").unwrap();
        assert!(failed.completed);
        assert_eq!(failed.created, 3_000);
        assert_eq!(failed.failures.len(), 1);
        assert!(failed.failures[0].contains("mapper_parsing_exception"));
    }

    #[test]
    fn a_cut_answer_is_named_malformed() {
        let body = fixture("cluster_health_green.json");
        let cut = &body[..body.len() / 2];
        let e = parse::<RawHealth>(cut, "GET /_cluster/health")
            .err()
            .unwrap();
        assert!(
            matches!(&e, SearchError::Malformed { detail, .. } if detail.contains("ends early")),
            "{e}"
        );
        let bad_number = br#"[{"index":"x","docs.count":"many"}]"#;
        let rows: Vec<RawCatIndex> = parse(bad_number, "i").unwrap();
        let e = rows.into_iter().next().unwrap().into_row().err().unwrap();
        assert!(
            e.to_string().contains("docs.count `many` is not a number"),
            "{e}"
        );
    }

    #[test]
    fn the_url_comes_from_the_config_before_the_domain() {
        let mut d = Deployment {
            name: "dev".into(),
            profile: None,
            region: None,
            endpoint_url: None,
            protected: false,
            read_only: false,
            sandbox_credentials: false,
            resources: Default::default(),
        };
        let domain = DomainStatus {
            name: "dev-index".into(),
            created: true,
            endpoint: Some("vpc-dev-index-abc.us-east-1.es.amazonaws.com".into()),
            vpc: true,
            ..Default::default()
        };
        assert_eq!(
            endpoint_of(&d, Some(&domain)).unwrap(),
            "https://vpc-dev-index-abc.us-east-1.es.amazonaws.com"
        );
        d.resources.opensearch_url = Some("https://localhost:9200".into());
        assert_eq!(
            endpoint_of(&d, Some(&domain)).unwrap(),
            "https://localhost:9200"
        );
        d.resources.opensearch_url = None;
        let processing = DomainStatus {
            processing: true,
            created: true,
            endpoint: None,
            ..domain
        };
        let p = endpoint_of(&d, Some(&processing)).unwrap_err();
        assert!(p.message.contains("still processing"), "{p}");
    }
}
