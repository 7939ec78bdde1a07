#!/usr/bin/env bash
# Set up, then run the unit/end-to-end tests and the eval suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pytest tests evals "$@"
