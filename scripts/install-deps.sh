#!/usr/bin/env bash
# Installs what mptcp-pm's tests, demo and benchmarks need on a fresh Debian machine (as root): the
# packages in scripts/debian-packages.txt (iproute2 for ip mptcp, mptcpize to run any program over
# MPTCP, python3 with pyroute2 as a benchmark peer, a C compiler and kernel headers for the raw
# reference benchmark, qemu and busybox for the kernel test tier), then npm ci and the build.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  xargs -a scripts/debian-packages.txt apt-get install -y -qq --no-install-recommends >/dev/null
else
  echo "not root or no apt-get: install the packages of scripts/debian-packages.txt yourself" >&2
fi
npm ci --no-audit --no-fund
npm run build
