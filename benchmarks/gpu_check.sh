#!/usr/bin/env bash
# The paper recipes' GPU-only parts at toy size, for a machine with one CUDA GPU (see benchmarks/gpu_check.py):
# QLoRA, quantised DoRA (qdora), Mixtral-style expert + router targets on a tiny MoE, DeepSpeed ZeRO-2 through
# `accelerate launch`, vLLM generation. Needs `pip install -e '.[gpu]'` (bitsandbytes, deepspeed) and, for
# the vLLM part, `pip install vllm`; a part whose package is missing, or any part on a machine without CUDA,
# is SKIPped with the reason. Each part runs in its own process (vLLM keeps the GPU's memory until exit).
#
#   benchmarks/gpu_check.sh              # every part
#   benchmarks/gpu_check.sh qlora vllm   # some parts
# Prints PASS/FAIL/SKIP per part, then a summary line; exits 1 when a part failed, else 0.
set -u
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
[ -x "$PY" ] || PY=python3
PARTS=("$@")
[ ${#PARTS[@]} -gt 0 ] || PARTS=(qlora qdora moe zero2 vllm)

passed=0 failed=0 skipped=0
for part in "${PARTS[@]}"; do
  log=$(mktemp)
  "$PY" benchmarks/gpu_check.py "$part" >"$log" 2>&1
  status=$?
  line=$(grep -E '^(PASS|FAIL|SKIP) ' "$log" | tail -n 1)
  case $status in
    0) passed=$((passed + 1)) ;;
    77) skipped=$((skipped + 1)) ;;
    *) failed=$((failed + 1))
       [ -n "$line" ] || line="FAIL $part: exited $status: $(tail -n 1 "$log")" ;;
  esac
  echo "$line"
  rm -f "$log"
done
echo "gpu_check: ${passed} passed, ${failed} failed, ${skipped} skipped (of ${#PARTS[@]})"
[ "$failed" -eq 0 ]
