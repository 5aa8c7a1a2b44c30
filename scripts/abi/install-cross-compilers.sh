#!/usr/bin/env bash
# Installs the Debian 12 cross compilers (with their target glibc + kernel uapi
# headers) and musl-tools that scripts/abi/generate.ts needs to regenerate every
# lib/abi/targets/*.ts file. Not needed by CI: CI only checks the host target
# with the host `cc`.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends \
  gcc libc6-dev linux-libc-dev \
  musl-tools musl-dev \
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross linux-libc-dev-arm64-cross \
  gcc-arm-linux-gnueabihf libc6-dev-armhf-cross linux-libc-dev-armhf-cross \
  gcc-i686-linux-gnu libc6-dev-i386-cross linux-libc-dev-i386-cross \
  gcc-riscv64-linux-gnu libc6-dev-riscv64-cross linux-libc-dev-riscv64-cross \
  gcc-powerpc64le-linux-gnu libc6-dev-ppc64el-cross linux-libc-dev-ppc64el-cross \
  gcc-s390x-linux-gnu libc6-dev-s390x-cross linux-libc-dev-s390x-cross \
  gcc-mips64el-linux-gnuabi64 libc6-dev-mips64el-cross linux-libc-dev-mips64el-cross
