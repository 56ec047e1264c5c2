#!/usr/bin/env bash
# Installs what mptcp-pm's tests, demo and benchmarks need on a fresh Debian machine (as root):
# iproute2 (ip mptcp), mptcpize (runs any program over MPTCP), python3 with pyroute2 (a peer in
# the benchmarks), a C compiler and kernel headers (the raw reference benchmark), then npm ci.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends \
    iproute2 mptcpd mptcpize python3 python3-pyroute2 gcc libc6-dev linux-libc-dev procps kmod >/dev/null
else
  echo "not root or no apt-get: install iproute2, mptcpize, python3-pyroute2 and gcc yourself" >&2
fi
npm ci --no-audit --no-fund
npm run build
