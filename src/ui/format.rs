//! Small text formatters shared by the panels.

use std::time::{Duration, SystemTime};

/// "just now", "20s ago", "5m ago", "3h ago", "2d ago".
pub fn ago(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..10 => "just now".into(),
        10..60 => format!("{}s ago", s / 10 * 10),
        60..3600 => format!("{}m ago", s / 60),
        3600..86_400 => format!("{}h ago", s / 3600),
        _ => format!("{}d ago", s / 86_400),
    }
}

/// How long until [`ago`] of `d` would print something else: the loop
/// sleeps until then instead of redrawing every second.
pub fn until_label_changes(d: Duration) -> Duration {
    let s = d.as_secs();
    let step = match s {
        0..60 => 10,
        60..3600 => 60,
        3600..86_400 => 3600,
        _ => 86_400,
    };
    let next = (s / step + 1) * step;
    Duration::from_secs(next)
        .saturating_sub(d)
        .max(Duration::from_millis(50))
}

/// Age of a wall-clock time relative to `now`, tolerating clock skew.
pub fn ago_since(then: Option<SystemTime>, now: SystemTime) -> String {
    match then {
        Some(t) => ago(now.duration_since(t).unwrap_or_default()),
        None => "–".into(),
    }
}

/// "2026-11-22 03:12:13Z"
pub fn utc(t: Option<SystemTime>) -> String {
    t.and_then(|t| jiff::Timestamp::try_from(t).ok())
        .map(|ts| ts.strftime("%Y-%m-%d %H:%M:%SZ").to_string())
        .unwrap_or_else(|| "–".into())
}

/// "512 B", "1.5 KiB", "3.2 GiB"
pub fn bytes(n: i64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

pub fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "–".into(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_their_next_change() {
        assert_eq!(ago(Duration::from_secs(3)), "just now");
        assert_eq!(ago(Duration::from_secs(27)), "20s ago");
        assert_eq!(ago(Duration::from_secs(125)), "2m ago");
        assert_eq!(
            until_label_changes(Duration::from_secs(27)),
            Duration::from_secs(3)
        );
        assert_eq!(
            until_label_changes(Duration::from_secs(125)),
            Duration::from_secs(55)
        );
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }
}
