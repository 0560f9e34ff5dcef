//! The Index panel: the search domain's facts, its cluster's health as a
//! badge, and its indices as a list.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::Clock;
use super::format::{bytes, opt};
use super::panels::{list_rows, placeholder, title};
use super::widgets::{self, Rows, styled};
use crate::app::list::Row;
use crate::app::state::{PanelId, Session, State};
use crate::config::theme::{Slot, Theme};
use crate::model::{ClusterColour, ClusterHealth, DomainStatus, IndexRow};

/// The slot a cluster or index colour is drawn in.
pub fn colour_slot(colour: Option<ClusterColour>) -> Slot {
    match colour {
        Some(ClusterColour::Green) => Slot::Success,
        Some(ClusterColour::Yellow) => Slot::Warning,
        Some(ClusterColour::Red) => Slot::Failed,
        None => Slot::Muted,
    }
}

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    s: &Session,
    clock: Clock,
) -> Option<Rect> {
    let fetch = s.fetch(PanelId::Index);
    let block = widgets::block(state, title(state, s, fetch, clock), true);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if let Some(msg) = placeholder(state, s, fetch) {
        frame.render_widget(Paragraph::new(msg).wrap(Wrap { trim: false }), inner);
        return None;
    }
    let t = &state.theme;
    let mut lines = Vec::new();
    match &s.index {
        Some(Some(d)) => lines.push(domain_line(t, d)),
        Some(None) if s.search.endpoint.is_none() => {
            let msg = "This deployment names no OpenSearch domain (resources.opensearch_domain).";
            frame.render_widget(
                Paragraph::new(Line::styled(msg, t.style(Slot::Muted))),
                inner,
            );
            return None;
        }
        _ => {}
    }
    if let Some(h) = &s.search.health {
        lines.push(health_line(t, h));
    }
    if let Some(e) = &s.search.endpoint {
        let how = if s.deployment.resources.opensearch_url.is_some() {
            " (opensearch_url)"
        } else {
            ""
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{:<10}", "Endpoint"), t.style(Slot::Muted)),
            Span::styled(format!("{e}{how}"), t.style(Slot::Muted)),
        ]));
    }
    if let Some(p) = &s.search.problem {
        let stale = if s.search.health.is_some() {
            " (the list below is from the last good refresh)"
        } else {
            ""
        };
        lines.push(Line::styled(
            format!("✗ {}{stale}", p.message),
            t.style(Slot::Error),
        ));
    }
    let wrapped = Paragraph::new(lines.clone()).wrap(Wrap { trim: false });
    let summary_height = (wrapped.line_count(inner.width) as u16).min(inner.height);
    let [top, _, rest] = Layout::vertical([
        Constraint::Length(summary_height),
        Constraint::Length(1),
        Constraint::Fill(1),
    ])
    .areas(inner);
    frame.render_widget(wrapped, top);
    // No list before the data plane answered once.
    s.search.health.as_ref()?;
    let list = &s.search.list;
    if list.view.is_empty() {
        let msg = if list.filter.is_empty() {
            "The cluster has no indices: `index_create` (C) creates the configured ones."
                .to_string()
        } else {
            format!(
                "No indices match the filter “{}” (esc clears it).",
                list.filter
            )
        };
        frame.render_widget(
            Paragraph::new(Line::styled(msg, t.style(Slot::Muted))),
            rest,
        );
        return None;
    }
    let height = usize::from(rest.height.saturating_sub(1));
    let built = list_rows(list, height, |r: &IndexRow| row_cells(t, r));
    Some(widgets::table(
        frame,
        rest,
        state,
        Rows {
            header: IndexRow::COLUMNS,
            widths: vec![
                Constraint::Fill(3),
                Constraint::Length(6),
                Constraint::Length(6),
                Constraint::Length(10),
                Constraint::Length(7),
                Constraint::Length(9),
                Constraint::Length(9),
                Constraint::Length(3),
                Constraint::Length(3),
                Constraint::Fill(2),
            ],
            rows: built.cells,
            selected: built.selected,
            sort_column: Some((list.sort_column, list.sort_reverse)),
        },
    ))
}

