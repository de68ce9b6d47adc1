#!/usr/bin/env bash
# Make sure a Chromium exists: Playwright's own if it can be downloaded, else the OS package.
set -euo pipefail
PY="${1:-python3}"

if [ -n "${CCW_BROWSER_EXECUTABLE:-}" ] && [ -x "${CCW_BROWSER_EXECUTABLE}" ]; then
  exit 0
fi
if "$PY" -c 'from agent.browser import managed_chromium as m; raise SystemExit(m() is None)'; then
  exit 0
fi
# Headless runs use Chromium's headless shell where one is installed (lighter on CPU): Debian's
# package is added once, beside a chromium found here, when apt can install it (never fatal).
shell_once() {
  local tried
  tried="$(dirname "$(dirname "$PY")")/.headless-shell-tried"
  if command -v chromium-headless-shell >/dev/null 2>&1 || [ -e "$tried" ]; then
    return 0
  fi
  touch "$tried" 2>/dev/null || true
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    timeout 300 apt-get install -y -qq chromium-headless-shell >/dev/null 2>&1 || true
  fi
}
for name in chromium chromium-browser google-chrome; do
  if command -v "$name" >/dev/null 2>&1; then
    [ "$name" = chromium ] && shell_once
    exit 0
  fi
done
echo "ccw-agent: no Chromium yet; trying Playwright's download" >&2
if timeout 120 "$PY" -m playwright install chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ccw-agent: Playwright's download failed; installing Debian's chromium package" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  apt-get install -y -qq chromium-headless-shell >/dev/null 2>&1 || true
  command -v chromium >/dev/null 2>&1 && exit 0
fi
cat >&2 <<'MSG'
ccw-agent: no Chromium could be installed. Install one, then run the command again:
  python -m playwright install chromium          (needs access to Playwright's browser downloads)
  sudo apt-get install -y chromium               (Debian / Ubuntu)
or set CCW_BROWSER_EXECUTABLE to the path of an installed Chromium or Chrome.
MSG
exit 1
