#!/usr/bin/env bash
# Installs Debian's `chromium` package for the playground's browser test
# (test/playground/playground.test.ts) when it is missing. Call it from .ci/run before the tests,
# either `bash .ci/run.d/chromium.sh` or `. .ci/run.d/chromium.sh`.
#
# It never fails the CI run: without apt-get, root (or passwordless sudo) or a network, it prints
# a warning and the browser test is then skipped with a message naming the package.
# CHROMIUM_PATH overrides the expected location (default /usr/bin/chromium).

__ci_install_chromium() {
  local chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
  local warning="WARNING: Chromium is missing at ${chromium}; the playground browser test will be skipped. Install Debian's package: apt-get install -y chromium"
  if [ -x "$chromium" ]; then
    echo "chromium: $("$chromium" --version 2>/dev/null | head -n 1 || echo present) at ${chromium}"
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "${warning} (apt-get is not available here)" >&2
    return 0
  fi
  local -a as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
      as_root=(sudo -n)
    else
      echo "${warning} (not root and no passwordless sudo)" >&2
      return 0
    fi
  fi
  local -a limit=()
  command -v timeout >/dev/null 2>&1 && limit=(timeout 900)
  local log
  log="$(mktemp 2>/dev/null || echo /tmp/ci-chromium-install.log)"
  echo "chromium: installing Debian's chromium package with apt-get"
  if "${limit[@]}" "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$log" 2>&1 &&
    "${limit[@]}" "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >>"$log" 2>&1 &&
    [ -x "$chromium" ]; then
    echo "chromium: installed $("$chromium" --version 2>/dev/null | head -n 1)"
  else
    echo "${warning} (apt-get failed; last lines of its output follow)" >&2
    tail -n 15 "$log" >&2 || true
  fi
  rm -f "$log"
  return 0
}

__ci_install_chromium
unset -f __ci_install_chromium
true
