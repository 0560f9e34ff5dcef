//! The first-run commands, as a new user runs them: `opsdeck config init`
//! against AWS shared-config files of every common shape, and the shell
//! completions and man page. All run the real binary in a scratch home.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/aws_config")
        .join(name)
}

/// The binary with a scratch home and no config of the caller's leaking in;
/// stdin is not a terminal, as in a script.
fn opsdeck(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_opsdeck"));
    c.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env_remove("OPSDECK_CONFIG")
        .env_remove("OPSDECK_DEPLOYMENT")
        .env_remove("AWS_CONFIG_FILE")
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::null());
    c
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn init(home: &Path, aws_config: &Path, config: &Path, extra: &[&str]) -> Output {
    opsdeck(home)
        .env("AWS_CONFIG_FILE", aws_config)
        .args(["--config"])
        .arg(config)
        .args(["config", "init"])
        .args(extra)
        .output()
        .expect("run opsdeck")
}

fn check_config(home: &Path, config: &Path) -> Output {
    opsdeck(home)
        .arg("--config")
        .arg(config)
        .arg("--check-config")
        .output()
        .expect("run opsdeck")
}

/// The `[[deployment]]` block of `name` in a generated config.
fn block<'a>(config: &'a str, name: &str) -> &'a str {
    let start = config
        .find(&format!("name = \"{name}\""))
        .unwrap_or_else(|| panic!("no deployment {name} in:\n{config}"));
    let rest = &config[start..];
    &rest[..rest.find("[[deployment]]").unwrap_or(rest.len())]
}

/// A fixture, the deployments expected from it, the protected ones among
/// them, and lines expected somewhere in the config.
type Case = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

#[test]
fn init_writes_one_deployment_per_profile_that_passes_check_config() {
    let cases: &[Case] = &[
        (
            "sso_sessions.ini",
            &["azul-dev", "azul-prod"],
            &["azul-prod"],
            &[
                "# Credentials: SSO session `azul` (https://azul.awsapps.com/start).",
                "# When they expire: `aws sso login --profile azul-dev`.",
                "region = \"us-west-2\"",
            ],
        ),
        (
            "legacy_sso.ini",
            &["default", "legacy-production"],
            &["legacy-production"],
            &["# Credentials: SSO (legacy, no sso-session) at https://legacy.awsapps.com/start."],
        ),
        (
            "assume_role.ini",
            &["ec2-hop", "ops", "ops-prod"],
            &["ops-prod"],
            &[
                "# Credentials: assumes arn:aws:iam::555555555555:role/Ops with profile `base`.",
                "# Credentials: assumes arn:aws:iam::777777777777:role/Reader with credentials from Ec2InstanceMetadata.",
                "# This profile asks for an MFA code, which opsdeck cannot prompt for:",
            ],
        ),
        (
            "credential_process.ini",
            &["vault-dev"],
            &[],
            &["# Credentials: credential_process."],
        ),
    ];
    for (file, names, protected, lines) in cases {
        let home = tempfile::tempdir().unwrap();
        let config = home.path().join("opsdeck.toml");
        let out = init(home.path(), &fixture(file), &config, &["--yes"]);
        assert!(out.status.success(), "{file}: {}", text(&out.stderr));
        let written = std::fs::read_to_string(&config).unwrap();
        for name in *names {
            let b = block(&written, name);
            assert!(b.contains(&format!("profile = \"{name}\"")), "{file}: {b}");
            let want = if protected.contains(name) {
                "protected = true"
            } else {
                "protected = false"
            };
            assert!(b.contains(want), "{file}: {name} should say {want}:\n{b}");
            // Resource filters are examples, never live guesses.
            assert!(b.contains("# stacks = { prefix = "), "{file}: {b}");
            assert!(!b.lines().any(|l| l.starts_with("stacks")), "{file}: {b}");
        }
        assert_eq!(
            written.matches("[[deployment]]").count(),
            names.len(),
            "{file}:\n{written}"
        );
        for line in *lines {
            assert!(written.contains(line), "{file}: no `{line}` in\n{written}");
        }
        let checked = check_config(home.path(), &config);
        assert!(
            checked.status.success(),
            "{file}: --check-config failed: {}",
            text(&checked.stderr)
        );
        assert!(
            text(&checked.stdout).contains(&format!("config OK: {} deployment", names.len())),
            "{file}: {}",
            text(&checked.stdout)
        );
        // Written by rename: nothing else is left beside it.
        let left: Vec<_> = std::fs::read_dir(home.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec!["opsdeck.toml"], "{file}");
    }
}

