//! The top line (deployment, identity, markers) and the panel tabs.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::state::{PanelId, Screen, Session, State};
use crate::config::theme::Slot;

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let t = &state.theme;
    let session = state
        .session
        .as_ref()
        .filter(|_| state.screen == Screen::Console);
    let Some(s) = session else {
        let line = Line::from(vec![
            Span::styled(" opsdeck ", t.style(Slot::Title)),
            Span::styled("· pick a deployment", t.style(Slot::Muted)),
        ]);
        frame.render_widget(Paragraph::new(line), area);
        return;
    };
    let d = &s.deployment;
    let base = if d.protected {
        t.style(Slot::Protected)
    } else {
        Style::default()
    };
    let muted = if d.protected {
        base
    } else {
        t.style(Slot::Muted)
    };
    let mut spans = vec![
        Span::styled(
            " opsdeck ",
            if d.protected {
                base
            } else {
                t.style(Slot::Title)
            },
        ),
        Span::styled(format!(" {} ", d.name), base.patch(t.style(Slot::Header))),
    ];
    if d.protected {
        spans.push(Span::styled(" PROTECTED ", t.style(Slot::Protected)));
    }
    if d.read_only {
        spans.push(Span::styled(" READ-ONLY ", t.style(Slot::ReadOnly)));
    }
    if let Some(badge) = super::index::badge(t, s) {
        spans.push(Span::raw(" "));
        spans.push(badge);
    }
    let mut facts = Vec::new();
    if let Some(p) = &d.profile {
        facts.push(format!("profile {p}"));
    }
    if let Some(r) = &d.region {
        facts.push(r.clone());
    }
    if let Some(e) = &d.endpoint_url {
        facts.push(e.clone());
    }
    match (&s.identity, s.credentials_problem()) {
        (_, Some(p)) => {
            spans.push(Span::styled(format!(" {} ", facts.join(" · ")), muted));
            spans.push(Span::styled(
                format!("✗ {}", p.message),
                t.style(Slot::Error),
            ));
        }
        (Some(id), None) => {
            facts.push(format!("account {}", id.account));
            facts.push(id.arn.clone());
            spans.push(Span::styled(format!(" {}", facts.join(" · ")), muted));
        }
        (None, None) => {
            facts.push("connecting…".into());
            spans.push(Span::styled(format!(" {}", facts.join(" · ")), muted));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(base), area);
}

/// Draws the panel tabs; returns where each one is, for clicks.
pub fn tabs(frame: &mut Frame, area: Rect, state: &State, s: &Session) -> Vec<(Rect, PanelId)> {
    let t = &state.theme;
    let labels: Vec<(PanelId, String)> = PanelId::ALL
        .iter()
        .enumerate()
        .map(|(i, panel)| {
            let mut label = format!("{} {}", i + 1, panel.title());
            if let Some(n) = s.count(*panel) {
                label.push_str(&format!(" ({n})"));
            }
            let running = state.jobs.running();
            if *panel == PanelId::Jobs && running > 0 {
                label.push_str(&format!(" ({running} running)"));
            }
            let failed = match panel {
                PanelId::Logs => s
                    .logs
                    .as_ref()
                    .is_some_and(|l| matches!(l.ended, Some(Some(_)))),
                p => s.fetch(*p).error.is_some(),
            };
            if failed {
                label.push_str(" ✗");
            }
            (*panel, label)
        })
        .collect();
    // Three spaces between tabs where they fit, fewer on a narrow terminal.
    let text: usize = labels.iter().map(|(_, l)| l.chars().count()).sum();
    let room = usize::from(area.width).saturating_sub(1 + text);
    let gap = (room / labels.len().max(1)).clamp(1, 3);
    let mut spans = vec![Span::raw(" ")];
    let mut hits = Vec::new();
    let mut x = area.x + 1;
    for (panel, label) in labels {
        let style = if panel == s.focus {
            t.style(Slot::TabActive)
        } else {
            t.style(Slot::Tab)
        };
        let width = label.chars().count() as u16;
        hits.push((Rect::new(x, area.y, width, 1).intersection(area), panel));
        x += width + gap as u16;
        spans.push(Span::styled(label, style));
        spans.push(Span::raw(" ".repeat(gap)));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
    hits
}
