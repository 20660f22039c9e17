#!/usr/bin/env bash
# The recurrent attention model results of results/ram.md, one training at a time, 1 CPU thread each.
#
#   GLIMPSE_DATA_DIR=../shared/data bash benchmarks/ram_runs.sh [RUNS_DIR]
#
# Each run trains (selecting best.pt on the validation split), then scripts/evaluate.py scores
# best.pt once on the 10,000 test images and writes RUNS_DIR/<name>.json, which
# benchmarks/ram_table.py turns into the table. Epoch budgets are what fitted this session's
# machine time; the MNIST rows are CPU-time budgets (--max-cpu-minutes), comparable across machines
# under load.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
RUNS=${1:-runs/ram_results}
mkdir -p "$RUNS"

run() {  # name, then train_ram.py settings
  local name=$1
  shift
  python scripts/train_ram.py "$@" --start center --threads 1 --out "$RUNS/$name" --progress false \
    --wandb-mode offline > "$RUNS/$name.log" 2>&1
  python scripts/evaluate.py "$RUNS/$name/best.pt" --threads 1 --rollouts 10 --json-out "$RUNS/$name.json" \
    > "$RUNS/$name.eval" 2>&1
}

# MNIST at the public reference's budgets; the variants are the 2-CPU-minute sweep (val selects)
run mnist_cpu2 --env GlimpseMNIST-v0 --max-cpu-minutes 2
run mnist_cpu2_b32 --env GlimpseMNIST-v0 --max-cpu-minutes 2 --batch-size 32
run mnist_cpu2_b64 --env GlimpseMNIST-v0 --max-cpu-minutes 2 --batch-size 64
run mnist_cpu2_b256 --env GlimpseMNIST-v0 --max-cpu-minutes 2 --batch-size 256
run mnist_cpu2_lr3e-3 --env GlimpseMNIST-v0 --max-cpu-minutes 2 --lr 3e-3
run mnist_cpu2_lstm --env GlimpseMNIST-v0 --max-cpu-minutes 2 --cell lstm
run mnist_cpu2_gru --env GlimpseMNIST-v0 --max-cpu-minutes 2 --cell gru
run mnist_cpu2_std0.1 --env GlimpseMNIST-v0 --max-cpu-minutes 2 --std 0.1
run mnist_cpu2_std0.2 --env GlimpseMNIST-v0 --max-cpu-minutes 2 --std 0.2
run mnist_cpu10 --env GlimpseMNIST-v0 --max-cpu-minutes 10
# the paper's tasks, as many epochs as this session's machine time allowed
run translated --env GlimpseTranslatedMNIST-v0 --epochs 30
run c60_cpu10 --env GlimpseClutteredMNIST-v0 --max-cpu-minutes 10
run c60_center --env GlimpseClutteredMNIST-v0 --epochs 60
run c60_randglimpse --env GlimpseClutteredMNIST-v0 --epochs 20 --random-glimpses
run c100 --env GlimpseClutteredMNIST100-v0 --epochs 30
# does the location policy learn better with REINFORCE reaching the core, or with more exploration?
run c60_cpu10_nodetach --env GlimpseClutteredMNIST-v0 --max-cpu-minutes 10 --detach-location false
run c60_cpu10_std0.1 --env GlimpseClutteredMNIST-v0 --max-cpu-minutes 10 --std 0.1
run c60_cpu10_s1 --env GlimpseClutteredMNIST-v0 --max-cpu-minutes 10 --seed 1
run c60_cpu10_std0.1_s1 --env GlimpseClutteredMNIST-v0 --max-cpu-minutes 10 --std 0.1 --seed 1
