//! Code deploys and rollbacks on the Functions panel: U reads the configured
//! zip (the runtime answers with its size and hash) and opens the one
//! confirm; a function without a zip (or Z) asks for a path first; B lists
//! the published versions with the alias's one marked, and the pick goes to
//! the confirm. The zip reads are answered here as the runtime would.

use super::jobs::{job_event, started};
use super::*;
use opsdeck::jobs::lambda_code::ZipFacts;
use opsdeck::jobs::{JobUpdate, Op, Outcome};

/// `env` open on `config`, the Functions panel focused on `function`.
fn on_functions_with(config: &str, env: &str, function: &str) -> Harness {
    let mut h = Harness::connected(config, env);
    h.act(Action::PanelFunctions);
    let s = h.state.session.as_mut().unwrap();
    let i = s
        .functions
        .visible_rows()
        .position(|r| r.name == function)
        .unwrap();
    s.functions.select(i, 10);
    h.commands.clear();
    h
}

fn facts(sha: &str) -> Result<ZipFacts, String> {
    Ok(ZipFacts {
        bytes: 331,
        sha256: sha.into(),
    })
}

const BUILT: &str = "Pz2OaI1Ruid8JqtOtd9Hym3yL7dW7BT0ejV3VTM+Z5o=";
const RUNNING: &str = "k3PqWn0r8uUuVdV1cXJ0bWFya2VyMTIzNDU2Nzg5";

