#!/usr/bin/env bash
# Set up the toolkit in .venv/ and run the demo workflow (every stage on CPU, embedded scene).
#   ./setup.sh                 set up, then `snakemake --cores 2` on configs/demo.yaml
#   ./setup.sh --cores 4 ...   extra arguments go to snakemake
#   LIONLORA_SETUP_ONLY=1 ./setup.sh    set up only (CI)
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is required"'
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip

# torch first, pinned: on the CPU machines torch==2.13.0 resolves to a local CPU wheel; an
# unpinned torch would pull several GB of CUDA packages. An existing torch is kept.
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  .venv/bin/python -m pip install -q "torch==${LIONLORA_TORCH_VERSION:-2.13.0}"
fi
.venv/bin/python -m pip install -q -e ".[test,cluster]"

if [ "${LIONLORA_SETUP_ONLY:-0}" != 1 ]; then
  args=("$@")
  [ ${#args[@]} -gt 0 ] || args=(--cores 2)
  PATH="$PWD/.venv/bin:$PATH" .venv/bin/snakemake "${args[@]}"
fi
