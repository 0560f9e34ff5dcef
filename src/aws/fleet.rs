//! The fleet overview's AWS side: every deployment's health, fetched at once,
//! each through its own clients, and politely.
//!
//! Why it is shaped like this: the person paged at night needs the sick
//! deployment first, so no deployment waits for another and no cell waits
//! for another cell of its row. Each cell is sent as soon as it is known
//! ([`Answer`]), tagged with the fetch it belongs to, so the console drops
//! answers of a fetch it has replaced.
//!
//! Politeness: AWS counts FilterLogEvents (5/s) and the Lambda control plane
//! (about 15/s) per account and region, not per deployment; two deployments
//! in one account and region (dev and staging, say) share one [`Budgets`]
//! entry. The entry is keyed once STS has said which account the credentials
//! belong to, so only the cells that need a budget wait for that answer. A
//! fleet-wide semaphore bounds the cell fetches in flight (each makes at most
//! a handful of concurrent calls), so a config of 50 deployments does not open
//! hundreds of connections at once.
//!
//! Nothing here writes to AWS, and nothing here names a ratatui type.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures::future::FutureExt;
use futures::{StreamExt, stream};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::AbortHandle;

use super::Clients;
use super::tail::{Budget, FILTER_TPS, budget, even_budget};
use crate::config::{Deployment, Resources};
use crate::logs::line::{Level, classify};
use crate::model::fleet::{
    Cell, CellUpdate, ERRORS_CAP, ERRORS_WINDOW_MINUTES, ErrorsHealth, FunctionsHealth,
    IndexHealth, QueuesHealth, StacksHealth, VpnHealth,
};
use crate::model::{Identity, Outcome, Problem, ProblemKind};

/// The Lambda control plane's rate per account and region (GetFunctionConcurrency, ListFunctions).
pub const LAMBDA_RPS: u32 = 15;

/// Cell fetches in flight across the whole fleet.
pub const MAX_IN_FLIGHT: usize = 48;

/// Log groups one deployment's errors cell reads (each costs at least one
/// FilterLogEvents of the shared 5/s).
pub const MAX_ERROR_GROUPS: usize = 20;

/// Narrows on AWS's side to lines that may be errors. CloudWatch terms are
/// case-sensitive, hence the spellings; [`classify`] decides what counts.
pub const ERROR_PATTERN: &str = "?ERROR ?Error ?error ?FATAL ?fatal ?CRITICAL ?critical";

/// Concurrent FilterLogEvents chains of one deployment (the budget paces them).
const GROUPS_AT_ONCE: usize = 4;

/// The shared request budgets of one account in one region.
#[derive(Debug, Clone)]
pub struct Shared {
    pub logs: Budget,
    pub lambda: Budget,
}

/// Budgets by (account, region), handed out to every deployment that shares both.
#[derive(Debug, Default)]
pub struct Budgets {
    by_key: Mutex<HashMap<(String, String), Shared>>,
}

impl Budgets {
    pub fn get(&self, account: &str, region: &str) -> Shared {
        let mut map = self.by_key.lock().unwrap_or_else(|e| e.into_inner());
        map.entry((account.to_string(), region.to_string()))
            .or_insert_with(|| Shared {
                logs: budget(FILTER_TPS),
                lambda: even_budget(LAMBDA_RPS),
            })
            .clone()
    }

    /// How many distinct budgets exist (for tests).
    pub fn len(&self) -> usize {
        self.by_key.lock().map_or(0, |m| m.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a fetch reports about its deployment.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    Cell(CellUpdate),
    /// Every cell of this fetch has been sent.
    Done,
}

/// One report, tagged with the deployment and the fetch it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub deployment: String,
    pub tag: u64,
    pub report: Report,
}

/// Fetches deployments' health; one per runtime (or CLI run), shared by all rows.
#[derive(Debug, Clone)]
pub struct Fleet {
    budgets: Arc<Budgets>,
    in_flight: Arc<Semaphore>,
    /// Connected clients by deployment, reused by the next refresh.
    clients: Arc<Mutex<HashMap<String, Clients>>>,
}

impl Default for Fleet {
    fn default() -> Self {
        Fleet::new(MAX_IN_FLIGHT)
    }
}

impl Fleet {
    pub fn new(max_in_flight: usize) -> Self {
        Fleet {
            budgets: Arc::default(),
            in_flight: Arc::new(Semaphore::new(max_in_flight.max(1))),
            clients: Arc::default(),
        }
    }

