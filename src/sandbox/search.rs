//! The sandbox's OpenSearch data plane: a small HTTP server that stands in
//! for a domain's REST API, since no OpenSearch can run on these machines and
//! moto has only the control plane.
//!
//! It follows OpenSearch 2.11 (the engine version the sandbox creates its
//! domains with) and answers, in that version's documented format (examples
//! in `tests/fixtures/opensearch/`): `GET /_cluster/health`,
//! `GET /_cat/indices?format=json&bytes=b`, `GET /_cat/aliases?format=json`,
//! `PUT /INDEX` (settings, mappings and aliases from the body), `DELETE
//! /INDEX`, `GET /INDEX/_count`, `POST /_reindex?wait_for_completion=false`,
//! `GET /_tasks/ID`, `POST /_tasks/ID/_cancel` and `POST /_aliases`.
//!
//! Like a domain with an IAM access policy, it checks every request's SigV4
//! signature (service `es`) against the sandbox's dummy credentials and
//! refuses an unsigned or wrongly signed one with a 403 and the JSON
//! `{"message": …}` body a domain sends. One server holds one cluster per
//! region: a request goes to the cluster of the region it is signed for, so
//! the sandbox's `dev` (us-east-1, green) and `prod` (us-west-2, yellow with
//! unassigned replicas) share one port.
//!
//! A reindex task makes progress with time, at [`Faults::reindex_rate`]
//! documents a second; tests turn the other [`Faults`] knobs (a reindex that
//! fails part-way, truncated or malformed answers, an access policy that
//! denies) and grow doc counts themselves.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The OpenSearch version whose REST format this server follows.
pub const VERSION: &str = "2.11";

/// Bytes a document takes on disk, for the store sizes.
const BYTES_PER_DOC: u64 = 850;

/// One index of a cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct Index {
    pub uuid: String,
    pub docs: u64,
    pub deleted: u64,
    pub primaries: u32,
    pub replicas: u32,
    pub open: bool,
    /// The body it was created with (settings and mappings), as sent.
    pub definition: Value,
}

impl Index {
    pub fn new(docs: u64, primaries: u32, replicas: u32) -> Self {
        Index {
            uuid: uuid(docs.wrapping_add(u64::from(primaries) << 40)),
            docs,
            deleted: docs / 400,
            primaries,
            replicas,
            open: true,
            definition: Value::Null,
        }
    }
}

/// A reindex task and how far it has come.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: u64,
    pub source: String,
    pub dest: String,
    pub total: u64,
    pub created: u64,
    started: Instant,
    start_millis: u64,
    /// Fails once this many documents are written (a knob at start).
    fail_after: Option<u64>,
    pub cancelled: bool,
    pub completed: bool,
    pub failures: Vec<Value>,
}

/// One domain's data.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// `ACCOUNT:DOMAIN`, as a domain names its cluster.
    pub name: String,
    /// The region requests for this cluster are signed for.
    pub region: String,
    pub nodes: u32,
    pub data_nodes: u32,
    /// Replica shards have no node to go to: the cluster is yellow.
    pub unassigned_replicas: bool,
    /// A primary shard is lost: the cluster is red.
    pub red: bool,
    pub indices: BTreeMap<String, Index>,
    /// Alias → the index it points at.
    pub aliases: BTreeMap<String, String>,
    pub tasks: BTreeMap<u64, Task>,
    next_task: u64,
}

impl Cluster {
    pub fn new(domain: &str, region: &str) -> Self {
        Cluster {
            name: format!("123456789012:{domain}"),
            region: region.to_string(),
            nodes: 2,
            data_nodes: 2,
            unassigned_replicas: false,
            red: false,
            indices: BTreeMap::new(),
            aliases: BTreeMap::new(),
            tasks: BTreeMap::new(),
            next_task: 4097,
        }
    }

