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
        // Relative relocations packed (DT_RELR): 2 MB less of .rela.dyn.
        // Only where the linker and the C library here both take them, so a
        // build never leaves a binary that cannot start.
        if packed_relocations_work() {
            println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
        }
    }
}

/// Links and runs a tiny position-independent program with a relative
/// relocation packed as DT_RELR: binutils 2.38+ takes the flag, and only
/// glibc 2.36+ starts the result. Skipped when cross-compiling.
fn packed_relocations_work() -> bool {
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    if var("TARGET") != var("HOST") || var("CARGO_CFG_TARGET_OS") != "linux" {
        return false;
    }
    let Some(dir) = std::env::var_os("OUT_DIR").map(PathBuf::from) else {
        return false;
    };
    let src = dir.join("relr_probe.c");
    let exe = dir.join("relr_probe");
    let program = "static int x = 7; int *p = &x; int main(void) { return *p == 7 ? 0 : 1; }\n";
    if std::fs::write(&src, program).is_err() {
        return false;
    }
    let linked = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .args(["-fPIE", "-pie", "-Wl,-z,pack-relative-relocs"])
        .output()
        .is_ok_and(|o| o.status.success());
    linked && Command::new(&exe).status().is_ok_and(|s| s.success())
}
