//! The help overlay and the palette at the terminal's width: the focused
//! panel's keys come first, and no column's text runs into the next at any
//! width (rendered with ratatui's `TestBackend`, driven through the real
//! update function and the shipped default keymap).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant, UNIX_EPOCH};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use opsdeck::app::{Action, Hitmap, Msg, PanelId, State};
use opsdeck::config::{Config, Loaded, keymap, theme};
use opsdeck::ui::{self, Clock};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const SANDBOX: &str = include_str!("../config/sandbox.toml");

struct Harness {
    state: State,
    t0: Instant,
}

impl Harness {
    /// Connected to `dev` (no answers: the overlays are what is under test)
    /// with `panel` focused.
    fn on(panel: PanelId) -> Self {
        let (config, diagnostics) = Config::parse(SANDBOX, Path::new("config.toml"));
        let (theme, _) = theme::load("default", None);
        let (keymap, _) = keymap::load("default", None);
        let mut h = Harness {
            state: State::new(Loaded {
                config,
                theme,
                keymap,
                diagnostics,
            }),
            t0: Instant::now(),
        };
        h.act(Action::Open);
        h.act(opsdeck::app::update::panel_action(panel));
        assert_eq!(h.state.session.as_ref().unwrap().focus, panel);
        h
    }

    fn act(&mut self, a: Action) {
        self.state
            .update(Msg::Action(a), self.t0, &Hitmap::default());
    }

    fn keys(&mut self, text: &str) {
        for c in text.chars() {
            let key = KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
            self.state
                .update(Msg::Key(key), self.t0, &Hitmap::default());
        }
    }

    /// The screen as rows of cells, `width` × `height`.
    fn cells(&self, width: u16, height: u16) -> Vec<Vec<String>> {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        let clock = Clock {
            now: self.t0 + Duration::from_secs(1),
            wall: UNIX_EPOCH + Duration::from_secs(1_795_000_000),
        };
        terminal
            .draw(|f| {
                ui::draw(f, &self.state, clock);
            })
            .unwrap();
        let buffer = terminal.backend().buffer();
        (0..height)
            .map(|y| {
                (0..width)
                    .map(|x| buffer[(x, y)].symbol().to_string())
                    .collect()
            })
            .collect()
    }

    fn screen(&self, width: u16, height: u16) -> String {
        self.cells(width, height)
            .iter()
            .map(|row| format!("{:?}\n", row.concat()))
            .collect()
    }
}

fn text(row: &[String], from: usize, to: usize) -> String {
    row[from..to].concat()
}

fn find(row: &[String], needle: &str) -> Option<usize> {
    (0..row.len()).find(|x| text(row, *x, row.len()).starts_with(needle))
}

/// `cell` holds `full`, or a prefix of it cut with `…`, then padding.
fn shows(cell: &str, full: &str) -> bool {
    let cell = cell.trim_end();
    match cell.strip_suffix('…') {
        Some(prefix) => !prefix.is_empty() && full.starts_with(prefix) && prefix != full,
        None => cell == full,
    }
}

/// The rows inside the overlay titled `title`, and its inner left and right.
fn overlay(screen: &[Vec<String>], title: &str) -> (Vec<Vec<String>>, usize, usize) {
    let top = screen
        .iter()
        .position(|r| find(r, &format!("╭{title}")).is_some())
        .unwrap_or_else(|| panic!("no {title} overlay"));
    let left = find(&screen[top], &format!("╭{title}")).unwrap();
    let right = (left + 1..screen[top].len())
        .find(|x| screen[top][*x] == "╮")
        .unwrap();
    let rows = screen[top + 1..]
        .iter()
        .take_while(|r| r[left] == "│")
        .map(|r| r[left + 1..right].to_vec())
        .collect();
    (rows, left + 1, right)
}

/// Where the next column starts: the first cell after `from` that is not padding.
fn after_padding(row: &[String], from: usize) -> usize {
    (from..row.len()).find(|x| row[*x] != " ").unwrap()
}

/// Every action row of the help overlay: keys, then the name, then the
/// description, each whole or cut with `…`, with a space between.
fn check_help(h: &Harness, width: u16) -> usize {
    let screen = h.cells(width, 40);
    let (rows, _, _) = overlay(&screen, " Keys ");
    let quit = rows
        .iter()
        .find(|r| find(r, " quit ").is_some())
        .expect("quit is listed");
    let name_x = find(quit, " quit ").unwrap() + 1;
    let desc_x = after_padding(quit, name_x + "quit".len());
    let headings = ["VPN panel", "Logs panel", "Global", "Not bound here"];
    let mut checked = 0;
    for row in &rows {
        let line = row.concat();
        let trimmed = line.trim();
        if trimmed.is_empty()
            || headings
                .iter()
                .any(|h| h.starts_with(trimmed.trim_end_matches('…')) || trimmed.starts_with(h))
        {
            continue;
        }
        assert_eq!(row[0], " ", "{width}: {line:?}");
        assert_eq!(
            row[name_x - 1],
            " ",
            "{width}: keys run into the name: {line:?}"
        );
        assert_eq!(
            row[desc_x - 1],
            " ",
            "{width}: name runs into the text: {line:?}"
        );
        assert!(!text(row, 1, name_x - 1).trim().is_empty(), "{line:?}");
        let name = text(row, name_x, desc_x - 1);
        let a = Action::ALL
            .iter()
            .copied()
            .find(|a| shows(&name, a.name()))
            .unwrap_or_else(|| panic!("{width}: no action in {name:?} of {line:?}"));
        // A cut name may fit several actions; one of them has this text.
        let desc = text(row, desc_x, row.len());
        assert!(
            Action::ALL
                .iter()
                .filter(|b| shows(&name, b.name()))
                .any(|b| shows(&desc, b.description())),
            "{width}: {a} {desc:?}"
        );
        checked += 1;
    }
    checked
}

