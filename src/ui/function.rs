//! A function's detail (`enter` on the Functions panel): its configuration,
//! environment (names; values only when asked, they may be secrets),
//! concurrency with what an enable restores, versions, aliases, and the last
//! invoke of this run.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Clock;
use super::format::{ago_since, bytes, opt, utc};
use crate::app::Action;
use crate::app::jobs::JobRow;
use crate::app::state::{DetailAnswer, DetailView, Session, State};
use crate::config::theme::Slot;
use crate::jobs::Detail;
use crate::jobs::lambda_code::short_sha;
use crate::jobs::lambdas::describe;
use crate::model::{Concurrency, FunctionDetail};

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    s: &Session,
    view: &DetailView,
    name: &str,
    clock: Clock,
) {
    let t = &state.theme;
    let inner =
        super::panels::detail_frame(frame, area, state, &format!("Function {name}"), view, clock);

    let kv = |k: &str, v: String, style: Style| {
        Line::from(vec![
            Span::styled(format!("{k:<16}"), t.style(Slot::Muted)),
            Span::styled(v, style),
        ])
    };
    let heading = |text: String| Line::styled(text, t.style(Slot::Title));
    let text = t.style(Slot::Text);
    let mut lines = Vec::new();
    let detail = match (&view.answer, &view.fetch.error) {
        (_, Some(p)) => {
            lines.push(Line::styled(
                format!("✗ {}", p.message),
                t.style(Slot::Error),
            ));
            None
        }
        (Some(DetailAnswer::Function(d)), None) => Some(d.as_ref()),
        _ => {
            lines.push(Line::styled(
                "loading configuration, versions and aliases…",
                t.style(Slot::Progress),
            ));
            None
        }
    };
    if let Some(d) = detail {
        configuration(&mut lines, d, clock, &kv, text);
        let (label, slot) = match d.concurrency {
            Concurrency::Disabled => (describe(d.concurrency), Slot::Failed),
            c => (format!("enabled, {}", describe(c)), Slot::Success),
        };
        let mut line = kv("Concurrency", label, t.style(slot));
        match (d.concurrency, d.remembered) {
            (Concurrency::Disabled, Some(r)) => line.spans.push(Span::styled(
                format!("  (enable restores: {})", describe(r)),
                t.style(Slot::Muted),
            )),
            (Concurrency::Disabled, None) => line.spans.push(Span::styled(
                "  (no remembered setting: enable-all leaves it disabled)",
                t.style(Slot::Warning),
            )),
            _ => {}
        }
        lines.push(line);

        lines.push(Line::raw(""));
        let reveal_key = state
            .keymap
            .keys_for(Action::RevealValues)
            .first()
            .map(ToString::to_string);
        let mut head = vec![Span::styled(
            format!("Environment ({})", d.environment.len()),
            t.style(Slot::Title),
        )];
        if let (Some(key), false) = (&reveal_key, d.environment.is_empty()) {
            let what = if view.reveal { "hides" } else { "shows" };
            head.push(Span::styled(
                format!("  {key} {what} values"),
                t.style(Slot::Muted),
            ));
        }
        lines.push(Line::from(head));
        if d.environment.is_empty() {
            lines.push(Line::styled("  none", t.style(Slot::Muted)));
        }
        for v in &d.environment {
            let value = if view.reveal {
                Span::styled(v.value.clone(), text)
            } else {
                Span::styled("••••••", t.style(Slot::Muted))
            };
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<30}", v.key), text),
                value,
            ]));
        }

        lines.push(Line::raw(""));
        lines.push(heading(format!("Versions ({})", d.versions.len())));
        for v in &d.versions {
            let alias: Vec<&str> = d
                .aliases
                .iter()
                .filter(|a| a.version == v.version)
                .map(|a| a.name.as_str())
                .collect();
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<10}", v.version), text),
                Span::styled(format!("{}  ", utc(v.last_modified)), t.style(Slot::Muted)),
                Span::styled(
                    format!(
                        "{:<14}",
                        v.code_sha256.as_deref().map_or("–".into(), short_sha)
                    ),
                    t.style(Slot::Muted),
                ),
                Span::styled(
                    if alias.is_empty() {
                        String::new()
                    } else {
                        format!("← {}  ", alias.join(", "))
                    },
                    t.style(Slot::Accent),
                ),
                Span::styled(
                    v.description.clone().unwrap_or_default(),
                    t.style(Slot::Muted),
                ),
            ]));
        }
        lines.push(Line::raw(""));
        lines.push(heading(format!("Aliases ({})", d.aliases.len())));
        if d.aliases.is_empty() {
            lines.push(Line::styled("  none", t.style(Slot::Muted)));
        }
        for a in &d.aliases {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<16}", a.name), text),
                Span::styled(format!("→ {:<10}", a.version), t.style(Slot::Accent)),
                Span::styled(
                    a.description.clone().unwrap_or_default(),
                    t.style(Slot::Muted),
                ),
            ]));
        }
    }

    lines.push(Line::raw(""));
    lines.push(heading("Last invoke".into()));
    lines.extend(last_invoke(state, s, name, clock));

    let max_scroll = lines.len().saturating_sub(usize::from(inner.height));
    let scroll = view.scroll.min(max_scroll) as u16;
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), inner);
}