    /// The sandbox's cluster of deployment `env`: three Azul-style indices
    /// behind aliases. `troubled` (prod) has one data node for two copies of
    /// each shard, so its replicas are unassigned and it is yellow.
    pub fn sandbox(env: &str, region: &str, troubled: bool) -> Self {
        let mut c = Cluster::new(&format!("{env}-index"), region);
        for (name, docs, pri) in [
            ("files", 12_840, 3),
            ("samples", 4_210, 2),
            ("projects", 96, 1),
        ] {
            let index = format!("{env}-{name}-v1");
            c.indices.insert(index.clone(), Index::new(docs, pri, 1));
            c.aliases.insert(format!("{env}-{name}"), index);
        }
        if troubled {
            c.nodes = 1;
            c.data_nodes = 1;
            c.unassigned_replicas = true;
        }
        c
    }

    /// The index a name means: itself, or the one its alias points at.
    pub fn resolve(&self, name: &str) -> Option<&str> {
        if let Some((k, _)) = self.indices.get_key_value(name) {
            return Some(k.as_str());
        }
        self.aliases.get(name).map(String::as_str)
    }

    fn index_health(&self) -> &'static str {
        if self.red {
            "red"
        } else if self.unassigned_replicas {
            "yellow"
        } else {
            "green"
        }
    }

    fn health(&self) -> Value {
        let primaries: u64 = self.indices.values().map(|i| u64::from(i.primaries)).sum();
        let replicas: u64 = self
            .indices
            .values()
            .map(|i| u64::from(i.primaries) * u64::from(i.replicas))
            .sum();
        let lost = if self.red { 1.min(primaries) } else { 0 };
        let unassigned_replicas = if self.unassigned_replicas {
            replicas
        } else {
            0
        };
        let active_primary = primaries - lost;
        let active = active_primary + replicas - unassigned_replicas;
        let total = primaries + replicas;
        let percent = if total == 0 {
            100.0
        } else {
            active as f64 * 100.0 / total as f64
        };
        json!({
            "cluster_name": self.name,
            "status": self.index_health(),
            "timed_out": false,
            "number_of_nodes": self.nodes,
            "number_of_data_nodes": self.data_nodes,
            "discovered_master": true,
            "discovered_cluster_manager": true,
            "active_primary_shards": active_primary,
            "active_shards": active,
            "relocating_shards": 0,
            "initializing_shards": 0,
            "unassigned_shards": lost + unassigned_replicas,
            "delayed_unassigned_shards": 0,
            "number_of_pending_tasks": self.tasks.values().filter(|t| !t.completed).count(),
            "number_of_in_flight_fetch": 0,
            "task_max_waiting_in_queue_millis": 0,
            "active_shards_percent_as_number": percent,
        })
    }

    fn cat_indices(&self) -> Value {
        let health = self.index_health();
        Value::Array(
            self.indices
                .iter()
                .map(|(name, i)| {
                    let pri = i.docs * BYTES_PER_DOC;
                    let copies = if self.unassigned_replicas {
                        1
                    } else {
                        1 + u64::from(i.replicas)
                    };
                    if !i.open {
                        // A closed index has no stats.
                        return json!({
                            "health": health, "status": "close", "index": name,
                            "uuid": i.uuid, "pri": i.primaries.to_string(),
                            "rep": i.replicas.to_string(), "docs.count": null,
                            "docs.deleted": null, "store.size": null, "pri.store.size": null,
                        });
                    }
                    json!({
                        "health": health,
                        "status": "open",
                        "index": name,
                        "uuid": i.uuid,
                        "pri": i.primaries.to_string(),
                        "rep": i.replicas.to_string(),
                        "docs.count": i.docs.to_string(),
                        "docs.deleted": i.deleted.to_string(),
                        "store.size": (pri * copies).to_string(),
                        "pri.store.size": pri.to_string(),
                    })
                })
                .collect(),
        )
    }

    fn cat_aliases(&self) -> Value {
        Value::Array(
            self.aliases
                .iter()
                .map(|(alias, index)| {
                    json!({
                        "alias": alias, "index": index, "filter": "-",
                        "routing.index": "-", "routing.search": "-", "is_write_index": "-",
                    })
                })
                .collect(),
        )
    }

    /// Moves running tasks on to `now`: documents are written at `rate` a
    /// second; a task ends done, failed or cancelled, its documents in `dest`.
    fn advance(&mut self, now: Instant, rate: f64) {
        for t in self.tasks.values_mut().filter(|t| !t.completed) {
            let elapsed = now.saturating_duration_since(t.started).as_secs_f64();
            let due = ((elapsed * rate) as u64).min(t.total);
            let (created, ended) = match t.fail_after {
                Some(limit) if due >= limit => (limit, true),
                _ => (due, due >= t.total || t.cancelled),
            };
            let written = created.saturating_sub(t.created);
            t.created = created;
            if let Some(dest) = self.indices.get_mut(&t.dest) {
                dest.docs += written;
            }
            if ended {
                t.completed = true;
                if t.fail_after.is_some_and(|l| created >= l) && !t.cancelled {
                    t.failures = vec![json!({
                        "index": t.dest,
                        "id": format!("doc-{}", created + 1),
                        "cause": {
                            "type": "mapper_parsing_exception",
                            "reason": format!("failed to parse field [size] of type [long] in document with id 'doc-{}'", created + 1),
                        },
                        "status": 400,
                    })];
                }
            }
        }
    }

    fn task_json(&self, t: &Task, node: &str, now: Instant) -> Value {
        let batches = t.created.div_ceil(1000);
        let status = json!({
            "total": t.total, "updated": 0, "created": t.created, "deleted": 0,
            "batches": batches, "version_conflicts": 0, "noops": 0,
            "retries": {"bulk": 0, "search": 0}, "throttled_millis": 0,
            "requests_per_second": -1.0, "throttled_until_millis": 0,
        });
        let running = now.saturating_duration_since(t.started);
        let mut v = json!({
            "completed": t.completed,
            "task": {
                "node": node, "id": t.id, "type": "transport",
                "action": "indices:data/write/reindex",
                "status": status,
                "description": format!("reindex from [{}] to [{}]", t.source, t.dest),
                "start_time_in_millis": t.start_millis,
                "running_time_in_nanos": running.as_nanos() as u64,
                "cancellable": true,
                "cancelled": t.cancelled,
                "headers": {},
            },
        });
        if t.completed {
            let mut response = json!({
                "took": running.as_millis() as u64, "timed_out": false,
                "total": t.total, "updated": 0, "created": t.created, "deleted": 0,
                "batches": batches, "version_conflicts": 0, "noops": 0,
                "retries": {"bulk": 0, "search": 0}, "throttled": "0s",
                "throttled_millis": 0, "requests_per_second": -1.0,
                "throttled_until": "0s", "throttled_until_millis": 0,
                "failures": t.failures,
            });
            if t.cancelled {
                response["canceled"] = json!("by user request");
            }
            v["response"] = response;
        }
        v
    }
}

