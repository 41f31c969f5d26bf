#!/usr/bin/env bash
# Install (if needed) and run every test: each notebook through nbdev's test runner, then tests/, one pytest summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
if [ -z "${DEEPREGIME_DATA:-}" ] && [ -d ../shared/data ]; then export DEEPREGIME_DATA="$(cd ../shared/data && pwd)"; fi
export MPLBACKEND=Agg OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
exec .venv/bin/python -m pytest tests/ "$@"