#[test]
fn init_skips_a_profile_without_a_region_and_refuses_one_named() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("c.toml");
    let out = init(
        home.path(),
        &fixture("assume_role.ini"),
        &config,
        &["--yes"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("profile `base`") && err.contains("has no region"),
        "{err}"
    );
    assert!(
        !std::fs::read_to_string(&config)
            .unwrap()
            .contains("\"base\"")
    );

    let config = home.path().join("d.toml");
    let out = init(
        home.path(),
        &fixture("assume_role.ini"),
        &config,
        &["--profile", "base"],
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("profile `base`"), "{err}");
    assert!(
        err.contains(&fixture("assume_role.ini").display().to_string()),
        "{err}"
    );
    assert!(!config.exists());
}

#[test]
fn init_takes_only_the_named_profiles() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("c.toml");
    let out = init(
        home.path(),
        &fixture("sso_sessions.ini"),
        &config,
        &["--profile", "azul-prod"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(&config).unwrap();
    assert_eq!(written.matches("[[deployment]]").count(), 1, "{written}");
    assert!(written.contains("name = \"azul-prod\""));

    let out = init(
        home.path(),
        &fixture("sso_sessions.ini"),
        &home.path().join("e.toml"),
        &["--profile", "azul-qa"],
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("no profile `azul-qa`") && err.contains("azul-dev, azul-prod"),
        "{err}"
    );
}

#[test]
fn init_refuses_an_existing_config_and_leaves_it_byte_identical() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.toml");
    let before = b"# mine\n[[deployment]]\nname = \"x\"\n\xe2\x9c\x93 not even valid toml\n";
    std::fs::write(&config, before).unwrap();
    let out = init(
        home.path(),
        &fixture("sso_sessions.ini"),
        &config,
        &["--yes"],
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains(&config.display().to_string()) && err.contains("never overwrites"),
        "{err}"
    );
    assert_eq!(std::fs::read(&config).unwrap(), before);
}

