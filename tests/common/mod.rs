//! Test harness: a real moto server on a free port, and the sandbox config
//! pointed at it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use opsdeck::config::{Config, Deployment};

static PKI_SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Where moto_server is: $OPSDECK_MOTO_SERVER, ./.venv, or PATH.
fn moto_server() -> PathBuf {
    if let Some(p) = std::env::var_os("OPSDECK_MOTO_SERVER") {
        return PathBuf::from(p);
    }
    let venv = repo().join(".venv/bin/moto_server");
    if venv.exists() {
        return venv;
    }
    panic!(
        "moto is not installed: run `make test` (it installs the pinned moto into .venv), \
         or set OPSDECK_MOTO_SERVER to a moto_server binary"
    );
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A moto server for one test; killed when dropped (or when the test's thread ends).
pub struct Moto {
    child: Option<Child>,
    pub port: u16,
    pub endpoint: String,
}

impl Moto {
    pub fn start() -> Moto {
        Moto::start_on(free_port())
    }

    pub fn start_on(port: u16) -> Moto {
        let log =
            std::fs::File::create(std::env::temp_dir().join(format!("opsdeck-moto-{port}.log")))
                .unwrap();
        let mut cmd = Command::new(moto_server());
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        // SAFETY: prctl is async-signal-safe; it only asks the kernel to kill
        // moto if the spawning test thread dies without dropping us.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = cmd.spawn().expect("start moto_server");
        let moto = Moto {
            child: Some(child),
            port,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        moto.wait_ready();
        moto
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if http_get(self.port, "/moto-api/")
                .is_some_and(|r| r.starts_with("HTTP/1.1 200") || r.starts_with("HTTP/1.0 200"))
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("moto did not start on port {} within 30 s", self.port);
    }

    /// Kills the server (its state is lost, as with a real outage).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    Some(buf)
}

/// The deployments of config/sandbox.toml, pointed at `endpoint`.
pub fn sandbox_deployments(endpoint: &str) -> Vec<Deployment> {
    let path = repo().join("config/sandbox.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let (config, diags) = Config::parse(&text, &path);
    assert!(diags.is_empty(), "{diags:?}");
    config
        .deployments
        .into_iter()
        .map(|mut d| {
            d.override_endpoint(endpoint).unwrap();
            // Each test's own PKI folder, so tests never share one.
            let dir = std::env::temp_dir().join(format!(
                "opsdeck-test-pki-{}-{}-{}",
                std::process::id(),
                d.name,
                PKI_SEQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            ));
            d.resources.vpn_pki = Some(dir);
            d
        })
        .collect()
}

pub fn deployment(deployments: &[Deployment], name: &str) -> Deployment {
    deployments
        .iter()
        .find(|d| d.name == name)
        .cloned()
        .unwrap()
}

/// A moto seeded with the sandbox's deployments.
pub async fn seeded() -> (Moto, Vec<Deployment>) {
    let moto = Moto::start();
    let deployments = sandbox_deployments(&moto.endpoint);
    let mut out = Vec::new();
    for d in &deployments {
        opsdeck::sandbox::seed(d, &mut out).await.unwrap();
    }
    (moto, deployments)
}
