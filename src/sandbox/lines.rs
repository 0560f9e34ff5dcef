//! Realistic Lambda log lines: START/END/REPORT around JSON and plain
//! application lines at INFO, WARN and ERROR.

/// How often an invocation's application lines are errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Errors {
    /// Now and then (about 6 % of application lines), as a busy service.
    Sometimes,
    /// Never: a quiet, healthy deployment.
    Never,
    /// The invocation fails: one of its lines is an ERROR.
    Always,
}

/// One Lambda invocation's log lines, in order.
pub fn invocation(rng: &mut fastrand::Rng, function: &str) -> Vec<String> {
    invocation_with(rng, function, Errors::Sometimes)
}

/// [`invocation`], with a say in how many of its lines are errors.
pub fn invocation_with(rng: &mut fastrand::Rng, function: &str, errors: Errors) -> Vec<String> {
    let request_id = uuid_like(rng);
    let mut lines = vec![format!("START RequestId: {request_id} Version: $LATEST")];
    let n = rng.usize(1..5);
    for _ in 0..n {
        lines.push(app_line(
            rng,
            function,
            &request_id,
            errors != Errors::Never,
        ));
    }
    if errors == Errors::Always {
        lines.push(format!(
            "[ERROR]\t{request_id}\tUnhandled exception while processing notification"
        ));
    }
    let duration = rng.f64() * 900.0 + 3.0;
    let billed = duration.ceil() as u64;
    let memory = 512;
    let used = rng.u32(60..400);
    lines.push(format!("END RequestId: {request_id}"));
    lines.push(format!(
        "REPORT RequestId: {request_id}\tDuration: {duration:.2} ms\tBilled Duration: {billed} ms\tMemory Size: {memory} MB\tMax Memory Used: {used} MB"
    ));
    lines
}

fn app_line(rng: &mut fastrand::Rng, function: &str, request_id: &str, errors: bool) -> String {
    let roll = rng.u32(0..100);
    let (level, json) = match roll {
        0..6 if errors => ("ERROR", rng.bool()),
        0..6 => ("WARN", rng.bool()),
        6..18 => ("WARN", rng.bool()),
        18..30 => ("DEBUG", true),
        _ => ("INFO", rng.bool()),
    };
    let message = match level {
        "ERROR" => pick(
            rng,
            &[
                "Failed to index bundle: ConnectionError(timeout after 30s)",
                "Unhandled exception while processing notification",
                "OpenSearch rejected bulk request: es_rejected_execution_exception",
            ],
        ),
        "WARN" => pick(
            rng,
            &[
                "Retrying SQS batch after partial failure (2 of 10 messages)",
                "Slow response from upstream: 2412 ms",
                "Queue depth above threshold: 1200 messages",
            ],
        ),
        "DEBUG" => pick(
            rng,
            &[
                "cache hit ratio 0.93",
                "opened connection pool (8 connections)",
            ],
        ),
        _ => pick(
            rng,
            &[
                "Handled GET /index/files 200",
                "Indexed 250 documents in 812 ms",
                "Received 10 notifications from queue",
                "Health check passed",
            ],
        ),
    };
    if json {
        serde_json::json!({
            "level": level,
            "logger": function,
            "message": message,
            "aws_request_id": request_id,
        })
        .to_string()
    } else {
        format!("[{level}]\t{request_id}\t{message}")
    }
}

fn pick<'a>(rng: &mut fastrand::Rng, options: &[&'a str]) -> &'a str {
    options[rng.usize(..options.len())]
}

fn uuid_like(rng: &mut fastrand::Rng) -> String {
    let hex = |rng: &mut fastrand::Rng, n: usize| -> String {
        (0..n)
            .map(|_| char::from_digit(rng.u32(0..16), 16).unwrap_or('0'))
            .collect()
    };
    format!(
        "{}-{}-{}-{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 4),
        hex(rng, 4),
        hex(rng, 12)
    )
}

/// A Lambda-style log stream name for today.
pub fn stream_name(rng: &mut fastrand::Rng, day: &str) -> String {
    let id: String = (0..32)
        .map(|_| char::from_digit(rng.u32(0..16), 16).unwrap_or('0'))
        .collect();
    format!("{day}/[$LATEST]{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invocation_is_bracketed_by_start_end_report() {
        let mut rng = fastrand::Rng::with_seed(7);
        let lines = invocation(&mut rng, "dev-api");
        assert!(lines[0].starts_with("START RequestId: "));
        assert!(lines[lines.len() - 2].starts_with("END RequestId: "));
        assert!(lines[lines.len() - 1].starts_with("REPORT RequestId: "));
        assert!(lines.len() >= 4);
    }

    #[test]
    fn a_quiet_deployment_logs_no_errors_and_a_failing_invocation_does() {
        use crate::logs::line::{Level, classify};
        let mut rng = fastrand::Rng::with_seed(7);
        let level = |lines: Vec<String>| lines.iter().map(|l| classify(l).1).max();
        for _ in 0..200 {
            assert!(
                level(invocation_with(&mut rng, "dev-api", Errors::Never)) < Some(Level::Error)
            );
            assert_eq!(
                level(invocation_with(&mut rng, "prod-api", Errors::Always)),
                Some(Level::Error)
            );
        }
    }
}
