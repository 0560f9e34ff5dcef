//! Loading, merging and validating opsdeck's configuration.
//!
//! Every problem becomes a [`Diagnostic`] with file, line and column; the
//! console shows them in the UI and `--check-config` prints them.

pub mod deployments;
mod diagnostic;
pub mod keymap;
pub mod theme;

pub use deployments::{
    CommandDeploy, Config, Deployment, FunctionDeploy, Resources, Selector, StackSource,
    TemplateSource,
};
pub use diagnostic::{Diagnostic, Severity, line_column};
pub use keymap::Keymap;
pub use theme::Theme;

use std::path::{Path, PathBuf};

/// Where the configuration comes from, in lookup order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `--config FILE`
    Flag(PathBuf),
    /// `$OPSDECK_CONFIG`
    Env(PathBuf),
    /// The platform config dir, e.g. `~/.config/opsdeck/config.toml`.
    Platform(PathBuf),
}

impl Source {
    pub fn path(&self) -> &Path {
        match self {
            Source::Flag(p) | Source::Env(p) | Source::Platform(p) => p,
        }
    }
}

/// The platform config directory (`~/.config/opsdeck` on Linux).
pub fn platform_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "opsdeck").map(|d| d.config_dir().to_path_buf())
}

/// Finds the config file: `--config`, then `$OPSDECK_CONFIG`, then the platform dir.
pub fn locate(flag: Option<&Path>, env: Option<&Path>) -> Option<Source> {
    if let Some(p) = flag {
        return Some(Source::Flag(p.to_path_buf()));
    }
    if let Some(p) = env.filter(|p| !p.as_os_str().is_empty()) {
        return Some(Source::Env(p.to_path_buf()));
    }
    let path = platform_dir()?.join("config.toml");
    path.exists().then_some(Source::Platform(path))
}

/// Everything the console needs from disk, with what was wrong with it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub theme: Theme,
    pub keymap: Keymap,
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Loads the config file (if any), then the theme and keymap it names, each
/// merged with the user's files beside the config file.
///
/// Never fails: a broken file yields diagnostics and the built-in defaults,
/// so the console can still start and show what is wrong.
pub fn load(source: Option<&Source>) -> Loaded {
    let mut diagnostics = Vec::new();
    let config = match source {
        None => Config::default(),
        Some(source) => {
            let path = source.path();
            match std::fs::read_to_string(path) {
                Ok(text) => {
                    let (config, diags) = Config::parse(&text, path);
                    diagnostics.extend(diags);
                    config
                }
                Err(e) => {
                    diagnostics.push(
                        Diagnostic::error(path, format!("cannot read the config file: {e}"))
                            .help("check the path given by --config or $OPSDECK_CONFIG"),
                    );
                    Config::default()
                }
            }
        }
    };
    let dir = source
        .and_then(|s| s.path().parent())
        .map(Path::to_path_buf);
    let mut user_file = |name: &str| {
        dir.as_ref()
            .map(|d| d.join(name))
            .filter(|p| p.exists())
            .and_then(|p| match std::fs::read_to_string(&p) {
                Ok(text) => Some((p, text)),
                Err(e) => {
                    diagnostics.push(Diagnostic::error(&p, format!("cannot read: {e}")));
                    None
                }
            })
    };
    let user_theme = user_file("theme.toml");
    let user_keymap = user_file("keymap.toml");
    let (theme, theme_diags) = theme::load(&config.theme, user_theme.as_ref());
    let (keymap, keymap_diags) = keymap::load(&config.keymap, user_keymap.as_ref());
    diagnostics.extend(theme_diags);
    diagnostics.extend(keymap_diags);
    Loaded {
        config,
        theme,
        keymap,
        diagnostics,
    }
}

/// The candidate closest to `word`, if one is close enough to be a likely typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Deserializes a whole file and reports *every* problem of it, not only the
/// first: serde stops at the first unknown key or wrong type, so each one is
/// reported, the offending entry (the innermost key, or array element, that
/// holds the error's span) is taken out of the parsed document, and the rest
/// is read again. Syntax errors are all reported by the parser's own
/// recovery. `None` when what is left still cannot be read (the diagnostics
/// then say why).
pub(crate) fn deserialize_all<T: serde::de::DeserializeOwned>(
    source: &str,
    path: &Path,
) -> (Option<T>, Vec<Diagnostic>) {
    let (mut doc, syntax) = toml::de::DeTable::parse_recoverable(source);
    if !syntax.is_empty() {
        let diags = syntax
            .iter()
            .map(|e| toml_diagnostic(source, path, e))
            .collect();
        return (None, diags);
    }
    // serde meets the problems in its own order (keys sorted); they are
    // listed in the file's.
    let in_file_order = |mut found: Vec<(usize, Diagnostic)>| -> Vec<Diagnostic> {
        found.sort_by_key(|(at, _)| *at);
        found.into_iter().map(|(_, d)| d).collect()
    };
    let mut found = Vec::new();
    // Each round removes one entry, so this ends; the bound is for safety.
    for _ in 0..=source.len() {
        match T::deserialize(toml::de::Deserializer::from(doc.clone())) {
            Ok(value) => return (Some(value), in_file_order(found)),
            Err(e) => {
                let at = e.span().map_or(usize::MAX, |s| s.start);
                found.push((at, toml_diagnostic(source, path, &e)));
                let removed = e.span().is_some_and(|span| remove_at(doc.get_mut(), &span));
                if !removed {
                    return (None, in_file_order(found));
                }
            }
        }
    }
    (None, in_file_order(found))
}

