//! Keymaps: files that bind keys to action names, merged action by action.
//!
//! Layers, lowest first: `keymaps/default.toml`, the built-in keymap the config
//! names (if not the default), then `keymap.toml` beside the config file. A
//! layer that names an action replaces that action's keys; `action = []`
//! unbinds it. A key bound to two actions within one layer is an error; a key
//! that a later layer takes from an earlier action is reported as a warning.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;
use toml::Spanned;

use super::Diagnostic;
use crate::app::Action;

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

/// The active bindings.
#[derive(Debug, Clone, Default)]
pub struct Keymap {
    by_action: BTreeMap<Action, Vec<KeyBinding>>,
    by_key: HashMap<KeyBinding, Action>,
}

impl Keymap {
    pub fn action_for(&self, key: KeyEvent) -> Option<Action> {
        self.by_key.get(&KeyBinding::from(key)).copied()
    }

    pub fn keys_for(&self, action: Action) -> &[KeyBinding] {
        self.by_action.get(&action).map_or(&[], Vec::as_slice)
    }

    /// Keys of an action as the help overlay shows them: "j, down".
    pub fn describe(&self, action: Action) -> String {
        self.keys_for(action)
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn rebuild_index(&mut self) {
        self.by_key = self
            .by_action
            .iter()
            .flat_map(|(a, keys)| keys.iter().map(move |k| (*k, *a)))
            .collect();
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeymap {
    #[allow(dead_code)]
    description: Option<String>,
    #[serde(default)]
    keys: BTreeMap<Spanned<String>, Spanned<Vec<Spanned<String>>>>,
}

/// One parsed layer: action → keys, each with where it was written.
struct Layer {
    file: PathBuf,
    bindings: Vec<(Action, Vec<KeyBinding>, usize, usize)>,
}

fn parse_layer(source: &str, file: &Path, diags: &mut Vec<Diagnostic>) -> Option<Layer> {
    let (raw, problems) = super::deserialize_all::<RawKeymap>(source, file);
    diags.extend(problems);
    let raw = raw?;
    let mut layer = Layer {
        file: file.to_path_buf(),
        bindings: Vec::new(),
    };
    let mut seen: HashMap<KeyBinding, (Action, usize)> = HashMap::new();
    for (name, keys) in raw.keys {
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
                        diags.push(
                            Diagnostic::error(
                                file,
                                format!("key `{k}` is bound to both `{other}` (line {other_line}) and `{action}`"),
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
        layer.bindings.push((action, parsed, line, column));
    }
    Some(layer)
}

/// Applies `layer` on `keymap`, reporting keys it takes from other actions.
fn apply(keymap: &mut Keymap, layer: Layer, diags: &mut Vec<Diagnostic>) {
    // Replace first, so that moving a key between two actions the layer both
    // names is not mistaken for a conflict.
    let named: Vec<Action> = layer.bindings.iter().map(|b| b.0).collect();
    for (action, keys, _, _) in &layer.bindings {
        keymap.by_action.insert(*action, keys.clone());
    }
    for (action, keys, line, column) in layer.bindings {
        for key in &keys {
            for (other, other_keys) in keymap.by_action.iter_mut() {
                if named.contains(other) || !other_keys.contains(key) {
                    continue;
                }
                other_keys.retain(|k| k != key);
                let mut d = Diagnostic::warning(
                    &layer.file,
                    format!("key `{key}` now runs `{action}`; it no longer runs `{other}`"),
                )
                .help(format!(
                    "if that is intended, also bind `{other}` explicitly without `{key}`"
                ));
                d.line = line;
                d.column = column;
                diags.push(d);
            }
        }
    }
    keymap.rebuild_index();
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
    for (path, text) in layers {
        if let Some(layer) = parse_layer(text, &path, &mut diags) {
            apply(&mut keymap, layer, &mut diags);
        }
    }
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
            km.action_for(KeyEvent::from(KeyCode::Char('j'))),
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
}
