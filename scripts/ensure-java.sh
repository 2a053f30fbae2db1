#!/usr/bin/env bash
# The Spark parity tests start a local Spark Connect server, which needs a Java runtime
# (17 or later). Install Debian's when missing; say clearly what to do when we cannot.
set -euo pipefail
if command -v java >/dev/null 2>&1 || [ -n "${JAVA_HOME:-}" ]; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "Installing Debian's Java runtime for the Spark parity tests…"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq default-jre-headless >/dev/null
  exit 0
fi
echo "The Spark parity tests need Java 17 or later on the PATH (or JAVA_HOME)." >&2
exit 1