    pub fn budgets(&self) -> &Budgets {
        &self.budgets
    }

    /// Starts fetching one deployment; its answers go to `tx`. Aborting the
    /// handle stops it (a newer fetch replaces it).
    pub fn spawn(&self, deployment: Deployment, tag: u64, tx: mpsc::Sender<Answer>) -> AbortHandle {
        let fleet = self.clone();
        tokio::spawn(async move { fleet.fetch(&deployment, tag, &tx).await }).abort_handle()
    }

    /// Fetches one deployment, sending each cell as it is known.
    pub async fn fetch(&self, d: &Deployment, tag: u64, tx: &mpsc::Sender<Answer>) {
        let send = |report: Report| {
            let answer = Answer {
                deployment: d.name.clone(),
                tag,
                report,
            };
            async move {
                let _ = tx.send(answer).await;
            }
        };
        // The PKI is local files: it never waits for AWS.
        let vpn = async {
            send(Report::Cell(CellUpdate::Vpn(vpn(&d.resources).await))).await;
        };
        let aws = async {
            let c = match self.connect(d).await {
                Ok(c) => c,
                Err(p) => {
                    for update in failed_cells(&d.resources, &p) {
                        send(Report::Cell(update)).await;
                    }
                    return;
                }
            };
            self.cells(d, &c, &send).await;
        };
        tokio::join!(vpn, aws);
        send(Report::Done).await;
    }

    async fn connect(&self, d: &Deployment) -> Result<Clients, Problem> {
        let cached = self
            .clients
            .lock()
            .ok()
            .and_then(|m| m.get(&d.name).cloned());
        if let Some(c) = cached {
            return Ok(c);
        }
        let c = Clients::connect(d).await?;
        if let Ok(mut m) = self.clients.lock() {
            m.insert(d.name.clone(), c.clone());
        }
        Ok(c)
    }

