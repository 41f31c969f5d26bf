#!/usr/bin/env bash
# Recompute every stored result the docs show (nbs/results/): the seed and honest protocol runs of chapter 05 and
# the walk-forward of chapter 06. Then re-execute the notebooks that display them so the pages match the files.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
if [ -z "${DEEPREGIME_DATA:-}" ] && [ -d ../shared/data ]; then export DEEPREGIME_DATA="$(cd ../shared/data && pwd)"; fi
export MPLBACKEND=Agg
mkdir -p nbs/results
for p in seed honest; do
  .venv/bin/python -m deepregime.backtest.backtest_leverage --protocol $p \
    --save-pred nbs/results/pred_$p.csv --json nbs/results/$p.json | tee nbs/results/$p.txt
done
if .venv/bin/python -c "import deepregime.walkforward" 2>/dev/null; then
  .venv/bin/python -m deepregime.walkforward --json nbs/results/walkforward.json --signals nbs/results/walkforward_signals.csv | tee nbs/results/walkforward.txt
fi
for nb in index 05_backtest 06_walkforward; do
  [ -f nbs/$nb.ipynb ] || continue
  (cd nbs && ../.venv/bin/jupyter nbconvert --to notebook --execute --inplace $nb.ipynb --ExecutePreprocessor.timeout=1800)
done
.venv/bin/nbdev_clean
