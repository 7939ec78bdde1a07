#!/usr/bin/env bash
# Set up, ingest the seed articles and ask a question with the packaged local model: rag's main job
# on its offline defaults (no API key; rag starts and stops the model server itself).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/rag ingest seeds/
.venv/bin/rag ask "What did Zelenskyy ask Trump for?" "Who won the 2024 Super Bowl?"