#[test]
fn help_shows_the_focused_panels_keys_first() {
    let mut h = Harness::on(PanelId::Logs);
    h.keys("?");
    let screen = h.screen(120, 40);
    let lines: Vec<&str> = screen.lines().collect();
    let at = |s: &str| lines.iter().position(|l| l.contains(s)).unwrap();
    assert!(at("Logs panel") < at(" Global "), "{screen}");
    assert!(at(" follow ") < at(" Global "), "{screen}");
    assert!(at(" Global ") < at(" quit "), "{screen}");
    insta::assert_snapshot!("help_logs_120", screen);

    // In the VPN panel its own keys lead; elsewhere they are listed with
    // their panel, under what has no key here.
    let mut h = Harness::on(PanelId::Vpn);
    h.keys("?");
    let screen = h.screen(120, 40);
    assert!(screen.contains(" VPN panel "), "{screen}");
    assert!(!screen.contains("vpn: A"), "{screen}");
    let mut h = Harness::on(PanelId::Stacks);
    h.keys("?");
    let lines = h.screen(120, 90);
    // The Stacks panel's own key (stack_deploy) leads there too.
    let (own, global) = (lines.find("Stacks panel"), lines.find(" Global "));
    assert!(own.is_some() && own < global, "{lines}");
    assert!(lines.contains("Not bound here"), "{lines}");
    assert!(lines.contains("vpn: A"), "{lines}");
    assert!(lines.contains("logs: f"), "{lines}");
}

#[test]
fn a_panel_key_runs_its_action_only_in_that_panel() {
    let mut h = Harness::on(PanelId::Stacks);
    h.keys("A");
    assert_eq!(h.state.overlay, None, "vpn_sign's key acted outside VPN");
    let mut h = Harness::on(PanelId::Vpn);
    h.keys("A");
    // Nothing is selected in an unanswered VPN panel: the action says so.
    assert!(h.state.message.is_some());
}

#[test]
fn help_columns_never_overlap_at_any_width() {
    let mut h = Harness::on(PanelId::Vpn);
    h.keys("?");
    for width in [30, 44, 60, 80, 100, 140, 200] {
        let rows = check_help(&h, width);
        assert!(rows > 20, "{width}: only {rows} rows checked");
    }
    insta::assert_snapshot!("help_vpn_narrow", h.screen(50, 40));
    insta::assert_snapshot!("help_vpn_wide", h.screen(160, 40));
    // vpn_sign's description used to run into the next column; narrow, it is cut.
    assert!(h.screen(50, 40).contains("Sign the …"));
    assert!(
        h.screen(160, 40)
            .contains("Sign the selected pending certificate request")
    );
}

#[test]
fn palette_columns_never_overlap_at_any_width() {
    let mut h = Harness::on(PanelId::Vpn);
    h.keys(":");
    for width in [30, 44, 60, 80, 100, 140, 200] {
        let screen = h.cells(width, 50);
        let (rows, _, _) = overlay(&screen, " Commands ");
        let quit = &rows[1];
        let name_x = find(quit, " quit").unwrap() + 1;
        let desc_x = after_padding(quit, name_x + "quit".len());
        let keys_x = find(&quit[desc_x..], " q, ").unwrap() + desc_x + 1;
        let mut checked = 0;
        for row in &rows[1..] {
            let line = row.concat();
            assert_eq!(row[name_x - 1], " ", "{width}: {line:?}");
            assert_eq!(
                row[desc_x - 1],
                " ",
                "{width}: name runs into the text: {line:?}"
            );
            assert_eq!(
                row[keys_x - 1],
                " ",
                "{width}: text runs into the keys: {line:?}"
            );
            let name = text(row, name_x, desc_x - 1);
            let candidates: Vec<Action> = Action::ALL
                .iter()
                .copied()
                .filter(|a| shows(&name, a.name()))
                .collect();
            assert!(!candidates.is_empty(), "{width}: {line:?}");
            let desc = text(row, desc_x, keys_x - 1);
            let keys = text(row, keys_x, row.len());
            assert!(
                candidates
                    .iter()
                    .any(|a| shows(&desc, a.description())
                        && shows(&keys, &h.state.keymap.describe(*a))),
                "{width}: {line:?}"
            );
            checked += 1;
        }
        assert!(checked >= 10, "{width}: {checked}");
    }
    insta::assert_snapshot!("palette_narrow", h.screen(50, 30));
    insta::assert_snapshot!("palette_wide", h.screen(160, 30));
    // An exact name ranks first, so enter runs it.
    h.keys("refresh");
    let screen = h.cells(100, 30);
    let (rows, _, _) = overlay(&screen, " Commands ");
    assert!(
        rows[1].concat().starts_with(" refresh "),
        "{:?}",
        rows[1].concat()
    );
}
