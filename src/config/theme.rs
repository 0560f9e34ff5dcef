//! Themes: semantic style slots over a palette, with `inherits` and fallbacks.
//!
//! A theme file names colours in `[palette]` and styles the slots in
//! `[styles]`. It may inherit another built-in theme; `theme.toml` beside the
//! config file inherits the theme the config names unless it says otherwise.
//! A slot nobody styles falls back along [`Slot::fallback`] to `text`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use toml::Spanned;

use super::Diagnostic;

pub const BUILTIN_NAMES: &[&str] = &["default", "light"];

pub fn builtin(name: &str) -> Option<&'static str> {
    match name {
        "default" => Some(include_str!("../../themes/default.toml")),
        "light" => Some(include_str!("../../themes/light.toml")),
        _ => None,
    }
}

macro_rules! slots {
    ($( $variant:ident => $name:literal, $fallback:expr; )*) => {
        /// A place in the UI that a theme styles.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Slot { $( $variant, )* }

        impl Slot {
            pub const ALL: &'static [Slot] = &[ $( Slot::$variant, )* ];

            pub fn name(self) -> &'static str {
                match self { $( Slot::$variant => $name, )* }
            }

            /// Where an unstyled slot takes its style from.
            pub fn fallback(self) -> Option<Slot> {
                match self { $( Slot::$variant => $fallback, )* }
            }
        }
    };
}

slots! {
    Text => "text", None;
    Muted => "muted", Some(Slot::Text);
    Accent => "accent", Some(Slot::Text);
    Title => "title", Some(Slot::Accent);
    Border => "border", Some(Slot::Muted);
    BorderFocused => "border_focused", Some(Slot::Accent);
    Selection => "selection", Some(Slot::Accent);
    Header => "header", Some(Slot::Text);
    Protected => "protected", Some(Slot::Error);
    ReadOnly => "read_only", Some(Slot::Warning);
    Tab => "tab", Some(Slot::Muted);
    TabActive => "tab_active", Some(Slot::Accent);
    Key => "key", Some(Slot::Accent);
    Input => "input", Some(Slot::Text);
    Success => "success", Some(Slot::Text);
    Progress => "progress", Some(Slot::Warning);
    Failed => "failed", Some(Slot::Error);
    Neutral => "neutral", Some(Slot::Muted);
    Error => "error", Some(Slot::Text);
    Warning => "warning", Some(Slot::Text);
    Info => "info", Some(Slot::Text);
}

#[derive(Debug, Clone)]
pub struct Theme {
    styles: HashMap<Slot, Style>,
}

impl Default for Theme {
    fn default() -> Self {
        load("default", None).0
    }
}

