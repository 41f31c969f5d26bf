#!/usr/bin/env bash
# Recompute every stored result the docs show: the seed and honest protocol runs of chapter 05 (nbs/results/) and
# the walk-forward of chapter 06 (nbs/walkforward_results/; its fold models are cached in runs/walkforward_cache/), the
# forecasting run of chapter 07 (nbs/forecast_results/) and the allocation run of chapter 08 (nbs/allocation_results/).
# Then re-execute the notebooks that display them so the pages match the files.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
if [ -z "${DEEPREGIME_DATA:-}" ] && [ -d ../shared/data ]; then export DEEPREGIME_DATA="$(cd ../shared/data && pwd)"; fi
export MPLBACKEND=Agg OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
mkdir -p nbs/results
for p in seed honest; do
  .venv/bin/python -m deepregime.backtest.backtest_leverage --protocol $p \
    --save-pred nbs/results/pred_$p.csv --json nbs/results/$p.json --plots nbs/results/$p > nbs/results/.$p.txt
  mv nbs/results/.$p.txt nbs/results/$p.txt; cat nbs/results/$p.txt
done
mkdir -p nbs/walkforward_results
.venv/bin/python -m deepregime.walkforward --json nbs/walkforward_results/walkforward.json \
  --signals nbs/walkforward_results/signals.csv.gz --plots nbs/walkforward_results > nbs/walkforward_results/.run.txt
mv nbs/walkforward_results/.run.txt nbs/walkforward_results/run.txt  # only a finished run replaces the stored output
cat nbs/walkforward_results/run.txt
mkdir -p nbs/walkforward_results/searched  # chapter 06's nested search of the HMM and the jump model (about 13 minutes)
.venv/bin/python -m deepregime.walkforward --methods hmm jump_model --search-trials 12 --inner-folds 2 \
  --json nbs/walkforward_results/searched/walkforward.json --signals nbs/walkforward_results/searched/signals.csv.gz \
  > nbs/walkforward_results/searched/.run.txt
mv nbs/walkforward_results/searched/.run.txt nbs/walkforward_results/searched/run.txt
mkdir -p nbs/walkforward_results/searched_transformer  # and of the one-day-ahead Transformer (about 20 minutes)
.venv/bin/python -m deepregime.walkforward --methods transformer --horizon 1 --transformer-trials 4 --inner-folds 2 \
  --json nbs/walkforward_results/searched_transformer/walkforward.json \
  --signals nbs/walkforward_results/searched_transformer/signals.csv.gz > nbs/walkforward_results/searched_transformer/.run.txt
mv nbs/walkforward_results/searched_transformer/.run.txt nbs/walkforward_results/searched_transformer/run.txt
mkdir -p nbs/walkforward_results/scale  # chapter 06's scale-out table: serial, process pool, Ray (about 16 minutes)
.venv/bin/python bench/walkforward_scale.py --json nbs/walkforward_results/scale/benchmark.json \
  > nbs/walkforward_results/scale/.run.txt
mv nbs/walkforward_results/scale/.run.txt nbs/walkforward_results/scale/run.txt
mkdir -p nbs/speed_results  # chapter 04f: MFU of one network and of stacked ones, a seed ensemble both ways (about 4 minutes)
.venv/bin/python bench/model_speed.py --profile > nbs/speed_results/.model_speed.txt
mv nbs/speed_results/.model_speed.txt nbs/speed_results/model_speed.txt
.venv/bin/python bench/ensemble_training.py > nbs/speed_results/.ensemble_training.txt
mv nbs/speed_results/.ensemble_training.txt nbs/speed_results/ensemble_training.txt
mkdir -p nbs/forecast_results nbs/allocation_results
for t in forward_vol forward_drawdown; do  # chapter 07: both targets, four horizons, 20 folds, 13 methods (about 15 minutes)
  .venv/bin/python -m deepregime.forecasting --target $t --horizon 1 5 10 21 --features extended \
    --json nbs/forecast_results/$t.json --forecasts nbs/forecast_results/${t}_forecasts.csv.gz > nbs/forecast_results/.$t.txt
  mv nbs/forecast_results/.$t.txt nbs/forecast_results/$t.txt
done
.venv/bin/python -m deepregime.allocation --json nbs/allocation_results/allocation.json --plots nbs/allocation_results \
  > nbs/allocation_results/.run.txt  # chapter 08
mv nbs/allocation_results/.run.txt nbs/allocation_results/run.txt
bash scripts/run_notebooks.sh index 04f_batched 05_backtest 06_walkforward 07_forecasting 08_allocation 09_cli
