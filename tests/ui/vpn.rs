//! The VPN panel, and the confirm dialog as its verbs first used it.

use super::*;

/// The sandbox config with each deployment's PKI in a fresh folder, seeded
/// by the sandbox's own PKI seeding (alice valid, bob revoked, carol pending).
pub(crate) fn with_pki() -> (tempfile::TempDir, String) {
    // A path of the same length on every machine, whatever $TMPDIR is: the
    // dialogs wrap text around it, so its length shapes the snapshots. At 20
    // characters it is whole wherever a row shows it (a row cut at the
    // panel's edge shows 27), and what a dialog leaves in sight of such a row
    // (characters 20 to 26) is the fixed part after it.
    let tmp = tempfile::Builder::new()
        .prefix("opsdeck-")
        .rand_bytes(7)
        .tempdir_in("/tmp")
        .unwrap();
    assert_eq!(tmp.path().as_os_str().len(), 20);
    let mut config = SANDBOX.to_string();
    for env in ["dev", "prod"] {
        let dir = tmp.path().join(env);
        opsdeck::sandbox::seed_pki(env, &dir).unwrap();
        config = config.replace(&format!("target/sandbox/pki-{env}"), dir.to_str().unwrap());
    }
    (tmp, config)
}

/// Runs the job the last command started with the real job code (on the
/// test's real PKI), then feeds its end back as the runner would.
fn run_job(h: &mut Harness) {
    let job = h.commands.iter().rev().find_map(|c| match c {
        Command::StartJob { id, plan, .. } => Some((*id, (**plan).clone())),
        _ => None,
    });
    let Some((id, plan)) = job else {
        panic!("no job started: {:?}", h.commands)
    };
    let audit_dir = tempfile::tempdir().unwrap();
    let audit = opsdeck::jobs::AuditLog::at(audit_dir.path().join("audit.jsonl"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let ctx = opsdeck::jobs::Ctx::new(tx, Default::default());
    let outcome = rt.block_on(opsdeck::jobs::run(
        &plan,
        &audit,
        opsdeck::jobs::Source::Console,
        None,
        None,
        ctx,
    ));
    h.send(
        Msg::Job(opsdeck::jobs::JobEvent {
            id,
            update: opsdeck::jobs::JobUpdate::Finished(outcome),
        }),
        1,
    );
    // The job's end refreshes the VPN panel: answer that listing.
    list_pki(h);
}

/// Answers the last PKI listing the update asked for, from the real PKI.
fn list_pki(h: &mut Harness) {
    let Some(dir) = h.commands.iter().rev().find_map(|c| match c {
        Command::Send(Request::Pki(dir)) => Some(dir.clone()),
        _ => None,
    }) else {
        panic!("no PKI listing asked for: {:?}", h.commands)
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // No endpoint: the listing never loads the AWS config.
    let outcome = rt
        .block_on(opsdeck::aws::ca::run(None, dir.clone(), None))
        .map(|l| Response::Ca(Box::new(l)));
    h.answer(Request::Pki(dir), outcome);
}

/// The newest toast: how a finished job reports.
pub(crate) fn toast(h: &Harness) -> String {
    h.state
        .toasts
        .last()
        .map(|t| t.text.clone())
        .unwrap_or_default()
}

pub(crate) fn vpn(config: &str, env: &str) -> Harness {
    // Connecting asked for the listing already; answer it.
    let mut h = Harness::connected(config, env);
    h.keys("7");
    list_pki(&mut h);
    h
}

/// Serials, dates and temporary paths differ on every run.
fn masked(screen: &str, tmp: &std::path::Path) -> String {
    // Masked with text of the same length, so the layout stays as drawn.
    let path = tmp.to_str().unwrap();
    let s = screen.replace(path, &format!("<tmp{}>", "-".repeat(path.len() - 5)));
    let s = regex::Regex::new("[0-9A-F]{12,}")
        .unwrap()
        .replace_all(&s, "<serial>");
    // What a dialog leaves visible of a serial, at the panel's edge.
    let s = regex::Regex::new("[0-9A-F]{3,}│")
        .unwrap()
        .replace_all(&s, "<s>│");
    let s = regex::Regex::new(r"\d{4}-\d\d-\d\d")
        .unwrap()
        .replace_all(&s, "<date----->");
    // Days left round down, so they tick over while a test runs.
    regex::Regex::new(r"\b(179|180|824|825) ")
        .unwrap()
        .replace_all(&s, "<n> ")
        .into_owned()
}

fn row_of(h: &Harness, cn: &str) -> usize {
    let s = h.state.session.as_ref().unwrap();
    s.vpn.visible_rows().position(|r| r.cn() == cn).unwrap()
}

#[test]
fn vpn_panel_lists_certificates_and_requests() {
    let (tmp, config) = with_pki();
    let mut h = vpn(&config, "dev");
    let screen = h.screen();
    assert!(
        screen.contains("carol@dev.example.org") && screen.contains("pending request"),
        "{screen}"
    );
    assert!(screen.contains("alice@dev.example.org") && screen.contains("valid"));
    assert!(screen.contains("bob@dev.example.org") && screen.contains("revoked"));
    // Whole days, rounded down: 180 right after writing, 179 a second later.
    let crl = regex::Regex::new("1 revoked, next update in 1(79|80) days").unwrap();
    assert!(crl.is_match(&screen), "{screen}");
    insta::assert_snapshot!(masked(&screen, tmp.path()));
}

#[test]
fn revoking_asks_first_and_then_revokes() {
    let (tmp, config) = with_pki();
    let mut h = vpn(&config, "dev");
    let alice = row_of(&h, "alice@dev.example.org");
    h.state.session.as_mut().unwrap().vpn.select(alice, 10);
    h.commands.clear();
    h.keys("X");
    assert!(matches!(h.state.overlay, Some(Overlay::Confirm(_))));
    insta::assert_snapshot!(masked(&h.screen(), tmp.path()));
    // Enter alone does not confirm; nothing is sent until `y`.
    h.key(KeyCode::Enter);
    assert!(h.commands.is_empty());
    h.keys("y");
    run_job(&mut h);
    let msg = toast(&h);
    assert!(msg.contains(": revoked alice@dev.example.org"), "{msg}");
    let s = h.state.session.as_ref().unwrap();
    let revoked = s.vpn.visible_rows().filter(|r| matches!(r, opsdeck::app::vpn::VpnRow::Cert(c, _) if c.status == opsdeck::pki::CertStatus::Revoked)).count();
    assert_eq!(revoked, 2);
}

#[test]
fn esc_cancels_and_changes_nothing() {
    let (_tmp, config) = with_pki();
    let mut h = vpn(&config, "dev");
    h.commands.clear();
    h.keys("C");
    h.key(KeyCode::Esc);
    assert_eq!(h.state.overlay, None);
    assert!(h.commands.is_empty());
    assert!(
        h.state
            .message
            .as_ref()
            .unwrap()
            .text
            .contains("nothing was changed")
    );
}

#[test]
fn a_protected_deployment_wants_its_name_typed() {
    let (tmp, config) = with_pki();
    let mut h = vpn(&config, "prod");
    let carol = row_of(&h, "carol@prod.example.org");
    h.state.session.as_mut().unwrap().vpn.select(carol, 10);
    h.commands.clear();
    h.keys("A");
    insta::assert_snapshot!(masked(&h.screen(), tmp.path()));
    // `y` is just a letter here; a wrong name is refused.
    h.keys("y");
    h.key(KeyCode::Enter);
    assert!(h.commands.is_empty());
    assert!(
        h.state
            .message
            .as_ref()
            .unwrap()
            .text
            .contains("type the deployment name `prod`")
    );
    h.key(KeyCode::Backspace);
    h.keys("prod");
    h.key(KeyCode::Enter);
    run_job(&mut h);
    assert!(
        toast(&h).contains(": signed carol@prod.example.org"),
        "{}",
        toast(&h)
    );
    let s = h.state.session.as_ref().unwrap();
    assert!(
        s.vpn
            .visible_rows()
            .all(|r| !matches!(r, opsdeck::app::vpn::VpnRow::Pending(_)))
    );
}

#[test]
fn read_only_offers_and_sends_nothing_mutating() {
    let (tmp, config) = with_pki();
    // dev's endpoint is a server that records every request (EC2 answers an
    // error to each; the listing's reads may fail, they are not the point).
    let server = common::TestServer::start("ec2", "us-east-1", common::Protocol::Ec2, |_, _| {
        common::Reply::ec2_error(
            400,
            "InvalidClientVpnEndpointId.NotFound",
            "no such endpoint",
        )
    });
    let config = config
        .replacen("http://127.0.0.1:4566", &server.endpoint, 1)
        .replace("name = \"dev\"", "name = \"dev\"\nread_only = true")
        .replace(
            "opensearch_domain = \"dev-index\"",
            "opensearch_domain = \"dev-index\"\nvpn_endpoint = \"cvpn-endpoint-0123456789abcdef0\"",
        );
    let mut h = vpn(&config, "dev");
    let files = |dir: &std::path::Path| -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
        let mut out = std::collections::BTreeMap::new();
        let mut todo = vec![dir.to_path_buf()];
        while let Some(d) = todo.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    todo.push(p);
                } else {
                    out.insert(p.clone(), std::fs::read(&p).unwrap());
                }
            }
        }
        out
    };
    let pki = tmp.path().join("dev");
    let before = files(&pki);
    let requests_before = server.total();
    h.commands.clear();
    let mut opened = Vec::new();
    for (key, row) in [
        ("X", Some("alice@dev.example.org")),
        ("A", Some("carol@dev.example.org")),
        ("C", None),
        ("P", None),
    ] {
        if let Some(cn) = row {
            let i = row_of(&h, cn);
            h.state.session.as_mut().unwrap().vpn.select(i, 10);
        }
        h.keys(key);
        if h.state.overlay.is_some() {
            // Had a dialog opened, confirm it as a user would.
            opened.push(key);
            h.keys("y");
        }
    }
    // Carry out whatever was asked, through the jobs' and the worker's own
    // code, so that the world, not only opsdeck's word, shows that nothing
    // changed.
    let d = h.state.session.as_ref().unwrap().deployment.clone();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let audit_dir = tempfile::tempdir().unwrap();
    let audit = opsdeck::jobs::AuditLog::at(audit_dir.path().join("audit.jsonl"));
    for c in &h.commands {
        match c {
            Command::StartJob { plan, .. } => {
                let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
                let ctx = opsdeck::jobs::Ctx::new(tx, Default::default());
                rt.block_on(opsdeck::jobs::run(
                    plan,
                    &audit,
                    opsdeck::jobs::Source::Console,
                    None,
                    None,
                    ctx,
                ));
            }
            Command::Send(Request::Pki(dir)) => {
                let _ = rt.block_on(async {
                    let c = opsdeck::aws::Clients::connect(&d).await.unwrap();
                    opsdeck::aws::ca::run(
                        Some(&c),
                        dir.clone(),
                        d.resources.vpn_endpoint.as_deref(),
                    )
                    .await
                });
            }
            _ => {}
        }
    }
    assert_eq!(files(&pki), before, "the PKI folder changed");
    assert_eq!(
        server.total(),
        requests_before,
        "the endpoint received requests: {:?}",
        server.requests()
    );
    // It would have heard them: a read of dev's endpoint reaches this server.
    let _ = rt.block_on(async {
        let c = opsdeck::aws::Clients::connect(&d).await.unwrap();
        opsdeck::aws::ca::run(Some(&c), pki.clone(), d.resources.vpn_endpoint.as_deref()).await
    });
    assert!(
        server.total() > requests_before,
        "the test endpoint is not dev's endpoint"
    );
    assert!(opened.is_empty(), "{opened:?} opened a dialog");
    assert!(h.commands.is_empty(), "{:?}", h.commands);
    assert!(h.state.message.as_ref().unwrap().text.contains("read-only"));
    // Nor are they offered: not in the palette, not in help.
    assert!(
        opsdeck::app::palette::palette_matches("vpn", true)
            .iter()
            .all(|a| !a.is_mutating())
    );
    h.keys("?");
    assert!(!h.screen().contains("vpn_revoke"));
}

