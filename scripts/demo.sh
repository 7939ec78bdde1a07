#!/usr/bin/env bash
# Set up, ingest the seed articles and ask a question: rag's main job on its offline defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/rag ingest seeds/
.venv/bin/rag search "Patriot missiles" -k 3
