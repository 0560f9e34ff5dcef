//! Time expressions for `--since` / `--until` and the UI: relative ("15m",
//! "2h", "3d", "1w", "90s", with or without "ago"), absolute in local time
//! ("2026-11-20 14:00", "2026-11-20"), RFC 3339 ("2026-11-20T14:00:00Z"),
//! or "now".

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// A time range in milliseconds since the epoch; no end: follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub start: i64,
    pub end: Option<i64>,
}

/// Parses one time expression against `now` in time zone `tz`.
pub fn parse_time(expr: &str, now: Timestamp, tz: &TimeZone) -> Result<i64, String> {
    let e = expr.trim();
    let e = e.strip_suffix(" ago").unwrap_or(e).trim();
    if e.eq_ignore_ascii_case("now") {
        return Ok(now.as_millisecond());
    }
    if let Some(ms) = relative(e) {
        return Ok(now.as_millisecond() - ms);
    }
    if let Ok(ts) = e.parse::<Timestamp>() {
        return Ok(ts.as_millisecond());
    }
    let local = |dt: DateTime| {
        dt.to_zoned(tz.clone())
            .map(|z| z.timestamp().as_millisecond())
            .map_err(|err| format!("`{expr}`: {err}"))
    };
    // "2026-11-20 14:00" and "2026-11-20T14:00" in local time.
    if let Ok(dt) = e.replacen(' ', "T", 1).parse::<DateTime>() {
        return local(dt);
    }
    if let Ok(d) = e.parse::<Date>() {
        return local(d.to_datetime(jiff::civil::Time::midnight()));
    }
    Err(format!(
        "`{expr}` is not a time: write a duration back from now (15m, 2h, 3d, 1w), \
         a local time (2026-11-20 14:00), or RFC 3339 (2026-11-20T14:00:00Z)"
    ))
}

/// "15m" → 900 000 ms. Units: ms, s, m, h, d, w.
fn relative(e: &str) -> Option<i64> {
    let split = e.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = e.split_at(split);
    let n: i64 = n.parse().ok()?;
    let span = match unit.trim() {
        "ms" => return Some(n),
        "s" | "sec" | "secs" | "second" | "seconds" => n.seconds(),
        "m" | "min" | "mins" | "minute" | "minutes" => n.minutes(),
        "h" | "hr" | "hour" | "hours" => n.hours(),
        "d" | "day" | "days" => n.hours().checked_mul(24).ok()?,
        "w" | "week" | "weeks" => n.hours().checked_mul(24 * 7).ok()?,
        _ => return None,
    };
    span.total(jiff::Unit::Millisecond).ok().map(|ms| ms as i64)
}

/// Parses `--since` and optional `--until`, and checks their order.
pub fn parse_range(
    since: &str,
    until: Option<&str>,
    now: Timestamp,
    tz: &TimeZone,
) -> Result<Range, String> {
    let start = parse_time(since, now, tz)?;
    let end = until.map(|u| parse_time(u, now, tz)).transpose()?;
    if let Some(end) = end
        && end < start
    {
        return Err(format!(
            "the range ends ({}) before it starts ({since})",
            until.unwrap_or_default()
        ));
    }
    Ok(Range { start, end })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-22T12:00:00Z".parse().unwrap()
    }

    fn ms(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn relative_times() {
        let tz = TimeZone::UTC;
        assert_eq!(
            parse_time("15m", now(), &tz),
            Ok(ms("2026-11-22T11:45:00Z"))
        );
        assert_eq!(
            parse_time("2h ago", now(), &tz),
            Ok(ms("2026-11-22T10:00:00Z"))
        );
        assert_eq!(parse_time("3d", now(), &tz), Ok(ms("2026-11-19T12:00:00Z")));
        assert_eq!(parse_time("1w", now(), &tz), Ok(ms("2026-11-15T12:00:00Z")));
        assert_eq!(
            parse_time("now", now(), &tz),
            Ok(ms("2026-11-22T12:00:00Z"))
        );
    }

    #[test]
    fn absolute_times_in_the_local_zone_and_rfc3339() {
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        assert_eq!(
            parse_time("2026-11-20 14:00", now(), &berlin),
            Ok(ms("2026-11-20T13:00:00Z"))
        );
        assert_eq!(
            parse_time("2026-11-20", now(), &berlin),
            Ok(ms("2026-11-19T23:00:00Z"))
        );
        assert_eq!(
            parse_time("2026-11-20T14:00:00Z", now(), &berlin),
            Ok(ms("2026-11-20T14:00:00Z"))
        );
        assert_eq!(
            parse_time("2026-11-20T14:00:00+02:00", now(), &berlin),
            Ok(ms("2026-11-20T12:00:00Z"))
        );
    }

    #[test]
    fn bad_expressions_say_what_works() {
        let err = parse_time("yesterday-ish", now(), &TimeZone::UTC).unwrap_err();
        assert!(err.contains("15m, 2h, 3d, 1w"), "{err}");
        let err = parse_range("1h", Some("2h"), now(), &TimeZone::UTC).unwrap_err();
        assert!(err.contains("ends"), "{err}");
    }
}
