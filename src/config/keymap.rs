//! Keymaps: files that bind keys to action names, merged action by action.
//!
//! Layers, lowest first: `keymaps/default.toml`, the built-in keymap the config
//! names (if not the default), then `keymap.toml` beside the config file.
//!
//! Each file has scopes: the global `[keys]`, and one `[panels.<key>]` section
//! per panel (named by [`PanelId::key`]) whose keys apply only while that panel
//! has focus and win there over global ones, so the same key can mean
//! different things in different panels. Within a scope, a layer that names
//! an action replaces that action's keys; `action = []` unbinds it. A key
//! bound to two actions in one scope of one layer is an error; a key that a
//! later layer takes from an earlier action of the same scope, and a panel key
//! that hides a global one, are warnings.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;
use toml::Spanned;

use super::Diagnostic;
use crate::app::{Action, PanelId};

pub const BUILTIN_NAMES: &[&str] = &["default", "fkeys"];

/// The built-in keymap files, embedded in the binary.
pub fn builtin(name: &str) -> Option<&'static str> {
    match name {
        "default" => Some(include_str!("../../keymaps/default.toml")),
        "fkeys" => Some(include_str!("../../keymaps/fkeys.toml")),
        _ => None,
    }
}

/// One key with its modifiers, normalised so that what a terminal reports
/// compares equal to what a keymap file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyBinding {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

impl KeyBinding {
    pub fn new(code: KeyCode, modifiers: KeyModifiers) -> Self {
        // A character already carries its shift ("G", "?"); terminals differ on
        // whether they also report SHIFT, so drop it. Likewise for BackTab.
        let modifiers = match code {
            KeyCode::Char(_) | KeyCode::BackTab => modifiers - KeyModifiers::SHIFT,
            _ => modifiers,
        };
        KeyBinding { code, modifiers }
    }
}

impl From<KeyEvent> for KeyBinding {
    fn from(k: KeyEvent) -> Self {
        KeyBinding::new(k.code, k.modifiers)
    }
}

impl FromStr for KeyBinding {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut modifiers = KeyModifiers::NONE;
        let mut rest = s;
        // "-" alone is a key; "ctrl--" is ctrl plus minus.
        while let Some((m, tail)) = rest
            .split_once('-')
            .filter(|(m, t)| !m.is_empty() && !t.is_empty())
        {
            modifiers |= match m.to_ascii_lowercase().as_str() {
                "ctrl" | "c" => KeyModifiers::CONTROL,
                "alt" | "a" | "meta" => KeyModifiers::ALT,
                "shift" | "s" => KeyModifiers::SHIFT,
                _ => break,
            };
            rest = tail;
        }
        let code = match rest.to_ascii_lowercase().as_str() {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" if modifiers.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "insert" | "ins" => KeyCode::Insert,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pageup" | "pgup" => KeyCode::PageUp,
            "pagedown" | "pgdn" => KeyCode::PageDown,
            "space" => KeyCode::Char(' '),
            f if f.len() > 1 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                let n: u8 = f[1..].parse().map_err(|_| format!("bad key `{s}`"))?;
                if !(1..=24).contains(&n) {
                    return Err(format!("no such function key `{rest}`"));
                }
                KeyCode::F(n)
            }
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => KeyCode::Char(c),
                    _ => return Err(format!("unknown key `{s}`")),
                }
            }
        };
        Ok(KeyBinding::new(code, modifiers))
    }
}

impl fmt::Display for KeyBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if self.modifiers.contains(KeyModifiers::SHIFT) {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "f{n}"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Delete => f.write_str("delete"),
            KeyCode::Insert => f.write_str("insert"),
            KeyCode::Up => f.write_str("up"),
            KeyCode::Down => f.write_str("down"),
            KeyCode::Left => f.write_str("left"),
            KeyCode::Right => f.write_str("right"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::PageUp => f.write_str("pageup"),
            KeyCode::PageDown => f.write_str("pagedown"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// Where a binding applies: in every panel (`[keys]`), or only while one
/// panel has focus (`[panels.<key>]`), where it wins over a global key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Global,
    Panel(PanelId),
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Global => f.write_str("[keys]"),
            Scope::Panel(p) => write!(f, "[panels.{}]", p.key()),
        }
    }
}

/// The bindings of one scope, both ways round.
#[derive(Debug, Clone, Default)]
struct Bindings {
    by_action: BTreeMap<Action, Vec<KeyBinding>>,
    by_key: HashMap<KeyBinding, Action>,
}

