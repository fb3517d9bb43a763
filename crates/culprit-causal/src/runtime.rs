//! The preload runtime, carried inside the binary and written out when a run needs it.

use std::path::PathBuf;

/// The bytes of `libculprit_causal_rt.so`, built from `crates/culprit-causal-rt`.
pub const RUNTIME_SO: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/libculprit_causal_rt.so"));

/// Writes the runtime to a per-user cache file named by its content hash (reused across
/// runs, never clobbered while another run uses an older one) and returns its path.
pub fn install() -> std::io::Result<PathBuf> {
    let hash = RUNTIME_SO.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let dir = std::env::temp_dir().join(format!("culprit-{}", users_id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("libculprit_causal_rt-{hash:016x}.so"));
    if std::fs::metadata(&path).map(|m| m.len() as usize).ok() != Some(RUNTIME_SO.len()) {
        let tmp = dir.join(format!(".rt-{}.so", std::process::id()));
        std::fs::write(&tmp, RUNTIME_SO)?;
        std::fs::rename(&tmp, &path)?;
    }
    Ok(path)
}

fn users_id() -> String {
    std::env::var("USER").unwrap_or_else(|_| "user".into())
}