/// The zip reads the update asked the runtime for.
fn zip_reads(h: &Harness) -> Vec<std::path::PathBuf> {
    h.commands
        .iter()
        .filter_map(|c| match c {
            Command::InspectZip(p) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

/// A function's detail with versions 1 to 3 and ACTIVE on 3.
fn three_versions() -> FunctionDetail {
    let v = |n: &str, days: u64, sha: &str, description: Option<&str>| FunctionVersion {
        version: n.into(),
        description: description.map(str::to_string),
        code_sha256: Some(sha.into()),
        last_modified: ago(days * 86_400),
    };
    FunctionDetail {
        runtime: Some("python3.12".into()),
        handler: Some("index.handler".into()),
        code_sha256: Some(RUNNING.into()),
        versions: vec![
            v("$LATEST", 1, RUNNING, None),
            v(
                "1",
                20,
                "Zm9vYmFyYmF6cXV4MTIzNDU2",
                Some("sandbox seed: the first code"),
            ),
            v(
                "2",
                9,
                "cXV4cXV4cXV4MTIzNDU2Nzg5",
                Some("sandbox seed: the second code"),
            ),
            v(
                "3",
                1,
                RUNNING,
                Some("opsdeck deploy, SHA-256 k3PqWn0r8uUu"),
            ),
        ],
        aliases: vec![FunctionAlias {
            name: "ACTIVE".into(),
            version: "3".into(),
            description: None,
        }],
        ..FunctionDetail::default()
    }
}

/// Takes whichever popup a code action opened through to the confirm, as
/// the runtime and the user would: the zip read, a path typed, the versions
/// answered and the highlighted one picked. For the structural test of
/// every confirmed action.
pub(crate) fn through_popup(h: &mut Harness) {
    match h.state.overlay.clone() {
        Some(Overlay::CodeDeploy(p)) => {
            if p.input.is_some() {
                h.keys("build/other.zip");
                h.key(KeyCode::Enter);
            }
            let path = zip_reads(h).pop().unwrap();
            h.send(
                Msg::ZipInspected {
                    path,
                    facts: facts(BUILT),
                },
                1,
            );
        }
        Some(Overlay::Rollback(p)) => {
            h.answer(
                Request::FunctionDetail(p.function.clone()),
                Ok(Response::FunctionDetail(
                    p.function.clone(),
                    Box::new(three_versions()),
                )),
            );
            h.act(Action::Open);
        }
        _ => {}
    }
}

#[test]
fn u_reads_the_configured_zip_and_the_confirm_says_build_zip_alias_and_change() {
    let mut h = on_functions_with(SANDBOX, "dev", "dev-api");
    h.keys("U");
    // Nothing is planned before the zip is read, and the build waits for the job.
    assert_eq!(
        zip_reads(&h),
        [std::path::PathBuf::from("target/sandbox/api.zip")]
    );
    assert!(matches!(h.state.overlay, Some(Overlay::CodeDeploy(_))));
    h.send(
        Msg::ZipInspected {
            path: "target/sandbox/api.zip".into(),
            facts: facts(BUILT),
        },
        1,
    );
    let Some(Overlay::Confirm(c)) = &h.state.overlay else {
        panic!("{:?}", h.state.overlay)
    };
    assert_eq!(c.plan.action, "lambda_deploy");
    let screen = h.screen();
    assert!(
        screen.contains("First build it: `scripts/sandbox-build-function.sh api"),
        "{screen}"
    );
    assert!(
        screen.contains("(now: 331 bytes, SHA-256 Pz2OaI1Ruid8)"),
        "{screen}"
    );
    assert!(
        screen.contains("Then move alias ACTIVE to the new version"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
    assert!(started(&h).is_empty(), "nothing before the yes");
    h.keys("y");
    let jobs = started(&h);
    assert_eq!(jobs.len(), 1);
    let (id, plan) = &jobs[0];
    assert!(
        matches!(&plan.op, Op::LambdaDeploy { function, build: Some(_), alias: Some(a), .. } if function == "dev-api" && a == "ACTIVE"),
        "{:?}",
        plan.op
    );
    // When it ends, the list (and an open detail) shows the new version.
    h.commands.clear();
    job_event(
        &mut h,
        *id,
        JobUpdate::Finished(Outcome::ok(
            "deployed dev-api: version 3; alias ACTIVE: 2 → 3",
        )),
    );
    assert!(
        h.commands.contains(&Command::Send(Request::Functions)),
        "{:?}",
        h.commands
    );
}

#[test]
fn a_function_without_a_zip_asks_for_a_path_and_says_why_one_cannot_be_read() {
    let mut rows = functions("dev");
    rows[2].code_sha256 = Some(BUILT.into());
    let mut h = on_functions_with(SANDBOX, "dev", "dev-notifier");
    h.answer(Request::Functions, Ok(Response::Functions(rows)));
    h.commands.clear();
    h.keys("U");
    assert!(zip_reads(&h).is_empty());
    h.keys("builds/notifier.zip");
    h.key(KeyCode::Enter);
    let path = std::path::PathBuf::from("builds/notifier.zip");
    assert_eq!(zip_reads(&h), std::slice::from_ref(&path));
    h.send(
        Msg::ZipInspected {
            path: path.clone(),
            facts: Err(format!(
                "cannot read the zip {}: No such file or directory (os error 2)",
                path.display()
            )),
        },
        1,
    );
    assert!(matches!(h.state.overlay, Some(Overlay::CodeDeploy(_))));
    let screen = h.screen();
    assert!(screen.contains("No such file or directory"), "{screen}");
    insta::assert_snapshot!("a_function_without_a_zip_path_prompt", screen);
    // Another path (in the home directory, written as a shell would); this
    // one holds what runs already, and the confirm says so.
    h.key(KeyCode::Home);
    h.keys("~/");
    h.key(KeyCode::End);
    for _ in 0.."notifier.zip".len() {
        h.key(KeyCode::Backspace);
    }
    h.keys("notifier-1.zip");
    h.key(KeyCode::Enter);
    let home = directories::BaseDirs::new()
        .unwrap()
        .home_dir()
        .to_path_buf();
    let path = home.join("builds/notifier-1.zip");
    assert_eq!(zip_reads(&h).last(), Some(&path));
    h.send(
        Msg::ZipInspected {
            path,
            facts: facts(BUILT),
        },
        1,
    );
    let Some(Overlay::Confirm(c)) = &h.state.overlay else {
        panic!("{:?}", h.state.overlay)
    };
    assert!(
        c.plan
            .lines
            .iter()
            .any(|l| l.starts_with("Unchanged: this zip is the code dev-notifier has now")),
        "{:?}",
        c.plan.lines
    );
    assert!(
        c.plan
            .lines
            .iter()
            .any(|l| l.starts_with("No alias is moved")),
        "{:?}",
        c.plan.lines
    );
    h.key(KeyCode::Esc);
    assert!(h.state.overlay.is_none());
    assert!(started(&h).is_empty());
}

#[test]
fn z_asks_for_a_path_even_when_a_zip_is_configured() {
    let mut h = on_functions_with(SANDBOX, "dev", "dev-api");
    h.keys("Z");
    let Some(Overlay::CodeDeploy(p)) = &h.state.overlay else {
        panic!("{:?}", h.state.overlay)
    };
    assert_eq!(p.input.as_ref().unwrap().text(), "target/sandbox/api.zip");
    assert!(zip_reads(&h).is_empty());
    // The first letter replaces the offered path; the chosen zip is deployed as it is.
    h.keys("dist/api.zip");
    h.key(KeyCode::Enter);
    h.send(
        Msg::ZipInspected {
            path: "dist/api.zip".into(),
            facts: facts(BUILT),
        },
        1,
    );
    let Some(Overlay::Confirm(c)) = &h.state.overlay else {
        panic!("{:?}", h.state.overlay)
    };
    assert!(
        matches!(&c.plan.op, Op::LambdaDeploy { zip, build: None, sha256: Some(s), alias: Some(a), .. } if zip.to_str() == Some("dist/api.zip") && s == BUILT && a == "ACTIVE"),
        "{:?}",
        c.plan.op
    );
}

#[test]
fn b_lists_the_published_versions_and_rolls_back_to_the_one_picked() {
    let mut h = on_functions_with(SANDBOX, "dev", "dev-api");
    h.keys("B");
    // The versions come with the function's detail, opened under the list.
    assert!(
        h.commands
            .contains(&Command::Send(Request::FunctionDetail("dev-api".into()))),
        "{:?}",
        h.commands
    );
    assert!(h.screen().contains("loading the published versions…"));
    h.answer(
        Request::FunctionDetail("dev-api".into()),
        Ok(Response::FunctionDetail(
            "dev-api".into(),
            Box::new(three_versions()),
        )),
    );
    let screen = h.screen();
    // The version before the alias's is offered first.
    assert!(screen.contains("> 2 "), "{screen}");
    assert!(screen.contains("← ACTIVE now"), "{screen}");
    insta::assert_snapshot!(screen);
    h.keys("j");
    h.key(KeyCode::Enter);
    let Some(Overlay::Confirm(c)) = &h.state.overlay else {
        panic!("{:?}", h.state.overlay)
    };
    assert_eq!(
        c.plan.lines[0],
        "Move alias ACTIVE of function dev-api from version 3 to version 1."
    );
    h.keys("y");
    let jobs = started(&h);
    assert_eq!(jobs.len(), 1);
    assert!(
        matches!(&jobs[0].1.op, Op::LambdaRollback { function, alias, to: Some(v) } if function == "dev-api" && alias == "ACTIVE" && v == "1"),
        "{:?}",
        jobs[0].1.op
    );
}

#[test]
fn picking_the_version_the_alias_names_or_a_function_without_the_alias_goes_nowhere() {
    let mut h = on_functions_with(SANDBOX, "dev", "dev-notifier");
    h.keys("B");
    let mut detail = three_versions();
    detail.aliases.clear();
    h.answer(
        Request::FunctionDetail("dev-notifier".into()),
        Ok(Response::FunctionDetail(
            "dev-notifier".into(),
            Box::new(detail),
        )),
    );
    assert!(
        h.screen()
            .contains("dev-notifier has no alias ACTIVE: nothing to roll back")
    );
    h.key(KeyCode::Enter);
    assert!(matches!(h.state.overlay, Some(Overlay::Rollback(_))));
    h.key(KeyCode::Esc);
    assert!(h.state.overlay.is_none());

    let mut h = on_functions_with(SANDBOX, "dev", "dev-api");
    h.keys("B");
    h.answer(
        Request::FunctionDetail("dev-api".into()),
        Ok(Response::FunctionDetail(
            "dev-api".into(),
            Box::new(three_versions()),
        )),
    );
    h.keys("g");
    h.key(KeyCode::Enter);
    assert!(matches!(h.state.overlay, Some(Overlay::Rollback(_))));
    let text = &h.state.message.as_ref().unwrap().text;
    assert_eq!(text, "alias ACTIVE already names version 3: pick another");
    assert!(started(&h).is_empty());
}

#[test]
fn protected_prod_wants_the_name_and_read_only_offers_neither() {
    let mut h = on_functions_with(SANDBOX, "prod", "prod-api");
    h.keys("U");
    h.send(
        Msg::ZipInspected {
            path: "target/sandbox/api.zip".into(),
            facts: facts(BUILT),
        },
        1,
    );
    assert!(matches!(h.state.overlay, Some(Overlay::Confirm(_))));
    h.keys("y");
    h.key(KeyCode::Enter);
    assert!(started(&h).is_empty(), "y alone does not confirm on prod");
    h.key(KeyCode::Backspace);
    h.keys("prod");
    h.key(KeyCode::Enter);
    assert_eq!(started(&h).len(), 1);

    let config = SANDBOX.replace("name = \"dev\"", "name = \"dev\"\nread_only = true");
    let mut h = on_functions_with(&config, "dev", "dev-api");
    for key in ["U", "Z", "B"] {
        h.keys(key);
        assert!(h.state.overlay.is_none(), "{key}");
        assert!(
            h.state.message.as_ref().unwrap().text.contains("read-only"),
            "{key}"
        );
    }
    assert!(zip_reads(&h).is_empty() && started(&h).is_empty());
    assert!(
        !h.commands
            .iter()
            .any(|c| matches!(c, Command::Send(Request::FunctionDetail(_))))
    );
}
