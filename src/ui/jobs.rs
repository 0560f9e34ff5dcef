//! The Jobs panel, a job's output (with a peek's messages), and the toasts
//! that finished jobs leave over the panels.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::Clock;
use super::format::{ago_since, utc};
use super::panels::list_rows;
use super::widgets::{self, Rows, styled};
use crate::app::jobs::JobRow;
use crate::app::list::Row;
use crate::app::state::{State, Tone};
use crate::config::theme::{Slot, Theme};
use crate::jobs::lambdas::Invoked;
use crate::jobs::{Detail, Outcome};
use crate::logs::line::classify;
use crate::model::PeekedMessage;

fn status_slot(r: &JobRow) -> Slot {
    match &r.outcome {
        Some(Outcome::Ok { .. }) => Slot::Success,
        Some(Outcome::Failed { .. } | Outcome::Refused(_) | Outcome::Unhealthy { .. }) => {
            Slot::Failed
        }
        Some(Outcome::Cancelled(_)) => Slot::Warning,
        None if r.id.is_none() => Slot::Muted,
        None => Slot::Progress,
    }
}

/// "4s", "2m 05s", "1h 02m"
pub fn took(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// The Jobs panel; returns the rectangle of its rows.
pub fn draw(frame: &mut Frame, area: Rect, state: &State, clock: Clock) -> Option<Rect> {
    let t = &state.theme;
    let jobs = &state.jobs;
    let running = jobs.running();
    let mut title = vec![Span::styled(" Jobs ", t.style(Slot::Title))];
    if running > 0 {
        title.push(Span::styled(
            format!("· {running} running "),
            t.style(Slot::Progress),
        ));
    }
    title.push(Span::styled(
        "· enter output · x cancel ",
        t.style(Slot::Muted),
    ));
    let block = widgets::block(state, Line::from(title), true);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if jobs.list.rows.is_empty() {
        let text = vec![
            Line::styled("No jobs yet.", t.style(Slot::Muted)),
            Line::raw(""),
            Line::raw("Changes (purge, redrive, sign, revoke, publish, …) run here as jobs,"),
            Line::raw("with progress, output and cancel; earlier ones come from the audit log."),
        ];
        frame.render_widget(Paragraph::new(text), inner);
        return None;
    }
    let height = usize::from(inner.height.saturating_sub(1));
    let built = list_rows(&jobs.list, height, |r| {
        vec![
            styled(ago_since(Some(r.started), clock.wall), t.style(Slot::Muted)),
            styled(r.key.clone(), t.style(Slot::Muted)),
            styled(r.deployment.clone(), t.style(Slot::Text)),
            styled(r.action.clone(), t.style(Slot::Key)),
            styled(r.target.clone(), t.style(Slot::Text)),
            styled(r.status(), t.style(status_slot(r))),
            styled(r.progress_label(), t.style(Slot::Text)),
            styled(
                r.elapsed(clock.now).map_or("–".into(), took),
                t.style(Slot::Muted),
            ),
        ]
    })
    .widths(vec![
        Constraint::Length(9),
        Constraint::Length(5),
        Constraint::Length(11),
        Constraint::Length(16),
        Constraint::Fill(1),
        Constraint::Length(11),
        Constraint::Length(16),
        Constraint::Length(8),
    ]);
    Some(widgets::table(
        frame,
        inner,
        state,
        Rows {
            header: JobRow::COLUMNS,
            widths: built.widths,
            rows: built.cells,
            selected: built.selected,
            sort_column: Some((jobs.list.sort_column, jobs.list.sort_reverse)),
        },
    ))
}

/// A job's output over the panels.
pub fn output(frame: &mut Frame, state: &State, key: &str, scroll: usize, clock: Clock) {
    let t = &state.theme;
    let Some(r) = state.jobs.list.rows.iter().find(|r| r.key == key) else {
        return;
    };
    let area = frame.area();
    let area = Rect {
        x: area.x + 2,
        y: area.y + 2,
        width: area.width.saturating_sub(4),
        height: area.height.saturating_sub(4),
    };
    frame.render_widget(Clear, area);
    let mut title = vec![
        Span::styled(format!(" {} {} ", r.key, r.action), t.style(Slot::Title)),
        Span::styled(
            format!("· {} · {} ", r.deployment, r.target),
            t.style(Slot::Text),
        ),
        Span::styled(format!("· {} ", r.status()), t.style(status_slot(r))),
    ];
    title.push(Span::styled(
        if r.running() && r.cancel.is_ok() {
            "· x cancel · esc close "
        } else {
            "· ↑↓ scroll · esc close "
        },
        t.style(Slot::Muted),
    ));
    let block = widgets::block(state, Line::from(title), true);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = vec![Line::from(vec![
        Span::styled("started ", t.style(Slot::Muted)),
        Span::styled(ago_since(Some(r.started), clock.wall), t.style(Slot::Text)),
        Span::styled(
            r.elapsed(clock.now)
                .map_or(String::new(), |d| format!("  · took {}", took(d))),
            t.style(Slot::Muted),
        ),
        Span::styled(
            if r.running() {
                format!("  · {}", r.progress_label())
            } else {
                String::new()
            },
            t.style(Slot::Progress),
        ),
    ])];
    if let Err(why) = r.cancel
        && r.running()
    {
        lines.push(Line::styled(
            format!("no cancel: {why}"),
            t.style(Slot::Muted),
        ));
    }
    if let Some(o) = &r.outcome {
        let slot = status_slot(r);
        lines.push(Line::styled(o.message().to_string(), t.style(slot)));
        if let Some(Detail::Peek { queue, messages }) = o.detail() {
            lines.push(Line::raw(""));
            peek_lines(&mut lines, t, queue, messages);
        }
        if let Some(Detail::Invoke(i)) = o.detail() {
            lines.push(Line::raw(""));
            invoke_lines(&mut lines, t, i);
        }
        if let Some(Detail::Health(report)) = o.detail() {
            lines.push(Line::raw(""));
            super::health::lines(&mut lines, t, report);
        }
    }
    if !r.output.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled("output", t.style(Slot::Header)));
        lines.extend(r.output.iter().map(|l| output_line(t, l)));
    }
    let text = Paragraph::new(lines).wrap(Wrap { trim: false });
    // Long lines wrap: the end is counted in drawn rows, not in lines.
    let max = text
        .line_count(inner.width)
        .saturating_sub(usize::from(inner.height));
    frame.render_widget(text.scroll((scroll.min(max) as u16, 0)), inner);
}

