#!/usr/bin/env bash
# Cluttered 100x100 on one lent GPU, prepared so that a session spends its device minutes training.
#
# The device tool (../.library/device) runs a command on a bare GPU machine over a copy of this
# working tree, 10 minutes a call, 15 device-minutes a session, start-up and transfers included. Its
# image has torch but not gymnasium, and no network: the wheels and MNIST travel in git-ignored folders.
#
#   here:   bash benchmarks/gpu_c100.sh prepare [INIT.pt]
#             wheels into .whl/, MNIST into .dev/data/, and INIT.pt (optional: a CPU run's best.pt or
#             last.pt, e.g. results/ram.md's 100x100 row) into .dev/c100/init.pt for a warm start
#   there:  run(command="bash benchmarks/gpu_c100.sh train 8", carry=[".whl", ".dev"], timeout_s=600)
#             trains for 8 wall-minutes (the cosine anneals over them), scores best.pt on the 10,000
#             test images, and returns the log, the scores and both checkpoints in $OUT
#   here:   copy what came back into .dev/c100/; a second call `train M` with a larger M resumes the
#             run (a warm restart of its cosine, as results/ram.md's CPU restarts)
#
# The recipe is results/ram.md's (GPU section): LSTM core, std 0.1, no decay on the location network, the policy
# gradient let into the core (--detach-location false: 3.4 points on the CPU, section "REINFORCE into the core"),
# batches of 2048 at lr 4e-3 after a 200-step warm-up, an average of the weights; from a warm start the
# rate is halved. Settings after the minutes go to train_ram.py as they are.
set -euo pipefail
cd "$(dirname "$0")/.."

prepare() {
  grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
  grep -qx '/.dev/' .git/info/exclude 2>/dev/null || echo '/.dev/' >> .git/info/exclude
  mkdir -p .whl .dev/data/mnist .dev/c100
  # the GPU image's Python is 3.12; gymnasium's own needs (numpy, cloudpickle, typing-extensions) are there
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d .whl \
    gymnasium==1.4.0 farama-notifications==0.0.6
  cp "${GLIMPSE_DATA_DIR:-../shared/data}"/mnist/*.gz .dev/data/mnist/
  if [ $# -ge 1 ]; then cp "$1" .dev/c100/init.pt; fi
  du -sh .whl .dev
}

train() {
  local minutes=$1
  shift
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site:$PWD GLIMPSE_DATA_DIR=$PWD/.dev/data PYTHONUNBUFFERED=1
  local out=/tmp/c100 start=()
  mkdir -p "$out"
  local device=${DEVICE:-cuda}  # DEVICE=cpu EVAL_ARGS="--subset 200" checks the plumbing here
  nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
  if [ -f .dev/c100/last.pt ]; then  # a run that came back from an earlier call goes on
    cp .dev/c100/last.pt .dev/c100/best.pt "$out"/
    start=(--resume)
  elif [ -f .dev/c100/init.pt ]; then
    start=(--init-from .dev/c100/init.pt --lr 2e-3)
  fi
  python3 scripts/train_ram.py -- --env GlimpseClutteredMNIST100-v0 --cell lstm --std 0.1 --location-weight-decay 0 --detach-location false \
    --train-shift 0 --batch-size 2048 --lr 4e-3 --warmup-steps 200 --ema-decay 0.999 --epochs 100000 \
    --max-minutes "$minutes" --device "$device" --wandb-mode disabled --progress false --out "$out" "${start[@]}" "$@" \
    2>&1 | tee -a "$OUT/train.log"
  python3 scripts/evaluate.py "$out/best.pt" --device "$device" --rollouts 10 --batch-size 2000 \
    --json-out "$OUT/eval.json" --picture "$OUT/test_glimpse_paths.png" ${EVAL_ARGS:-} 2>&1 | tee "$OUT/eval.log"
  cp "$out/last.pt" "$out/best.pt" "$OUT/"
}

"$@"