impl Bindings {
    fn rebuild_index(&mut self) {
        self.by_key = self
            .by_action
            .iter()
            .flat_map(|(a, keys)| keys.iter().map(move |k| (*k, *a)))
            .collect();
    }
}

/// The active bindings.
#[derive(Debug, Clone, Default)]
pub struct Keymap {
    global: Bindings,
    panels: HashMap<PanelId, Bindings>,
}

impl Keymap {
    fn scope(&self, scope: Scope) -> Option<&Bindings> {
        match scope {
            Scope::Global => Some(&self.global),
            Scope::Panel(p) => self.panels.get(&p),
        }
    }

    fn scope_mut(&mut self, scope: Scope) -> &mut Bindings {
        match scope {
            Scope::Global => &mut self.global,
            Scope::Panel(p) => self.panels.entry(p).or_default(),
        }
    }

    /// What `key` runs: the focused panel's section first, then the global keys.
    pub fn action_for(&self, panel: Option<PanelId>, key: KeyEvent) -> Option<Action> {
        let key = KeyBinding::from(key);
        panel
            .and_then(|p| self.panels.get(&p))
            .and_then(|b| b.by_key.get(&key))
            .or_else(|| self.global.by_key.get(&key))
            .copied()
    }

    /// The keys bound to `action` in exactly this scope.
    pub fn keys_in(&self, scope: Scope, action: Action) -> &[KeyBinding] {
        self.scope(scope)
            .and_then(|b| b.by_action.get(&action))
            .map_or(&[], Vec::as_slice)
    }

    /// Keys to name in a hint: the global ones, else those of the first panel
    /// section that binds the action (a hint about marking log groups names
    /// the Log groups panel's key).
    pub fn keys_for(&self, action: Action) -> &[KeyBinding] {
        std::iter::once(Scope::Global)
            .chain(PanelId::ALL.map(Scope::Panel))
            .map(|scope| self.keys_in(scope, action))
            .find(|keys| !keys.is_empty())
            .unwrap_or(&[])
    }

    /// The actions bound in one scope, in the action table's order.
    pub fn bound_in(&self, scope: Scope) -> Vec<(Action, &[KeyBinding])> {
        self.scope(scope).map_or_else(Vec::new, |b| {
            b.by_action
                .iter()
                .filter(|(_, keys)| !keys.is_empty())
                .map(|(a, keys)| (*a, keys.as_slice()))
                .collect()
        })
    }

    /// The global keys of `action` that still run it while `panel` has focus
    /// (the panel's own section may have taken some).
    pub fn global_keys_in(&self, panel: Option<PanelId>, action: Action) -> Vec<KeyBinding> {
        let local = panel.and_then(|p| self.panels.get(&p));
        self.keys_in(Scope::Global, action)
            .iter()
            .filter(|k| local.is_none_or(|b| !b.by_key.contains_key(k)))
            .copied()
            .collect()
    }

