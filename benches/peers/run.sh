#!/usr/bin/env bash
# Runs the peers benchmark in its own virtualenv (benches/peers/.venv, made when missing):
#   bash benches/peers/run.sh --size S --runs 3 --gridgov target/release/gridgov
# Every argument goes to peers.py. PYTHON picks the interpreter for a new venv (default python3.11).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  py="${PYTHON:-$(command -v python3.11 || command -v python3)}"
  echo "creating $venv with $py" >&2
  "$py" -m venv "$venv"
fi
# Install only when requirements.txt changed since the last install.
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --only-binary=:all: -r "$here/requirements.txt"
  echo "$want" > "$stamp"
fi
# SedonaDB only when a run asks for it.
if [[ " $* " == *sedonadb* ]]; then
  stamp="$venv/.requirements-sedonadb.sha256"
  want="$(sha256sum "$here/requirements-sedonadb.txt" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    "$venv/bin/python" -m pip install -q --disable-pip-version-check --only-binary=:all: -r "$here/requirements-sedonadb.txt"
    echo "$want" > "$stamp"
  fi
fi
exec "$venv/bin/python" "$here/peers.py" "$@"
