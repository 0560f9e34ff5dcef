//! `opsdeck vpn …`: the VPN certificate authority from the command line. The
//! work is done by [`crate::pki`]; this file parses arguments, asks before
//! anything is destroyed, replaced or revoked, and prints what happened.

use std::io::{BufRead, IsTerminal, Write};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use color_eyre::eyre::{Result, bail, eyre};

use crate::aws::session::Patience;
use crate::aws::vpn::{self as aws_vpn, VpnClients};
use crate::config::{Deployment, Loaded};
use crate::pki::{
    self, CertEntry, CrlOptions, DEFAULT_CA_DAYS, DEFAULT_CERT_DAYS, DEFAULT_CRL_DAYS,
    EXPIRY_WARNING_DAYS, Existing, InitOptions, IssueOptions, ListReport, PUBLIC_MODE, Pki,
    RevocationReason, RevokeTarget, SECRET_MODE, Serial, Severity, day,
};

#[derive(Debug, Subcommand)]
pub enum VpnCommand {
    /// Make a new CA (RSA 2048, SHA-256) in the PKI folder.
    Init {
        #[command(flatten)]
        pki: PkiDir,
        /// The CA's common name.
        #[arg(long, value_name = "NAME", default_value = "opsdeck VPN CA")]
        cn: String,
        /// How long the CA certificate is valid.
        #[arg(long, value_name = "N", default_value_t = DEFAULT_CA_DAYS)]
        days: u32,
        /// Replace an existing CA (asks first; the old folder is kept beside it).
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Make the VPN server's key and certificate (serverAuth).
    Server {
        #[command(flatten)]
        pki: PkiDir,
        /// The server's host name, e.g. vpn.example.org.
        #[arg(long, value_name = "NAME")]
        cn: String,
        #[arg(long, value_name = "N", default_value_t = DEFAULT_CERT_DAYS)]
        days: u32,
        /// Revoke the name's active certificate in the same step (asks first).
        #[arg(long)]
        replace: bool,
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Developer: make your key and a certificate request to send to the administrator.
    Request {
        /// Your e-mail address.
        #[arg(long, value_name = "EMAIL")]
        cn: String,
        /// Where to write EMAIL.key (mode 0600) and EMAIL.req.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Developer: check that the certificate you got back belongs to your key.
    Import {
        #[arg(long, value_name = "CERT")]
        cert: PathBuf,
        #[arg(long, value_name = "KEY")]
        key: PathBuf,
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Sign a developer's certificate request as a VPN client certificate.
    Sign {
        #[command(flatten)]
        pki: PkiDir,
        /// The request file (PKCS#10, PEM or DER).
        #[arg(value_name = "REQUEST")]
        request: PathBuf,
        /// Where to write the certificate to send back.
        #[arg(long, value_name = "CERT")]
        out: PathBuf,
        /// Revoke the name's active certificate in the same step (asks first).
        #[arg(long)]
        replace: bool,
        #[arg(long, value_name = "N", default_value_t = DEFAULT_CERT_DAYS)]
        days: u32,
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Make a key and client certificate on someone's behalf (you then know their key).
    Issue {
        #[command(flatten)]
        pki: PkiDir,
        #[arg(long, value_name = "EMAIL")]
        cn: String,
        /// Where to write EMAIL.key (mode 0600) and EMAIL.crt.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[arg(long, value_name = "N", default_value_t = DEFAULT_CERT_DAYS)]
        days: u32,
        /// Revoke the name's active certificate in the same step (asks first).
        #[arg(long)]
        replace: bool,
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Revoke a certificate (asks first); then regenerate and publish the CRL.
    Revoke {
        #[command(flatten)]
        pki: PkiDir,
        #[command(flatten)]
        target: Target,
        /// Why, as recorded in the index and the CRL.
        #[arg(long, value_enum)]
        reason: Option<Reason>,
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Write a new CRL listing every revoked certificate.
    Crl {
        #[command(flatten)]
        pki: PkiDir,
        /// Where to write a copy (the PKI keeps crl.pem).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Days until the CRL's next update.
        #[arg(long, value_name = "N", default_value_t = DEFAULT_CRL_DAYS)]
        days: u32,
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Every certificate with its status and days left.
    List {
        #[command(flatten)]
        pki: PkiDir,
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Publish to AWS: the server certificate and CA chain to ACM (`--server`)
    /// and/or the CRL to the deployment's Client VPN endpoint (`--crl`, asks
    /// first: it resets the VPN's connections).
    Publish {
        #[command(flatten)]
        pki: PkiDir,
        /// Import this server certificate (its name in issued/) with its key and the CA to ACM.
        #[arg(long, value_name = "NAME")]
        server: Option<String>,
        /// Re-import to this ACM certificate (default: the endpoint's server
        /// certificate, else the one imported certificate for the same name).
        #[arg(long, value_name = "ARN", requires = "server")]
        certificate_arn: Option<String>,
        /// Publish the PKI's crl.pem to the Client VPN endpoint (`vpn_endpoint` in the config).
        #[arg(long)]
        crl: bool,
        #[command(flatten)]
        confirm: ConfirmArgs,
        /// On a protected deployment without a terminal: its name, to confirm
        /// this command is meant for it.
        #[arg(long = "confirm", value_name = "NAME")]
        confirm_name: Option<String>,
    },
    /// Developer: write the `.ovpn` file of the deployment's Client VPN
    /// endpoint with your certificate and key in it.
    Config {
        #[arg(long, value_name = "CERT")]
        cert: PathBuf,
        #[arg(long, value_name = "KEY")]
        key: PathBuf,
        /// Where to write the .ovpn file (mode 0600: it holds your key).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Send only the VPC's traffic through the VPN: no default route.
        #[arg(long)]
        split_tunnel: bool,
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Check an existing (easy-rsa) PKI and report what was found.
    Adopt {
        #[command(flatten)]
        pki: PkiDir,
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
}

#[derive(Debug, Args)]
pub struct PkiDir {
    /// The PKI folder (default: `pki/default` in opsdeck's data folder).
    #[arg(long, value_name = "DIR")]
    pki: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ConfirmArgs {
    /// Answer yes to every confirmation (needed when stdin is not a terminal).
    #[arg(long)]
    yes: bool,
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct Target {
    /// The one active certificate of this e-mail address.
    #[arg(long, value_name = "EMAIL")]
    cn: Option<String>,
    /// The certificate with this serial (hex, as `vpn list` shows it).
    #[arg(long, value_name = "HEX")]
    serial: Option<String>,
}

/// Revocation reasons (RFC 5280).
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Reason {
    Unspecified,
    KeyCompromise,
    CaCompromise,
    AffiliationChanged,
    Superseded,
    CessationOfOperation,
}

impl From<Reason> for RevocationReason {
    fn from(r: Reason) -> Self {
        match r {
            Reason::Unspecified => RevocationReason::Unspecified,
            Reason::KeyCompromise => RevocationReason::KeyCompromise,
            Reason::CaCompromise => RevocationReason::CaCompromise,
            Reason::AffiliationChanged => RevocationReason::AffiliationChanged,
            Reason::Superseded => RevocationReason::Superseded,
            Reason::CessationOfOperation => RevocationReason::CessationOfOperation,
        }
    }
}

/// Runs one `vpn` subcommand; `yes` is a global `--yes`, if the caller has
/// one. `loaded` and `deployment` (the global `--deployment`) are for the
/// subcommands that talk to AWS, which run on `runtime` and give up on an
/// endpoint as `patience` says.
pub fn run(
    cmd: &VpnCommand,
    yes: bool,
    loaded: &Loaded,
    deployment: Option<&str>,
    runtime: &tokio::runtime::Runtime,
    patience: Patience,
) -> Result<ExitCode> {
    let yes = yes || confirm_flag(cmd);
    match cmd {
        VpnCommand::Publish {
            pki,
            server,
            certificate_arn,
            crl,
            confirm_name,
            ..
        } => {
            let d = aws_deployment(loaded, deployment)?;
            let dir = match (&pki.pki, &d.resources.vpn_pki) {
                (None, Some(dir)) => dir.clone(),
                _ => pki_dir(pki)?,
            };
            let what = PublishWhat {
                server: server.as_deref(),
                certificate_arn: certificate_arn.as_deref(),
                crl: *crl,
            };
            let confirmation = super::jobs::Confirmation {
                yes,
                confirm: confirm_name.clone(),
            };
            publish(runtime, patience, d, &dir, &what, &confirmation)
        }
        VpnCommand::Config {
            cert,
            key,
            out,
            split_tunnel,
            ..
        } => {
            let d = aws_deployment(loaded, deployment)?;
            client_config(runtime, patience, d, cert, key, out, *split_tunnel)
        }
        VpnCommand::Init {
            pki,
            cn,
            days,
            force,
            ..
        } => init(&pki_dir(pki)?, cn, *days, *force, yes),
        VpnCommand::Server {
            pki,
            cn,
            days,
            replace,
            ..
        } => server(&pki_dir(pki)?, cn, issue_options(*days, *replace), yes),
        VpnCommand::Request { cn, out, .. } => request(cn, out),
        VpnCommand::Import { cert, key, .. } => import(cert, key),
        VpnCommand::Sign {
            pki,
            request,
            out,
            replace,
            days,
            ..
        } => sign(
            &pki_dir(pki)?,
            request,
            out,
            issue_options(*days, *replace),
            yes,
        ),
        VpnCommand::Issue {
            pki,
            cn,
            out,
            days,
            replace,
            ..
        } => issue(&pki_dir(pki)?, cn, out, issue_options(*days, *replace), yes),
        VpnCommand::Revoke {
            pki,
            target,
            reason,
            ..
        } => revoke(&pki_dir(pki)?, target, reason.map(Into::into), yes),
        VpnCommand::Crl { pki, out, days, .. } => crl(&pki_dir(pki)?, out, *days),
        VpnCommand::List { pki, json, .. } => list(&pki_dir(pki)?, *json),
        VpnCommand::Adopt { pki, json, .. } => adopt(&pki_dir(pki)?, *json),
    }
}

fn confirm_flag(cmd: &VpnCommand) -> bool {
    let (VpnCommand::Init { confirm, .. }
    | VpnCommand::Server { confirm, .. }
    | VpnCommand::Request { confirm, .. }
    | VpnCommand::Import { confirm, .. }
    | VpnCommand::Sign { confirm, .. }
    | VpnCommand::Issue { confirm, .. }
    | VpnCommand::Revoke { confirm, .. }
    | VpnCommand::Crl { confirm, .. }
    | VpnCommand::List { confirm, .. }
    | VpnCommand::Publish { confirm, .. }
    | VpnCommand::Config { confirm, .. }
    | VpnCommand::Adopt { confirm, .. }) = cmd;
    confirm.yes
}

fn issue_options(days: u32, replace: bool) -> IssueOptions {
    IssueOptions { days, replace }
}

/// `--pki`, else the default folder under the platform data dir.
fn pki_dir(arg: &PkiDir) -> Result<PathBuf> {
    match &arg.pki {
        Some(dir) => Ok(dir.clone()),
        None => pki::default_dir()
            .ok_or_else(|| eyre!("no home folder to keep the PKI in: pass --pki DIR")),
    }
}

/// Asks `question` on the terminal. Without a terminal, refuses with
/// `refusal` unless `yes`, so a script never destroys anything by accident.
fn confirm(question: &str, yes: bool, refusal: &str) -> Result<()> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        bail!("{refusal}: stdin is not a terminal, so pass --yes to confirm");
    }
    let mut err = std::io::stderr().lock();
    write!(err, "{question} [y/N] ")?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => bail!("cancelled: nothing was changed"),
    }
}

/// "serial A (valid until D), serial B (…)"
fn describe(certs: &[CertEntry]) -> String {
    certs
        .iter()
        .map(|c| format!("serial {} (valid until {})", c.serial, day(c.not_after)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Asks before `--replace` revokes `cn`'s active certificates; nothing to ask if it has none.
fn confirm_replace(pki: &Pki, cn: &str, yes: bool) -> Result<()> {
    let active = pki.active(cn);
    if active.is_empty() {
        return Ok(());
    }
    confirm(
        &format!(
            "{cn} has an active certificate: {}. Revoke it and issue the new one? The old one stops working once the new CRL is published.",
            describe(&active)
        ),
        yes,
        &format!("refusing to replace the certificate of {cn} without confirmation"),
    )
}

/// Refuses an `--out` file whose folder is missing, before anything is signed.
fn check_out_file(out: &Path) -> Result<()> {
    if out.is_dir() {
        bail!("--out {} is a folder; give a file name", out.display());
    }
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = parent
        && !dir.is_dir()
    {
        bail!(
            "--out {}: the folder {} does not exist",
            out.display(),
            dir.display()
        );
    }
    Ok(())
}

fn init(dir: &Path, cn: &str, days: u32, force: bool, yes: bool) -> Result<ExitCode> {
    let found = pki::existing(dir);
    if force {
        let what = match &found {
            Existing::Nothing => None,
            Existing::Ca { subject, active } => Some(format!(
                "{} holds the CA `{subject}` with {active} active certificate(s)",
                dir.display()
            )),
            Existing::Broken(problem) => {
                Some(format!("{} holds parts of a CA ({problem})", dir.display()))
            }
        };
        if let Some(what) = what {
            confirm(
                &format!(
                    "{what}. Replace it with a new CA? Every certificate the old CA issued stops being trusted once the VPN uses the new one: the server certificate must be re-issued and re-published, and every developer needs a new certificate. The old folder is kept beside it."
                ),
                yes,
                &format!(
                    "refusing to replace the CA in {} without confirmation",
                    dir.display()
                ),
            )?;
        }
    }
    let options = InitOptions {
        cn: cn.to_string(),
        days,
        force,
    };
    let made = pki::init(dir, &options)?;
    if let Some(old) = &made.retired {
        println!("moved the previous PKI to {}", old.display());
    }
    println!(
        "created the CA `{}` in {} (serial {}, valid until {})",
        made.subject,
        made.dir.display(),
        made.serial,
        day(made.not_after)
    );
    println!(
        "its key is {}: back it up somewhere safe; it never needs to leave this disk",
        made.dir.join("private/ca.key").display()
    );
    Ok(ExitCode::SUCCESS)
}

fn server(dir: &Path, cn: &str, options: IssueOptions, yes: bool) -> Result<ExitCode> {
    let mut pki = Pki::open(dir)?;
    if options.replace {
        confirm_replace(&pki, cn, yes)?;
    }
    let made = pki.server(cn, &options)?;
    let cert = &made.cert;
    println!(
        "issued the server certificate for {} (serial {}, valid until {}): {}, key {}",
        cert.cn,
        cert.serial,
        day(cert.not_after),
        cert.path.display(),
        made.key_path.display()
    );
    print_replaced(dir, &cert.replaced);
    Ok(ExitCode::SUCCESS)
}

fn request(cn: &str, out: &Path) -> Result<ExitCode> {
    let files = pki::request(cn, out)?;
    println!(
        "wrote your key {} (mode 0600; it never leaves this disk) and the request {}",
        files.key_path.display(),
        files.request_path.display()
    );
    println!("send the request to your VPN administrator; it holds no secret");
    Ok(ExitCode::SUCCESS)
}

fn import(cert: &Path, key: &Path) -> Result<ExitCode> {
    let check = pki::check_import(cert, key)?;
    println!(
        "{} belongs to {}: {} (serial {}), valid until {} ({} days left), issued by {}",
        cert.display(),
        key.display(),
        check.cn,
        check.serial,
        day(check.not_after),
        check.days_left,
        check.issuer
    );
    for w in &check.warnings {
        eprintln!("warning: {w}");
    }
    Ok(ExitCode::SUCCESS)
}

fn sign(
    dir: &Path,
    request: &Path,
    out: &Path,
    options: IssueOptions,
    yes: bool,
) -> Result<ExitCode> {
    check_out_file(out)?;
    let mut pki = Pki::open(dir)?;
    let bytes = std::fs::read(request)
        .map_err(|e| eyre!("could not read the request {}: {e}", request.display()))?;
    let what = request.display().to_string();
    if options.replace {
        let info = pki.check_request(&bytes, &what)?;
        confirm_replace(&pki, &info.cn, yes)?;
    }
    let issued = pki.sign(&bytes, &what, &options)?;
    pki::write_file(out, issued.cert_pem.as_bytes(), PUBLIC_MODE)?;
    println!(
        "signed a client certificate for {} (serial {}, valid until {}): wrote {}; send it back to {}",
        issued.cn,
        issued.serial,
        day(issued.not_after),
        out.display(),
        issued.cn
    );
    print_replaced(dir, &issued.replaced);
    Ok(ExitCode::SUCCESS)
}

fn issue(dir: &Path, cn: &str, out: &Path, options: IssueOptions, yes: bool) -> Result<ExitCode> {
    let key_out = out.join(format!("{cn}.key"));
    let cert_out = out.join(format!("{cn}.crt"));
    if key_out.exists() {
        bail!(
            "{} already exists: move it away or choose another --out",
            key_out.display()
        );
    }
    let mut pki = Pki::open(dir)?;
    if options.replace {
        confirm_replace(&pki, cn, yes)?;
    }
    let made = pki.issue(cn, &options)?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(out)
        .map_err(|e| eyre!("could not create the folder {}: {e}", out.display()))?;
    pki::write_new_file(&key_out, made.key_pem().as_bytes(), SECRET_MODE)?;
    pki::write_file(&cert_out, made.cert.cert_pem.as_bytes(), PUBLIC_MODE)?;
    println!(
        "issued a client certificate for {} (serial {}, valid until {}): wrote {} and the key {} (mode 0600)",
        cn,
        made.cert.serial,
        day(made.cert.not_after),
        cert_out.display(),
        key_out.display()
    );
    if let Some(w) = &made.warning {
        eprintln!("warning: {w}");
    }
    print_replaced(dir, &made.cert.replaced);
    Ok(ExitCode::SUCCESS)
}

fn revoke(
    dir: &Path,
    target: &Target,
    reason: Option<RevocationReason>,
    yes: bool,
) -> Result<ExitCode> {
    let target = match (&target.cn, &target.serial) {
        (Some(cn), _) => RevokeTarget::Cn(cn.clone()),
        (None, Some(hex)) => RevokeTarget::Serial(Serial::parse_hex(hex).ok_or_else(|| {
            eyre!("`{hex}` is not a serial number: give it in hex as `opsdeck vpn list` shows it")
        })?),
        (None, None) => bail!("say which certificate to revoke: --cn EMAIL or --serial HEX"),
    };
    let mut pki = Pki::open(dir)?;
    let candidate = pki.resolve(&target)?;
    confirm(
        &format!(
            "Revoke the certificate of {} (serial {}, valid until {})? Once the new CRL is published it no longer connects to the VPN.",
            candidate.cn,
            candidate.serial,
            day(candidate.not_after)
        ),
        yes,
        &format!(
            "refusing to revoke the certificate of {} (serial {}) without confirmation",
            candidate.cn, candidate.serial
        ),
    )?;
    let revoked = pki.revoke(&target, reason)?;
    println!(
        "revoked the certificate of {} (serial {})",
        revoked.cn, revoked.serial
    );
    println!(
        "now regenerate the CRL with `opsdeck vpn crl --pki {} --out FILE` and publish it",
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn print_replaced(dir: &Path, replaced: &[Serial]) {
    if replaced.is_empty() {
        return;
    }
    let serials: Vec<String> = replaced.iter().map(Serial::hex).collect();
    println!(
        "revoked the replaced certificate(s) {} (superseded): regenerate the CRL with `opsdeck vpn crl --pki {} --out FILE` and publish it",
        serials.join(", "),
        dir.display()
    );
}

fn crl(dir: &Path, out: &Path, days: u32) -> Result<ExitCode> {
    check_out_file(out)?;
    let mut pki = Pki::open(dir)?;
    let crl = pki.crl(&CrlOptions { days })?;
    if out != crl.path {
        pki::write_file(out, crl.pem.as_bytes(), PUBLIC_MODE)?;
    }
    println!(
        "wrote the CRL (number {}, {} revoked certificate(s), next update {}) to {} and {}",
        crl.number,
        crl.revoked.len(),
        day(crl.next_update),
        crl.path.display(),
        out.display()
    );
    if i64::from(days) <= EXPIRY_WARNING_DAYS {
        eprintln!(
            "warning: the CRL's next update is only {days} days away; clients may reject the VPN after that unless a new CRL is published"
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn list(dir: &Path, json: bool) -> Result<ExitCode> {
    let pki = Pki::open(dir)?;
    let report = pki.list();
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render_list(&report));
    }
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The table `vpn list` prints.
fn render_list(report: &ListReport) -> String {
    let mut out = format!(
        "CA {} (valid until {}, {} days left) in {}\n",
        report.ca.subject,
        day(report.ca.not_after),
        report.ca.days_left,
        report.pki.display()
    );
    let header = [
        "COMMON NAME",
        "SERIAL",
        "NOT BEFORE",
        "NOT AFTER",
        "STATUS",
        "DAYS LEFT",
    ];
    let rows: Vec<[String; 6]> = report
        .certificates
        .iter()
        .map(|c| {
            [
                c.cn.clone(),
                c.serial.hex(),
                c.not_before.map_or_else(|| "?".into(), day),
                day(c.not_after),
                c.status.label().to_string(),
                c.days_left.to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        padded.join("  ").trim_end().to_string() + "\n"
    };
    out += &line(header.to_vec());
    for row in &rows {
        out += &line(row.iter().map(String::as_str).collect());
    }
    let c = &report.counts;
    out += &format!(
        "{} valid, {} expiring soon, {} expired, {} revoked\n",
        c.valid, c.expiring_soon, c.expired, c.revoked
    );
    out += &match &report.crl {
        Some(crl) => format!(
            "CRL {}: {} revoked, next update {}\n",
            crl.path.display(),
            crl.revoked_count,
            crl.next_update.map_or_else(|| "none".into(), day)
        ),
        None => "no CRL yet\n".into(),
    };
    out
}

fn adopt(dir: &Path, json: bool) -> Result<ExitCode> {
    let report = pki::adopt(dir)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("PKI {}", report.dir.display());
        match (&report.ca_subject, report.ca_not_after) {
            (Some(s), Some(t)) => println!("CA {s}, valid until {}", day(t)),
            _ => println!("no readable CA certificate"),
        }
        let c = &report.counts;
        println!(
            "{} certificate(s) in index.txt: {} valid, {} expiring soon, {} expired, {} revoked; {} request(s) waiting in reqs/",
            report.certificates,
            c.valid,
            c.expiring_soon,
            c.expired,
            c.revoked,
            report.pending_requests
        );
        for p in &report.problems {
            let label = match p.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            println!("{label}: {}", p.message);
        }
    }
    if report.is_usable() {
        if !json {
            println!("opsdeck can work on this PKI");
        }
        Ok(ExitCode::SUCCESS)
    } else {
        bail!(
            "{} cannot be used until the errors above are fixed",
            dir.display()
        )
    }
}

// ---- publishing to AWS ---------------------------------------------------------

/// The deployment a subcommand that talks to AWS works on.
fn aws_deployment<'a>(loaded: &'a Loaded, name: Option<&str>) -> Result<&'a Deployment> {
    if loaded.has_errors() {
        for d in &loaded.diagnostics {
            eprintln!("{d}");
        }
        bail!("the config has errors");
    }
    let Some(name) = name else {
        bail!("say which deployment: --deployment NAME");
    };
    loaded
        .config
        .deployment(name)
        .ok_or_else(|| eyre!("deployment `{name}` is not in the config"))
}

/// The deployment's Client VPN endpoint, from `vpn_endpoint` in its config.
fn vpn_endpoint(d: &Deployment) -> Result<&str> {
    d.resources.vpn_endpoint.as_deref().ok_or_else(|| {
        eyre!(
            "deployment `{}` names no Client VPN endpoint: add vpn_endpoint = \"cvpn-endpoint-…\" to its [deployment.resources]",
            d.name
        )
    })
}

fn problem(p: crate::model::Problem) -> color_eyre::eyre::Report {
    eyre!("{}", p.message)
}

struct PublishWhat<'a> {
    server: Option<&'a str>,
    certificate_arn: Option<&'a str>,
    crl: bool,
}

/// The server certificate to ACM and the CRL to the endpoint: each a job
/// through the one safety path, with the same plan as the VPN panel's `P`.
fn publish(
    runtime: &tokio::runtime::Runtime,
    patience: Patience,
    d: &Deployment,
    dir: &Path,
    what: &PublishWhat<'_>,
    confirmation: &super::jobs::Confirmation,
) -> Result<ExitCode> {
    use crate::jobs::{Effect, vpn as vpn_jobs};
    if what.server.is_none() && !what.crl {
        bail!(
            "say what to publish: --server NAME (certificate to ACM) and/or --crl (CRL to the VPN endpoint)"
        );
    }
    let desc = match (what.server, what.crl) {
        (Some(name), true) => format!(
            "import the server certificate {name} to ACM and publish the CRL to {} of deployment `{}` (it resets the VPN's connections)",
            d.resources
                .vpn_endpoint
                .as_deref()
                .unwrap_or("the endpoint"),
            d.name
        ),
        (Some(name), false) => format!(
            "import the server certificate {name} to ACM for deployment `{}`",
            d.name
        ),
        (None, _) => format!(
            "publish the CRL to {} of deployment `{}` (it resets the VPN's connections)",
            d.resources
                .vpn_endpoint
                .as_deref()
                .unwrap_or("the endpoint"),
            d.name
        ),
    };
    super::jobs::check(Effect::Confirmed, d, confirmation, &desc)?;
    let mut plans = Vec::new();
    if let Some(name) = what.server {
        plans.push(
            vpn_jobs::import_server_plan(d, dir, name, what.certificate_arn)
                .map_err(|e| eyre!("{e}"))?,
        );
    }
    if what.crl {
        plans.push(vpn_jobs::publish_crl_plan(d, dir).map_err(|e| eyre!("{e}"))?);
    }
    for plan in &plans {
        super::jobs::ask(plan, confirmation)?;
    }
    runtime.block_on(async {
        let c = crate::aws::Clients::connect_with(d, patience)
            .await
            .map_err(problem)?;
        let mut code = ExitCode::SUCCESS;
        for plan in &plans {
            let outcome = super::jobs::run(plan, Some(c.clone())).await;
            if !outcome.is_ok() {
                code = super::jobs::report(&outcome);
                break;
            }
            super::jobs::report(&outcome);
        }
        Ok(code)
    })
}

fn client_config(
    runtime: &tokio::runtime::Runtime,
    patience: Patience,
    d: &Deployment,
    cert: &Path,
    key: &Path,
    out: &Path,
    split_tunnel: bool,
) -> Result<ExitCode> {
    let endpoint = vpn_endpoint(d)?;
    check_out_file(out)?;
    let check = pki::check_import(cert, key)?;
    for w in &check.warnings {
        eprintln!("warning: {w}");
    }
    let cert_pem = std::fs::read_to_string(cert)
        .map_err(|e| eyre!("could not read {}: {e}", cert.display()))?;
    let key_pem =
        std::fs::read_to_string(key).map_err(|e| eyre!("could not read {}: {e}", key.display()))?;
    let text = runtime.block_on(async {
        let c = VpnClients::connect_with(d, patience).await.map_err(problem)?;
        if split_tunnel {
            let state = aws_vpn::endpoint_state(&c, endpoint)
                .await
                .map_err(problem)?;
            if state.split_tunnel != Some(true) {
                eprintln!(
                    "warning: the endpoint {endpoint} is not a split tunnel, so it may push no route to the VPC: with its default route ignored, the VPC may be unreachable (ask for a split-tunnel endpoint)"
                );
            }
        }
        aws_vpn::client_config(&c, endpoint, &cert_pem, &key_pem, split_tunnel)
            .await
            .map_err(problem)
    })?;
    pki::write_file(out, text.as_bytes(), SECRET_MODE)?;
    println!(
        "wrote {} (mode 0600) for {} on the endpoint {endpoint}{}: import it into your OpenVPN client, then delete it; it holds your key and can be made again",
        out.display(),
        check.cn,
        if split_tunnel { ", split tunnel" } else { "" }
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        vpn: VpnCommand,
    }

    #[test]
    fn revoke_needs_exactly_one_target() {
        assert!(Cli::try_parse_from(["x", "revoke", "--pki", "p"]).is_err());
        assert!(Cli::try_parse_from(["x", "revoke", "--cn", "a@b.org", "--serial", "01"]).is_err());
        let cli = Cli::try_parse_from(["x", "revoke", "--serial", "01", "--yes"]).unwrap();
        assert!(confirm_flag(&cli.vpn));
    }

    #[test]
    fn every_subcommand_accepts_yes() {
        for args in [
            vec!["init", "--yes"],
            vec!["server", "--cn", "vpn.example.org", "--yes"],
            vec!["request", "--cn", "a@b.org", "--out", "d", "--yes"],
            vec!["import", "--cert", "c", "--key", "k", "--yes"],
            vec!["sign", "r.req", "--out", "c.crt", "--yes"],
            vec!["issue", "--cn", "a@b.org", "--out", "d", "--yes"],
            vec!["revoke", "--cn", "a@b.org", "--yes"],
            vec!["crl", "--out", "crl.pem", "--yes"],
            vec!["list", "--json", "--yes"],
            vec!["adopt", "--yes"],
            vec!["publish", "--crl", "--yes"],
            vec!["config", "--cert", "c", "--key", "k", "--out", "o", "--yes"],
        ] {
            let cli = Cli::try_parse_from(std::iter::once("x").chain(args.clone()))
                .unwrap_or_else(|e| panic!("{args:?}: {e}"));
            assert!(confirm_flag(&cli.vpn), "{args:?}");
        }
    }

    #[test]
    fn confirmation_is_skipped_with_yes() {
        assert!(confirm("?", true, "refusing").is_ok());
    }
}