fn row_cells<'a>(t: &Theme, r: &IndexRow) -> Vec<ratatui::widgets::Cell<'a>> {
    let colour = r.health.as_deref().and_then(ClusterColour::parse);
    let size = |v: Option<u64>| {
        v.map_or("–".into(), |b| {
            bytes(i64::try_from(b).unwrap_or(i64::MAX))
        })
    };
    vec![
        styled(r.name.clone(), t.style(Slot::Text)),
        styled(opt(r.health.clone()), t.style(colour_slot(colour))),
        styled(
            r.status.clone(),
            t.style(if r.status == "open" {
                Slot::Text
            } else {
                Slot::Warning
            }),
        ),
        styled(r.docs.map_or("–".into(), thousands), t.style(Slot::Text)),
        styled(
            r.deleted.map_or("–".into(), thousands),
            t.style(Slot::Muted),
        ),
        styled(size(r.size), t.style(Slot::Text)),
        styled(size(r.primary_size), t.style(Slot::Muted)),
        styled(opt(r.primaries), t.style(Slot::Text)),
        styled(opt(r.replicas), t.style(Slot::Text)),
        styled(r.aliases.join(", "), t.style(Slot::Key)),
    ]
}

/// 12840 → "12 840".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

fn domain_line<'a>(t: &Theme, d: &DomainStatus) -> Line<'a> {
    let (status, slot) = match (d.deleted, d.processing, d.upgrading, d.created) {
        (true, ..) => ("being deleted", Slot::Failed),
        (false, true, ..) => ("processing", Slot::Progress),
        (false, false, true, _) => ("upgrading", Slot::Progress),
        (false, false, false, true) => ("active", Slot::Success),
        (false, false, false, false) => ("being created", Slot::Progress),
    };
    let mut facts = vec![opt(d.engine_version.clone())];
    facts.push(format!(
        "{} × {}",
        opt(d.instance_count),
        opt(d.instance_type.clone())
    ));
    if let Some((n, kind)) = &d.dedicated_masters {
        facts.push(format!("masters {n} × {kind}"));
    } else {
        facts.push("no dedicated masters".into());
    }
    if let Some(storage) = &d.storage {
        facts.push(storage.clone());
    }
    facts.push(
        if d.vpc {
            "VPC endpoint"
        } else {
            "public endpoint"
        }
        .into(),
    );
    Line::from(vec![
        Span::styled(format!("{:<10}", "Domain"), t.style(Slot::Muted)),
        Span::styled(d.name.clone(), t.style(Slot::Header)),
        Span::raw("  "),
        Span::styled(status, t.style(slot)),
        Span::styled(format!(" · {}", facts.join(" · ")), t.style(Slot::Text)),
    ])
}

fn health_line<'a>(t: &Theme, h: &ClusterHealth) -> Line<'a> {
    let badge = h
        .status
        .map_or("UNKNOWN".to_string(), |c| c.as_str().to_uppercase());
    let slot = colour_slot(h.status);
    let unassigned = if h.unassigned_shards > 0 {
        slot
    } else {
        Slot::Text
    };
    Line::from(vec![
        Span::styled(format!("{:<10}", "Cluster"), t.style(Slot::Muted)),
        Span::styled(format!("● {badge}"), t.style(slot)),
        Span::styled(
            format!(
                "  {} nodes ({} data) · shards {} primary, {} active, {} relocating, {} initializing, ",
                h.nodes,
                h.data_nodes,
                h.active_primary_shards,
                h.active_shards,
                h.relocating_shards,
                h.initializing_shards,
            ),
            t.style(Slot::Text),
        ),
        Span::styled(
            format!("{} unassigned", h.unassigned_shards),
            t.style(unassigned),
        ),
        Span::styled(
            format!(
                " · {} pending tasks · {:.1}% active",
                h.pending_tasks, h.active_shards_percent
            ),
            t.style(Slot::Text),
        ),
    ])
}

/// The header's badge: a yellow or red cluster, seen from every panel.
pub fn badge<'a>(t: &Theme, s: &Session) -> Option<Span<'a>> {
    let c = s.search.alarm()?;
    Some(Span::styled(
        format!(" CLUSTER {} ", c.as_str().to_uppercase()),
        t.style(colour_slot(Some(c)))
            .patch(Style::default().add_modifier(ratatui::style::Modifier::REVERSED)),
    ))
}
