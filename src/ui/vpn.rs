//! The VPN panel: the certificate authority's certificates and pending
//! requests, with the CRL's state.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::Clock;
use super::panels::{list_rows, placeholder, title};
use super::widgets::{self, Rows, styled};
use crate::app::list::Row;
use crate::app::state::{Session, State};
use crate::app::vpn::VpnRow;
use crate::config::theme::Slot;
use crate::pki::CertStatus;

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    s: &Session,
    clock: Clock,
) -> Option<Rect> {
    let t = &state.theme;
    let fetch = &s.vpn.fetch;
    let block = widgets::block(state, title(state, s, fetch, clock), true);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if let Some(lines) = placeholder(state, s, fetch) {
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
        return None;
    }
    let Some(listing) = &s.ca else { return None };
    let Some(report) = &listing.report else {
        let dir = listing.dir.display();
        let text = vec![
            Line::styled(
                format!("No certificate authority at {dir}."),
                t.style(Slot::Warning),
            ),
            Line::raw(""),
            Line::raw(format!(
                "Create one with `opsdeck vpn init --pki {dir}`, or check an easy-rsa PKI with"
            )),
            Line::raw("`opsdeck vpn adopt --pki DIR` and set `vpn_pki` for this deployment."),
        ];
        frame.render_widget(Paragraph::new(text), inner);
        return None;
    };
    // Summary: the CA, the CRL, and what needs doing.
    let mut summary = vec![Line::from(vec![
        Span::styled("CA  ", t.style(Slot::Muted)),
        Span::styled(report.ca.subject.clone(), t.style(Slot::Header)),
        Span::styled(
            format!("  ·  {}", listing.dir.display()),
            t.style(Slot::Muted),
        ),
    ])];
    let crl = match &report.crl {
        None => Span::styled("no crl.pem yet: regenerate it (C)", t.style(Slot::Warning)),
        Some(c) => {
            let days = c.days_left.map_or("–".to_string(), |d| d.to_string());
            let slot = if c.expired {
                Slot::Failed
            } else if c.expiring_soon {
                Slot::Warning
            } else {
                Slot::Success
            };
            Span::styled(
                format!("{} revoked, next update in {days} days", c.revoked_count),
                t.style(slot),
            )
        }
    };
    summary.push(Line::from(vec![
        Span::styled("CRL ", t.style(Slot::Muted)),
        crl,
    ]));
    match &listing.endpoint {
        None => {}
        Some(Err(why)) => summary.push(Line::from(vec![
            Span::styled("VPN ", t.style(Slot::Muted)),
            Span::styled(why.clone(), t.style(Slot::Error)),
        ])),
        Some(Ok(e)) => {
            summary.push(Line::from(vec![
                Span::styled("VPN ", t.style(Slot::Muted)),
                Span::styled(format!("{} · {}", e.id, e.state), t.style(Slot::Text)),
            ]));
            let slot = if e.crl_matches {
                Slot::Success
            } else {
                Slot::Warning
            };
            summary.push(Line::from(vec![
                Span::styled("    published CRL: ", t.style(Slot::Muted)),
                Span::styled(e.crl.clone(), t.style(slot)),
            ]));
        }
    }
    for w in &report.warnings {
        summary.push(Line::styled(format!("⚠ {w}"), t.style(Slot::Warning)));
    }
    let [top, table] = Layout::vertical([
        Constraint::Length(summary.len() as u16 + 1),
        Constraint::Min(1),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(summary), top);

    let height = usize::from(table.height.saturating_sub(1));
    let built = list_rows(&s.vpn, height, |r| match r {
        VpnRow::Cert(c, serial) => {
            let slot = match c.status {
                CertStatus::Valid => Slot::Success,
                CertStatus::ExpiringSoon => Slot::Warning,
                CertStatus::Expired => Slot::Failed,
                CertStatus::Revoked => Slot::Neutral,
            };
            vec![
                styled(c.cn.clone(), t.style(Slot::Text)),
                styled(c.status.label(), t.style(slot)),
                styled(c.days_left.to_string(), t.style(slot)),
                styled(c.not_after.date().to_string(), t.style(Slot::Muted)),
                styled(serial.clone(), t.style(Slot::Muted)),
            ]
        }
        VpnRow::Pending(p) => {
            let (status, slot) = match &p.request {
                Ok(_) => ("pending request".to_string(), Slot::Info),
                Err(why) => (format!("bad request: {why}"), Slot::Error),
            };
            vec![
                styled(r.cn().to_string(), t.style(Slot::Text)),
                styled(status, t.style(slot)),
                styled("", t.style(Slot::Muted)),
                styled("", t.style(Slot::Muted)),
                styled(p.path.display().to_string(), t.style(Slot::Muted)),
            ]
        }
    })
    .widths(vec![
        Constraint::Fill(2),
        Constraint::Length(16),
        Constraint::Length(9),
        Constraint::Length(11),
        Constraint::Fill(2),
    ]);
    Some(widgets::table(
        frame,
        table,
        state,
        Rows {
            header: VpnRow::COLUMNS,
            widths: built.widths,
            rows: built.cells,
            selected: built.selected,
            sort_column: Some((s.vpn.sort_column, s.vpn.sort_reverse)),
        },
    ))
}