#[test]
fn init_writes_to_the_platform_path_and_print_writes_nothing() {
    let home = tempfile::tempdir().unwrap();
    let target = home.path().join(".config/opsdeck/config.toml");
    let run = |extra: &[&str]| {
        opsdeck(home.path())
            .env("AWS_CONFIG_FILE", fixture("sso_sessions.ini"))
            .args(["config", "init", "--yes"])
            .args(extra)
            .output()
            .unwrap()
    };
    let printed = run(&["--print"]);
    assert!(printed.status.success(), "{}", text(&printed.stderr));
    assert!(!target.exists(), "--print must not write");
    let out = run(&[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(&target.display().to_string()),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(std::fs::read(&target).unwrap(), printed.stdout);
    // And the console finds it there without being told.
    let checked = opsdeck(home.path()).arg("--check-config").output().unwrap();
    assert!(
        text(&checked.stdout).contains("config OK: 2 deployments"),
        "{}",
        text(&checked.stdout)
    );
}

#[test]
fn init_without_a_terminal_asks_for_yes() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("c.toml");
    let out = init(home.path(), &fixture("sso_sessions.ini"), &config, &[]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--yes"), "{}", text(&out.stderr));
    assert!(!config.exists());
}

#[test]
fn init_names_the_file_and_line_of_a_malformed_aws_config() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("c.toml");
    let out = init(home.path(), &fixture("malformed.ini"), &config, &["--yes"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains(&fixture("malformed.ini").display().to_string()) && err.contains("line 6"),
        "{err}"
    );
    assert!(!config.exists());
}

#[test]
fn init_says_where_it_looked_for_a_missing_aws_config() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("c.toml");
    let missing = home.path().join("nowhere/config");
    let out = init(home.path(), &missing, &config, &["--yes"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains(&missing.display().to_string()) && err.contains("$AWS_CONFIG_FILE"),
        "{err}"
    );
    // Without $AWS_CONFIG_FILE: ~/.aws/config of the home it ran in.
    let out = opsdeck(home.path())
        .arg("--config")
        .arg(&config)
        .args(["config", "init", "--yes"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = text(&out.stderr);
    let default = home.path().join(".aws/config");
    assert!(err.contains(&default.display().to_string()), "{err}");
    assert!(!config.exists());
}

#[test]
fn completions_are_generated_for_each_shell_and_bash_loads_its_script() {
    let home = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = opsdeck(home.path())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        // Flags and subcommands from the same clap definitions as the parser.
        for word in ["give-up-after", "check-config", "init", "completions"] {
            assert!(script.contains(word), "{shell}: no {word}");
        }
        let path = home.path().join(format!("opsdeck.{shell}"));
        std::fs::write(&path, &out.stdout).unwrap();
        if shell == "bash" {
            let n = Command::new("bash").arg("-n").arg(&path).output().unwrap();
            assert!(n.status.success(), "bash -n: {}", text(&n.stderr));
            // Sourcing it registers the completion function for opsdeck.
            let loaded = Command::new("bash")
                .arg("-c")
                .arg(format!("source {} && complete -p opsdeck", path.display()))
                .output()
                .unwrap();
            assert!(
                text(&loaded.stdout).contains("opsdeck"),
                "{}",
                text(&loaded.stderr)
            );
        }
    }
    let bad = opsdeck(home.path())
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

#[test]
fn the_man_page_renders_with_man() {
    let home = tempfile::tempdir().unwrap();
    let out = opsdeck(home.path()).arg("man").output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let page = home.path().join("opsdeck.1");
    std::fs::write(&page, &out.stdout).unwrap();
    let roff = text(&out.stdout);
    assert!(
        roff.starts_with(".ie") || roff.contains(".TH opsdeck 1"),
        "{roff}"
    );
    if Command::new("man").arg("--version").output().is_err() {
        eprintln!("man is not installed here: only the roff was checked");
        return;
    }
    let rendered = Command::new("man")
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .arg("-l")
        .arg(&page)
        .output()
        .unwrap();
    assert!(rendered.status.success(), "{}", text(&rendered.stderr));
    let shown = text(&rendered.stdout);
    for want in [
        "NAME",
        "SYNOPSIS",
        "--give-up-after",
        "OPSDECK CONFIG INIT",
        "--print",
        "OPSDECK LOGS TAIL",
        "--follow",
    ] {
        assert!(shown.contains(want), "no {want} in:\n{shown}");
    }
    // The roff warns about nothing it cannot set.
    assert!(
        !text(&rendered.stderr).contains("warning"),
        "{}",
        text(&rendered.stderr)
    );
}

#[test]
fn version_names_the_git_commit_in_a_checkout() {
    let home = tempfile::tempdir().unwrap();
    let out = opsdeck(home.path()).arg("--version").output().unwrap();
    let v = text(&out.stdout);
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    match head {
        Ok(h) if h.status.success() => {
            let commit = text(&h.stdout).trim().to_string();
            assert!(
                v.contains(&format!("(git {commit})")),
                "{v} should name {commit}"
            );
        }
        _ => assert_eq!(v.trim(), format!("opsdeck {}", env!("CARGO_PKG_VERSION"))),
    }
}
