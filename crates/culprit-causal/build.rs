//! Builds the causal runtime (`culprit-causal-rt`, a preload cdylib) with a nested cargo in
//! a private target directory, so `culprit` can carry it inside its one binary.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let rt = manifest_dir.join("../culprit-causal-rt");
    println!("cargo:rerun-if-changed={}", rt.join("src").display());
    println!("cargo:rerun-if-changed={}", rt.join("Cargo.toml").display());
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let target = out.join("rt-target");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "culprit-causal-rt",
            "--manifest-path",
        ])
        .arg(rt.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        // The outer build's wrappers and flags (clippy, coverage) are not for the runtime.
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .env_remove("CARGO_MAKEFLAGS")
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .status();
    match status {
        Ok(s) if s.success() => {}
        other => panic!("building culprit-causal-rt failed: {other:?}"),
    }
    let so = target.join("release/libculprit_causal_rt.so");
    let dest = out.join("libculprit_causal_rt.so");
    if let Err(e) = std::fs::copy(&so, &dest) {
        panic!("copying {}: {e}", so.display());
    }
}
