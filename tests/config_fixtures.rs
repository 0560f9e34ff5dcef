//! Config, keymap and theme files: every valid fixture loads cleanly, every
//! invalid one yields exactly the messages in its `.expected` file.
//! `UPDATE_EXPECTED=1 cargo test --test config_fixtures` rewrites them (review the diff).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use opsdeck::app::{Action, PanelId};
use opsdeck::config::keymap::Scope;
use opsdeck::config::{Config, Diagnostic, keymap, theme};

fn fixtures(kind: &str, validity: &str) -> Vec<PathBuf> {
    let dir = Path::new("tests/fixtures").join(kind).join(validity);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
}

fn diagnostics(kind: &str, path: &Path) -> Vec<Diagnostic> {
    let text = std::fs::read_to_string(path).unwrap();
    let user = (path.to_path_buf(), text.clone());
    match kind {
        "config" => Config::parse(&text, path).1,
        "keymap" => keymap::load("default", Some(&user)).1,
        "theme" => theme::load("default", Some(&user)).1,
        _ => unreachable!(),
    }
}

fn render(diags: &[Diagnostic]) -> String {
    diags.iter().map(|d| format!("{d}\n")).collect()
}

fn check_invalid(kind: &str) {
    let mut failures = Vec::new();
    for path in fixtures(kind, "invalid") {
        let actual = render(&diagnostics(kind, &path));
        let expected_path = path.with_extension("expected");
        if std::env::var_os("UPDATE_EXPECTED").is_some() {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|_| panic!("{} has no .expected file", path.display()));
        assert!(
            !expected.trim().is_empty(),
            "{} expects nothing",
            expected_path.display()
        );
        if actual != expected {
            failures.push(format!(
                "{}\n--- expected\n{expected}--- actual\n{actual}",
                path.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn check_valid(kind: &str) {
    for path in fixtures(kind, "valid") {
        let diags = diagnostics(kind, &path);
        assert!(diags.is_empty(), "{}:\n{}", path.display(), render(&diags));
    }
}

#[test]
fn invalid_configs_give_their_expected_messages() {
    check_invalid("config");
}

#[test]
fn invalid_keymaps_give_their_expected_messages() {
    check_invalid("keymap");
}

#[test]
fn invalid_themes_give_their_expected_messages() {
    check_invalid("theme");
}

#[test]
fn valid_fixtures_load_cleanly() {
    check_valid("config");
    check_valid("keymap");
    check_valid("theme");
}

#[test]
fn the_shipped_configs_are_valid() {
    for file in ["config/example.toml", "config/sandbox.toml"] {
        let diags = diagnostics("config", Path::new(file));
        assert!(diags.is_empty(), "{file}:\n{}", render(&diags));
    }
}

#[test]
fn every_shipped_theme_and_keymap_loads_without_warnings() {
    for name in theme::BUILTIN_NAMES {
        let (_, diags) = theme::load(name, None);
        assert!(diags.is_empty(), "theme {name}:\n{}", render(&diags));
    }
    for name in keymap::BUILTIN_NAMES {
        let (km, diags) = keymap::load(name, None);
        assert!(diags.is_empty(), "keymap {name}:\n{}", render(&diags));
        // Every action has a key, in [keys] or in a panel's section.
        let scopes: Vec<Scope> = std::iter::once(Scope::Global)
            .chain(PanelId::ALL.map(Scope::Panel))
            .collect();
        for a in Action::ALL {
            assert!(
                scopes.iter().any(|s| !km.keys_in(*s, *a).is_empty()),
                "keymap {name} leaves {a} unbound"
            );
        }
        // The VPN's changes have keys only where they act.
        for a in [
            Action::VpnSign,
            Action::VpnRevoke,
            Action::VpnCrl,
            Action::VpnPublish,
        ] {
            assert!(km.keys_in(Scope::Global, a).is_empty(), "{name}: {a}");
            assert!(!km.keys_in(Scope::Panel(PanelId::Vpn), a).is_empty());
        }
        // Every keymap can quit, get help and reach the palette.
        for a in [Action::Quit, Action::Help, Action::Palette] {
            assert!(
                !km.keys_in(Scope::Global, a).is_empty(),
                "keymap {name} leaves {a} unbound"
            );
        }
    }
    // The files on disk are the ones embedded in the binary.
    for name in theme::BUILTIN_NAMES {
        let on_disk = std::fs::read_to_string(format!("themes/{name}.toml")).unwrap();
        assert_eq!(Some(on_disk.as_str()), theme::builtin(name));
    }
    for name in keymap::BUILTIN_NAMES {
        let on_disk = std::fs::read_to_string(format!("keymaps/{name}.toml")).unwrap();
        assert_eq!(Some(on_disk.as_str()), keymap::builtin(name));
    }
}

#[test]
fn check_config_refuses_a_broken_file_with_its_line_and_column() {
    let out = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args([
            "--check-config",
            "--config",
            "tests/fixtures/config/invalid/unknown_key.toml",
        ])
        .env_remove("OPSDECK_CONFIG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "tests/fixtures/config/invalid/unknown_key.toml:3:1: error: unknown field `regin`"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `region`?"), "{stderr}");

    let ok = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(["--check-config", "--config", "config/sandbox.toml"])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("config OK: 2 deployments"));
}

#[test]
fn check_config_reads_the_user_keymap_and_theme_beside_the_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy("config/sandbox.toml", dir.path().join("config.toml")).unwrap();
    std::fs::write(
        dir.path().join("keymap.toml"),
        "[keys]\nquit = [\"x\"]\nrefresh = [\"x\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("theme.toml"),
        "[styles]\neror = { fg = \"red\" }\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .arg("--check-config")
        .env("OPSDECK_CONFIG", dir.path().join("config.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "keymap.toml:3:12: error: key `x` is bound to both `quit` (line 2) and `refresh`"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("theme.toml:2:1: error: unknown style slot `eror`"),
        "{stderr}"
    );
    assert!(stderr.contains("2 errors found"), "{stderr}");
}

#[test]
fn check_config_lists_every_problem_of_a_file() {
    let out = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args([
            "--check-config",
            "--config",
            "tests/fixtures/config/invalid/several_problems.toml",
        ])
        .env_remove("OPSDECK_CONFIG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected =
        std::fs::read_to_string("tests/fixtures/config/invalid/several_problems.expected").unwrap();
    // Every problem of the fixture, each with its line and column, then the count.
    assert_eq!(stderr, format!("{expected}5 errors found\n"));
}

#[test]
fn list_actions_shows_the_scope_of_each_binding() {
    let out = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(["--list-actions", "--config", "config/sandbox.toml"])
        .env_remove("OPSDECK_CONFIG")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = |action: &str| {
        stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(action))
            .unwrap_or_else(|| panic!("no {action} in\n{stdout}"))
            .to_string()
    };
    assert!(line("vpn_sign").contains(" vpn: A "), "{stdout}");
    assert!(line("mark").contains(" log_groups: space "), "{stdout}");
    assert!(line("quit").contains(" q, ctrl-c "), "{stdout}");
}
