#!/usr/bin/env bash
# Executes every notebooks/*.ipynb top to bottom in a virtualenv, for CI or a quick check
# after a run. The .ipynb files are read, executed in memory and never written back.
#
# Usage (from the repository root, after a run exists in outputs/demo/latest/):
#   bash notebooks/run_notebooks.sh [NOTEBOOK.ipynb ...]     (default: all of notebooks/*.ipynb)
# Env:
#   NB_VENV      virtualenv to create or reuse (default: notebooks/.venv-notebooks)
#   PYTHON       interpreter that creates it (default: python3; needs >= 3.11)
#   GRIDGOV_RUN  run folder the notebooks read (default: ../outputs/demo/latest, relative to notebooks/)
# Exit status: 0 when every notebook ran without a cell error, 1 otherwise.
set -euo pipefail

NB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${NB_VENV:-$NB_DIR/.venv-notebooks}"
PYTHON="${PYTHON:-python3}"

if [ "$#" -gt 0 ]; then
    notebooks=("$@")
else
    shopt -s nullglob
    notebooks=("$NB_DIR"/*.ipynb)
    shopt -u nullglob
fi
if [ "${#notebooks[@]}" -eq 0 ]; then
    echo "run_notebooks: no notebooks found in $NB_DIR" >&2
    exit 1
fi

# The notebooks resolve GRIDGOV_RUN relative to notebooks/ (their working directory).
run_dir="${GRIDGOV_RUN:-../outputs/demo/latest}"
if ! (cd "$NB_DIR" && [ -f "$run_dir/street.parquet" ]); then
    echo "run_notebooks: no gridgov run at '$run_dir' (relative to notebooks/)." >&2
    echo "  Run the demo first:  cargo run --release -- run pipelines/demo.toml" >&2
    echo "  or set GRIDGOV_RUN to a run folder." >&2
    exit 1
fi

SECONDS=0
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
        echo "run_notebooks: $PYTHON is $("$PYTHON" -V 2>&1); the notebooks need Python >= 3.11 (set PYTHON)" >&2
        exit 1
    }
    echo "run_notebooks: creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$NB_DIR/requirements.txt"
# A "python3" kernel spec that runs the venv's interpreter, found first through JUPYTER_PATH
# (ahead of any python3 kernel in the user's or the system's Jupyter folders).
"$VENV/bin/python" -m ipykernel install --prefix "$VENV" --name python3 \
    --display-name "Python 3 (gridgov notebooks)" >/dev/null
export JUPYTER_PATH="$VENV/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
echo "run_notebooks: environment ready in ${SECONDS}s ($VENV)"

SECONDS=0
status=0
"$VENV/bin/python" - "$VENV" "${notebooks[@]}" <<'PY' || status=$?
import os
import sys
import time

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

venv, paths = sys.argv[1], sys.argv[2:]
spec = KernelSpecManager().get_kernel_spec("python3")
kernel_python = spec.argv[0]
if os.path.realpath(kernel_python) != os.path.realpath(os.path.join(venv, "bin", "python")):
    sys.exit(f"run_notebooks: kernel python3 runs {kernel_python}, not the venv's python ({spec.resource_dir})")

passed = failed = 0
for path in paths:
    started = time.monotonic()
    nb = nbformat.read(path, as_version=4)  # executed in memory only; the file is not written
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
    )
    try:
        client.execute()
    except CellExecutionError as error:
        failed += 1
        print(f"FAIL {os.path.relpath(path)} ({time.monotonic() - started:.1f}s)\n{error}", flush=True)
    except Exception as error:  # dead kernel, timeout, unreadable notebook
        failed += 1
        print(f"FAIL {os.path.relpath(path)} ({time.monotonic() - started:.1f}s): {type(error).__name__}: {error}", flush=True)
    else:
        passed += 1
        cells = sum(cell.cell_type == "code" for cell in nb.cells)
        print(f"ok   {os.path.relpath(path)} ({cells} code cells, {time.monotonic() - started:.1f}s)", flush=True)
print(f"notebooks: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
echo "run_notebooks: executed in ${SECONDS}s"
exit "$status"
