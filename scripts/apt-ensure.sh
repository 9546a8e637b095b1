#!/usr/bin/env bash
# Install the named Debian packages, but only those not installed yet.
#
#   scripts/apt-ensure.sh PKG...
#
# - Checks each package with dpkg first: when all are installed it does nothing (and needs
#   neither root nor the network).
# - Runs `apt-get update` at most once per call, and only when something is missing.
# - Never prompts (CI has no standard input) and waits up to 10 minutes for the dpkg lock
#   when another apt/dpkg is running, instead of failing.
# - Not root and something missing: says which packages and the command to run, exits 1.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 PKG..." >&2
    exit 2
fi

is_installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

missing=()
for pkg in "$@"; do
    is_installed "$pkg" || missing+=("$pkg")
done

if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "apt-ensure: missing Debian packages: ${missing[*]}; this machine has no apt-get." >&2
    echo "apt-ensure: install their equivalents by hand." >&2
    exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "apt-ensure: missing Debian packages: ${missing[*]}" >&2
    echo "apt-ensure: run as root (or with sudo):" >&2
    echo "    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0)

echo "apt-ensure: installing ${missing[*]}"
# apt-get update once. Another apt may hold the lists lock: wait for it (up to 10 minutes).
# A failed update is not fatal by itself: the install below may still find the packages.
for attempt in $(seq 1 60); do
    if out=$(apt-get "${apt_opts[@]}" -qq update 2>&1); then
        break
    fi
    if grep -qi 'lock' <<<"$out" && [ "$attempt" -lt 60 ]; then
        echo "apt-ensure: apt lists locked by another process; waiting..." >&2
        sleep 10
        continue
    fi
    echo "$out" >&2
    echo "apt-ensure: apt-get update failed; trying the install anyway" >&2
    break
done
apt-get "${apt_opts[@]}" install -y -q --no-install-recommends "${missing[@]}"

still=()
for pkg in "${missing[@]}"; do
    is_installed "$pkg" || still+=("$pkg")
done
if [ "${#still[@]}" -ne 0 ]; then
    echo "apt-ensure: still not installed after apt-get: ${still[*]}" >&2
    exit 1
fi
