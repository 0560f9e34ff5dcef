//! Dates as OpenSSL's CA index writes them, and as people read them.

use time::{Date, Duration, Month, OffsetDateTime};

/// Now, to the second: certificates carry no sub-second precision, and a
/// certificate's dates and its index line must agree exactly.
pub(crate) fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(0).unwrap_or(t)
}

/// `t` plus `days` days.
pub(crate) fn plus_days(t: OffsetDateTime, days: u32) -> OffsetDateTime {
    t + Duration::days(i64::from(days))
}

/// Whole days from `now` until `t`, rounded down (negative once `t` has passed).
pub fn days_left(now: OffsetDateTime, t: OffsetDateTime) -> i64 {
    let seconds = (t - now).whole_seconds();
    seconds.div_euclid(86_400)
}

/// `2027-05-21`, for messages and tables.
pub fn day(t: OffsetDateTime) -> String {
    let d = t.date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// `20261122T034526Z`, for file names.
pub(crate) fn compact_stamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses an index time: `YYMMDDHHMMSSZ` (UTCTime, years 1950–2049) or
/// `YYYYMMDDHHMMSSZ` (GeneralizedTime), as OpenSSL copies them from the certificate.
pub(crate) fn parse_index_time(text: &str) -> Option<OffsetDateTime> {
    let digits = text.strip_suffix('Z')?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (year, rest) = match digits.len() {
        12 => {
            let yy: i32 = digits[..2].parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &digits[2..])
        }
        14 => (digits[..4].parse().ok()?, &digits[4..]),
        _ => return None,
    };
    let field = |i: usize| rest[i..i + 2].parse::<u8>().ok();
    let month = Month::try_from(field(0)?).ok()?;
    let date = Date::from_calendar_date(year, month, field(2)?).ok()?;
    let t = date.with_hms(field(4)?, field(6)?, field(8)?).ok()?;
    Some(t.assume_utc())
}

/// Formats a time for the index the way X.509 encodes it: UTCTime up to 2049,
/// GeneralizedTime from 2050 (RFC 5280 §4.1.2.5).
pub(crate) fn format_index_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let (y, mo, d) = (t.year(), u8::from(t.month()), t.day());
    let (h, mi, s) = (t.hour(), t.minute(), t.second());
    if (1950..2050).contains(&y) {
        format!("{:02}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z", y % 100)
    } else {
        format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn index_times_round_trip() {
        let t = datetime!(2029-02-24 03:45:26 UTC);
        assert_eq!(format_index_time(t), "290224034526Z");
        assert_eq!(parse_index_time("290224034526Z"), Some(t));
        let late = datetime!(2051-01-02 03:04:05 UTC);
        assert_eq!(format_index_time(late), "20510102030405Z");
        assert_eq!(parse_index_time("20510102030405Z"), Some(late));
        assert_eq!(
            parse_index_time("991231235959Z"),
            Some(datetime!(1999-12-31 23:59:59 UTC))
        );
    }

    #[test]
    fn bad_index_times_are_refused() {
        for bad in [
            "",
            "290224034526",
            "2902240345Z",
            "291324034526Z",
            "29022403452xZ",
        ] {
            assert_eq!(parse_index_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn days_left_rounds_down() {
        let now = datetime!(2026-01-01 12:00:00 UTC);
        assert_eq!(days_left(now, datetime!(2026-01-31 11:59:59 UTC)), 29);
        assert_eq!(days_left(now, datetime!(2026-01-31 12:00:00 UTC)), 30);
        assert_eq!(days_left(now, datetime!(2026-01-01 11:00:00 UTC)), -1);
        assert_eq!(day(now), "2026-01-01");
    }
}
