//! `opsdeck audit`: what changes were made, by whom, with what result.

use std::process::ExitCode;

use color_eyre::eyre::{Result, eyre};

use crate::jobs::AuditLog;

pub fn run(since: Option<&str>, as_json: bool) -> Result<ExitCode> {
    let log = AuditLog::locate();
    let since = since
        .map(|s| {
            let now = jiff::Timestamp::now();
            crate::logs::parse_time(s, now, &jiff::tz::TimeZone::system())
                .map_err(|e| eyre!("--since: {e}"))
                .and_then(|ms| {
                    jiff::Timestamp::from_millisecond(ms).map_err(|e| eyre!("--since: {e}"))
                })
        })
        .transpose()?;
    let (entries, bad) = log
        .read(since)
        .map_err(|e| eyre!("cannot read the audit log {}: {e}", log.path().display()))?;
    if as_json {
        for e in &entries {
            println!("{}", serde_json::to_string(e)?);
        }
    } else {
        for e in &entries {
            let took = e
                .duration_ms
                .map(|ms| format!(" ({ms} ms)"))
                .unwrap_or_default();
            println!(
                "{}  {:<9} {:<10} {:<16} {}{took}  {}",
                e.time, e.result, e.deployment, e.action, e.target, e.message
            );
        }
    }
    if bad > 0 {
        eprintln!(
            "warning: {bad} line(s) of {} are not audit entries",
            log.path().display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
