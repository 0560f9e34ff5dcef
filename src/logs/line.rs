//! What a log line is: its level, and whether it is one of Lambda's own
//! START / END / REPORT lines. Detection runs on every ingested line, so it
//! scans bytes instead of parsing JSON.

use memchr::memmem;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(u8)]
pub enum Level {
    #[default]
    Unknown = 0,
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn label(self) -> &'static str {
        match self {
            Level::Unknown => "",
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }

    fn from_word(word: &[u8]) -> Option<Level> {
        Some(match word {
            b"ERROR" | b"error" | b"Error" | b"FATAL" | b"fatal" | b"CRITICAL" | b"critical"
            | b"ERR" | b"err" => Level::Error,
            b"WARN" | b"warn" | b"WARNING" | b"warning" | b"Warning" => Level::Warn,
            b"INFO" | b"info" | b"Info" => Level::Info,
            b"DEBUG" | b"debug" | b"Debug" => Level::Debug,
            b"TRACE" | b"trace" => Level::Trace,
            _ => return None,
        })
    }
}

/// Lambda's runtime lines, shown dimmed so application lines stand out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum Kind {
    #[default]
    Plain = 0,
    Json,
    Start,
    End,
    Report,
    /// INIT_START and other platform lines.
    Platform,
}

impl Kind {
    pub fn is_lambda(self) -> bool {
        matches!(
            self,
            Kind::Start | Kind::End | Kind::Report | Kind::Platform
        )
    }
}

/// How far into a plain line a level word is looked for.
const LEVEL_SCAN: usize = 64;

/// Classifies a line: its kind and level.
pub fn classify(text: &str) -> (Kind, Level) {
    let b = text.as_bytes();
    if b.first() == Some(&b'S') && b.starts_with(b"START RequestId:") {
        return (Kind::Start, Level::Unknown);
    }
    if b.first() == Some(&b'E') && b.starts_with(b"END RequestId:") {
        return (Kind::End, Level::Unknown);
    }
    if b.first() == Some(&b'R') && b.starts_with(b"REPORT RequestId:") {
        return (Kind::Report, Level::Unknown);
    }
    if b.starts_with(b"INIT_START") || b.starts_with(b"INIT_REPORT") || b.starts_with(b"EXTENSION")
    {
        return (Kind::Platform, Level::Unknown);
    }
    let trimmed = text.trim_start().as_bytes();
    if trimmed.first() == Some(&b'{') {
        return (Kind::Json, json_level(trimmed).unwrap_or_default());
    }
    (
        Kind::Plain,
        plain_level(&b[..b.len().min(LEVEL_SCAN)]).unwrap_or_default(),
    )
}

/// The value of a `"level"`, `"severity"`, `"levelname"` or `"log.level"` field.
fn json_level(b: &[u8]) -> Option<Level> {
    for key in [
        &b"\"level\""[..],
        b"\"severity\"",
        b"\"levelname\"",
        b"\"log.level\"",
        b"\"lvl\"",
    ] {
        let Some(at) = memmem::find(b, key) else {
            continue;
        };
        let rest = &b[at + key.len()..];
        let rest = skip(rest, |c| c == b' ' || c == b':');
        let rest = rest.strip_prefix(b"\"")?;
        let end = rest.iter().position(|&c| c == b'"')?;
        return Level::from_word(&rest[..end]);
    }
    None
}

/// The first level word in a plain line: "[ERROR]", "ERROR:", "level=error", "W/…" not.
fn plain_level(b: &[u8]) -> Option<Level> {
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let word = &b[start..i];
        // "level=warn" (logfmt): the value is the next word.
        if word == b"level" && b.get(i) == Some(&b'=') {
            continue;
        }
        if let Some(l) = Level::from_word(word) {
            // A word inside a sentence ("no error found") is not a level:
            // accept it at the start, or bracketed, or before ':' / tab.
            let before = start.checked_sub(1).map(|j| b[j]);
            let after = b.get(i).copied();
            let framed = matches!(before, None | Some(b'[' | b'=' | b'\t' | b'|'))
                || matches!(after, Some(b']' | b':' | b'\t' | b'|'))
                || start == 0;
            if framed {
                return Some(l);
            }
        }
    }
    None
}

fn skip(b: &[u8], f: impl Fn(u8) -> bool) -> &[u8] {
    let n = b.iter().take_while(|&&c| f(c)).count();
    &b[n..]
}

/// Duration and memory of a REPORT line, for reading at a glance.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub duration_ms: f64,
    pub billed_ms: Option<u64>,
    pub memory_mb: Option<u64>,
    pub max_memory_mb: Option<u64>,
    pub init_ms: Option<f64>,
}

pub fn parse_report(text: &str) -> Option<Report> {
    let field = |name: &str| -> Option<&str> {
        let at = text.find(name)? + name.len();
        text[at..].split_whitespace().next()
    };
    Some(Report {
        duration_ms: field("\tDuration:")
            .or_else(|| field(" Duration:"))?
            .parse()
            .ok()?,
        billed_ms: field("Billed Duration:").and_then(|v| v.parse().ok()),
        memory_mb: field("Memory Size:").and_then(|v| v.parse().ok()),
        max_memory_mb: field("Max Memory Used:").and_then(|v| v.parse().ok()),
        init_ms: field("Init Duration:").and_then(|v| v.parse().ok()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_lines() {
        assert_eq!(
            classify("START RequestId: 1 Version: $LATEST").0,
            Kind::Start
        );
        assert_eq!(classify("END RequestId: 1").0, Kind::End);
        assert_eq!(
            classify("REPORT RequestId: 1\tDuration: 3.1 ms").0,
            Kind::Report
        );
    }

    #[test]
    fn levels_from_plain_text() {
        assert_eq!(
            classify("[ERROR]\t2026-11-22T03:12:13Z\tabc\tboom").1,
            Level::Error
        );
        assert_eq!(classify("[WARNING] slow").1, Level::Warn);
        assert_eq!(
            classify("2026-11-22 03:12:13,000 INFO: started").1,
            Level::Info
        );
        assert_eq!(classify("INFO: started").1, Level::Info);
        assert_eq!(classify("ts=1 level=warn msg=slow").1, Level::Warn);
        assert_eq!(classify("no error found in the batch").1, Level::Unknown);
    }

    #[test]
    fn levels_from_json() {
        assert_eq!(
            classify(r#"{"level":"ERROR","message":"x"}"#),
            (Kind::Json, Level::Error)
        );
        assert_eq!(
            classify(r#"{"message":"x", "severity": "warning"}"#).1,
            Level::Warn
        );
        assert_eq!(classify(r#"{"levelname":"DEBUG"}"#).1, Level::Debug);
        assert_eq!(
            classify(r#"{"message":"no level"}"#),
            (Kind::Json, Level::Unknown)
        );
    }

    #[test]
    fn report_fields() {
        let r = parse_report("REPORT RequestId: a\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\tMax Memory Used: 88 MB\tInit Duration: 201.5 ms").unwrap();
        assert_eq!(r.duration_ms, 12.34);
        assert_eq!(
            (r.billed_ms, r.memory_mb, r.max_memory_mb),
            (Some(13), Some(512), Some(88))
        );
        assert_eq!(r.init_ms, Some(201.5));
    }
}
