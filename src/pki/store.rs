//! The PKI folder on disk, in easy-rsa's layout, and the only code that writes
//! to it. Every change is planned first and checked as a whole, so a refused
//! operation writes nothing; each file is replaced by writing a temporary file
//! beside it and renaming it over the old one, so a crash never leaves half a file.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::error::PkiError;
use super::serial::Serial;

/// Mode of private keys: only the owner may read them.
pub const SECRET_MODE: u32 = 0o600;
/// Mode of certificates, requests, the index and the CRL.
pub const PUBLIC_MODE: u32 = 0o644;
/// Mode of `private/` (and, as easy-rsa does, the other folders it makes).
pub(crate) const PRIVATE_DIR_MODE: u32 = 0o700;
pub(crate) const DIR_MODE: u32 = 0o755;

/// Paths inside a PKI folder, named as easy-rsa names them.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    root: PathBuf,
}

impl Layout {
    pub fn new(root: &Path) -> Layout {
        Layout {
            root: root.to_path_buf(),
        }
    }
    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn ca_crt(&self) -> PathBuf {
        self.root.join("ca.crt")
    }
    pub fn private_dir(&self) -> PathBuf {
        self.root.join("private")
    }
    pub fn ca_key(&self) -> PathBuf {
        self.private_dir().join("ca.key")
    }
    pub fn index(&self) -> PathBuf {
        self.root.join("index.txt")
    }
    pub fn index_old(&self) -> PathBuf {
        self.root.join("index.txt.old")
    }
    pub fn index_attr(&self) -> PathBuf {
        self.root.join("index.txt.attr")
    }
    pub fn serial_file(&self) -> PathBuf {
        self.root.join("serial")
    }
    pub fn crl(&self) -> PathBuf {
        self.root.join("crl.pem")
    }
    pub fn issued_dir(&self) -> PathBuf {
        self.root.join("issued")
    }
    pub fn reqs_dir(&self) -> PathBuf {
        self.root.join("reqs")
    }
    pub fn by_serial_dir(&self) -> PathBuf {
        self.root.join("certs_by_serial")
    }
    pub fn revoked_dir(&self) -> PathBuf {
        self.root.join("revoked")
    }
    /// `issued/NAME.crt`
    pub fn issued(&self, name: &str) -> PathBuf {
        self.issued_dir().join(format!("{name}.crt"))
    }
    /// `reqs/NAME.req`
    pub fn req(&self, name: &str) -> PathBuf {
        self.reqs_dir().join(format!("{name}.req"))
    }
    /// `private/NAME.key`
    pub fn key(&self, name: &str) -> PathBuf {
        self.private_dir().join(format!("{name}.key"))
    }
    /// `certs_by_serial/SERIAL.pem`: `openssl ca` keeps a copy of every certificate here.
    pub fn by_serial(&self, serial: &Serial) -> PathBuf {
        self.by_serial_dir().join(format!("{serial}.pem"))
    }
    /// `revoked/certs_by_serial/SERIAL.crt`, where easy-rsa's `revoke` moves the certificate.
    pub fn revoked_crt(&self, serial: &Serial) -> PathBuf {
        self.revoked_dir()
            .join("certs_by_serial")
            .join(format!("{serial}.crt"))
    }
    pub fn revoked_key(&self, serial: &Serial) -> PathBuf {
        self.revoked_dir()
            .join("private_by_serial")
            .join(format!("{serial}.key"))
    }
    pub fn revoked_req(&self, serial: &Serial) -> PathBuf {
        self.revoked_dir()
            .join("reqs_by_serial")
            .join(format!("{serial}.req"))
    }
    /// Every folder easy-rsa's `init-pki` and `build-ca` make, with its mode.
    pub fn folders(&self) -> Vec<(PathBuf, u32)> {
        let revoked = self.revoked_dir();
        vec![
            (self.root.clone(), DIR_MODE),
            (self.private_dir(), PRIVATE_DIR_MODE),
            (self.reqs_dir(), DIR_MODE),
            (self.issued_dir(), DIR_MODE),
            (self.by_serial_dir(), DIR_MODE),
            (revoked.clone(), DIR_MODE),
            (revoked.join("certs_by_serial"), DIR_MODE),
            (revoked.join("private_by_serial"), PRIVATE_DIR_MODE),
            (revoked.join("reqs_by_serial"), DIR_MODE),
        ]
    }
}

