#!/usr/bin/env bash
# Set up, then run the tests and the eval suite: all questions on the extractive backend, and the
# `local` subset (18 questions) on the packaged local model. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pytest tests evals "$@"
.venv/bin/python -m pytest evals --backend local --subset local "$@"
