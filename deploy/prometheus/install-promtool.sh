#!/usr/bin/env bash
# Puts promtool (Prometheus's checker of configs and rules) at .tools/bin/promtool, for
# shared/tests/test_monitoring_config.py, which runs this script itself when promtool is missing.
#
# It comes from Debian bookworm's `prometheus` package (Prometheus 2.42), downloaded and unpacked
# with apt and dpkg-deb, not installed: no Prometheus server is set up or started, and nothing
# outside .tools/ changes. Needs apt, and root when the package lists must be refreshed.
# Idempotent: an existing promtool of the pinned version is kept.
set -euo pipefail

# Debian bookworm's Prometheus; change it with the distribution (and rerun the tests).
VERSION=2.42.0

root=$(cd "$(dirname "$0")/../.." && pwd)
dest=${PROMTOOL_DIR:-$root/.tools/bin}
promtool=$dest/promtool

if [[ -x $promtool ]] && "$promtool" --version 2>/dev/null | grep -q "version $VERSION+"; then
  exit 0
fi
if ! command -v apt-get > /dev/null || ! command -v dpkg-deb > /dev/null; then
  echo "install-promtool: no apt-get/dpkg-deb here; put promtool $VERSION at $promtool" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# apt fetches as its unprivileged user when that user may write the folder.
chown _apt "$work" 2> /dev/null || true
cd "$work"
echo "install-promtool: downloading Debian's prometheus package for promtool $VERSION" >&2
# Missing or stale package lists (a fresh machine, a superseded revision): refresh, then retry.
if ! apt-get download -qq prometheus > /dev/null 2>&1; then
  apt-get update -qq
  apt-get download -qq prometheus
fi
deb=$(ls prometheus_*.deb)
found=$(dpkg-deb -f "$deb" Version)
if [[ $found != "$VERSION+"* ]]; then
  echo "install-promtool: apt offers prometheus $found, not $VERSION: update VERSION in $0" \
    "and the version the tests expect (shared/tests/test_monitoring_config.py)" >&2
  exit 1
fi
dpkg-deb -x "$deb" unpacked
mkdir -p "$dest"
# Moved into place whole, so that two runs at once never see half a binary.
install -m 755 unpacked/usr/bin/promtool "$promtool.$$"
mv -f "$promtool.$$" "$promtool"
"$promtool" --version | head -n 1 >&2
