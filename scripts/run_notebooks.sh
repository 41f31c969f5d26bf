#!/usr/bin/env bash
# Execute notebooks in place (all cells, `#| notest` ones too) so their stored outputs and plots are current, store
# the plots as 8-bit palette PNGs (scripts/shrink_plots.py), then clean them.
# Usage: bash scripts/run_notebooks.sh [NAME ...]   (names without .ipynb; default: every notebook)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DEEPREGIME_DATA:-}" ] && [ -d ../shared/data ]; then export DEEPREGIME_DATA="$(cd ../shared/data && pwd)"; fi
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
unset MPLBACKEND  # the kernel's inline backend must draw the plots into the notebook
names=("$@")
if [ ${#names[@]} -eq 0 ]; then names=($(cd nbs && ls *.ipynb | sed 's/\.ipynb$//')); fi
for nb in "${names[@]}"; do
  echo "== $nb"
  (cd nbs && ../.venv/bin/jupyter nbconvert --to notebook --execute --inplace "$nb.ipynb" --ExecutePreprocessor.timeout=1800 --log-level=WARN)
  .venv/bin/python scripts/shrink_plots.py "nbs/$nb.ipynb"  # plots stored as 8-bit palette PNGs
  .venv/bin/nbdev_clean --fname "nbs/$nb.ipynb"
done