#[test]
fn publishing_the_crl_warns_that_connections_reset() {
    let (_tmp, config) = with_pki();
    // Without an endpoint configured there is nothing to publish to.
    let mut h = vpn(&config, "dev");
    h.commands.clear();
    h.keys("P");
    assert_eq!(h.state.overlay, None);
    assert!(
        h.state
            .message
            .as_ref()
            .unwrap()
            .text
            .contains("set resources.vpn_endpoint")
    );
    // With one, on protected prod: the dialog says what happens, and wants the name.
    let config = config.replace(
        "opensearch_domain = \"prod-index\"",
        "opensearch_domain = \"prod-index\"\nvpn_endpoint = \"cvpn-endpoint-0123456789abcdef0\"",
    );
    let mut h = vpn(&config, "prod");
    h.commands.clear();
    h.keys("P");
    let screen = h.screen();
    assert!(
        screen.contains("cvpn-endpoint-0123456789abcdef0"),
        "{screen}"
    );
    assert!(
        screen.contains("This resets every connection on the endpoint"),
        "{screen}"
    );
    assert!(screen.contains("Type prod and press enter"), "{screen}");
    h.keys("prod");
    h.key(KeyCode::Enter);
    assert!(
        h.commands.iter().any(|c| matches!(
            c,
            Command::StartJob { plan, .. }
                if matches!(plan.op, opsdeck::jobs::Op::PublishCrl { .. })
        )),
        "{:?}",
        h.commands
    );
}

