# Sourced by bench scripts: sets $culprit to CULPRIT=path when given, else builds the
# release binary (CARGO_TARGET_DIR as usual) and points at it. The causal runtime inside
# the binary is a release build whatever the binary's profile. Needs $root.
culprit=${CULPRIT:-}
if [[ -z $culprit ]]; then
  echo "building culprit (release)..." >&2
  cargo build --release -q -p culprit --manifest-path "$root/Cargo.toml"
  culprit=${CARGO_TARGET_DIR:-$root/target}/release/culprit
fi
