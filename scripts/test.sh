#!/usr/bin/env bash
# Set up, then run the tests and the eval suite: all questions on the extractive backend, and the
# `local` subset (18 questions) on the packaged local model. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The page of `rag serve` is tested in headless Chromium (tests/test_serve_browser.py), driven through
# Debian's chromium-driver; no browser is downloaded by a Python package.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test: installing chromium and chromium-driver (for the browser test of rag serve)" >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "test: chromium or chromedriver is missing; the browser test needs them (Debian: apt-get install chromium chromium-driver)" >&2
  fi
fi

.venv/bin/python -m pytest tests evals "$@"
.venv/bin/python -m pytest evals --backend local --subset local "$@"
