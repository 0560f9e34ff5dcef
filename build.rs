//! Puts the git commit into `--version` when built from a checkout, so a bug
//! report names the exact source. Built from a tarball (no git), the version
//! is the crate's alone.

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?;
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

fn main() {
    let pkg = env!("CARGO_PKG_VERSION");
    let version = match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(commit) => {
            // Rebuild when HEAD moves: its file (a branch switch) and the
            // branch's ref (a commit); both live under the git dirs, which
            // differ in a worktree.
            if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
                println!(
                    "cargo:rerun-if-changed={}",
                    PathBuf::from(dir).join("HEAD").display()
                );
            }
            if let (Some(common), Some(head_ref)) = (
                git(&["rev-parse", "--git-common-dir"]),
                git(&["symbolic-ref", "-q", "HEAD"]),
            ) {
                let common = PathBuf::from(common);
                // A path that does not exist would make cargo rerun this
                // script on every build; a ref lives in one of the two.
                for path in [common.join(head_ref), common.join("packed-refs")] {
                    if path.exists() {
                        println!("cargo:rerun-if-changed={}", path.display());
                    }
                }
            }
            // No "modified" mark: the script does not rerun on every source
            // edit, so such a mark would go stale and mislead.
            format!("{pkg} (git {commit})")
        }
        None => pkg.to_string(),
    };
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-env=OPSDECK_VERSION={version}");

    // The release binary keeps line tables for opsdeck's own code (a panic's
    // backtrace names our functions and lines), compressed by the linker:
    // 30 MB of DWARF becomes about 8, and std's backtrace reads zlib
    // sections (checked: the same frames, files and lines either way).
    // Debug builds link faster without it.
    if std::env::var("PROFILE").as_deref() == Ok("release") {
        println!("cargo:rustc-link-arg-bins=-Wl,--compress-debug-sections=zlib");
    }
}