fn configuration<'a>(
    lines: &mut Vec<Line<'a>>,
    d: &FunctionDetail,
    clock: Clock,
    kv: &impl Fn(&str, String, Style) -> Line<'a>,
    text: Style,
) {
    if let Some(desc) = &d.description {
        lines.push(kv("Description", desc.clone(), text));
    }
    let arch = if d.architectures.is_empty() {
        String::new()
    } else {
        format!(" ({})", d.architectures.join(", "))
    };
    lines.push(kv(
        "Runtime",
        format!("{}{arch}", opt(d.runtime.clone())),
        text,
    ));
    lines.push(kv("Handler", opt(d.handler.clone()), text));
    lines.push(kv(
        "Memory, timeout",
        format!("{} MB, {} s", opt(d.memory_mb), opt(d.timeout_s)),
        text,
    ));
    lines.push(kv(
        "Code",
        format!(
            "{}  sha256 {}",
            bytes(d.code_size),
            d.code_sha256.as_deref().map_or("–".into(), short_sha)
        ),
        text,
    ));
    lines.push(kv("Role", opt(d.role.clone()), text));
    lines.push(kv(
        "State",
        format!(
            "{} (last update: {})",
            opt(d.state.clone()),
            opt(d.last_update_status.clone())
        ),
        text,
    ));
    lines.push(kv(
        "Last modified",
        format!(
            "{} ({})",
            utc(d.last_modified),
            ago_since(d.last_modified, clock.wall)
        ),
        text,
    ));
}

/// The newest invoke of this function in this run: when, how, and what came back.
fn last_invoke<'a>(state: &State, s: &Session, function: &str, clock: Clock) -> Vec<Line<'a>> {
    let t = &state.theme;
    let target = format!("function {function}");
    let newest: Option<&JobRow> = state
        .jobs
        .list
        .rows
        .iter()
        .filter(|r| {
            r.deployment == s.deployment.name && r.action == "lambda_invoke" && r.target == target
        })
        .max_by_key(|r| r.started);
    let Some(row) = newest else {
        return vec![Line::styled("  none in this run", t.style(Slot::Muted))];
    };
    let mut lines = Vec::new();
    let (result, slot) = match &row.outcome {
        None => ("running".to_string(), Slot::Progress),
        Some(o) => match o.detail() {
            Some(Detail::Invoke(inv)) => (
                format!(
                    "{} · status {}{}{}",
                    inv.kind.name(),
                    inv.status,
                    inv.executed_version
                        .as_deref()
                        .map(|v| format!(" · version {v}"))
                        .unwrap_or_default(),
                    inv.function_error
                        .as_deref()
                        .map(|e| format!(" · FunctionError {e}"))
                        .unwrap_or_default()
                ),
                if inv.function_error.is_some() || !o.is_ok() {
                    Slot::Failed
                } else {
                    Slot::Success
                },
            ),
            _ if o.is_ok() => (o.message().to_string(), Slot::Success),
            _ => (o.message().to_string(), Slot::Failed),
        },
    };
    lines.push(Line::from(vec![
        Span::styled(format!("  {}  ", row.key), t.style(Slot::Muted)),
        Span::styled(result, t.style(slot)),
        Span::styled(
            format!("  ({})", ago_since(Some(row.started), clock.wall)),
            t.style(Slot::Muted),
        ),
    ]));
    if let Some(payload) = state
        .jobs
        .payloads
        .get(&(s.deployment.name.clone(), function.to_string()))
    {
        let one_line: String = payload.split_whitespace().collect::<Vec<_>>().join(" ");
        let shown: String = one_line.chars().take(80).collect();
        let more = if one_line.chars().count() > 80 {
            "…"
        } else {
            ""
        };
        lines.push(Line::from(vec![
            Span::styled("  payload  ", t.style(Slot::Muted)),
            Span::styled(format!("{shown}{more}"), t.style(Slot::Text)),
        ]));
    }
    lines
}