    async fn cells<F, Fut>(&self, d: &Deployment, c: &Clients, send: &F)
    where
        F: Fn(Report) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let r = &d.resources;
        let region = c
            .config
            .region()
            .map(|r| r.to_string())
            .or_else(|| d.region.clone())
            .unwrap_or_default();
        let identity = async {
            let _permit = self.in_flight.acquire().await;
            super::sts::identity(c).await
        }
        .shared();
        // Until STS answers, the account is unknown; budgets wait for it.
        let shared = {
            let identity = identity.clone();
            async move {
                let account = match identity.await {
                    Ok(id) => id.account,
                    // Unknown account: a budget of this deployment's own.
                    Err(_) => format!("?{}", d.name),
                };
                self.budgets.get(&account, &region)
            }
        }
        .shared();
        let cell = |update: CellUpdate| send(Report::Cell(update));
        let identity_cell = async {
            let out: Result<Identity, Problem> = identity.clone().await;
            cell(CellUpdate::Identity(of(Some(out)))).await;
        };
        let stacks = async {
            let _permit = self.in_flight.acquire().await;
            let out = super::cloudformation::stacks(c, r.stacks.as_ref())
                .await
                .map(|rows| {
                    let mut h = StacksHealth {
                        total: rows.len() as u64,
                        ..Default::default()
                    };
                    for s in &rows {
                        match Outcome::of_status(&s.status) {
                            Outcome::Failed => h.failed += 1,
                            Outcome::InProgress => h.in_progress += 1,
                            Outcome::Neutral if s.status.contains("ROLLBACK") => h.rolled_back += 1,
                            _ => {}
                        }
                    }
                    h
                });
            cell(CellUpdate::Stacks(of(Some(out)))).await;
        };
        let functions = async {
            let budgets = shared.clone().await;
            let _permit = self.in_flight.acquire().await;
            let out = super::lambda::functions_paced(c, r.lambdas.as_ref(), Some(&budgets.lambda))
                .await
                .map(|rows| FunctionsHealth {
                    total: rows.len() as u64,
                    disabled: rows
                        .iter()
                        .filter(|f| f.concurrency == crate::model::Concurrency::Disabled)
                        .map(|f| f.name.clone())
                        .collect(),
                });
            cell(CellUpdate::Functions(of(Some(out)))).await;
        };
        let queues = async {
            let _permit = self.in_flight.acquire().await;
            let out = super::sqs::queues(c, r.queues.as_ref()).await.map(|rows| {
                let mut dlqs: Vec<(u64, String)> = rows
                    .iter()
                    .filter(|q| !q.dlq_of.is_empty())
                    .map(|q| {
                        let n = q.visible.unwrap_or(0) + q.in_flight.unwrap_or(0);
                        (n, q.name.clone())
                    })
                    .filter(|(n, _)| *n > 0)
                    .collect();
                dlqs.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
                QueuesHealth {
                    visible: rows.iter().filter_map(|q| q.visible).sum(),
                    dlq_messages: dlqs.iter().map(|(n, _)| n).sum(),
                    dlqs: dlqs.into_iter().map(|(_, n)| n).collect(),
                }
            });
            cell(CellUpdate::Queues(of(Some(out)))).await;
        };
        let errors = async {
            let out = match &r.log_groups {
                None => None,
                Some(_) => {
                    let budgets = shared.clone().await;
                    let _permit = self.in_flight.acquire().await;
                    Some(errors(c, r, &budgets.logs).await)
                }
            };
            cell(CellUpdate::Errors(of(out))).await;
        };
        let index = async {
            let out = match &r.opensearch_domain {
                None => None,
                Some(name) => {
                    let _permit = self.in_flight.acquire().await;
                    let domain = super::opensearch::domain(c, name).await;
                    // The colour when the data plane answers in time; the
                    // Index panel says why when it does not.
                    let cluster_status = match &domain {
                        Ok(s) => match super::search::endpoint_of(d, Some(s))
                            .and_then(|url| super::search::SearchClient::new(c, &url, s.vpc))
                        {
                            Ok(client) => client
                                .with_timeout(FLEET_SEARCH_TIMEOUT)
                                .health()
                                .await
                                .ok()
                                .and_then(|h| h.status)
                                .map(|c| c.as_str().to_string()),
                            Err(_) => None,
                        },
                        Err(_) => None,
                    };
                    Some(domain.map(|s| {
                        IndexHealth {
                            domain: s.name.clone(),
                            state: if s.deleted {
                                "deleted"
                            } else if s.processing {
                                "processing"
                            } else if !s.created {
                                "creating"
                            } else {
                                "active"
                            }
                            .to_string(),
                            cluster_status,
                        }
                    }))
                }
            };
            cell(CellUpdate::Index(of(out))).await;
        };
        tokio::join!(identity_cell, stacks, functions, queues, errors, index);
    }
}

/// A cell from an answer: `None` is a cell the deployment does not configure.
/// How long the overview waits for a cluster's colour.
const FLEET_SEARCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

fn of<T>(out: Option<Result<T, Problem>>) -> Cell<T> {
    match out {
        None => Cell::Unset,
        Some(Ok(v)) => Cell::Ready(v),
        Some(Err(p)) => Cell::Failed(p),
    }
}