    /// Keys of an action with their scope, as `--list-actions` and the palette
    /// show them: "r, ctrl-r", "vpn: A", "f7; logs: ctrl-l".
    pub fn describe(&self, action: Action) -> String {
        std::iter::once(Scope::Global)
            .chain(PanelId::ALL.map(Scope::Panel))
            .filter_map(|scope| {
                let keys = self.keys_in(scope, action);
                if keys.is_empty() {
                    return None;
                }
                let keys = join(keys);
                Some(match scope {
                    Scope::Global => keys,
                    Scope::Panel(p) => format!("{}: {keys}", p.key()),
                })
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Keys as the help overlay lists them: "j, down".
pub fn join(keys: &[KeyBinding]) -> String {
    keys.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

type RawSection = BTreeMap<Spanned<String>, Spanned<Vec<Spanned<String>>>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeymap {
    #[allow(dead_code)]
    description: Option<String>,
    #[serde(default)]
    keys: RawSection,
    #[serde(default)]
    panels: BTreeMap<Spanned<String>, RawSection>,
}

/// One action's keys in one scope of a layer, with where they were written.
struct Entry {
    scope: Scope,
    action: Action,
    keys: Vec<KeyBinding>,
    line: usize,
    column: usize,
}

/// One parsed layer.
struct Layer {
    file: PathBuf,
    entries: Vec<Entry>,
}

fn parse_layer(source: &str, file: &Path, diags: &mut Vec<Diagnostic>) -> Option<Layer> {
    let (raw, problems) = super::deserialize_all::<RawKeymap>(source, file);
    diags.extend(problems);
    let raw = raw?;
    let mut layer = Layer {
        file: file.to_path_buf(),
        entries: Vec::new(),
    };
    parse_section(source, &mut layer, Scope::Global, raw.keys, diags);
    for (name, section) in raw.panels {
        let Some(panel) = PanelId::ALL.into_iter().find(|p| p.key() == name.get_ref()) else {
            let sections = PanelId::ALL.map(PanelId::key);
            let mut message = format!("unknown panel section `{}`", name.get_ref());
            if let Some(near) = super::nearest(name.get_ref(), sections) {
                message.push_str(&format!("; did you mean `{near}`?"));
            }
            diags.push(
                Diagnostic::error(file, message)
                    .at(source, Some(name.span()))
                    .help(format!("panel sections are {}", sections.join(", "))),
            );
            continue;
        };
        parse_section(source, &mut layer, Scope::Panel(panel), section, diags);
    }
    Some(layer)
}

/// Parses one `[keys]` or `[panels.*]` table; a key bound to two actions
/// within it is an error (the same key in two scopes is the point of scopes).
fn parse_section(
    source: &str,
    layer: &mut Layer,
    scope: Scope,
    section: RawSection,
    diags: &mut Vec<Diagnostic>,
) {
    let file = layer.file.as_path();
    let mut seen: HashMap<KeyBinding, (Action, usize)> = HashMap::new();
    // In the order written, so a conflict is reported at its second use.
    let mut section: Vec<_> = section.into_iter().collect();
    section.sort_by_key(|(name, _)| name.span().start);
    for (name, keys) in section {
        let action = match name.get_ref().parse::<Action>() {
            Ok(a) => a,
            Err(e) => {
                diags.push(
                    Diagnostic::error(file, e.to_string())
                        .at(source, Some(name.span()))
                        .help("`opsdeck --list-actions` prints every action name"),
                );
                continue;
            }
        };
        let (line, column) = super::line_column(source, name.span().start);
        let mut parsed = Vec::new();
        for key in keys.into_inner() {
            match key.get_ref().parse::<KeyBinding>() {
                Ok(k) => {
                    if let Some((other, other_line)) =
                        seen.get(&k).copied().filter(|(a, _)| *a != action)
                    {
                        let within = match scope {
                            Scope::Global => String::new(),
                            Scope::Panel(_) => format!(" in {scope}"),
                        };
                        diags.push(
                            Diagnostic::error(
                                file,
                                format!("key `{k}` is bound to both `{other}` (line {other_line}) and `{action}`{within}"),
                            )
                            .at(source, Some(key.span()))
                            .help("a key runs one action; remove it from one of them"),
                        );
                        continue;
                    }
                    seen.insert(k, (action, line));
                    parsed.push(k);
                }
                Err(e) => diags.push(
                    Diagnostic::error(file, e)
                        .at(source, Some(key.span()))
                        .help(
                            "keys look like \"q\", \"ctrl-c\", \"shift-tab\", \"pagedown\", \"f5\"",
                        ),
                ),
            }
        }
        layer.entries.push(Entry {
            scope,
            action,
            keys: parsed,
            line,
            column,
        });
    }
}

/// Where a scope's binding of an action was last written: layer, file, line, column.
type Origins = HashMap<(Scope, Action), (usize, PathBuf, usize, usize)>;

/// Applies `layer` (the `index`th) on `keymap`, reporting keys it takes from
/// other actions of the same scope.
fn apply(
    keymap: &mut Keymap,
    index: usize,
    layer: Layer,
    origins: &mut Origins,
    diags: &mut Vec<Diagnostic>,
) {
    // Replace first, so that moving a key between two actions the layer both
    // names is not mistaken for a conflict.
    for e in &layer.entries {
        keymap
            .scope_mut(e.scope)
            .by_action
            .insert(e.action, e.keys.clone());
        origins.insert(
            (e.scope, e.action),
            (index, layer.file.clone(), e.line, e.column),
        );
    }
    for e in &layer.entries {
        let named = |other: &Action| {
            layer
                .entries
                .iter()
                .any(|n| n.scope == e.scope && n.action == *other)
        };
        let bindings = keymap.scope_mut(e.scope);
        for key in &e.keys {
            for (other, other_keys) in bindings.by_action.iter_mut() {
                if named(other) || !other_keys.contains(key) {
                    continue;
                }
                other_keys.retain(|k| k != key);
                let within = match e.scope {
                    Scope::Global => String::new(),
                    Scope::Panel(_) => format!(" in {}", e.scope),
                };
                let mut d = Diagnostic::warning(
                    &layer.file,
                    format!(
                        "key `{key}` now runs `{}`{within}; it no longer runs `{other}`",
                        e.action
                    ),
                )
                .help(format!(
                    "if that is intended, also bind `{other}` explicitly without `{key}`"
                ));
                d.line = e.line;
                d.column = e.column;
                diags.push(d);
            }
        }
    }
    keymap.global.rebuild_index();
    for b in keymap.panels.values_mut() {
        b.rebuild_index();
    }
}

/// Warns about panel keys that hide a global key's action in that panel, at
/// whichever of the two bindings was written last (the one that made it so).
fn report_shadows(keymap: &Keymap, origins: &Origins, diags: &mut Vec<Diagnostic>) {
    for panel in PanelId::ALL {
        for (action, keys) in keymap.bound_in(Scope::Panel(panel)) {
            for key in keys {
                let Some(global) = keymap.global.by_key.get(key).copied() else {
                    continue;
                };
                if global == action {
                    continue;
                }
                let local = origins.get(&(Scope::Panel(panel), action));
                let other = origins.get(&(Scope::Global, global));
                let later = match (local, other) {
                    (Some(l), Some(o)) if o.0 > l.0 => Some(o),
                    (l, o) => l.or(o),
                };
                let Some((_, file, line, column)) = later else {
                    continue;
                };
                let mut d = Diagnostic::warning(
                    file,
                    format!(
                        "key `{key}` runs `{action}` in [panels.{}], so there it does not run the global `{global}`",
                        panel.key()
                    ),
                )
                .help(format!(
                    "if that is intended, also bind `{global}` to another key in [panels.{}]; otherwise pick another key",
                    panel.key()
                ));
                d.line = *line;
                d.column = *column;
                diags.push(d);
            }
        }
    }
}

/// Builds the active keymap from the built-in `name` and the user's file.
pub fn load(name: &str, user: Option<&(PathBuf, String)>) -> (Keymap, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut keymap = Keymap::default();
    let mut layers: Vec<(PathBuf, &str)> = vec![(
        PathBuf::from("keymaps/default.toml"),
        builtin("default").unwrap_or_default(),
    )];
    if name != "default"
        && let Some(text) = builtin(name)
    {
        layers.push((PathBuf::from(format!("keymaps/{name}.toml")), text));
    }
    if let Some((path, text)) = user {
        layers.push((path.clone(), text.as_str()));
    }
    let mut origins = Origins::new();
    for (index, (path, text)) in layers.into_iter().enumerate() {
        if let Some(layer) = parse_layer(text, &path, &mut diags) {
            apply(&mut keymap, index, layer, &mut origins, &mut diags);
        }
    }
    report_shadows(&keymap, &origins, &mut diags);
    (keymap, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> KeyBinding {
        s.parse().unwrap()
    }

    #[test]
    fn key_names_parse_and_print_back() {
        for s in [
            "q",
            "ctrl-c",
            "shift-tab",
            "pagedown",
            "f5",
            "?",
            "G",
            "-",
            "ctrl--",
            "space",
        ] {
            assert_eq!(key(s).to_string(), s, "{s}");
        }
        assert_eq!(key("backtab"), key("shift-tab"));
        assert!("ctrl-nope".parse::<KeyBinding>().is_err());
        assert!("f99".parse::<KeyBinding>().is_err());
    }

    #[test]
    fn terminal_shift_reports_match_file_keys() {
        let reported = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(KeyBinding::from(reported), key("G"));
        let backtab = KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT);
        assert_eq!(KeyBinding::from(backtab), key("shift-tab"));
    }

    #[test]
    fn user_layer_replaces_per_action_and_can_unbind() {
        let user = (
            PathBuf::from("keymap.toml"),
            "[keys]\nquit = [\"ctrl-q\"]\nhelp = []\n".to_string(),
        );
        let (km, diags) = load("default", Some(&user));
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(km.keys_for(Action::Quit), &[key("ctrl-q")]);
        assert!(km.keys_for(Action::Help).is_empty());
        // Untouched actions keep their defaults.
        assert!(km.keys_for(Action::Down).contains(&key("j")));
    }

    #[test]
    fn taking_a_key_from_another_action_is_reported() {
        let user = (
            PathBuf::from("keymap.toml"),
            "[keys]\nquit = [\"j\"]\n".to_string(),
        );
        let (km, diags) = load("default", Some(&user));
        assert_eq!(
            km.action_for(None, KeyEvent::from(KeyCode::Char('j'))),
            Some(Action::Quit)
        );
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].line, 2);
        assert!(
            diags[0].message.contains("no longer runs `down`"),
            "{}",
            diags[0]
        );
    }

    #[test]
    fn one_key_for_two_actions_in_one_file_is_an_error() {
        let user = (
            PathBuf::from("keymap.toml"),
            "[keys]\nquit = [\"x\"]\nrefresh = [\"x\"]\n".to_string(),
        );
        let (_, diags) = load("default", Some(&user));
        assert!(
            diags.iter().any(|d| d.is_error() && d.line == 3),
            "{diags:?}"
        );
    }

    fn press(km: &Keymap, panel: Option<PanelId>, k: &str) -> Option<Action> {
        let k = key(k);
        km.action_for(panel, KeyEvent::new(k.code, k.modifiers))
    }

    #[test]
    fn the_focused_panel_section_wins_then_global_keys_apply() {
        let user = (
            PathBuf::from("keymap.toml"),
            "[panels.queues]\nrefresh_all = [\"x\"]\n[panels.vpn]\nvpn_crl = [\"x\"]\n".to_string(),
        );
        let (km, diags) = load("default", Some(&user));
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            press(&km, Some(PanelId::Queues), "x"),
            Some(Action::RefreshAll)
        );
        assert_eq!(press(&km, Some(PanelId::Vpn), "x"), Some(Action::VpnCrl));
        assert_eq!(press(&km, Some(PanelId::Stacks), "x"), None);
        assert_eq!(press(&km, None, "x"), None);
        // Global keys still work in a panel with its own section.
        assert_eq!(press(&km, Some(PanelId::Vpn), "q"), Some(Action::Quit));
        // The shipped VPN keys act in the VPN panel only.
        assert_eq!(press(&km, Some(PanelId::Vpn), "A"), Some(Action::VpnSign));
        assert_eq!(press(&km, Some(PanelId::Stacks), "A"), None);
        assert_eq!(km.describe(Action::VpnCrl), "vpn: x");
        assert_eq!(km.describe(Action::Quit), "q, ctrl-c");
    }

    #[test]
    fn layers_merge_per_scope() {
        // Naming `follow` globally leaves its Logs key alone; naming it in
        // [panels.logs] replaces that, and `[]` unbinds it there.
        let user = (
            PathBuf::from("keymap.toml"),
            "[keys]\nfollow = [\"ctrl-f\"]\n[panels.logs]\ncopy_line = []\n".to_string(),
        );
        let (km, diags) = load("default", Some(&user));
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(km.keys_in(Scope::Global, Action::Follow), &[key("ctrl-f")]);
        assert_eq!(
            km.keys_in(Scope::Panel(PanelId::Logs), Action::Follow),
            &[key("f")]
        );
        assert!(
            km.keys_in(Scope::Panel(PanelId::Logs), Action::CopyLine)
                .is_empty()
        );
        assert_eq!(km.describe(Action::Follow), "ctrl-f; logs: f");
    }

    #[test]
    fn a_panel_key_hiding_a_global_one_is_a_warning_at_the_later_binding() {
        let user = (
            PathBuf::from("keymap.toml"),
            "[panels.queues]\nrefresh_all = [\"r\"]\n".to_string(),
        );
        let (km, diags) = load("default", Some(&user));
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(!diags[0].is_error());
        assert_eq!((diags[0].line, diags[0].column), (2, 1));
        assert_eq!(
            press(&km, Some(PanelId::Queues), "r"),
            Some(Action::RefreshAll)
        );
        assert_eq!(
            press(&km, Some(PanelId::Stacks), "r"),
            Some(Action::Refresh)
        );
        assert_eq!(
            km.global_keys_in(Some(PanelId::Queues), Action::Refresh),
            vec![key("ctrl-r")]
        );
        // A global key taking one that a default panel section uses: the
        // warning points at the user's global binding, which came later.
        let user = (
            PathBuf::from("keymap.toml"),
            "[keys]\n\nquit = [\"f\"]\n".to_string(),
        );
        let (_, diags) = load("default", Some(&user));
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].file, PathBuf::from("keymap.toml"));
        assert_eq!(diags[0].line, 3);
        assert!(diags[0].message.contains("[panels.logs]"), "{}", diags[0]);
    }
}
