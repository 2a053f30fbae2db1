#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (Playwright's own browser download is not
# available offline). Install it when missing; say clearly what to do when we cannot.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "Installing Debian's chromium for the browser tests…"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "The browser tests need Chromium at /usr/bin/chromium (or set HANDOFF_CHROMIUM)." >&2
[ -n "${HANDOFF_CHROMIUM:-}" ] && [ -x "${HANDOFF_CHROMIUM}" ] && exit 0
exit 1