/// Every AWS cell failed with the connection's problem.
fn failed_cells(r: &Resources, p: &Problem) -> Vec<CellUpdate> {
    fn f<T>(p: &Problem) -> Cell<T> {
        Cell::Failed(p.clone())
    }
    vec![
        CellUpdate::Identity(f(p)),
        CellUpdate::Stacks(f(p)),
        CellUpdate::Functions(f(p)),
        CellUpdate::Queues(f(p)),
        CellUpdate::Errors(if r.log_groups.is_some() {
            f(p)
        } else {
            Cell::Unset
        }),
        CellUpdate::Index(if r.opensearch_domain.is_some() {
            f(p)
        } else {
            Cell::Unset
        }),
    ]
}

/// Days until the CRL of the deployment's PKI needs its next update.
async fn vpn(r: &Resources) -> Cell<VpnHealth> {
    let Some(dir) = r.vpn_pki.clone() else {
        return Cell::Unset;
    };
    let listed = tokio::task::spawn_blocking(move || {
        crate::pki::Pki::open(&dir)
            .map(|pki| pki.list().crl.and_then(|c| c.days_left))
            .map_err(|e| e.to_string())
    })
    .await;
    match listed {
        Ok(Ok(days)) => Cell::Ready(VpnHealth {
            crl_days_left: days,
        }),
        Ok(Err(why)) => Cell::Failed(Problem::new(ProblemKind::Other, why)),
        Err(e) => Cell::Failed(Problem::new(ProblemKind::Other, e.to_string())),
    }
}

/// ERROR-or-worse events of the last 15 minutes in the deployment's log groups.
///
/// AWS narrows with [`ERROR_PATTERN`]; then only what the Logs panel's level
/// detection calls ERROR counts, so the number is right even where the
/// pattern is ignored (moto matches everything for a pattern it cannot parse).
pub async fn errors(c: &Clients, r: &Resources, logs: &Budget) -> Result<ErrorsHealth, Problem> {
    let mut groups: Vec<String> = super::logs::log_groups(c, r.log_groups.as_ref())
        .await?
        .into_iter()
        .map(|g| g.name)
        .collect();
    groups.truncate(MAX_ERROR_GROUPS);
    let start = jiff::Timestamp::now().as_millisecond() - ERRORS_WINDOW_MINUTES * 60_000;
    let count = AtomicU64::new(0);
    let count = &count;
    let results: Vec<Result<bool, Problem>> = stream::iter(groups.clone())
        .map(|g| async move { count_group(c, &g, start, logs, count).await })
        .buffer_unordered(GROUPS_AT_ONCE)
        .collect()
        .await;
    let mut capped = false;
    for r in results {
        capped |= r?;
    }
    let n = count.load(Ordering::Relaxed);
    Ok(ErrorsHealth {
        count: n.min(ERRORS_CAP),
        capped: capped || n > ERRORS_CAP,
        groups,
    })
}

/// Counts one group's errors into `count`; true when it stopped at the cap.
async fn count_group(
    c: &Clients,
    group: &str,
    start: i64,
    logs: &Budget,
    count: &AtomicU64,
) -> Result<bool, Problem> {
    let mut token: Option<String> = None;
    loop {
        if count.load(Ordering::Relaxed) > ERRORS_CAP {
            return Ok(true);
        }
        logs.until_ready().await;
        let out = c
            .logs
            .filter_log_events()
            .log_group_name(group)
            .start_time(start)
            .filter_pattern(ERROR_PATTERN)
            .set_next_token(token.take())
            .send()
            .await;
        let out = match out {
            Ok(out) => out,
            Err(e) => {
                let p = c.ctx.problem("FilterLogEvents", &e);
                // A group deleted since it was listed has no errors to count.
                return if p.kind == ProblemKind::NotFound {
                    Ok(false)
                } else {
                    Err(p)
                };
            }
        };
        let n = out
            .events()
            .iter()
            .filter(|e| classify(e.message().unwrap_or_default()).1 == Level::Error)
            .count();
        count.fetch_add(n as u64, Ordering::Relaxed);
        match out.next_token() {
            // An empty page with a token is not the end of a chain (see tail.rs),
            // but a repeated token is.
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(false),
        }
    }
}
