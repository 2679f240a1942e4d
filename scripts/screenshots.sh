#!/usr/bin/env bash
# Regenerate the README's screenshots from the browser tests and list what was written.
#
#   scripts/screenshots.sh [--prune] [pytest arguments...]
#
# The browser tests save a PNG of every pane state and card through their shared `shot()`
# helper; this runs them with GOEDGESPREK_SCREENSHOTS pointing at docs/screenshots (or the
# folder in that variable). PNGs in the folder that no test wrote this run are listed as stale;
# --prune removes them. Needs the test set-up of `make test` (.venv, node_modules, chromium).
set -uo pipefail
cd "$(dirname "$0")/.."

out="${GOEDGESPREK_SCREENSHOTS:-docs/screenshots}"
python="${PYTHON:-.venv/bin/python}"
prune=0
if [[ "${1:-}" == "--prune" ]]; then
  prune=1
  shift
fi

mkdir -p "$out"
stamp="$(mktemp)"
trap 'rm -f "$stamp"' EXIT

GOEDGESPREK_SCREENSHOTS="$out" "$python" -m pytest tests/browser -m browser -q -p no:cacheprovider "$@"
status=$?

echo
echo "Screenshots written to $out:"
written="$(find "$out" -maxdepth 1 -name '*.png' -newer "$stamp" | sort)"
echo "${written:-  (none)}"
stale="$(find "$out" -maxdepth 1 -name '*.png' ! -newer "$stamp" | sort)"
if [[ -n "$stale" ]]; then
  if [[ $prune -eq 1 && $status -eq 0 ]]; then
    echo "Removed, no test writes them any more:"
    echo "$stale"
    echo "$stale" | while IFS= read -r file; do rm -f -- "$file"; done
  else
    echo "Not written this run (--prune removes them after a passing run):"
    echo "$stale"
  fi
fi
if [[ $status -ne 0 ]]; then
  echo "The browser tests failed (exit $status): the screenshots above may be incomplete." >&2
fi
exit $status
