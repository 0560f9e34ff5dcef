//! The audit log: one JSON line when a confirmed change starts, one when it
//! ends, appended to `$OPSDECK_AUDIT_LOG`, else `audit.jsonl` in the
//! platform data dir. `opsdeck audit` prints it; the Jobs panel shows the
//! jobs of earlier runs from it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Outcome, Plan, Source};
use crate::model::Identity;

/// Where the audit lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditLog {
    path: PathBuf,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// RFC 3339, UTC.
    pub time: String,
    /// Pairs a job's start and end lines.
    pub job: String,
    pub deployment: String,
    pub account: Option<String>,
    pub arn: Option<String>,
    pub region: Option<String>,
    /// The action's name, as in keymaps (`queue_purge`).
    pub action: String,
    pub target: String,
    pub parameters: serde_json::Value,
    /// `started`, `ok`, `failed`, `cancelled`, `refused`, or `unhealthy` (a
    /// health check failed: a health job's, or a deploy's after it went well).
    pub result: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// `console` or `cli`.
    #[serde(default)]
    pub source: String,
}

impl Entry {
    /// The start line of a plan about to run.
    pub fn start(plan: &Plan, source: Source, who: Option<&Identity>) -> Self {
        Entry {
            time: now(),
            job: format!("{:016x}", fastrand::u64(..)),
            deployment: plan.deployment.name.clone(),
            account: who.map(|w| w.account.clone()),
            arn: who.map(|w| w.arn.clone()),
            region: plan.deployment.region.clone(),
            action: plan.action.to_string(),
            target: plan.target.clone(),
            parameters: plan.parameters.clone(),
            result: "started".into(),
            message: plan.lines.join(" "),
            duration_ms: None,
            source: match source {
                Source::Console => "console",
                Source::Cli => "cli",
            }
            .into(),
        }
    }

    /// The matching end line.
    pub fn end(&self, outcome: &Outcome, took: Duration) -> Self {
        Entry {
            time: now(),
            result: outcome.result_word().into(),
            message: outcome.message().to_string(),
            duration_ms: Some(u64::try_from(took.as_millis()).unwrap_or(u64::MAX)),
            ..self.clone()
        }
    }

    pub fn timestamp(&self) -> Option<jiff::Timestamp> {
        self.time.parse().ok()
    }
}

fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

impl AuditLog {
    pub fn at(path: impl Into<PathBuf>) -> Self {
        AuditLog { path: path.into() }
    }

    /// `$OPSDECK_AUDIT_LOG`, else `audit.jsonl` in the platform data dir.
    pub fn locate() -> Self {
        let path = std::env::var_os("OPSDECK_AUDIT_LOG")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                directories::ProjectDirs::from("", "", "opsdeck")
                    .map(|d| d.data_dir().join("audit.jsonl"))
            })
            .unwrap_or_else(|| PathBuf::from("opsdeck-audit.jsonl"));
        AuditLog { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line with a single write, so lines of concurrent jobs
    /// (and of other opsdeck processes) never interleave.
    pub fn append(&self, entry: &Entry) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut line = serde_json::to_string(entry).map_err(std::io::Error::other)?;
        line.push('\n');
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        f.write_all(line.as_bytes())?;
        f.flush()
    }

    /// Every line at or after `since` (all with `None`); lines that do not
    /// parse are counted, not fatal. A missing file is an empty log.
    pub fn read(&self, since: Option<jiff::Timestamp>) -> std::io::Result<(Vec<Entry>, usize)> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
            Err(e) => return Err(e),
        };
        let mut bad = 0;
        let mut entries = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match serde_json::from_str::<Entry>(line) {
                Ok(e) if since.is_none_or(|s| e.timestamp().is_some_and(|t| t >= s)) => {
                    entries.push(e)
                }
                Ok(_) => {}
                Err(_) => bad += 1,
            }
        }
        Ok((entries, bad))
    }

    /// The last `n` jobs, one entry each (the end line where there is one),
    /// oldest first.
    pub fn recent_jobs(&self, n: usize) -> std::io::Result<Vec<Entry>> {
        let (entries, _) = self.read(None)?;
        let mut order: Vec<String> = Vec::new();
        let mut last: std::collections::HashMap<String, Entry> = Default::default();
        for e in entries {
            if !last.contains_key(&e.job) {
                order.push(e.job.clone());
            }
            last.insert(e.job.clone(), e);
        }
        let skip = order.len().saturating_sub(n);
        Ok(order
            .into_iter()
            .skip(skip)
            .filter_map(|id| last.remove(&id))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(job: &str, result: &str, time: &str) -> Entry {
        Entry {
            time: time.into(),
            job: job.into(),
            deployment: "dev".into(),
            account: None,
            arn: None,
            region: Some("us-east-1".into()),
            action: "queue_purge".into(),
            target: "queue q".into(),
            parameters: serde_json::json!({"queues": ["q"]}),
            result: result.into(),
            message: String::new(),
            duration_ms: None,
            source: "cli".into(),
        }
    }

    #[test]
    fn lines_append_parse_and_pair_by_job() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::at(dir.path().join("sub/audit.jsonl"));
        log.append(&entry("a", "started", "2026-01-01T00:00:00Z"))
            .unwrap();
        log.append(&entry("b", "started", "2026-01-02T00:00:00Z"))
            .unwrap();
        log.append(&entry("a", "ok", "2026-01-02T00:00:01Z"))
            .unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(log.path())
            .unwrap()
            .write_all(b"not json\n")
            .unwrap();
        let (all, bad) = log.read(None).unwrap();
        assert_eq!((all.len(), bad), (3, 1));
        let since = "2026-01-02T00:00:00Z".parse().ok();
        assert_eq!(log.read(since).unwrap().0.len(), 2);
        let jobs = log.recent_jobs(10).unwrap();
        let got: Vec<(&str, &str)> = jobs
            .iter()
            .map(|e| (e.job.as_str(), e.result.as_str()))
            .collect();
        assert_eq!(got, [("a", "ok"), ("b", "started")]);
        assert_eq!(log.recent_jobs(1).unwrap()[0].job, "b");
    }

    #[test]
    fn an_unwritable_log_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be cannot be appended to.
        let log = AuditLog::at(dir.path());
        assert!(
            log.append(&entry("a", "started", "2026-01-01T00:00:00Z"))
                .is_err()
        );
    }
}
