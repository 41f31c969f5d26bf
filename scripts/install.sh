#!/usr/bin/env bash
# Install deepregime and its dev tools into ./.venv (idempotent). Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
# torch first, pinned to the CPU wheel range (a plain `torch` would pull several GB of CUDA)
# Set TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu where plain PyPI would serve the CUDA build.
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  .venv/bin/pip install -q 'torch>=2.13,<2.14' ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
fi
stamp=.venv/.deepregime-installed
if [ ! -f "$stamp" ] || [ setup.py -nt "$stamp" ] || [ settings.ini -nt "$stamp" ]; then
  .venv/bin/pip install -q -e '.[dev,ray]'  # the tests run the optional Ray backend too
  touch "$stamp"
fi
# headless Chromium for the docs-site browser test (Debian package; root on these machines)
if [ ! -x /usr/bin/chromium ] && [ "${DEEPREGIME_NO_BROWSER:-0}" != 1 ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "install.sh: /usr/bin/chromium missing and cannot apt-get it; the browser test will be skipped" >&2
  fi
fi