/// One change to the PKI folder.
#[derive(Debug)]
enum Step {
    Dir {
        path: PathBuf,
        mode: u32,
    },
    Write {
        path: PathBuf,
        bytes: Vec<u8>,
        mode: u32,
        fresh: bool,
    },
    Move {
        from: PathBuf,
        to: PathBuf,
    },
    Remove {
        path: PathBuf,
    },
}

/// Changes to make together, in order. Nothing touches the disk until [`Plan::apply`],
/// which checks every step first.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    steps: Vec<Step>,
}

impl Plan {
    /// Make the folder if it is missing.
    pub fn dir(&mut self, path: PathBuf, mode: u32) {
        self.steps.push(Step::Dir { path, mode });
    }
    /// Make every easy-rsa folder of `layout` that is missing.
    pub fn folders(&mut self, layout: &Layout) {
        for (path, mode) in layout.folders() {
            self.dir(path, mode);
        }
    }
    /// Write (or replace) a file.
    pub fn write(&mut self, path: PathBuf, bytes: impl Into<Vec<u8>>, mode: u32) {
        self.steps.push(Step::Write {
            path,
            bytes: bytes.into(),
            mode,
            fresh: false,
        });
    }
    /// Write a file that must not exist yet.
    pub fn create(&mut self, path: PathBuf, bytes: impl Into<Vec<u8>>, mode: u32) {
        self.steps.push(Step::Write {
            path,
            bytes: bytes.into(),
            mode,
            fresh: true,
        });
    }
    /// Move a file to a path that must not exist yet.
    pub fn rename(&mut self, from: PathBuf, to: PathBuf) {
        self.steps.push(Step::Move { from, to });
    }
    pub fn remove(&mut self, path: PathBuf) {
        self.steps.push(Step::Remove { path });
    }

