#!/usr/bin/env bash
# Install (if needed) and run the main job: data -> labels -> model -> predictions -> backtest (honest protocol),
# printing the table and writing the plots and JSON to results/. Extra arguments go to the backtest command.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
if [ -z "${DEEPREGIME_DATA:-}" ] && [ -d ../shared/data ]; then export DEEPREGIME_DATA="$(cd ../shared/data && pwd)"; fi
export MPLBACKEND=Agg OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
mkdir -p results
exec .venv/bin/python -m deepregime.backtest.backtest_leverage --plots results --json results/backtest.json \
  --save-pred results/pred_backtest.csv "$@"   # then: deepregime report results/backtest.json --out results/report.html
