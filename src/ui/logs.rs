//! The Logs panel: a merged, live tail of several log groups.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::widgets;
use crate::app::logs::LogView;
use crate::app::state::{Session, State};
use crate::config::theme::{Slot, Theme};
use crate::logs::line::{Kind, Level, parse_report};
use crate::logs::store::Line as LogLine;

/// Group labels cycle through these slots.
const GROUP_SLOTS: [Slot; 6] = [
    Slot::Accent,
    Slot::Info,
    Slot::Key,
    Slot::Success,
    Slot::Progress,
    Slot::Warning,
];

/// Draws the panel; returns the rectangle of its lines (for paging).
pub fn draw(frame: &mut Frame, area: Rect, state: &State, s: &Session) -> Option<Rect> {
    let t = &state.theme;
    let Some(v) = &s.logs else {
        let block = widgets::block(state, Line::styled(" Logs ", t.style(Slot::Title)), true);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let key = |a| {
            state
                .keymap
                .keys_for(a)
                .first()
                .map(ToString::to_string)
                .unwrap_or_else(|| "(unbound)".into())
        };
        let text = vec![
            Line::styled("No tail is running.", t.style(Slot::Muted)),
            Line::raw(""),
            Line::raw(format!(
                "Press {} here to tail this deployment's log groups; in Log groups, mark groups with {} and press {}; on a function, {} tails its log group.",
                key(crate::app::Action::TailLogs),
                key(crate::app::Action::Mark),
                key(crate::app::Action::TailLogs),
                key(crate::app::Action::TailLogs),
            )),
        ];
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), inner);
        return None;
    };
    let block = widgets::block(state, title(t, v), true).title_bottom(footer(t, v));
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let mut rows = inner;
    if let Some(Some(p)) = &v.ended {
        let [top, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(rows);
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!("✗ {}", p.message),
                t.style(Slot::Error),
            )),
            top,
        );
        rows = rest;
    }
    if let Some((prompt, text)) = &v.prompt {
        let [rest, bottom] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(rows);
        let mut spans = vec![Span::styled(
            format!("{}: ", prompt.label()),
            t.style(Slot::Key),
        )];
        spans.extend(super::widgets::field(text, t));
        spans.push(Span::styled(
            "  enter apply · esc cancel",
            t.style(Slot::Muted),
        ));
        let line = Line::from(spans);
        frame.render_widget(Paragraph::new(line), bottom);
        rows = rest;
    }
    let lines = visible(v, rows, t);
    let mut paragraph = Paragraph::new(lines);
    if v.wrap {
        paragraph = paragraph.wrap(Wrap { trim: false });
    }
    frame.render_widget(paragraph, rows);
    if let Some(i) = v.detail {
        detail(frame, area, state, v, i);
    }
    Some(rows)
}

fn title<'a>(t: &Theme, v: &LogView) -> Line<'a> {
    let mut spans = vec![Span::styled(" Logs ", t.style(Slot::Title))];
    let muted = t.style(Slot::Muted);
    let groups = if v.groups.len() == 1 {
        v.groups[0].clone()
    } else {
        format!("{} groups", v.groups.len())
    };
    spans.push(Span::styled(format!("· {groups} · "), muted));
    let mode_slot = match &v.status {
        Some(
            crate::aws::tail::TailStatus::Throttled(_)
            | crate::aws::tail::TailStatus::Unreachable(_)
            | crate::aws::tail::TailStatus::Missing(_),
        ) => Slot::Warning,
        _ if matches!(v.ended, Some(Some(_))) => Slot::Error,
        _ => Slot::Info,
    };
    spans.push(Span::styled(v.mode(), t.style(mode_slot)));
    if v.follow {
        spans.push(Span::styled(" · following", muted));
    } else {
        spans.push(Span::styled(" · paused", t.style(Slot::Warning)));
        if v.unseen > 0 {
            spans.push(Span::styled(
                format!(" (+{} new)", v.unseen),
                t.style(Slot::Warning),
            ));
        }
    }
    spans.push(Span::raw(" "));
    Line::from(spans)
}

