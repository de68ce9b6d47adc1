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
for name in chromium chromium-browser google-chrome; do
  command -v "$name" >/dev/null 2>&1 && exit 0
done
echo "ccw-agent: no Chromium yet; trying Playwright's download" >&2
if timeout 120 "$PY" -m playwright install chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ccw-agent: Playwright's download failed; installing Debian's chromium package" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  command -v chromium >/dev/null 2>&1 && exit 0
fi
cat >&2 <<'MSG'
ccw-agent: no Chromium could be installed. Install one, then run the command again:
  python -m playwright install chromium          (needs access to Playwright's browser downloads)
  sudo apt-get install -y chromium               (Debian / Ubuntu)
or set CCW_BROWSER_EXECUTABLE to the path of an installed Chromium or Chrome.
MSG
exit 1
