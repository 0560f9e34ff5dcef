//! A health check's table in a job's output: URL, status, latency,
//! version, each failing row in the error colour with why it failed.

use ratatui::text::{Line, Span};

use crate::config::theme::{Slot, Theme};
use crate::jobs::health::{self, Report};

/// The checks as an aligned table under a heading (the job's message above
/// it has the summary).
pub fn lines(lines: &mut Vec<Line<'_>>, t: &Theme, report: &Report) {
    let (n, bad) = (report.checks.len(), report.unhealthy());
    lines.push(Line::from(vec![
        Span::styled(
            format!("health checks of {} · ", report.deployment),
            t.style(Slot::Header),
        ),
        if bad == 0 {
            Span::styled(format!("{n} passed"), t.style(Slot::Success))
        } else {
            Span::styled(format!("{bad} of {n} failed"), t.style(Slot::Failed))
        },
    ]));
    let (header, rows) = health::table(&report.checks);
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let pad =
        |s: &str, w: usize| format!("{s}{}  ", " ".repeat(w.saturating_sub(s.chars().count())));
    lines.push(Line::from(
        header
            .iter()
            .zip(&widths)
            .map(|(h, w)| Span::styled(pad(h, *w), t.style(Slot::Header)))
            .collect::<Vec<_>>(),
    ));
    for (row, check) in rows.iter().zip(&report.checks) {
        let ok = check.healthy();
        let spans = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (cell, w))| {
                let slot = match i {
                    1 if ok => Slot::Success,
                    1 => Slot::Failed,
                    2 => Slot::Muted,
                    _ => Slot::Text,
                };
                Span::styled(pad(cell, *w), t.style(slot))
            })
            .collect::<Vec<_>>();
        lines.push(Line::from(spans));
        if let Some(remark) = check.remark() {
            lines.push(Line::styled(format!("  ↳ {remark}"), t.style(Slot::Muted)));
        }
    }
}