/// What tests (and nobody else) make go wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// Documents a reindex task writes a second.
    pub reindex_rate: f64,
    /// The next reindex started fails after writing this many documents.
    pub fail_next_reindex_after: Option<u64>,
    /// The next N answers stop half-way (the connection closes early).
    pub truncate_next: usize,
    /// The next N answers are 200s whose JSON is cut short.
    pub malformed_next: usize,
    /// The access policy denies the caller: every signed request gets a 403.
    pub deny: bool,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            reindex_rate: 5_000.0,
            fail_next_reindex_after: None,
            truncate_next: 0,
            malformed_next: 0,
            deny: false,
        }
    }
}

/// Everything the server holds.
#[derive(Debug, Default)]
pub struct Data {
    pub clusters: Vec<Cluster>,
    pub faults: Faults,
    /// Why each refused request was refused.
    pub refused: Vec<String>,
    /// Requests whose signature was good: method and target.
    pub accepted: Vec<(String, String)>,
}

impl Data {
    pub fn cluster(&mut self, region: &str) -> Option<&mut Cluster> {
        self.clusters.iter_mut().find(|c| c.region == region)
    }
}

/// A running data plane. Clones share it; it stops when its runtime does.
#[derive(Debug, Clone)]
pub struct SearchServer {
    pub endpoint: String,
    pub port: u16,
    data: Arc<Mutex<Data>>,
}