#[test]
fn the_vpn_panel_shows_the_endpoint_and_whether_its_crl_matches() {
    let (_tmp, config) = with_pki();
    let mut h = vpn(&config, "dev");
    // The worker's answer for a deployment with an endpoint (its AWS side is
    // tested with replayed EC2 traffic in vpn_aws.rs).
    let mut listing = h.state.session.as_ref().unwrap().ca.clone().unwrap();
    listing.endpoint = Some(Ok(opsdeck::aws::ca::EndpointInfo {
        id: "cvpn-endpoint-0123456789abcdef0".into(),
        state: "available · vpn.example.org · split tunnel".into(),
        crl: "the endpoint's CRL lacks 1 revocation (serial 1A2B)".into(),
        crl_matches: false,
    }));
    let dir = listing.dir.clone();
    h.answer(Request::Pki(dir), Ok(Response::Ca(listing)));
    let theme = h.state.theme.clone();
    let t = h.draw();
    let screen = t.backend().to_string();
    assert!(
        screen.contains(
            "VPN cvpn-endpoint-0123456789abcdef0 · available · vpn.example.org · split tunnel"
        ),
        "{screen}"
    );
    let (x, y) = find(&t, "the endpoint's CRL lacks");
    assert_eq!(
        t.backend().buffer()[(x, y)].fg,
        theme.style(Slot::Warning).fg.unwrap()
    );
}

#[test]
fn connecting_asks_for_each_panel_once() {
    let mut h = Harness::new(SANDBOX);
    h.act(Action::Open);
    let count = |r: &Request| {
        h.commands
            .iter()
            .filter(|c| **c == Command::Send(r.clone()))
            .count()
    };
    for r in [
        Request::Identity,
        Request::Stacks,
        Request::Functions,
        Request::Queues,
        Request::LogGroups,
        Request::Domain,
    ] {
        assert_eq!(count(&r), 1, "{r:?}");
    }
    // The Logs panel is fed by its tail: nothing is fetched for it, and it never looks busy.
    let s = h.state.session.as_ref().unwrap();
    assert!(!s.fetch(PanelId::Logs).in_flight);
}
