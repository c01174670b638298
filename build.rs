//! Records the git commit the `amp` binary is built from (for run records' provenance), when
//! it is built inside a git checkout with `git` on the PATH; otherwise records nothing.

use std::process::Command;

fn main() {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    if let Some(commit) = git(&["rev-parse", "HEAD"]) {
        println!("cargo:rustc-env=AMP_GIT_COMMIT={commit}");
    }
    // Rebuild when the commit changes (not on every edit: uncommitted changes are not marked).
    if let Some(dir) = git(&["rev-parse", "--git-common-dir"]) {
        for f in ["HEAD", "refs/heads", "packed-refs"] {
            println!("cargo:rerun-if-changed={dir}/{f}");
        }
    }
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
    }
}
