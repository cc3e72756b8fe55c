#!/usr/bin/env bash
# The README's test command: installs everything the tests need on a fresh machine
# (pip deps, npm deps, Debian's Chromium, and nginx and Caddy, whose hosting settings the site's
# tests run), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --disable-pip-version-check -e '.[test]'
if [ -f site_builder/package-lock.json ]; then
    npm ci --prefix site_builder --no-audit --no-fund --loglevel=error
fi
if ! command -v chromium >/dev/null 2>&1 || ! command -v nginx >/dev/null 2>&1 || ! command -v caddy >/dev/null 2>&1; then
    sudo=$([ "$(id -u)" = 0 ] || echo sudo)
    $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium nginx-light caddy >/dev/null
fi
exec python -m pytest "$@"