impl Theme {
    pub fn style(&self, slot: Slot) -> Style {
        self.styles.get(&slot).copied().unwrap_or_default()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTheme {
    #[allow(dead_code)]
    description: Option<String>,
    inherits: Option<Spanned<String>>,
    #[serde(default)]
    palette: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    styles: BTreeMap<Spanned<String>, RawStyle>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct RawStyle {
    fg: Option<Spanned<String>>,
    bg: Option<Spanned<String>>,
    #[serde(default)]
    modifiers: Vec<Spanned<String>>,
}

/// A parsed theme file with the text its spans point into.
struct Layer {
    file: PathBuf,
    source: String,
    raw: RawTheme,
}

fn parse(file: &Path, source: &str, diags: &mut Vec<Diagnostic>) -> Option<Layer> {
    let (raw, problems) = super::deserialize_all::<RawTheme>(source, file);
    diags.extend(problems);
    Some(Layer {
        file: file.to_path_buf(),
        source: source.to_string(),
        raw: raw?,
    })
}

/// The chain of built-in layers for `name`, base first.
fn builtin_chain(name: &str, diags: &mut Vec<Diagnostic>) -> Vec<Layer> {
    let mut chain = Vec::new();
    let mut next = Some(name.to_string());
    while let Some(name) = next.take() {
        if chain.len() > BUILTIN_NAMES.len() {
            break; // a cycle among built-ins; the test of shipped themes catches it
        }
        let Some(text) = builtin(&name) else { break };
        let file = PathBuf::from(format!("themes/{name}.toml"));
        let Some(layer) = parse(&file, text, diags) else {
            break;
        };
        next = layer.raw.inherits.as_ref().map(|s| s.get_ref().clone());
        chain.insert(0, layer);
    }
    chain
}

fn color(
    value: &Spanned<String>,
    palette: &HashMap<String, Color>,
    layer: &Layer,
    diags: &mut Vec<Diagnostic>,
) -> Option<Color> {
    let v = value.get_ref();
    if let Some(c) = palette.get(v) {
        return Some(*c);
    }
    match Color::from_str(v) {
        Ok(c) => Some(c),
        Err(_) => {
            diags.push(
                Diagnostic::error(&layer.file, format!("unknown colour `{v}`"))
                    .at(&layer.source, Some(value.span()))
                    .help("use a [palette] name, a colour name such as \"red\", \"#rrggbb\", or a 0-255 index"),
            );
            None
        }
    }
}

fn modifier(
    value: &Spanned<String>,
    layer: &Layer,
    diags: &mut Vec<Diagnostic>,
) -> Option<Modifier> {
    let m = match value.get_ref().as_str() {
        "bold" => Modifier::BOLD,
        "dim" => Modifier::DIM,
        "italic" => Modifier::ITALIC,
        "underlined" | "underline" => Modifier::UNDERLINED,
        "reversed" | "reverse" => Modifier::REVERSED,
        "crossed_out" => Modifier::CROSSED_OUT,
        "slow_blink" => Modifier::SLOW_BLINK,
        other => {
            diags.push(
                Diagnostic::error(&layer.file, format!("unknown modifier `{other}`"))
                    .at(&layer.source, Some(value.span()))
                    .help("modifiers: bold, dim, italic, underlined, reversed, crossed_out, slow_blink"),
            );
            return None;
        }
    };
    Some(m)
}

fn unknown_slot(layer: &Layer, name: &Spanned<String>) -> Diagnostic {
    let help = match super::nearest(name.get_ref(), Slot::ALL.iter().map(|s| s.name())) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!(
            "slots: {}",
            Slot::ALL
                .iter()
                .map(|s| s.name())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Diagnostic::error(
        &layer.file,
        format!("unknown style slot `{}`", name.get_ref()),
    )
    .at(&layer.source, Some(name.span()))
    .help(help)
}

/// Builds the theme `name`, with the user's `theme.toml` on top.
pub fn load(name: &str, user: Option<&(PathBuf, String)>) -> (Theme, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut layers = Vec::new();
    let user_layer = user.and_then(|(path, text)| parse(path, text, &mut diags));
    let base = match user_layer.as_ref().and_then(|l| l.raw.inherits.as_ref()) {
        Some(inherits) if builtin(inherits.get_ref()).is_some() => inherits.get_ref().clone(),
        Some(inherits) => {
            if let Some(l) = &user_layer {
                diags.push(
                    Diagnostic::error(
                        &l.file,
                        format!("unknown theme `{}` to inherit", inherits.get_ref()),
                    )
                    .at(&l.source, Some(inherits.span()))
                    .help(format!("built-in themes: {}", BUILTIN_NAMES.join(", "))),
                );
            }
            name.to_string()
        }
        None => name.to_string(),
    };
    layers.extend(builtin_chain(&base, &mut diags));
    layers.extend(user_layer);

    // Merge raw entries first and resolve colours once, so a theme that only
    // replaces the palette recolours every inherited style.
    let mut raw_palette: HashMap<&str, (&Layer, &Spanned<String>)> = HashMap::new();
    let mut raw_styles: HashMap<Slot, (&Layer, &RawStyle)> = HashMap::new();
    for layer in &layers {
        for (key, value) in &layer.raw.palette {
            raw_palette.insert(key, (layer, value));
        }
        for (slot_name, raw) in &layer.raw.styles {
            match Slot::ALL
                .iter()
                .copied()
                .find(|s| s.name() == slot_name.get_ref())
            {
                Some(slot) => {
                    raw_styles.insert(slot, (layer, raw));
                }
                None => diags.push(unknown_slot(layer, slot_name)),
            }
        }
    }
    let no_palette = HashMap::new();
    let mut palette: HashMap<String, Color> = HashMap::new();
    for (key, (layer, value)) in raw_palette {
        if let Some(c) = color(value, &no_palette, layer, &mut diags) {
            palette.insert(key.to_string(), c);
        }
    }
    let mut styles: HashMap<Slot, Style> = HashMap::new();
    for (slot, (layer, raw)) in raw_styles {
        let mut style = Style::default();
        if let Some(fg) = raw
            .fg
            .as_ref()
            .and_then(|v| color(v, &palette, layer, &mut diags))
        {
            style = style.fg(fg);
        }
        if let Some(bg) = raw
            .bg
            .as_ref()
            .and_then(|v| color(v, &palette, layer, &mut diags))
        {
            style = style.bg(bg);
        }
        for m in &raw.modifiers {
            if let Some(m) = modifier(m, layer, &mut diags) {
                style = style.add_modifier(m);
            }
        }
        styles.insert(slot, style);
    }
    // Fill unstyled slots from their fallbacks (chains are short and acyclic).
    for slot in Slot::ALL {
        let mut s = *slot;
        let resolved = loop {
            if let Some(style) = styles.get(&s) {
                break *style;
            }
            match s.fallback() {
                Some(next) => s = next,
                None => break Style::default(),
            }
        };
        styles.insert(*slot, resolved);
    }
    (Theme { styles }, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_theme_overrides_one_slot_and_keeps_the_rest() {
        let user = (
            PathBuf::from("theme.toml"),
            "[palette]\npink = \"#ff00ff\"\n[styles]\nerror = { fg = \"pink\" }\n".to_string(),
        );
        let (theme, diags) = load("default", Some(&user));
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(theme.style(Slot::Error).fg, Some(Color::Rgb(255, 0, 255)));
        let (default, _) = load("default", None);
        assert_eq!(theme.style(Slot::Selection), default.style(Slot::Selection));
    }

    #[test]
    fn bad_colours_and_slots_are_located() {
        let user = (
            PathBuf::from("theme.toml"),
            "[styles]\neror = { fg = \"red\" }\ntext = { fg = \"chartreuse-ish\" }\n".to_string(),
        );
        let (_, diags) = load("default", Some(&user));
        assert_eq!(diags.len(), 2, "{diags:?}");
        assert_eq!(
            (diags[0].line, diags[0].help.as_deref()),
            (2, Some("did you mean `error`?"))
        );
        assert_eq!(diags[1].line, 3);
    }

    #[test]
    fn protected_falls_back_to_error_when_unstyled() {
        let user = (PathBuf::from("t.toml"), "[styles]\n".to_string());
        let (theme, _) = load("default", Some(&user));
        assert_ne!(theme.style(Slot::Protected), Style::default());
    }
}