/// One line of a job's output: a command's ANSI colours become styles (by
/// ansi-to-tui, not by hand); a plan's warnings take the warning colour.
fn output_line(t: &Theme, l: &str) -> Line<'static> {
    if l.contains('\x1b') {
        use ansi_to_tui::IntoText as _;
        if let Some(line) = l
            .into_text()
            .ok()
            .and_then(|text| text.lines.into_iter().next())
        {
            return line;
        }
    }
    let slot = if l.starts_with(crate::jobs::stacks::WARN) {
        Slot::Warning
    } else {
        Slot::Text
    };
    Line::styled(l.to_string(), t.style(slot))
}

/// What a peek saw, one block a message, JSON bodies pretty-printed.
fn peek_lines<'a>(lines: &mut Vec<Line<'a>>, t: &Theme, queue: &str, messages: &[PeekedMessage]) {
    lines.push(Line::styled(
        format!(
            "This peek at {queue} was a receive: it raised the receive count of each message below; where the queue has a redrive policy, a message at its maxReceiveCount moves to its dead-letter queue."
        ),
        t.style(Slot::Warning),
    ));
    if messages.is_empty() {
        lines.push(Line::styled(
            "The queue had no visible messages.",
            t.style(Slot::Muted),
        ));
    }
    for (i, m) in messages.iter().enumerate() {
        lines.push(Line::raw(""));
        lines.push(Line::from(vec![
            Span::styled(
                format!("── message {} of {} ", i + 1, messages.len()),
                t.style(Slot::Header),
            ),
            Span::styled(format!("· {} ", m.id), t.style(Slot::Muted)),
            Span::styled(
                format!(
                    "· received {} time(s) · sent {}",
                    m.receive_count.map_or("?".into(), |n| n.to_string()),
                    utc(m.sent)
                ),
                t.style(Slot::Text),
            ),
        ]));
        for kv in &m.message_attributes {
            lines.push(Line::from(vec![
                Span::styled(format!("  {} = ", kv.key), t.style(Slot::Key)),
                Span::styled(kv.value.clone(), t.style(Slot::Text)),
            ]));
        }
        let attrs: Vec<String> = m
            .attributes
            .iter()
            .map(|kv| format!("{}={}", kv.key, kv.value))
            .collect();
        if !attrs.is_empty() {
            lines.push(Line::styled(
                format!("  {}", attrs.join("  ")),
                t.style(Slot::Muted),
            ));
        }
        let body = serde_json::from_str::<serde_json::Value>(&m.body)
            .ok()
            .filter(|v| v.is_object() || v.is_array())
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| m.body.clone());
        lines.extend(
            body.lines()
                .map(|l| Line::styled(format!("  {l}"), t.style(Slot::Text))),
        );
    }
}

