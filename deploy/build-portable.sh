#!/usr/bin/env bash
# Builds gridgov for machines other than the build machine (docs/scale-out.md, "Binaries"):
#
#   x86_64-unknown-linux-musl   statically linked: runs on any x86_64 Linux, whatever its glibc
#                               (CentOS 7, Kylin, UOS, EulerOS nodes of older clusters)
#   aarch64-unknown-linux-gnu   ARM64 nodes (Huawei Kunpeng, AWS Graviton): glibc 2.17 or later
#                               is not enough; it needs the cross toolchain's (Debian 12: 2.36)
#                               or build it on such a node
#
# Needs, on Debian/Ubuntu: musl-tools gcc-aarch64-linux-gnu libc6-dev-arm64-cross, and the
# Rust targets (`rustup target add x86_64-unknown-linux-musl aarch64-unknown-linux-gnu`).
# With qemu-user installed, the ARM64 binary is also run once under emulation.
# Usage: deploy/build-portable.sh [TARGET...]; binaries in $CARGO_TARGET_DIR/<target>/release/.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(x86_64-unknown-linux-musl aarch64-unknown-linux-gnu)
out="${CARGO_TARGET_DIR:-target}"
for t in "${targets[@]}"; do
  case "$t" in
    x86_64-unknown-linux-musl)
      # C parts (SQLite, zstd, mimalloc) compiled against musl; Rust links musl targets statically.
      export CC_x86_64_unknown_linux_musl=musl-gcc
      cargo build --release --locked --target "$t"
      bin="$out/$t/release/gridgov"
      file "$bin"
      "$bin" --version
      ;;
    aarch64-unknown-linux-gnu)
      export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
      export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
      cargo build --release --locked --target "$t"
      bin="$out/$t/release/gridgov"
      file "$bin"
      if command -v qemu-aarch64 >/dev/null; then
        qemu-aarch64 -L /usr/aarch64-linux-gnu "$bin" --version
      fi
      ;;
    *)
      echo "unknown target $t (x86_64-unknown-linux-musl or aarch64-unknown-linux-gnu)" >&2
      exit 2
      ;;
  esac
done