impl SearchServer {
    /// Listens on `addr` (port 0: a free one) and serves `clusters`.
    pub async fn start(addr: SocketAddr, clusters: Vec<Cluster>) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let port = listener.local_addr()?.port();
        let data = Arc::new(Mutex::new(Data {
            clusters,
            ..Data::default()
        }));
        let shared = data.clone();
        tokio::spawn(async move {
            loop {
                let Ok((conn, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(serve(conn, shared.clone()));
            }
        });
        Ok(SearchServer {
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
            data,
        })
    }

    /// Reads or changes what the server holds.
    pub fn with<R>(&self, f: impl FnOnce(&mut Data) -> R) -> R {
        let mut d = self.data.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut d)
    }

    /// Adds `n` documents to an index (or the index behind an alias), as an
    /// indexer working through its queue would.
    pub fn grow_docs(&self, region: &str, name: &str, n: u64) -> bool {
        self.with(|d| {
            let Some(c) = d.cluster(region) else {
                return false;
            };
            let Some(index) = c.resolve(name).map(str::to_string) else {
                return false;
            };
            match c.indices.get_mut(&index) {
                Some(i) => {
                    i.docs += n;
                    true
                }
                None => false,
            }
        })
    }

    /// The documents of an index (or of the index behind an alias).
    pub fn docs(&self, region: &str, name: &str) -> Option<u64> {
        self.with(|d| {
            let c = d.cluster(region)?;
            let index = c.resolve(name)?.to_string();
            c.indices.get(&index).map(|i| i.docs)
        })
    }

    /// The index an alias points at.
    pub fn alias(&self, region: &str, alias: &str) -> Option<String> {
        self.with(|d| d.cluster(region)?.aliases.get(alias).cloned())
    }
}

/// The node every task of the sandbox runs on.
const NODE: &str = "nK4aG7sdQYyOtR9iSMwYdA";

async fn serve(mut conn: TcpStream, data: Arc<Mutex<Data>>) {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        // Read until a whole head is in, then its body.
        let (head_len, method, target, headers) = loop {
            let mut parsed_headers = [httparse::EMPTY_HEADER; 64];
            let mut req = httparse::Request::new(&mut parsed_headers);
            match req.parse(&buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let headers: Vec<(String, String)> = req
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                h.name.to_string(),
                                String::from_utf8_lossy(h.value).trim().to_string(),
                            )
                        })
                        .collect();
                    break (
                        n,
                        req.method.unwrap_or("GET").to_string(),
                        req.path.unwrap_or("/").to_string(),
                        headers,
                    );
                }
                Ok(httparse::Status::Partial) => {}
                Err(_) => return,
            }
            let mut chunk = [0u8; 8192];
            match conn.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let length: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < head_len + length {
            let mut chunk = [0u8; 8192];
            match conn.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let close = headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("connection") && v.eq_ignore_ascii_case("close"));
        let body = buf[head_len..head_len + length].to_vec();
        buf.drain(..head_len + length);

        let reply = {
            let mut d = data.lock().unwrap_or_else(|e| e.into_inner());
            answer(&mut d, &method, &target, &headers, &body)
        };
        let (status, body, cut) = reply;
        let reason = match status {
            200 => "OK",
            400 => "Bad Request",
            403 => "Forbidden",
            404 => "Not Found",
            _ => "Error",
        };
        let head = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json; charset=UTF-8\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        let sent = match cut {
            Cut::None | Cut::Malformed => {
                conn.write_all(head.as_bytes()).await.is_ok()
                    && conn.write_all(body.as_bytes()).await.is_ok()
            }
            Cut::Truncated => {
                // Half the promised body, then the connection goes.
                let _ = conn.write_all(head.as_bytes()).await;
                let _ = conn.write_all(&body.as_bytes()[..body.len() / 2]).await;
                let _ = conn.shutdown().await;
                return;
            }
        };
        if !sent || close {
            let _ = conn.shutdown().await;
            return;
        }
    }
}