fn contains(outer: &std::ops::Range<usize>, inner: &std::ops::Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

/// Where a value is written, all of it: the parser spans a table or an
/// array of tables by its header alone.
fn extent(value: &toml::Spanned<toml::de::DeValue<'_>>) -> std::ops::Range<usize> {
    let mut r = value.span();
    let mut widen = |o: std::ops::Range<usize>| {
        r = r.start.min(o.start)..r.end.max(o.end);
    };
    match value.get_ref() {
        toml::de::DeValue::Table(t) => {
            for (k, v) in t.iter() {
                widen(k.span());
                widen(extent(v));
            }
        }
        toml::de::DeValue::Array(items) => {
            for v in items.iter() {
                widen(extent(v));
            }
        }
        _ => {}
    }
    r
}

/// Removes the innermost key or element of `table` whose extent holds `span`.
fn remove_at(table: &mut toml::de::DeTable<'_>, span: &std::ops::Range<usize>) -> bool {
    for (_, value) in table.iter_mut() {
        if contains(&extent(value), span) && remove_in_value(value.get_mut(), span) {
            return true;
        }
    }
    let hit = table
        .iter()
        .find(|(k, v)| contains(&k.span(), span) || contains(&extent(v), span))
        .map(|(k, _)| k.clone());
    hit.is_some_and(|k| table.remove(&k).is_some())
}

fn remove_in_value(value: &mut toml::de::DeValue<'_>, span: &std::ops::Range<usize>) -> bool {
    match value {
        toml::de::DeValue::Table(t) => remove_at(t, span),
        toml::de::DeValue::Array(items) => {
            for item in items.iter_mut() {
                if contains(&extent(item), span) && remove_in_value(item.get_mut(), span) {
                    return true;
                }
            }
            let Some(i) = items.iter().position(|v| contains(&extent(v), span)) else {
                return false;
            };
            let old = std::mem::replace(items, toml::de::DeArray::new());
            for (j, item) in old.iter().enumerate() {
                if j != i {
                    items.push(item.clone());
                }
            }
            true
        }
        _ => false,
    }
}

/// Turns a TOML or serde error into a diagnostic with a useful hint.
pub(crate) fn toml_diagnostic(source: &str, path: &Path, err: &toml::de::Error) -> Diagnostic {
    let message = err.message().trim().to_string();
    let mut diag = Diagnostic::error(path, message.clone()).at(source, err.span());
    if let Some(help) = hint_for(&message) {
        diag = diag.help(help);
    }
    diag
}

/// Reads serde's own wording to add what to do.
fn hint_for(message: &str) -> Option<String> {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (field, tail) = rest.split_once('`')?;
        let expected: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
        return Some(match nearest(field, expected.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None if expected.is_empty() => "remove this key".to_string(),
            None => format!("known keys here: {}", expected.join(", ")),
        });
    }
    if message.contains("expected a boolean") {
        return Some("write true or false, without quotes".into());
    }
    if message.contains("expected a string") {
        return Some("put the value in double quotes".into());
    }
    if message.contains("missing field") {
        return Some("add the key; see config/example.toml".into());
    }
    if message.contains("duplicate key") {
        return Some("each key may appear once per table; remove one".into());
    }
    if message.starts_with("invalid")
        || message.starts_with("expected")
        || message.starts_with("unclosed")
    {
        return Some("this is not valid TOML: check the quotes and brackets here".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_prefers_flag_then_env() {
        let flag = Path::new("/a.toml");
        let env = Path::new("/b.toml");
        assert_eq!(
            locate(Some(flag), Some(env)),
            Some(Source::Flag(flag.into()))
        );
        assert_eq!(locate(None, Some(env)), Some(Source::Env(env.into())));
    }

    #[test]
    fn nearest_finds_typos_only() {
        let keys = ["region", "profile", "protected"];
        assert_eq!(nearest("regin", keys), Some("region"));
        assert_eq!(nearest("zzz", keys), None);
    }
}
