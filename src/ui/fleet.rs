//! The fleet overview: one row per deployment, each cell filled as its
//! answer arrives, the verdict first and the worst cell coloured.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell as TableCell, Paragraph, Row, Table};

use crate::app::State;
use crate::config::theme::{Slot, Theme};
use crate::model::fleet::{Cell, Column, FleetRow, Severity, Verdict};

const HEADER: [&str; 9] = [
    "Deployment",
    "Status",
    "Account",
    "Stacks",
    "Functions",
    "Queues · DLQ",
    "Errors",
    "Index",
    "CRL",
];

/// Draws the table and, below it, why the selected row is not ok.
/// Returns the rectangle of the data rows (for mouse clicks).
pub fn draw(frame: &mut Frame, area: Rect, state: &State) -> Rect {
    let t = &state.theme;
    let [table_area, detail] =
        Layout::vertical([Constraint::Min(2), Constraint::Length(2)]).areas(area);
    let fleet = &state.fleet;
    let selected = fleet.position(state.picker);
    // Only the rows that fit are built: 50 deployments cost what 20 do.
    let height = usize::from(table_area.height.saturating_sub(1)).max(1);
    let first = fleet.first_shown(state.picker, height);
    let rows = fleet
        .order
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .filter_map(|(pos, &i)| {
            let r = fleet.rows.get(i)?;
            let row = Row::new(cells(t, r));
            Some(if pos == selected {
                row.style(t.style(Slot::Selection))
            } else {
                row
            })
        });
    let header = Row::new(HEADER.iter().map(|h| TableCell::from(*h))).style(t.style(Slot::Header));
    let widths = [
        Constraint::Length(12),
        Constraint::Length(11),
        Constraint::Fill(1),
        Constraint::Length(11),
        Constraint::Length(10),
        Constraint::Length(12),
        Constraint::Length(6),
        Constraint::Length(10),
        Constraint::Length(5),
    ];
    let table = Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .style(t.style(Slot::Text));
    frame.render_widget(table, table_area);
    if let Some(r) = fleet.order.get(selected).and_then(|&i| fleet.rows.get(i)) {
        frame.render_widget(Paragraph::new(reasons(t, r)), detail);
    }
    Rect {
        y: table_area.y + 1,
        height: table_area.height.saturating_sub(1),
        ..table_area
    }
}

fn verdict_slot(v: Verdict) -> Slot {
    match v {
        Verdict::Ok => Slot::Success,
        Verdict::Attention => Slot::Warning,
        Verdict::Unreachable => Slot::Error,
        Verdict::Loading => Slot::Muted,
    }
}

/// The cells of one row: text, and the colour of how bad each is.
fn cells<'a>(t: &Theme, r: &FleetRow) -> Vec<TableCell<'a>> {
    let (verdict, _) = r.verdict();
    let worst = r.worst();
    let style = |c: Column| -> Style {
        let slot = match r.severity(c) {
            Severity::Pending => Slot::Muted,
            _ if worst == Some(c) && r.severity(c) == Severity::Bad => Slot::Error,
            _ if worst == Some(c) => Slot::Warning,
            _ => Slot::Text,
        };
        t.style(slot)
    };
    let name = TableCell::from(Span::styled(
        r.deployment.clone(),
        if r.protected {
            t.style(Slot::Protected)
        } else {
            t.style(Slot::Text)
        },
    ));
    let status = TableCell::from(Span::styled(
        verdict.label(),
        t.style(verdict_slot(verdict)),
    ));
    let account = match (&r.identity, r.unreachable()) {
        (_, Some(p)) => Span::styled(p.message.clone(), t.style(Slot::Error)),
        (Cell::Ready(id), _) => Span::styled(id.account.clone(), t.style(Slot::Muted)),
        (c, _) => Span::styled(text(c, |_| String::new()), style(Column::Identity)),
    };
    let stacks = text(&r.stacks, |s| {
        let bad = s.failed + s.rolled_back;
        match (bad, s.in_progress) {
            (0, 0) => s.total.to_string(),
            (0, n) => format!("{} · {n}…", s.total),
            (b, _) => format!("{} · {b} ✗", s.total),
        }
    });
    let functions = text(&r.functions, |f| match f.disabled.len() {
        0 => f.total.to_string(),
        n => format!("{} · {n} off", f.total),
    });
    let queues = text(&r.queues, |q| format!("{} · {}", q.visible, q.dlq_messages));
    let errors = text(&r.errors, |e| {
        if e.capped {
            format!("{}+", e.count)
        } else {
            e.count.to_string()
        }
    });
    let index = text(&r.index, |i| match &i.cluster_status {
        Some(c) => format!("{} {c}", i.state),
        None => i.state.clone(),
    });
    let vpn = text(&r.vpn, |v| match v.crl_days_left {
        Some(d) => format!("{d}d"),
        None => "none".into(),
    });
    let unreachable = r.unreachable().is_some();
    let cell = |s: String, c: Column| {
        // An unreachable row says why once, in the account column.
        let s = if unreachable && r.severity(c) == Severity::Bad {
            "—".to_string()
        } else {
            s
        };
        TableCell::from(Span::styled(s, style(c)))
    };
    vec![
        name,
        status,
        TableCell::from(account),
        cell(stacks, Column::Stacks),
        cell(functions, Column::Functions),
        cell(queues, Column::Queues),
        cell(errors, Column::Errors),
        cell(index, Column::Index),
        cell(vpn, Column::Vpn),
    ]
}

/// A cell's text: its value, "…" while loading, "✗ why" when it failed.
fn text<T>(c: &Cell<T>, show: impl Fn(&T) -> String) -> String {
    match c {
        Cell::Loading => "…".into(),
        Cell::Ready(v) => show(v),
        Cell::Failed(p) => format!("✗ {}", short(&p.message)),
        Cell::Unset => "–".into(),
    }
}

/// The gist of a problem for a narrow cell: its kind, in a word or two.
fn short(message: &str) -> String {
    let m = message.to_lowercase();
    if m.contains("denied") || m.contains("not authorized") {
        "denied".into()
    } else if m.contains("throttl") || m.contains("rate exceeded") {
        "throttled".into()
    } else if m.contains("reach") || m.contains("timed out") || m.contains("connection") {
        "unreachable".into()
    } else {
        "failed".into()
    }
}

/// The selected row's verdict and reasons, under the table.
fn reasons<'a>(t: &Theme, r: &FleetRow) -> Vec<Line<'a>> {
    let (verdict, reasons) = r.verdict();
    let head = Span::styled(format!("{}: ", r.deployment), t.style(Slot::Title));
    let body = match verdict {
        Verdict::Ok => Span::styled("every cell is fine", t.style(Slot::Success)),
        Verdict::Loading => Span::styled("loading…", t.style(Slot::Muted)),
        _ => Span::styled(reasons.join("; "), t.style(verdict_slot(verdict))),
    };
    vec![Line::from(vec![head, body])]
}
