//! The code deploy's zip prompt and the rollback's version pick list; the
//! plans they make are shown by the one confirm dialog.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::format::utc;
use super::overlays::centered;
use super::widgets;
use crate::app::lambda_deploy::{CodePopup, RollbackPick, Versions};
use crate::app::state::State;
use crate::config::theme::Slot;
use crate::jobs::lambda_code::short_sha;

/// Reading the configured zip, or typing the path of one.
pub fn code(frame: &mut Frame, state: &State, p: &CodePopup) {
    let t = &state.theme;
    let area = centered(frame.area(), 84, 8);
    frame.render_widget(Clear, area);
    let block = widgets::block(
        state,
        Line::styled(
            format!(" Deploy code to {} ", p.function),
            t.style(Slot::Title),
        ),
        true,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let alias = match &p.alias {
        Some(a) => format!("then alias {a} moves to the new version"),
        None => "no alias is moved (none is configured for this function)".into(),
    };
    let mut lines = Vec::new();
    match (&p.input, &p.reading) {
        (Some(input), _) => {
            lines.push(Line::styled(
                "The zip to upload (a path where opsdeck runs; ~/ is your home):",
                t.style(Slot::Muted),
            ));
            let mut field = vec![Span::styled("> ", t.style(Slot::Key))];
            field.extend(widgets::field(input, t));
            lines.push(Line::from(field));
        }
        (None, reading) => lines.push(Line::styled(
            format!(
                "reading {}…",
                reading
                    .as_ref()
                    .map(|r| r.display().to_string())
                    .unwrap_or_default()
            ),
            t.style(Slot::Progress),
        )),
    }
    lines.push(Line::styled(alias, t.style(Slot::Muted)));
    lines.push(match &p.problem {
        Some(why) => Line::styled(why.clone(), t.style(Slot::Error)),
        None => Line::raw(""),
    });
    lines.push(Line::styled(
        if p.input.is_some() {
            "enter reads the zip and shows what the deploy will do · esc cancels"
        } else {
            "esc cancels"
        },
        t.style(Slot::Muted),
    ));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// The function's published versions, the alias's one marked, to pick the
/// one it goes back to.
pub fn rollback(frame: &mut Frame, state: &State, p: &RollbackPick) {
    let t = &state.theme;
    let detail = state.session.as_ref().and_then(|s| s.detail.as_ref());
    let versions = p.versions(detail);
    let rows = match &versions {
        Versions::Ready { rows, .. } => rows.len(),
        _ => 1,
    };
    let height = (rows.clamp(1, 12) + 6) as u16;
    let area = centered(frame.area(), 84, height);
    frame.render_widget(Clear, area);
    let block = widgets::block(
        state,
        Line::styled(
            format!(" Roll back {}: alias {} ", p.function, p.alias),
            t.style(Slot::Title),
        ),
        true,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = vec![
        Line::styled(
            format!(
                "Move alias {} to the version you pick (enter); the confirm comes next.",
                p.alias
            ),
            t.style(Slot::Muted),
        ),
        Line::raw(""),
    ];
    match versions {
        Versions::Loading => lines.push(Line::styled(
            "loading the published versions…",
            t.style(Slot::Progress),
        )),
        Versions::Failed(why) => lines.push(Line::styled(format!("✗ {why}"), t.style(Slot::Error))),
        Versions::NoAlias => lines.push(Line::styled(
            format!(
                "{} has no alias {}: nothing to roll back (a deploy with an alias creates it)",
                p.function, p.alias
            ),
            t.style(Slot::Warning),
        )),
        Versions::Ready {
            rows,
            current,
            selected,
        } => {
            // The highlighted row stays in view.
            let shown = 12;
            let marked = format!("← {} now", p.alias);
            let gap = marked.chars().count() + 2;
            let first = (selected + 1).saturating_sub(shown);
            for (i, v) in rows.iter().enumerate().skip(first).take(shown) {
                let chosen = i == selected;
                let style = if chosen {
                    t.style(Slot::Selection)
                } else {
                    t.style(Slot::Text)
                };
                let marker = if v.version == current {
                    marked.as_str()
                } else {
                    ""
                };
                lines.push(Line::from(vec![
                    Span::styled(if chosen { "> " } else { "  " }, t.style(Slot::Key)),
                    Span::styled(format!("{:<6}", v.version), style),
                    Span::styled(format!("{}  ", utc(v.last_modified)), t.style(Slot::Muted)),
                    Span::styled(
                        format!(
                            "{:<14}",
                            v.code_sha256.as_deref().map_or("–".into(), short_sha)
                        ),
                        t.style(Slot::Muted),
                    ),
                    Span::styled(format!("{marker:<gap$}"), t.style(Slot::Accent)),
                    Span::styled(
                        v.description.clone().unwrap_or_default(),
                        t.style(Slot::Muted),
                    ),
                ]));
            }
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "↑↓ choose · enter rolls back to it (after the confirm) · esc cancels",
        t.style(Slot::Muted),
    ));
    frame.render_widget(Paragraph::new(lines), inner);
}