/// What an invoke returned: status, version, error, payload, and the log
/// tail coloured as the Logs panel colours it.
fn invoke_lines(lines: &mut Vec<Line<'_>>, t: &Theme, i: &Invoked) {
    let mut head = vec![
        Span::styled(
            format!("{} · {} · ", i.function, i.kind),
            t.style(Slot::Header),
        ),
        Span::styled(format!("status {}", i.status), t.style(Slot::Text)),
    ];
    if let Some(v) = &i.executed_version {
        head.push(Span::styled(format!(" · version {v}"), t.style(Slot::Text)));
    }
    lines.push(Line::from(head));
    if let Some(e) = &i.function_error {
        lines.push(Line::styled(
            format!("FunctionError: {e}"),
            t.style(Slot::Error),
        ));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("response payload", t.style(Slot::Header)));
    if i.payload.is_empty() {
        lines.push(Line::styled("  (empty)", t.style(Slot::Muted)));
    }
    lines.extend(
        i.payload
            .lines()
            .map(|l| Line::styled(format!("  {l}"), t.style(Slot::Text))),
    );
    if !i.log_tail.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            "log tail (the last 4 KB)",
            t.style(Slot::Header),
        ));
        for l in &i.log_tail {
            let (kind, level) = classify(l);
            lines.push(Line::styled(
                format!("  {l}"),
                super::logs::message_style(t, kind, level),
            ));
        }
    }
}

/// Finished jobs' results, bottom right, newest last.
pub fn toasts(frame: &mut Frame, body: Rect, state: &State) {
    let t = &state.theme;
    let shown: Vec<_> = state.toasts.iter().rev().take(3).collect();
    let mut bottom = body.y + body.height;
    for toast in shown {
        let width = (body.width / 2).max(30).min(body.width);
        let text = format!(
            " {}{} ",
            toast.text,
            if toast.until.is_none() {
                "  (esc dismisses)"
            } else {
                ""
            }
        );
        let lines = (text.chars().count() as u16).div_ceil(width.saturating_sub(2).max(1));
        let height = lines + 2;
        if bottom < body.y + height {
            break;
        }
        bottom -= height;
        let area = Rect {
            x: body.x + body.width - width,
            y: bottom,
            width,
            height,
        };
        let slot = match toast.tone {
            Tone::Info => Slot::Success,
            Tone::Warning => Slot::Warning,
            Tone::Error => Slot::Error,
        };
        frame.render_widget(Clear, area);
        let block = widgets::block(state, Line::styled(" job ", t.style(slot)), false)
            .border_style(t.style(slot));
        frame.render_widget(
            Paragraph::new(Span::styled(text, t.style(Slot::Text)))
                .wrap(Wrap { trim: true })
                .block(block),
            area,
        );
    }
}