/// The bottom border: what the buffer holds and how it was asked for.
fn footer<'a>(t: &Theme, v: &LogView) -> Line<'a> {
    let muted = t.style(Slot::Muted);
    let mut spans = vec![Span::styled(format!(" since {}", v.since), muted)];
    if let Some(u) = &v.until {
        spans.push(Span::styled(format!(" until {u}"), muted));
    }
    match &v.older {
        crate::app::logs::Older::Idle => {}
        crate::app::logs::Older::Loading(_) => spans.push(Span::styled(
            " · loading older lines…",
            t.style(Slot::Progress),
        )),
        crate::app::logs::Older::Exhausted => spans.push(Span::styled(" · nothing older", muted)),
        crate::app::logs::Older::Failed(why) => spans.push(Span::styled(
            format!(" · older lines failed: {why}"),
            t.style(Slot::Error),
        )),
    }
    if v.anchor.is_some() {
        let r = v.selection();
        spans.push(Span::styled(
            format!(" · {} selected", r.end() + 1 - r.start()),
            t.style(Slot::Info),
        ));
    }
    if let Some(f) = &v.filter {
        spans.push(Span::styled(
            format!(" · filter “{f}”"),
            t.style(Slot::Info),
        ));
    }
    if let Some(level) = v.min_level {
        spans.push(Span::styled(
            format!(" · {}+ only", level.label()),
            t.style(Slot::Warning),
        ));
    }
    if let Some(s) = &v.search {
        spans.push(Span::styled(
            format!(" · /{}/", s.pattern),
            t.style(Slot::Info),
        ));
    }
    spans.push(Span::styled(format!(" · {} lines", v.store.len()), muted));
    if v.store.dropped() > 0 {
        spans.push(Span::styled(
            format!(
                " ({} oldest dropped, cap {})",
                v.store.dropped(),
                v.store.cap()
            ),
            t.style(Slot::Warning),
        ));
    }
    spans.push(Span::raw(" "));
    Line::from(spans)
}

/// The lines that fit in `area`: the newest when following, else from `top`.
fn visible<'a>(v: &'a LogView, area: Rect, t: &Theme) -> Vec<Line<'a>> {
    let height = usize::from(area.height);
    let width = usize::from(area.width.max(1));
    if height == 0 || v.store.is_empty() {
        let text = match &v.ended {
            Some(None) => "No events in this range.",
            _ => "Waiting for events…",
        };
        return vec![Line::styled(text, t.style(Slot::Muted))];
    }
    let tz = jiff::tz::TimeZone::system();
    let render = |i: usize, l: LogLine<'a>| render_line(v, i, l, t, &tz);
    if v.follow {
        // From the newest line back, until the screen is full.
        let mut out = Vec::new();
        let mut used = 0;
        for (i, l) in v.store.iter_back_from(v.store.len()) {
            if !v.shows(l.level) {
                continue;
            }
            let line = render(i, l);
            used += if v.wrap {
                line.width().div_ceil(width).max(1)
            } else {
                1
            };
            if used > height && !out.is_empty() {
                break;
            }
            out.push(line);
        }
        out.reverse();
        out
    } else {
        let top = v.top.min(v.last());
        let mut out = Vec::new();
        let mut used = 0;
        for (k, l) in v.store.iter_from(top).enumerate() {
            if used >= height {
                break;
            }
            if !v.shows(l.level) {
                continue;
            }
            let line = render(top + k, l);
            used += if v.wrap {
                line.width().div_ceil(width).max(1)
            } else {
                1
            };
            out.push(line);
        }
        out
    }
}

