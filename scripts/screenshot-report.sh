#!/usr/bin/env bash
# Screenshots an HTML report the way a person sees it: headless Chromium, a 1280x1800 window,
# a throwaway profile, no network beyond the file itself.
#
# Usage: scripts/screenshot-report.sh INPUT.html OUTPUT.png
# Needs Debian's chromium (apt-get install chromium). CHROMIUM overrides the binary; WINDOW_SIZE
# (default 1280,1800) the window, e.g. 1280,4000 to see a whole long report.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 INPUT.html OUTPUT.png" >&2
  exit 2
fi
chromium_bin=${CHROMIUM:-chromium}
if ! command -v "$chromium_bin" >/dev/null; then
  echo "$chromium_bin not found: apt-get install chromium" >&2
  exit 127
fi
input=$(realpath "$1")
output=$(realpath -m "$2")
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
rm -f "$output"

# Chromium logs harmless D-Bus complaints on machines without a session bus; keep them out of the
# way and show them only when no screenshot comes out.
if ! timeout 120 "$chromium_bin" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
  --user-data-dir="$profile" --window-size="${WINDOW_SIZE:-1280,1800}" --screenshot="$output" "file://$input" \
  >"$profile/chromium.log" 2>&1 || [ ! -s "$output" ]; then
  cat "$profile/chromium.log" >&2
  echo "no screenshot written to $output" >&2
  exit 1
fi