enum Cut {
    None,
    Truncated,
    Malformed,
}

fn error(status: u16, kind: &str, reason: String, index: Option<&str>) -> (u16, String) {
    let mut cause = json!({ "type": kind, "reason": reason });
    if let Some(i) = index {
        cause["index"] = json!(i);
    }
    let mut top = cause.clone();
    top["root_cause"] = json!([cause]);
    (
        status,
        json!({ "error": top, "status": status }).to_string(),
    )
}

/// The region a request is signed for, from its credential scope.
fn signed_region(headers: &[(String, String)]) -> Option<String> {
    let auth = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))?
        .1
        .clone();
    let credential = auth.split("Credential=").nth(1)?.split(',').next()?;
    credential.split('/').nth(2).map(str::to_string)
}

fn answer(
    d: &mut Data,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> (u16, String, Cut) {
    let region = signed_region(headers)
        .filter(|r| d.clusters.iter().any(|c| &c.region == r))
        .or_else(|| d.clusters.first().map(|c| c.region.clone()))
        .unwrap_or_default();
    let check = super::sigv4::verify(
        &super::sigv4::Received {
            method,
            target,
            headers,
            body,
        },
        "es",
        &region,
        SystemTime::now(),
    );
    if let Err(e) = check {
        d.refused.push(e.to_string());
        let message = match e {
            super::sigv4::SigV4Error::MissingAuthorization => {
                "User: anonymous is not authorized to perform: es:ESHttpGet because no resource-based policy allows the es:ESHttpGet action".to_string()
            }
            other => format!(
                "The request signature we calculated does not match the signature you provided: {other}"
            ),
        };
        return (403, json!({ "message": message }).to_string(), Cut::None);
    }
    d.accepted.push((method.to_string(), target.to_string()));
    if d.faults.deny {
        let action = match method {
            "GET" | "HEAD" => "ESHttpGet",
            "PUT" => "ESHttpPut",
            "DELETE" => "ESHttpDelete",
            _ => "ESHttpPost",
        };
        let message = format!(
            "User: arn:aws:sts::123456789012:assumed-role/opsdeck-sandbox/sandbox is not authorized to perform: es:{action} because no identity-based policy allows the es:{action} action"
        );
        return (403, json!({ "message": message }).to_string(), Cut::None);
    }
    let cut = if d.faults.truncate_next > 0 {
        d.faults.truncate_next -= 1;
        Cut::Truncated
    } else if d.faults.malformed_next > 0 {
        d.faults.malformed_next -= 1;
        Cut::Malformed
    } else {
        Cut::None
    };
    let rate = d.faults.reindex_rate;
    let fail_next = d.faults.fail_next_reindex_after;
    let Some(cluster) = d.cluster(&region) else {
        return (404, "{}".into(), Cut::None);
    };
    cluster.advance(Instant::now(), rate);
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let (status, text) = route(cluster, method, &segments, query, &body, fail_next);
    if segments == ["_reindex"] && status == 200 {
        d.faults.fail_next_reindex_after = None;
    }
    match cut {
        Cut::Malformed => {
            let cut_at = text.len() / 2;
            (200, text[..cut_at].to_string(), Cut::Malformed)
        }
        other => (status, text, other),
    }
}

fn route(
    c: &mut Cluster,
    method: &str,
    segments: &[&str],
    query: &str,
    body: &Value,
    fail_next: Option<u64>,
) -> (u16, String) {
    let ok = |v: Value| (200, v.to_string());
    match (method, segments) {
        ("GET", ["_cluster", "health"]) => ok(c.health()),
        ("GET", ["_cat", "indices"]) => ok(c.cat_indices()),
        ("GET", ["_cat", "aliases"]) => ok(c.cat_aliases()),
        ("POST", ["_reindex"]) => {
            if !query.contains("wait_for_completion=false") {
                return error(
                    400,
                    "illegal_argument_exception",
                    "the sandbox runs reindex only as a task: pass wait_for_completion=false"
                        .into(),
                    None,
                );
            }
            let source = body["source"]["index"].as_str().unwrap_or_default();
            let dest = body["dest"]["index"].as_str().unwrap_or_default();
            let Some(source_index) = c.resolve(source).map(str::to_string) else {
                return error(
                    404,
                    "index_not_found_exception",
                    format!("no such index [{source}]"),
                    Some(source),
                );
            };
            // As OpenSearch does, a missing destination is created with defaults.
            c.indices
                .entry(dest.to_string())
                .or_insert_with(|| Index::new(0, 1, 1));
            let total = c.indices.get(&source_index).map_or(0, |i| i.docs);
            let id = c.next_task;
            c.next_task += 1;
            let start_millis = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis() as u64;
            c.tasks.insert(
                id,
                Task {
                    id,
                    source: source_index,
                    dest: dest.to_string(),
                    total,
                    created: 0,
                    started: Instant::now(),
                    start_millis,
                    fail_after: fail_next,
                    cancelled: false,
                    completed: false,
                    failures: Vec::new(),
                },
            );
            ok(json!({ "task": format!("{NODE}:{id}") }))
        }
        ("GET", ["_tasks", id]) => match task_id(id).and_then(|n| c.tasks.get(&n)) {
            Some(t) => ok(c.task_json(t, NODE, Instant::now())),
            None => error(
                404,
                "resource_not_found_exception",
                format!("task [{id}] isn't running and hasn't stored its results"),
                None,
            ),
        },
        ("POST", ["_tasks", id, "_cancel"]) => {
            let Some(t) = task_id(id).and_then(|n| c.tasks.get_mut(&n)) else {
                return error(
                    404,
                    "resource_not_found_exception",
                    format!("task [{id}] is not found"),
                    None,
                );
            };
            if !t.completed {
                t.cancelled = true;
            }
            let snapshot = t.clone();
            c.advance(Instant::now(), 0.0);
            let mut tasks = serde_json::Map::new();
            tasks.insert(
                format!("{NODE}:{}", snapshot.id),
                c.task_json(&snapshot, NODE, Instant::now())["task"].clone(),
            );
            ok(json!({ "nodes": { NODE: { "name": "sandbox", "tasks": tasks } } }))
        }
        ("POST", ["_aliases"]) => {
            let Some(actions) = body["actions"].as_array() else {
                return error(
                    400,
                    "action_request_validation_exception",
                    "Validation Failed: 1: no actions specified;".into(),
                    None,
                );
            };
            // Atomic: every action is checked before any is applied.
            let mut next = c.aliases.clone();
            for a in actions {
                if let Some(r) = a.get("remove") {
                    let alias = r["alias"].as_str().unwrap_or_default();
                    let index = r["index"].as_str().unwrap_or_default();
                    if next.get(alias).map(String::as_str) != Some(index) {
                        return error(
                            404,
                            "aliases_not_found_exception",
                            format!("aliases [{alias}] missing"),
                            Some(index),
                        );
                    }
                    next.remove(alias);
                } else if let Some(add) = a.get("add") {
                    let alias = add["alias"].as_str().unwrap_or_default();
                    let index = add["index"].as_str().unwrap_or_default();
                    if !c.indices.contains_key(index) {
                        return error(
                            404,
                            "index_not_found_exception",
                            format!("no such index [{index}]"),
                            Some(index),
                        );
                    }
                    next.insert(alias.to_string(), index.to_string());
                }
            }
            c.aliases = next;
            ok(json!({ "acknowledged": true }))
        }
        ("GET", [name, "_count"]) => match c.resolve(name).and_then(|i| c.indices.get(i)) {
            Some(i) => ok(json!({
                "count": i.docs,
                "_shards": { "total": i.primaries, "successful": i.primaries, "skipped": 0, "failed": 0 },
            })),
            None => error(
                404,
                "index_not_found_exception",
                format!("no such index [{name}]"),
                Some(name),
            ),
        },
        ("PUT", [name]) if !name.starts_with('_') => {
            if c.indices.contains_key(*name) || c.aliases.contains_key(*name) {
                let uuid = c
                    .indices
                    .get(*name)
                    .map(|i| i.uuid.clone())
                    .unwrap_or_default();
                return error(
                    400,
                    "resource_already_exists_exception",
                    format!("index [{name}/{uuid}] already exists"),
                    Some(name),
                );
            }
            let setting = |k: &str| {
                body["settings"]["index"][k]
                    .as_u64()
                    .or_else(|| body["settings"][k].as_u64())
            };
            let mut index = Index::new(
                0,
                setting("number_of_shards").unwrap_or(1) as u32,
                setting("number_of_replicas").unwrap_or(1) as u32,
            );
            index.deleted = 0;
            index.uuid = uuid(c.indices.len() as u64 + (c.next_task << 20));
            index.definition = body.clone();
            c.indices.insert(name.to_string(), index);
            if let Some(aliases) = body["aliases"].as_object() {
                for alias in aliases.keys() {
                    c.aliases.insert(alias.clone(), name.to_string());
                }
            }
            ok(json!({ "acknowledged": true, "shards_acknowledged": true, "index": name }))
        }
        ("DELETE", [name]) if !name.starts_with('_') => {
            if c.indices.remove(*name).is_none() {
                return error(
                    404,
                    "index_not_found_exception",
                    format!("no such index [{name}]"),
                    Some(name),
                );
            }
            c.aliases.retain(|_, index| index != name);
            ok(json!({ "acknowledged": true }))
        }
        _ => error(
            400,
            "illegal_argument_exception",
            format!(
                "the sandbox's data plane does not answer {method} /{}",
                segments.join("/")
            ),
            None,
        ),
    }
}

/// `NODE:N` → N.
fn task_id(id: &str) -> Option<u64> {
    id.rsplit(':').next()?.parse().ok()
}

/// A stable index uuid, 22 characters as OpenSearch's are.
fn uuid(seed: u64) -> String {
    let mut rng = fastrand::Rng::with_seed(seed);
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..22)
        .map(|_| ALPHABET[rng.usize(..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn dev_is_green_and_prod_yellow_with_unassigned_replicas() {
        let dev = Cluster::sandbox("dev", "us-east-1", false).health();
        assert_eq!(dev["status"], "green");
        assert_eq!(dev["unassigned_shards"], 0);
        let prod = Cluster::sandbox("prod", "us-west-2", true).health();
        assert_eq!(prod["status"], "yellow");
        assert_eq!(prod["unassigned_shards"], 6);
        assert_eq!(prod["active_shards_percent_as_number"], 50.0);
    }

    #[test]
    fn a_task_fails_part_way_and_keeps_what_it_wrote() {
        let mut c = Cluster::sandbox("dev", "us-east-1", false);
        let (s, _) = route(
            &mut c,
            "POST",
            &["_reindex"],
            "wait_for_completion=false",
            &json!({"source": {"index": "dev-files"}, "dest": {"index": "new"}}),
            Some(100),
        );
        assert_eq!(s, 200);
        c.advance(Instant::now() + Duration::from_secs(60), 5_000.0);
        let t = &c.tasks[&4097];
        assert!(t.completed);
        assert_eq!(t.created, 100);
        assert_eq!(t.failures.len(), 1);
        assert_eq!(c.indices["new"].docs, 100);
    }
}