fn render_line<'a>(
    v: &'a LogView,
    index: usize,
    l: LogLine<'a>,
    t: &Theme,
    tz: &jiff::tz::TimeZone,
) -> Line<'a> {
    let mut spans = Vec::with_capacity(6);
    spans.push(Span::styled(time(l.ts, v.utc, tz), t.style(Slot::Muted)));
    let source = v.store.source(l.source);
    let group = source.map_or(0, |s| s.group);
    let slot = GROUP_SLOTS[usize::from(group) % GROUP_SLOTS.len()];
    spans.push(Span::styled(
        format!(" {:<14.14} ", v.group_label(group)),
        t.style(slot),
    ));
    if v.show_stream {
        let stream = source.map_or("", |s| &s.stream);
        // The tail of a Lambda stream name is the part that differs.
        let short = stream
            .get(stream.len().saturating_sub(12)..)
            .unwrap_or(stream);
        spans.push(Span::styled(format!("{short:<12} "), t.style(Slot::Muted)));
    }
    let base = message_style(t, l.kind, l.level);
    if l.kind == Kind::Report
        && let Some(r) = parse_report(l.text)
    {
        let mut summary = format!("{:.1} ms", r.duration_ms);
        if let (Some(max), Some(size)) = (r.max_memory_mb, r.memory_mb) {
            summary.push_str(&format!(" · {max}/{size} MB"));
        }
        if let Some(init) = r.init_ms {
            summary.push_str(&format!(" · cold start {init:.0} ms"));
        }
        spans.push(Span::styled("REPORT ", base));
        spans.push(Span::styled(summary, t.style(Slot::Info)));
        spans.push(Span::styled("  ", base));
    }
    let text = if l.kind == Kind::Report {
        ""
    } else {
        l.text.trim_end()
    };
    // Terminals draw no tab characters: expand them (Lambda's Python lines use them).
    let text: std::borrow::Cow<'a, str> = if text.contains('\t') {
        expand_tabs(text).into()
    } else {
        text.into()
    };
    match &v.search {
        Some(search) if !text.is_empty() => {
            let mut last = 0;
            for m in search.regex.find_iter(&text) {
                spans.push(Span::styled(text[last..m.start()].to_string(), base));
                spans.push(Span::styled(
                    m.as_str().to_string(),
                    base.add_modifier(Modifier::REVERSED),
                ));
                last = m.end();
            }
            spans.push(Span::styled(text[last..].to_string(), base));
        }
        _ => spans.push(Span::styled(text, base)),
    }
    let line = Line::from(spans);
    let selected = v.anchor.is_some() && v.selection().contains(&index);
    if selected || (index == v.cursor && !v.follow) {
        line.style(t.style(Slot::Selection))
    } else {
        line
    }
}

/// Tabs to spaces, at stops every 4 columns.
fn expand_tabs(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut col = 0;
    for c in text.chars() {
        if c == '\t' {
            let n = 4 - col % 4;
            out.extend(std::iter::repeat_n(' ', n));
            col += n;
        } else {
            out.push(c);
            col += 1;
        }
    }
    out
}

/// The Logs panel's colour of a line; the invoke result's log tail uses it too.
pub fn message_style(t: &Theme, kind: Kind, level: Level) -> Style {
    if kind.is_lambda() {
        return t.style(Slot::Muted);
    }
    t.style(match level {
        Level::Error => Slot::Error,
        Level::Warn => Slot::Warning,
        Level::Debug | Level::Trace => Slot::Muted,
        Level::Info | Level::Unknown => Slot::Text,
    })
}

/// "03:12:13.748" in local time or UTC ("Z").
pub fn time(ts: i64, utc: bool, tz: &jiff::tz::TimeZone) -> String {
    let Ok(t) = jiff::Timestamp::from_millisecond(ts) else {
        return "–".into();
    };
    if utc {
        t.strftime("%H:%M:%S%.3fZ").to_string()
    } else {
        t.to_zoned(tz.clone()).strftime("%H:%M:%S%.3f").to_string()
    }
}

/// A JSON line pretty-printed (or the raw line), over the panel.
fn detail(frame: &mut Frame, area: Rect, state: &State, v: &LogView, index: usize) {
    let t = &state.theme;
    let Some(l) = v.store.get(index) else { return };
    let pretty = serde_json::from_str::<serde_json::Value>(l.text)
        .ok()
        .and_then(|j| serde_json::to_string_pretty(&j).ok())
        .unwrap_or_else(|| l.text.to_string());
    let popup = area.inner(ratatui::layout::Margin {
        horizontal: 4,
        vertical: 2,
    });
    frame.render_widget(Clear, popup);
    let tz = jiff::tz::TimeZone::system();
    let block = widgets::block(
        state,
        Line::from(vec![
            Span::styled(
                format!(" {} ", time(l.ts, v.utc, &tz)),
                t.style(Slot::Title),
            ),
            Span::styled(
                format!(
                    "{} · enter/esc closes ",
                    v.group_label(v.store.source(l.source).map_or(0, |s| s.group))
                ),
                t.style(Slot::Muted),
            ),
        ]),
        true,
    );
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    frame.render_widget(
        Paragraph::new(pretty)
            .style(t.style(Slot::Text))
            .wrap(Wrap { trim: false }),
        inner,
    );
}
