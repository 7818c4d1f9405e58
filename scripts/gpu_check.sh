#!/usr/bin/env bash
# The GPU checks, unattended, in under 10 minutes: `bash scripts/gpu_check.sh` on a machine with a GPU.
#
#   1. the tests marked `cuda` (tests/test_gpu_path.py and any other)             at most 150 s
#   2. the training-length experiment (`alphavae grid --experiment training_length at most 270 s
#      --preset cpu`: 100 epochs, 3 seeds, metrics recorded at epochs 1-100),
#      16 runs trained together; rows in results/gpu/training_length.csv
#   3. `alphavae bench --device cuda`: ms per step and images/s of one run, of     at most 150 s
#      seven runs trained together, and of the straightforward loop, and one
#      MNIST epoch as a whole process, fast trainer against the plain loop
#   4. the paper-scale MNIST column of Table 1 (7 regularisers x 5 seeds x 100     what is left
#      epochs, `alphavae grid --preset paper --datasets mnist --no-figure1`), as
#      much as the time left allows, the alpha-VAE rows first. Finished runs are
#      rows of results/gpu/benchmarks.csv, which a rerun skips; an unfinished
#      group continues from its last epoch if this machine still holds its
#      checkpoint (results/gpu/checkpoints/, which git ignores: never committed).
#
# Every result lands in results/gpu/ as small CSV and JSON files, each with the device, the date, the
# commit and the torch version; commit that folder. Each step runs under `timeout`, and the whole
# script stops within GPU_CHECK_SECONDS (default 540 s).
#
# Environment: GPU_CHECK_SECONDS (the bound, default 540), GROUP_SIZE (runs the grid trains together,
# default 5: one regulariser's five seeds, so each group computes one regulariser), PYTHON (default
# .venv/bin/python, else python3), ALPHAVAE_DATA (the MNIST files; default data/ in the repository).
set -u -o pipefail

cd "$(dirname "$0")/.."
OUT=results/gpu
TOTAL=${GPU_CHECK_SECONDS:-540}
GROUP=${GROUP_SIZE:-5}
if [ -z "${PYTHON:-}" ]; then
    if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" ALPHAVAE_QUIET=1 PYTHONUNBUFFERED=1
START=$(date +%s)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

elapsed() { echo $(($(date +%s) - START)); }
log() { echo "[gpu_check $(elapsed)s] $*"; }
# seconds a step may take: at most $1, and never more than leaves $2 s of the whole bound
budget() {
    local left=$((TOTAL - $(elapsed) - $2))
    if [ "$left" -lt "$1" ]; then echo $((left > 0 ? left : 0)); else echo "$1"; fi
}
# run a step under `timeout`, SIGINT first (the commands stop cleanly on it), and note how it ended
step() {
    local name=$1 seconds=$2 begin rc
    shift 2
    begin=$(date +%s)
    if [ "$seconds" -le 0 ]; then
        log "$name: no time left, skipped"
        rc=-1
    else
        log "$name: at most ${seconds}s: $*"
        timeout --signal=INT --kill-after=15 "$seconds" "$@"
        rc=$?
    fi
    echo "{\"step\": \"$name\", \"exit_code\": $rc, \"seconds\": $(($(date +%s) - begin)), \"limit_s\": $seconds}" >>"$TMP/steps.jsonl"
    log "$name: exit code $rc (124: stopped at its time limit)"
}

if ! "$PYTHON" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "error: no CUDA device visible to $PYTHON (torch.cuda.is_available() is False); nothing run" >&2
    exit 2
fi
mkdir -p "$OUT"

# ---------------------------------------------------------------------------- 0. where and what
"$PYTHON" - "$OUT" "$TOTAL" "$GROUP" <<'EOF'
import platform, sys
from pathlib import Path

import torch

from alphavae_core.experiments.bench import cpu_name
from alphavae_core.experiments.results import provenance, write_json

out, total, group = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
gpu = torch.cuda.get_device_properties(0)
write_json(out / "provenance.json", {
    **provenance("cuda"),
    "gpu": gpu.name, "gpu_memory_gib": round(gpu.total_memory / 2**30, 1), "gpus": torch.cuda.device_count(),
    "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(), "cpu": cpu_name(),
    "python": platform.python_version(), "bound_seconds": total, "grid_group_size": group,
    "script": "scripts/gpu_check.sh",
})
print(f"{gpu.name}, torch {torch.__version__}, CUDA {torch.version.cuda}")
EOF