    /// Refuses the plan, before anything is written, if a step would overwrite
    /// what must not be overwritten or miss what it needs. Steps see the effect
    /// of the steps before them (a file moved away frees its name).
    pub fn check(&self) -> Result<(), PkiError> {
        let mut gone: HashSet<&Path> = HashSet::new();
        let mut made: HashSet<&Path> = HashSet::new();
        let exists = |p: &Path, gone: &HashSet<&Path>, made: &HashSet<&Path>| {
            made.contains(p) || (p.exists() && !gone.contains(p))
        };
        for step in &self.steps {
            match step {
                Step::Write { path, fresh, .. } => {
                    if *fresh && exists(path, &gone, &made) {
                        return Err(PkiError::Conflict {
                            path: path.clone(),
                            reason: "opsdeck does not overwrite it; move it away first".into(),
                        });
                    }
                    made.insert(path);
                }
                Step::Move { from, to } => {
                    if exists(to, &gone, &made) {
                        return Err(PkiError::Conflict {
                            path: to.clone(),
                            reason: format!(
                                "{} cannot be moved there; move the existing file away first",
                                from.display()
                            ),
                        });
                    }
                    if !exists(from, &gone, &made) {
                        return Err(PkiError::io(
                            "move",
                            from,
                            std::io::ErrorKind::NotFound.into(),
                        ));
                    }
                    gone.insert(from);
                    made.remove(from.as_path());
                    made.insert(to);
                }
                Step::Remove { path } => {
                    gone.insert(path);
                    made.remove(path.as_path());
                }
                Step::Dir { path, .. } => {
                    if path.exists() && !path.is_dir() {
                        return Err(PkiError::Conflict {
                            path: path.clone(),
                            reason: "a folder is needed there but it is a file".into(),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Checks the plan, then carries it out step by step.
    pub fn apply(self) -> Result<(), PkiError> {
        self.check()?;
        for step in self.steps {
            match step {
                Step::Dir { path, mode } => make_dir(&path, mode)?,
                Step::Write {
                    path,
                    bytes,
                    mode,
                    fresh,
                } => {
                    if fresh {
                        write_new_file(&path, &bytes, mode)?;
                    } else {
                        write_file(&path, &bytes, mode)?;
                    }
                }
                Step::Move { from, to } => {
                    fs::rename(&from, &to).map_err(|e| PkiError::io("move", &from, e))?;
                    sync_parent(&to);
                }
                Step::Remove { path } => match fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(PkiError::io("remove", &path, e)),
                },
            }
        }
        Ok(())
    }
}

/// Makes `path` (and missing parents) with `mode` if it is not there.
pub(crate) fn make_dir(path: &Path, mode: u32) -> Result<(), PkiError> {
    if path.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(path)
        .map_err(|e| PkiError::io("create the folder", path, e))?;
    // The umask may have taken bits away; the mode is what we asked for, no more.
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| PkiError::io("set the permissions of", path, e))
}

/// Replaces `path` with `bytes` atomically: a temporary file with `mode` from the
/// start (a key is never readable by others, not even for a moment), then a rename.
pub fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), PkiError> {
    let temp = write_temp(path, bytes, mode)?;
    fs::rename(&temp, path).map_err(|e| {
        let _ = fs::remove_file(&temp);
        PkiError::io("write", path, e)
    })?;
    sync_parent(path);
    Ok(())
}

/// Writes `path`, which must not exist: refuses rather than overwrite
/// (a hard link fails if the name is taken, with no window for a race).
pub fn write_new_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), PkiError> {
    let temp = write_temp(path, bytes, mode)?;
    let linked = fs::hard_link(&temp, path);
    let _ = fs::remove_file(&temp);
    match linked {
        Ok(()) => {
            sync_parent(path);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(PkiError::Conflict {
            path: path.to_path_buf(),
            reason: "opsdeck does not overwrite it; move it away first".into(),
        }),
        Err(e) => Err(PkiError::io("write", path, e)),
    }
}

fn write_temp(path: &Path, bytes: &[u8], mode: u32) -> Result<PathBuf, PkiError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let nonce: u32 = rand::random();
    let temp = dir.join(format!(
        ".{name}.opsdeck-{}-{nonce:08x}",
        std::process::id()
    ));
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temp)?;
        // The umask may have taken bits away from `mode`; certificates stay readable.
        file.set_permissions(fs::Permissions::from_mode(mode))?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    match result {
        Ok(()) => Ok(temp),
        Err(e) => {
            let _ = fs::remove_file(&temp);
            Err(PkiError::io("write", path, e))
        }
    }
}

/// Makes a rename durable. Best effort: some file systems cannot sync a folder.
fn sync_parent(path: &Path) {
    if let Some(dir) = path.parent()
        && let Ok(d) = fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
}

/// Reads a file, naming it in the error.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, PkiError> {
    fs::read(path).map_err(|e| PkiError::io("read", path, e))
}

/// The permission bits of `path`.
pub(crate) fn mode_of(path: &Path) -> Result<u32, PkiError> {
    fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o7777)
        .map_err(|e| PkiError::io("read the permissions of", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_with_the_mode_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("k.key");
        write_file(&key, b"secret", SECRET_MODE).unwrap();
        assert_eq!(mode_of(&key).unwrap(), 0o600);
        write_file(&key, b"again", SECRET_MODE).unwrap();
        assert_eq!(fs::read(&key).unwrap(), b"again");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary files left behind");
    }

    #[test]
    fn new_files_are_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        write_new_file(&f, b"one", PUBLIC_MODE).unwrap();
        let err = write_new_file(&f, b"two", PUBLIC_MODE).unwrap_err();
        assert!(matches!(err, PkiError::Conflict { .. }), "{err}");
        assert_eq!(fs::read(&f).unwrap(), b"one");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_plan_that_fails_its_check_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let taken = dir.path().join("taken");
        fs::write(&taken, "x").unwrap();
        let mut plan = Plan::default();
        plan.write(dir.path().join("a"), "a", PUBLIC_MODE);
        plan.dir(dir.path().join("sub"), DIR_MODE);
        plan.create(taken.clone(), "y", PUBLIC_MODE);
        assert!(plan.apply().is_err());
        assert!(!dir.path().join("a").exists());
        assert!(!dir.path().join("sub").exists());
        assert_eq!(fs::read(&taken).unwrap(), b"x");
    }

    #[test]
    fn moves_refuse_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        fs::write(&a, "a").unwrap();
        fs::write(&b, "b").unwrap();
        let mut plan = Plan::default();
        plan.rename(a.clone(), b.clone());
        assert!(plan.apply().is_err());
        assert_eq!(fs::read(&b).unwrap(), b"b");
        let mut plan = Plan::default();
        plan.remove(b.clone());
        plan.rename(a.clone(), b.clone());
        plan.apply().unwrap();
        assert_eq!(fs::read(&b).unwrap(), b"a");
        assert!(!a.exists());
    }

    #[test]
    fn private_folders_get_0700() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(&dir.path().join("pki"));
        let mut plan = Plan::default();
        plan.folders(&layout);
        plan.apply().unwrap();
        assert_eq!(mode_of(&layout.private_dir()).unwrap(), 0o700);
        assert!(layout.revoked_dir().join("reqs_by_serial").is_dir());
    }
}
