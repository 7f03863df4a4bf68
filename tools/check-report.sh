#!/usr/bin/env bash
# check-report.sh REPORT.html SCREENSHOT.png [WIDTH]
# Opens a run's report.html in headless Chromium (Debian package `chromium`), takes a screenshot,
# and fails on any console message (the page logs one for every image that failed to load) or
# JavaScript error, or when the screenshot is missing.
set -euo pipefail
report=$(realpath "$1")
shot=$(realpath -m "$2")
width=${3:-1280}   # 390: a phone
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "check-report: chromium is missing (apt-get install chromium)" >&2; exit 2; }
profile=$(mktemp -d)
log=$(mktemp)
trap 'rm -rf "$profile" "$log"' EXIT
# The flags keep Chromium off the network: this machine has none, and a report must not need one.
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --enable-logging=stderr --v=0 \
  --virtual-time-budget=10000 --window-size="$width",4000 \
  --screenshot="$shot" "file://$report" >/dev/null 2>"$log" || { cat "$log"; exit 1; }
if grep -E "CONSOLE|Uncaught" "$log"; then
  echo "check-report: console messages or errors in $report" >&2
  exit 1
fi
[ -s "$shot" ] || { echo "check-report: no screenshot written" >&2; exit 1; }
echo "check-report: $report rendered without console errors; screenshot $shot"