# ---------------------------------------------------------------------------- 1. the cuda tests
mapfile -t CUDA_TESTS < <(grep -l "pytest.mark.cuda" tests/test_*.py)
step cuda_tests "$(budget 150 360)" "$PYTHON" -m pytest -q -p no:cacheprovider -m cuda -rs \
    --junitxml="$TMP/cuda_tests.xml" "${CUDA_TESTS[@]}"
"$PYTHON" - "$TMP/cuda_tests.xml" "$OUT/cuda_tests.json" <<'EOF'
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from alphavae_core.experiments.results import provenance, write_json

source, target = Path(sys.argv[1]), Path(sys.argv[2])
tests = []
if source.exists():
    for case in ET.parse(source).iter("testcase"):
        outcome = next((c.tag for c in case if c.tag in ("failure", "error", "skipped")), "passed")
        detail = next((c.get("message", "") for c in case if c.tag in ("failure", "error", "skipped")), "")
        tests.append({"test": case.get("name"), "outcome": outcome, "seconds": round(float(case.get("time", 0)), 2),
                      "message": detail.splitlines()[0][:300] if detail else ""})
counts = {k: sum(t["outcome"] == k for t in tests) for k in ("passed", "failure", "error", "skipped")}
write_json(target, {**provenance("cuda"), **counts, "tests": tests})
print(counts)
EOF

# ---------------------------------------------------------------------------- 2. training length
LENGTH=(grid --experiment training_length --preset cpu --device cuda --out "$OUT")
step training_length "$(budget 270 220)" "$PYTHON" -m alphavae_core "${LENGTH[@]}" --group-size 16 --quiet
"$PYTHON" -m alphavae_core "${LENGTH[@]}" --list >"$TMP/length_pending.txt" 2>/dev/null

# ---------------------------------------------------------------------------- 3. speed
step bench "$(budget 150 200)" "$PYTHON" -m alphavae_core bench --device cuda --what step,grid,epoch \
    --repeats 1 --blocks 8 --out "$OUT/speed.csv"

# ---------------------------------------------------------------------------- 4. Table 1, MNIST, paper scale
GRID=(grid --preset paper --datasets mnist --no-figure1 --regularisers tdgjs,tgjs,dgjs,gjs,kl,beta,mmd
      --device cuda --out "$OUT")
step grid "$(budget 100000 25)" "$PYTHON" -m alphavae_core "${GRID[@]}" --group-size "$GROUP" --quiet
"$PYTHON" -m alphavae_core "${GRID[@]}" --list >"$TMP/pending.txt" 2>/dev/null
"$PYTHON" - "$OUT" "$TMP" "$GROUP" <<'EOF'
import json, sys
from pathlib import Path

from alphavae_core.experiments.results import provenance, read_table, write_json

out, tmp, group = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
table = read_table(out / "benchmarks.csv")
pending = [line for line in (tmp / "pending.txt").read_text().splitlines() if line.strip()]
length = read_table(out / "training_length.csv")
length_pending = [line for line in (tmp / "length_pending.txt").read_text().splitlines() if line.strip()]
steps = [json.loads(line) for line in (tmp / "steps.jsonl").read_text().splitlines()]
write_json(out / "summary.json", {
    **provenance("cuda"),
    "steps": steps,
    "table1_mnist_runs_done": len(table),
    "table1_mnist_runs_pending": len(pending),
    "training_length_runs_done": len(length),
    "training_length_runs_pending": len(length_pending),
    "grid_group_size": group,
    "unfinished_checkpoints": sorted(p.parent.name for p in (out / "checkpoints").glob("*/checkpoint.pt")),
})
print(f"training length: {len(length)} runs done, {len(length_pending)} to go")
print(f"Table 1, MNIST, paper scale: {len(table)} runs done, {len(pending)} to go (rerun this script to continue)")
EOF
log "done; commit $OUT (its checkpoints/ folder is git-ignored)"
