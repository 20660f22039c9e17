#!/usr/bin/env bash
# The recurrent attention model results of results/ram.md, one training at a time, 1 CPU thread each.
#
#   GLIMPSE_DATA_DIR=../shared/data bash benchmarks/ram_runs.sh [RUNS_DIR]
#
# REFERENCE=DIR (default /tmp/recurrent-visual-attention): a checkout of kevinzakka/recurrent-visual-
# attention, whose own code benchmarks/reference_ram.py then runs at the MNIST rows' budgets.
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

# LAUNCH=... run ...: what starts the training, python by default (torchrun for several processes; the -- keeps
# torchrun from taking the script's --start for its own --start-method)
run() {  # name, then train_ram.py settings
  local name=$1
  shift
  [[ " $* " == *" --resume "* ]] || : > "$RUNS/$name.log"  # a resumed run's log goes on where it stopped
  ${LAUNCH:-python} scripts/train_ram.py -- "$@" --start center --threads 1 --out "$RUNS/$name" --progress false \
    --wandb-mode offline >> "$RUNS/$name.log" 2>&1
  python scripts/evaluate.py "$RUNS/$name/best.pt" --threads 1 --rollouts 10 --json-out "$RUNS/$name.json" \
    > "$RUNS/$name.eval" 2>&1
}

# Resuming a finished run with a larger budget (a warm restart) works on a copy of its directory, so the
# original row stays as it was: copy_run FROM NEW (a no-op once NEW exists, so a rerun resumes NEW).
copy_run() {
  [ -d "$RUNS/$2" ] || cp -r "$RUNS/$1" "$RUNS/$2"
}

# One rollout's test error under location seeds 0-9 (the evaluator's --seed), for each run named:
# NAME.seedK.json beside the run's own NAME.json.
location_seeds() {
  local name location_seed
  for name in "$@"; do
    for location_seed in 0 1 2 3 4 5 6 7 8 9; do
      python scripts/evaluate.py "$RUNS/$name/best.pt" --threads 1 --rollouts 1 --seed $location_seed \
        --picture "$RUNS/$name/seeds.png" --json-out "$RUNS/$name.seed$location_seed.json" > /dev/null 2>&1
    done
  done
}

# Rows trained before a default changed pin what they ran with; a row's own settings come after the
# pin and win. noshift: before the 2-pixel shift of MNIST's training images (--train-shift);
# before: also before the location network's weight decay (1).
noshift() {
  local name=$1
  shift
  run "$name" --train-shift 0 "$@"
}
before() {
  local name=$1
  shift
  noshift "$name" --location-weight-decay 0 "$@"
}
# A run that spans sessions: the same line starts it and, once its last.pt exists, resumes it there (its clock and
# cosine go on where they stopped; a resumed run ignores --init-from).
before_resumable() {
  local name=$1
  shift
  if [ -f "$RUNS/$name/last.pt" ]; then set -- "$@" --resume; fi
  before "$name" "$@"
}

# Rows up to the seed study ran before the location network was zero-initialised by default: they
# pass --location-zero-init false to train as they did.
# MNIST at the public reference's budgets; the variants are the 2-CPU-minute sweep (val selects)
before mnist_cpu2 --env GlimpseMNIST-v0 --max-cpu-minutes 2 --location-zero-init false
before mnist_cpu2_b32 --env GlimpseMNIST-v0 --max-cpu-minutes 2 --batch-size 32 --location-zero-init false
before mnist_cpu2_b64 --env GlimpseMNIST-v0 --max-cpu-minutes 2 --batch-size 64 --location-zero-init false
before mnist_cpu2_b256 --env GlimpseMNIST-v0 --max-cpu-minutes 2 --batch-size 256 --location-zero-init false
before mnist_cpu2_lr3e-3 --env GlimpseMNIST-v0 --max-cpu-minutes 2 --lr 3e-3 --location-zero-init false
before mnist_cpu2_lstm --env GlimpseMNIST-v0 --max-cpu-minutes 2 --cell lstm --location-zero-init false
before mnist_cpu2_gru --env GlimpseMNIST-v0 --max-cpu-minutes 2 --cell gru --location-zero-init false
before mnist_cpu2_std0.1 --env GlimpseMNIST-v0 --max-cpu-minutes 2 --std 0.1 --location-zero-init false
before mnist_cpu2_std0.2 --env GlimpseMNIST-v0 --max-cpu-minutes 2 --std 0.2 --location-zero-init false
before mnist_cpu10 --env GlimpseMNIST-v0 --max-cpu-minutes 10 --location-zero-init false
# the paper's tasks, as many epochs as this session's machine time allowed
before translated --env GlimpseTranslatedMNIST-v0 --epochs 30 --location-zero-init false
before c60_cpu10 --env GlimpseClutteredMNIST-v0 --max-cpu-minutes 10 --location-zero-init false
before c60_center --env GlimpseClutteredMNIST-v0 --epochs 60 --location-zero-init false
before c60_randglimpse --env GlimpseClutteredMNIST-v0 --epochs 20 --random-glimpses --location-zero-init false
before c100 --env GlimpseClutteredMNIST100-v0 --epochs 30 --location-zero-init false
# does the location policy learn better with REINFORCE reaching the core, or with more exploration?
before c60_cpu10_nodetach --env GlimpseClutteredMNIST-v0 --max-cpu-minutes 10 --detach-location false --location-zero-init false
before c60_cpu10_std0.1 --env GlimpseClutteredMNIST-v0 --max-cpu-minutes 10 --std 0.1 --location-zero-init false
before c60_cpu10_s1 --env GlimpseClutteredMNIST-v0 --max-cpu-minutes 10 --seed 1 --location-zero-init false
before c60_cpu10_std0.1_s1 --env GlimpseClutteredMNIST-v0 --max-cpu-minutes 10 --std 0.1 --seed 1 --location-zero-init false
# the seed study: border-parked glimpses, the zero-initialised location network, exploration, and
# k rollouts per image with a leave-one-out baseline
before mnist_cpu2_s1 --env GlimpseMNIST-v0 --max-cpu-minutes 2 --seed 1 --location-zero-init false
before mnist_cpu2_s2 --env GlimpseMNIST-v0 --max-cpu-minutes 2 --seed 2 --location-zero-init false
before mnist_cpu2_std0.2_s1 --env GlimpseMNIST-v0 --max-cpu-minutes 2 --std 0.2 --seed 1 --location-zero-init false
before mnist_cpu2_std0.2_s2 --env GlimpseMNIST-v0 --max-cpu-minutes 2 --std 0.2 --seed 2 --location-zero-init false
before mnist_cpu2_loclr1e-4 --env GlimpseMNIST-v0 --max-cpu-minutes 2 --location-lr 1e-4 --location-zero-init false
before mnist_cpu2_loclr1e-4_s1 --env GlimpseMNIST-v0 --max-cpu-minutes 2 --location-lr 1e-4 --seed 1 --location-zero-init false
before mnist_cpu2_lochid --env GlimpseMNIST-v0 --max-cpu-minutes 2 --location-hidden 128 --location-zero-init false
before mnist_cpu2_gauss --env GlimpseMNIST-v0 --max-cpu-minutes 2 --log-prob gaussian --location-zero-init false
before mnist_cpu2_kz --env GlimpseMNIST-v0 --max-cpu-minutes 2 --location-hidden 128 --log-prob gaussian --lr 3e-4 --lr-schedule constant --location-zero-init false
for seed in 0 1 2; do
  before mnist_cpu2_zi$([ $seed = 0 ] || echo _s$seed) --env GlimpseMNIST-v0 --max-cpu-minutes 2 --seed $seed
done
for seed in 0 1; do
  s=$([ $seed = 0 ] || echo _s$seed)
  before mnist_cpu2_zi_std0.1$s --env GlimpseMNIST-v0 --max-cpu-minutes 2 --std 0.1 --seed $seed
  before mnist_cpu2_zi_std0.2$s --env GlimpseMNIST-v0 --max-cpu-minutes 2 --std 0.2 --seed $seed
  before mnist_cpu2_zi_k4$s --env GlimpseMNIST-v0 --max-cpu-minutes 2 --rollouts-per-image 4 --seed $seed
  before mnist_cpu10_zi$s --env GlimpseMNIST-v0 --max-cpu-minutes 10 --seed $seed
  before c60_cpu10_zi_std0.1$s --env GlimpseClutteredMNIST-v0 --max-cpu-minutes 10 --std 0.1 --seed $seed
  before c60_cpu10_zi_std0.1_k4$s --env GlimpseClutteredMNIST-v0 --max-cpu-minutes 10 --std 0.1 --rollouts-per-image 4 --seed $seed
done
before mnist_cpu10_s1 --env GlimpseMNIST-v0 --max-cpu-minutes 10 --seed 1 --location-zero-init false
# LSTM cores (the best public re-implementations use them)
for seed in 0 1 2; do
  s=$([ $seed = 0 ] || echo _s$seed)
  before mnist_cpu10_zi_lstm$s --env GlimpseMNIST-v0 --max-cpu-minutes 10 --cell lstm --seed $seed
  before mnist_cpu2_zi_lstm$s --env GlimpseMNIST-v0 --max-cpu-minutes 2 --cell lstm --seed $seed
done
before c60_cpu10_zi_std0.1_lstm --env GlimpseClutteredMNIST-v0 --max-cpu-minutes 10 --std 0.1 --cell lstm
before c60_cpu10_zi_std0.1_lstm_s1 --env GlimpseClutteredMNIST-v0 --max-cpu-minutes 10 --std 0.1 --cell lstm --seed 1
before c60_cpu30_zi_std0.1_lstm --env GlimpseClutteredMNIST-v0 --max-cpu-minutes 30 --std 0.1 --cell lstm
before c100_cpu20_zi_std0.1_lstm --env GlimpseClutteredMNIST100-v0 --max-cpu-minutes 20 --std 0.1 --cell lstm
before translated_cpu12_zi_std0.1_lstm --env GlimpseTranslatedMNIST-v0 --max-cpu-minutes 12 --std 0.1 --cell lstm
# Why glimpses drift to the border (results/ram.md): a bounded RNN state, a decaying location
# network, deep supervision, a graded reward; and a longer cluttered 60x60 row
for seed in 0 1 2; do
  s=$([ $seed = 0 ] || echo _s$seed)
  before mnist_cpu2_zi_tanh$s --env GlimpseMNIST-v0 --max-cpu-minutes 2 --cell rnn_tanh --seed $seed
  before mnist_cpu2_zi_lwd1$s --env GlimpseMNIST-v0 --max-cpu-minutes 2 --location-weight-decay 1 --seed $seed
  before mnist_cpu2_zi_lwd10$s --env GlimpseMNIST-v0 --max-cpu-minutes 2 --location-weight-decay 10 --seed $seed
  before mnist_cpu2_zi_rprob$s --env GlimpseMNIST-v0 --max-cpu-minutes 2 --reward prob --seed $seed
done
for seed in 0 1; do
  s=$([ $seed = 0 ] || echo _s$seed)
  before mnist_cpu2_zi_ece0.3$s --env GlimpseMNIST-v0 --max-cpu-minutes 2 --early-ce-weight 0.3 --seed $seed
  before mnist_cpu10_zi_lwd1$s --env GlimpseMNIST-v0 --max-cpu-minutes 10 --location-weight-decay 1 --seed $seed
done
before mnist_cpu2_zi_ece1 --env GlimpseMNIST-v0 --max-cpu-minutes 2 --early-ce-weight 1
before mnist_cpu10_zi_lwd3 --env GlimpseMNIST-v0 --max-cpu-minutes 10 --location-weight-decay 3
for seed in 0 1; do
  s=$([ $seed = 0 ] || echo _s$seed)
  before mnist_cpu2_zi_lnorm$s --env GlimpseMNIST-v0 --max-cpu-minutes 2 --location-normalize --seed $seed
  noshift mnist_cpu2_zi_lwd1_lr5e-3$s --env GlimpseMNIST-v0 --max-cpu-minutes 2 --location-weight-decay 1 --location-lr 1e-3 --lr 5e-3 --seed $seed
  noshift mnist_cpu10_zi_lwd1_lr2e-3$s --env GlimpseMNIST-v0 --max-cpu-minutes 10 --location-weight-decay 1 --lr 2e-3 --location-lr 1e-3 --seed $seed
done
# a faster learning rate for all but the location network (which keeps 1e-3 and its decay)
for seed in 0 1 2; do
  s=$([ $seed = 0 ] || echo _s$seed)
  noshift mnist_cpu2_zi_lwd1_lr2e-3$s --env GlimpseMNIST-v0 --max-cpu-minutes 2 --location-weight-decay 1 --lr 2e-3 --location-lr 1e-3 --seed $seed
  noshift mnist_cpu2_zi_lwd1_lr3e-3$s --env GlimpseMNIST-v0 --max-cpu-minutes 2 --location-weight-decay 1 --lr 3e-3 --location-lr 1e-3 --seed $seed
done
before c60_cpu10_zi_std0.1_lstm_lwd1 --env GlimpseClutteredMNIST-v0 --max-cpu-minutes 10 --std 0.1 --cell lstm --location-weight-decay 1
before c60_cpu60_zi_std0.1_lstm --env GlimpseClutteredMNIST-v0 --max-cpu-minutes 60 --std 0.1 --cell lstm
noshift mnist_cpu30_zi_lwd1_lr2e-3 --env GlimpseMNIST-v0 --max-cpu-minutes 30 --location-weight-decay 1 --lr 2e-3 --location-lr 1e-3
noshift mnist_cpu30_zi_lwd1 --env GlimpseMNIST-v0 --max-cpu-minutes 30
before translated_cpu12_zi_std0.1_lstm_s1 --env GlimpseTranslatedMNIST-v0 --max-cpu-minutes 12 --std 0.1 --cell lstm --seed 1
# the MNIST models overfit (train error 0.06-0.7 %, val 3-4 %): regularisers, and a longer 100x100 row
noshift mnist_cpu10_zi_lwd1_std0.1 --env GlimpseMNIST-v0 --max-cpu-minutes 10 --location-weight-decay 1 --std 0.1
noshift mnist_cpu10_zi_lwd1_wd0.1 --env GlimpseMNIST-v0 --max-cpu-minutes 10 --location-weight-decay 1 --weight-decay 0.1
before c100_cpu110_zi_std0.1_lstm --env GlimpseClutteredMNIST100-v0 --max-cpu-minutes 110 --std 0.1 --cell lstm
# a random shift of up to 2 pixels of each training image (--train-shift 2, the default on MNIST since)
for seed in 0 1 2; do
  s=$([ $seed = 0 ] || echo _s$seed)
  run mnist_cpu10_zi_lwd1_shift2$s --env GlimpseMNIST-v0 --max-cpu-minutes 10 --train-shift 2 --seed $seed
  run mnist_cpu2_zi_lwd1_shift2$s --env GlimpseMNIST-v0 --max-cpu-minutes 2 --train-shift 2 --seed $seed
done
run mnist_cpu30_zi_lwd1_shift2 --env GlimpseMNIST-v0 --max-cpu-minutes 30 --epochs 300 --train-shift 2
run mnist_cpu60_zi_lwd1_shift2 --env GlimpseMNIST-v0 --max-cpu-minutes 60 --epochs 600 --train-shift 2
for seed in 0 1 2; do
  s=$([ $seed = 0 ] || echo _s$seed)
  run mnist_cpu2_zi_lwd1_shift2_lr2e-3$s --env GlimpseMNIST-v0 --max-cpu-minutes 2 --train-shift 2 --lr 2e-3 --location-lr 1e-3 --seed $seed
done
run mnist_cpu10_zi_lwd1_shift2_lr2e-3 --env GlimpseMNIST-v0 --max-cpu-minutes 10 --train-shift 2 --lr 2e-3 --location-lr 1e-3
run mnist_cpu10_zi_lwd1_shift2_lstm --env GlimpseMNIST-v0 --max-cpu-minutes 10 --train-shift 2 --cell lstm
run mnist_cpu10_zi_lwd1_shift2_do0.3 --env GlimpseMNIST-v0 --max-cpu-minutes 10 --train-shift 2 --dropout 0.3
run mnist_cpu10_zi_lwd1_shift3 --env GlimpseMNIST-v0 --max-cpu-minutes 10 --train-shift 3
run mnist_cpu60_zi_lwd1_shift2_s1 --env GlimpseMNIST-v0 --max-cpu-minutes 60 --epochs 600 --train-shift 2 --seed 1

# The GPU taught us that a step costs the same at batch 512 as at 128 (below); on the CPU a batch of
# 512 is only ~1.15x the images per CPU-second of 128 (cluttered 60x60). The canvas recipe at batch 512, lr 2e-3:
before c60_cpu60_b512_lr2e-3_lstm --env GlimpseClutteredMNIST-v0 --max-cpu-minutes 60 --epochs 1000 --std 0.1 --cell lstm --batch-size 512 --lr 2e-3
before translated_cpu30_zi_std0.1_lstm --env GlimpseTranslatedMNIST-v0 --max-cpu-minutes 30 --epochs 1000 --std 0.1 --cell lstm
before translated_cpu30_b512_lr2e-3_lstm --env GlimpseTranslatedMNIST-v0 --max-cpu-minutes 30 --epochs 1000 --std 0.1 --cell lstm --batch-size 512 --lr 2e-3
before translated_cpu45_b512_lr2e-3_lstm --env GlimpseTranslatedMNIST-v0 --max-cpu-minutes 45 --epochs 1000 --std 0.1 --cell lstm --batch-size 512 --lr 2e-3
# a smaller model for the 2 CPU-minute row (more steps in the budget)
run mnist_cpu2_zi_lwd1_shift2_h128 --env GlimpseMNIST-v0 --max-cpu-minutes 2 --train-shift 2 --hidden-size 128 --glimpse-out 128
run mnist_cpu2_zi_lwd1_shift2_h128_lr2e-3 --env GlimpseMNIST-v0 --max-cpu-minutes 2 --train-shift 2 --hidden-size 128 --glimpse-out 128 --lr 2e-3 --location-lr 1e-3
# this session (2026-11-26, second): a third seed of the 60 CPU-minute MNIST row, translated 60x60 at 120
run mnist_cpu60_zi_lwd1_shift2_s2 --env GlimpseMNIST-v0 --max-cpu-minutes 60 --epochs 1000 --seed 2
before translated_cpu120_zi_std0.1_lstm --env GlimpseTranslatedMNIST-v0 --max-cpu-minutes 120 --epochs 1000 --std 0.1 --cell lstm
# this session (2026-11-27): the cluttered 60x60 and MNIST rows at 120 CPU-minutes
before c60_cpu120_zi_std0.1_lstm --env GlimpseClutteredMNIST-v0 --max-cpu-minutes 120 --epochs 1000 --std 0.1 --cell lstm
run mnist_cpu120_zi_lwd1_shift2 --env GlimpseMNIST-v0 --max-cpu-minutes 120 --epochs 1000
# this session (2026-11-27, second): the two 120 CPU-minute canvas runs resumed to 220 CPU-minutes
# in all (--resume keeps the run's clock: the cosine restarts at 0.43x the peak rate and anneals over
# the last 100), and the random-glimpse control with the canvas recipe
for name in c60 translated; do
  copy_run "${name}_cpu120_zi_std0.1_lstm" "${name}_cpu220r_zi_std0.1_lstm"
done
run c60_cpu220r_zi_std0.1_lstm --env GlimpseClutteredMNIST-v0 --max-cpu-minutes 220 --epochs 1000 --std 0.1 --cell lstm --resume
run translated_cpu220r_zi_std0.1_lstm --env GlimpseTranslatedMNIST-v0 --max-cpu-minutes 220 --epochs 1000 --std 0.1 --cell lstm --resume
run c60_cpu10_randglimpse_lstm --env GlimpseClutteredMNIST-v0 --max-cpu-minutes 10 --epochs 1000 --std 0.1 --cell lstm --random-glimpses
# this session (2026-11-27, third): two more seeds of the 60 CPU-minute MNIST row, and the same two
# seeds with an exponential moving average of the weights (--ema-decay 0.999)
for seed in 3 4; do
  run mnist_cpu60_zi_lwd1_shift2_s$seed --env GlimpseMNIST-v0 --max-cpu-minutes 60 --epochs 1000 --seed $seed
  run mnist_cpu60_zi_lwd1_shift2_ema0.999_s$seed --env GlimpseMNIST-v0 --max-cpu-minutes 60 --epochs 1000 --ema-decay 0.999 --seed $seed
done
# the same comparison at 2 and 10 CPU-minutes (the defaults rerun on this session's host)
run mnist_cpu10_zi_lwd1_shift2_again --env GlimpseMNIST-v0 --max-cpu-minutes 10 --epochs 1000 --seed 0
run mnist_cpu10_zi_lwd1_shift2_ema0.999 --env GlimpseMNIST-v0 --max-cpu-minutes 10 --epochs 1000 --ema-decay 0.999 --seed 0
for seed in 0 1 2; do
  run mnist_cpu2_zi_lwd1_shift2_again_s$seed --env GlimpseMNIST-v0 --max-cpu-minutes 2 --seed $seed
  run mnist_cpu2_zi_lwd1_shift2_ema0.999_s$seed --env GlimpseMNIST-v0 --max-cpu-minutes 2 --ema-decay 0.999 --seed $seed
done
# one rollout's error under ten seeds of the location sampler (results/ram.md, "How noisy one rollout is")
location_seeds mnist_cpu60_zi_lwd1_shift2_s3 mnist_cpu60_zi_lwd1_shift2_s4 mnist_cpu60_zi_lwd1_shift2_ema0.999_s3 \
  mnist_cpu60_zi_lwd1_shift2_ema0.999_s4 mnist_cpu10_zi_lwd1_shift2_again mnist_cpu10_zi_lwd1_shift2_ema0.999
# this session (2026-11-27, fourth): the average of the weights on seeds 0-2 of the 60 CPU-minute
# MNIST row, and translated 60x60 with the digits rotated (up to 10 degrees) and scaled (up to 10 %)
# in training, for as many epochs as the 120 CPU-minute row had (182; this host is faster)
for seed in 0 1 2; do
  run mnist_cpu60_zi_lwd1_shift2_ema0.999_s$seed --env GlimpseMNIST-v0 --max-cpu-minutes 60 --epochs 1000 --ema-decay 0.999 --seed $seed
done
before translated_e182_rot10_zoom10_std0.1_lstm --env GlimpseTranslatedMNIST-v0 --epochs 182 --std 0.1 --cell lstm \
  --train-rotation 10 --train-zoom 10
# one rollout at location seeds 0-9 for every 60 CPU-minute model of that host and the translated one, with
# the evaluator's per-rollout streams (results/ram.md, "Five seeds of the average")
location_seeds mnist_cpu60_zi_lwd1_shift2_s3 mnist_cpu60_zi_lwd1_shift2_s4 mnist_cpu60_zi_lwd1_shift2_ema0.999_s{0,1,2,3,4} \
  translated_e182_rot10_zoom10_std0.1_lstm
# the public PyTorch RAM's own code under the same protocol (needs a checkout of it; skipped otherwise)
REFERENCE=${REFERENCE:-/tmp/recurrent-visual-attention}
reference() {  # CPU-minute budgets; seeds 1-3 of each
  [ -f "$REFERENCE/model.py" ] || return 0
  mkdir -p "$RUNS/reference"
  for seed in 1 2 3; do
    for minutes in "$@"; do
      python benchmarks/reference_ram.py "$REFERENCE" --cpu-minutes $minutes --seed $seed \
        --json-out "$RUNS/reference/kz_cpu${minutes}_s$seed.json" > "$RUNS/reference/kz_cpu${minutes}_s$seed.log" 2>&1
    done
  done
}
reference 2 10

# On one GPU (an H100 here), six runs side by side, 5 wall-minutes each (--max-minutes), 2 threads each.
gpu() {  # name, then train_ram.py settings
  local name=$1
  shift
  python scripts/train_ram.py "$@" --start center --threads 2 --device cuda --epochs 1000 --max-minutes 5 \
    --out "$RUNS/$name" --progress false --wandb-mode disabled > "$RUNS/$name.log" 2>&1
  python scripts/evaluate.py "$RUNS/$name/best.pt" --device cuda --threads 2 --rollouts 10 --json-out "$RUNS/$name.json" \
    > "$RUNS/$name.eval" 2>&1
}
if python -c "import sys, torch; sys.exit(not torch.cuda.is_available())"; then
  CANVAS="--std 0.1 --cell lstm --location-weight-decay 0"
  gpu gpu_c100_b128 --env GlimpseClutteredMNIST100-v0 $CANVAS &
  gpu gpu_c100_b512 --env GlimpseClutteredMNIST100-v0 $CANVAS --batch-size 512 --lr 2e-3 &
  gpu gpu_c60_b128 --env GlimpseClutteredMNIST-v0 $CANVAS &
  gpu gpu_c60_b512 --env GlimpseClutteredMNIST-v0 $CANVAS --batch-size 512 --lr 2e-3 &
  gpu gpu_translated_b128 --env GlimpseTranslatedMNIST-v0 $CANVAS &
  gpu gpu_mnist_b128 --env GlimpseMNIST-v0 &
  wait
fi

# gpu, fifth (2026-11-27, one H200, two runs at a time): cluttered 100x100 at larger batches. Only best.pt
# and the log came back from that machine; ram_table.py --gpu reads the totals from the log's last line.
gpu_for() {  # minutes, name, then train_ram.py settings
  local minutes=$1 name=$2
  shift 2
  python scripts/train_ram.py "$@" --start center --threads 2 --device cuda --epochs 1000 --max-minutes "$minutes" \
    --out "$RUNS/$name" --progress false --wandb-mode disabled > "$RUNS/$name.log" 2>&1
  python scripts/evaluate.py "$RUNS/$name/best.pt" --device cuda --threads 2 --rollouts 10 --json-out "$RUNS/$name.json" \
    > "$RUNS/$name.eval" 2>&1
}
if python -c "import sys, torch; sys.exit(not torch.cuda.is_available())"; then
  C100="--env GlimpseClutteredMNIST100-v0 --std 0.1 --cell lstm --location-weight-decay 0"
  gpu_for 6 gpu_h200_c100_b512_6min $C100 --batch-size 512 --lr 2e-3 &
  gpu_for 6 gpu_h200_c100_b1024_6min $C100 --batch-size 1024 --lr 3e-3 --warmup-steps 200 &
  wait
  gpu_for 3.5 gpu_h200_c100_b2048_3.5min $C100 --batch-size 2048 --lr 4e-3 --warmup-steps 200 &
  gpu_for 3.5 gpu_h200_c100_b1024_3.5min $C100 --batch-size 1024 --lr 3e-3 --warmup-steps 200 &
  wait
fi

# this session (2026-11-27, fifth): MNIST's 60 CPU-minute recipe with the average of the weights, plus the
# rotated and scaled training digits (seeds 0 / 1), then plus an annealed location std (--std-final 0.02)
for seed in 0 1; do
  run mnist_cpu60_ema0.999_rot10_zoom10_s$seed --env GlimpseMNIST-v0 --max-cpu-minutes 60 --epochs 1000 --ema-decay 0.999 \
    --train-rotation 10 --train-zoom 10 --seed $seed
done
for seed in 0 1; do
  run mnist_cpu60_ema0.999_stdf0.02_s$seed --env GlimpseMNIST-v0 --max-cpu-minutes 60 --epochs 1000 --ema-decay 0.999 \
    --std-final 0.02 --seed $seed
done

# this session (2026-11-27, sixth): the same recipe with a wider location std (seed 0: 0.1, 0.15), then
# 0.1 annealed to 0.05 along the cosine (seeds 0 / 1)
for std in 0.1 0.15; do
  run mnist_cpu60_ema0.999_std${std}_s0 --env GlimpseMNIST-v0 --max-cpu-minutes 60 --epochs 1000 --ema-decay 0.999 \
    --std $std --seed 0
done
for seed in 0 1; do
  run mnist_cpu60_ema0.999_std0.1_stdf0.05_s$seed --env GlimpseMNIST-v0 --max-cpu-minutes 60 --epochs 1000 --ema-decay 0.999 \
    --std 0.1 --std-final 0.05 --seed $seed
done

# this session (2026-11-27, seventh): translated 60x60 with the average of the weights, one cosine over 130
# CPU-minutes; and the same over 220 (runs past the session: `--resume` with the same command finishes it)
for minutes in 130 220; do
  before translated_cpu${minutes}_ema0.999_lstm --env GlimpseTranslatedMNIST-v0 --max-cpu-minutes $minutes --epochs 1000 \
    --std 0.1 --cell lstm --ema-decay 0.999
done

# this session (2026-11-27, eighth): the 220 CPU-minute run above finished with `--resume`; MNIST's EMA recipe with a
# wider core and with smoothed labels (seed 0); translated with and without the location network's decay at 44 epochs (the
# 30 CPU-minute row's count on the EPYC; a fixed count, since this host fits more epochs into a CPU-minute)
run mnist_cpu60_ema0.999_h512_s0 --env GlimpseMNIST-v0 --max-cpu-minutes 60 --epochs 1000 --ema-decay 0.999 --hidden-size 512 --seed 0
run mnist_cpu60_ema0.999_ls0.1_s0 --env GlimpseMNIST-v0 --max-cpu-minutes 60 --epochs 1000 --ema-decay 0.999 --label-smoothing 0.1 --seed 0
for seed in 0 1; do
  for decay in 1 0; do
    run translated_e44_lwd${decay}_lstm$([ $seed = 0 ] || echo _s$seed) --env GlimpseTranslatedMNIST-v0 --epochs 44 --std 0.1 \
      --cell lstm --location-weight-decay $decay --seed $seed
  done
done

# this session (2026-11-27, ninth): warm restarts of translated 60x60 with distorted digits, each on a copy of the
# 182-epoch run's directory (87.5 CPU-min): `--resume` keeps the run's clock, so the cosine restarts at 0.58x the peak
# rate and anneals over the added CPU-minutes, to 195 in all; once as it was, once with the location std annealed
# from 0.1 to 0.05 over the same stretch (it restarts at 0.079). --flush-denormal true for the added epochs (speed).
for variant in "" _stdf0.05; do
  name=translated_cpu195r_rot10_zoom10${variant}_lstm
  copy_run translated_e182_rot10_zoom10_std0.1_lstm $name
  before $name --env GlimpseTranslatedMNIST-v0 --max-cpu-minutes 195 --epochs 1000 --std 0.1 --cell lstm \
    --train-rotation 10 --train-zoom 10 --flush-denormal true --resume $([ -z "$variant" ] || echo --std-final 0.05)
done
# MNIST's EMA recipe, seed 0: the 60 CPU-minute run resumed to 110 in all (the cosine restarts at 0.43x the peak)
copy_run mnist_cpu60_zi_lwd1_shift2_ema0.999_s0 mnist_cpu110r_ema0.999_s0
run mnist_cpu110r_ema0.999_s0 --env GlimpseMNIST-v0 --max-cpu-minutes 110 --epochs 1000 --ema-decay 0.999 --seed 0 \
  --flush-denormal true --resume
# this session (2026-11-28, tenth): the 1.15 % translated run (ninth) resumed again, to 295 CPU-minutes in all (the
# cosine restarts at 0.26x the peak rate); and cluttered 60x60 with distorted digits under one 300 CPU-minute cosine
# (the 220 CPU-minute row's recipe plus the translated row's --train-rotation 10 --train-zoom 10), which spans
# sessions: a rerun of this line resumes it from last.pt (the run's clock is kept in the checkpoint)
copy_run translated_cpu195r_rot10_zoom10_lstm translated_cpu295r_rot10_zoom10_lstm
before translated_cpu295r_rot10_zoom10_lstm --env GlimpseTranslatedMNIST-v0 --max-cpu-minutes 295 --epochs 1000 --std 0.1 \
  --cell lstm --train-rotation 10 --train-zoom 10 --flush-denormal true --resume
before_resumable c60_cpu300_rot10_zoom10_lstm --env GlimpseClutteredMNIST-v0 --max-cpu-minutes 300 --epochs 1000 --std 0.1 \
  --cell lstm --train-rotation 10 --train-zoom 10 --flush-denormal true
# this session (2026-11-28, eleventh): the 2 CPU-minute comparison with the public RAM's code again, on this session's
# host (a 2-vCPU Intel Xeon that fits 10 MNIST epochs into 2 CPU-minutes, against the EPYC's 7), into a folder of its
# own because the run names repeat; ours with the defaults and with the best 2-minute recipe measured on the EPYC
(
  RUNS=$RUNS/xeon_cpu2
  mkdir -p "$RUNS"
  for seed in 0 1 2; do
    s=$([ $seed = 0 ] || echo _s$seed)
    run mnist_cpu2_zi_lwd1_shift2$s --env GlimpseMNIST-v0 --max-cpu-minutes 2 --seed $seed
    noshift mnist_cpu2_zi_lwd1_lr3e-3$s --env GlimpseMNIST-v0 --max-cpu-minutes 2 --lr 3e-3 --location-lr 1e-3 --seed $seed
  done
  reference 2
)
# then the cluttered run above finished (its line resumed it), and MNIST's EMA recipe
# on seeds 0 and 1 with best.pt chosen by the validation error averaged over the last 10 epochs (--select-window 10),
# the rule fixed before these runs started (seeds 0-4 of the same recipe used the single-epoch rule)
for seed in 0 1; do
  run mnist_cpu60_ema0.999_sw10_s$seed --env GlimpseMNIST-v0 --max-cpu-minutes 60 --epochs 1000 --ema-decay 0.999 \
    --select-window 10 --seed $seed
done
# this session (2026-11-28, twelfth): the 2 CPU-minute MNIST comparison on a 2-vCPU AMD EPYC (7 epochs of ours at
# batch 128), with the public RAM's code, our defaults and recipes around the best 2-minute one: larger batches at
# larger rates, and the two core options added this session (--cell rnn_ln, --core-init identity); then the
# 10 CPU-minute EMA recipe at batch 256. Two runs at a time, each in a folder of its own (the names repeat).
(
  RUNS=$RUNS/epyc_cpu2
  mkdir -p "$RUNS"
  fast="--env GlimpseMNIST-v0 --max-cpu-minutes 2 --train-shift 0"
  for seed in 0 1 2 3 4 5; do
    run mnist_cpu2_lr3e-3_s$seed $fast --lr 3e-3 --location-lr 1e-3 --seed $seed
    run mnist_cpu2_b256_lr5e-3_s$seed $fast --batch-size 256 --lr 5e-3 --location-lr 1e-3 --seed $seed
  done
  for seed in 0 1 2 3 4; do
    run mnist_cpu2_defaults_s$seed --env GlimpseMNIST-v0 --max-cpu-minutes 2 --seed $seed
  done
  for seed in 0 1 2; do
    run mnist_cpu2_b512_lr7e-3_s$seed $fast --batch-size 512 --lr 7e-3 --location-lr 1.5e-3 --seed $seed
    run mnist_cpu2_lr5e-3_s$seed $fast --lr 5e-3 --location-lr 1e-3 --seed $seed
    run mnist_cpu2_irnn_lr3e-3_s$seed $fast --core-init identity --lr 3e-3 --location-lr 1e-3 --seed $seed
    run mnist_cpu2_b256_lr5e-3_irnn_s$seed $fast --batch-size 256 --lr 5e-3 --location-lr 1e-3 --core-init identity --seed $seed
    run mnist_cpu2_ln_lr3e-3_s$seed $fast --cell rnn_ln --lr 3e-3 --location-lr 1e-3 --seed $seed
    run mnist_cpu2_ln_s$seed --env GlimpseMNIST-v0 --max-cpu-minutes 2 --cell rnn_ln --seed $seed
  done
  run mnist_cpu2_b64_lr2e-3_s0 $fast --batch-size 64 --lr 2e-3 --location-lr 7e-4 --seed 0
  run mnist_cpu10_ema_s0 --env GlimpseMNIST-v0 --max-cpu-minutes 10 --epochs 1000 --ema-decay 0.999 --seed 0
  run mnist_cpu10_ema_b256_lr1.4e-3_s0 --env GlimpseMNIST-v0 --max-cpu-minutes 10 --epochs 1000 --ema-decay 0.999 \
    --batch-size 256 --lr 1.4e-3 --location-lr 1e-3 --seed 0
  reference 2
)
# this session (2026-12-03, thirteenth): the 2 CPU-minute MNIST race again, on another 2-vCPU AMD EPYC that fits 9-10
# epochs of ours into the budget (the twelfth's fitted 7): the best recipe, a warm-up to a higher rate, no gradient
# clip, and the average of the weights at two decays; then the public RAM's own code. Two runs at a time (the other
# core trained RNNsearch), in a folder of its own because the names repeat.
(
  RUNS=$RUNS/epyc2_cpu2
  mkdir -p "$RUNS"
  fast="--env GlimpseMNIST-v0 --max-cpu-minutes 2 --train-shift 0 --lr 3e-3 --location-lr 1e-3"
  for seed in 0 1 2; do
    run mnist_cpu2_lr3e-3_s$seed $fast --seed $seed
    run mnist_cpu2_lr5e-3_wu150_s$seed $fast --lr 5e-3 --warmup-steps 150 --seed $seed
    run mnist_cpu2_lr3e-3_noclip_s$seed $fast --grad-clip 1000 --seed $seed
  done
  reference 2
  for seed in 0 1 2; do
    run mnist_cpu2_lr3e-3_ema0.999_s$seed $fast --ema-decay 0.999 --seed $seed
    run mnist_cpu2_lr3e-3_ema0.995_s$seed $fast --ema-decay 0.995 --seed $seed
  done
  for seed in 3 4 5; do
    run mnist_cpu2_lr3e-3_s$seed $fast --seed $seed
  done
  for seed in 3 4 5; do
    run mnist_cpu2_lr3e-3_ema0.995_s$seed $fast --ema-decay 0.995 --seed $seed
  done
)

# this session (2026-12-03, fourteenth, the same kind of host as the thirteenth): three more seeds of the recipe without
# a gradient clip, whose first three had the best mean of the thirteenth, and the new warm-up of the average
# (--ema-warmup, agents/averaging.py) on top of it. Two runs at a time (the other core trained translation models).
(
  RUNS=$RUNS/epyc2_cpu2
  mkdir -p "$RUNS"
  fast="--env GlimpseMNIST-v0 --max-cpu-minutes 2 --train-shift 0 --lr 3e-3 --location-lr 1e-3"
  for seed in 3 4 5; do
    run mnist_cpu2_lr3e-3_noclip_s$seed $fast --grad-clip 1000 --seed $seed
  done
  for seed in 0 1 2 3 4 5; do
    run mnist_cpu2_lr3e-3_noclip_ema0.998w_s$seed $fast --grad-clip 1000 --ema-decay 0.998 --ema-warmup true --seed $seed
  done
)

# this session (2026-12-03, fifteenth, the same kind of host): cluttered 100x100 with the average of the weights,
# beside translation runs on the other core. The default --epochs 100 ended it at 106 of its 140 CPU-minutes, so it
# is the 100-epoch row above with the average: the same recipe and epochs. A warm restart for a later session:
# copy_run c100_cpu140_ema0.999_fd NEW, then run NEW ... --resume --epochs N --max-cpu-minutes M.
run c100_cpu140_ema0.999_fd --env GlimpseClutteredMNIST100-v0 --max-cpu-minutes 140 --std 0.1 --cell lstm \
  --location-weight-decay 0 --train-shift 0 --ema-decay 0.999 --flush-denormal true

# this session (2026-12-03, sixteenth, the same kind of host, no GPU lent): the run above resumed as a warm restart on
# both cores, two processes under torchrun (gloo, one thread each, 128 episodes per rank: global batches of 256 at the
# same lr). Started with --max-cpu-minutes 225, stopped at epoch 123 and resumed with 208 to end within the session;
# the CPU-minutes are each rank's own (the two ranks together spent twice the minutes past the 106 of the first run).
copy_run c100_cpu140_ema0.999_fd c100_ddp2_r208
c100_ddp2=(--env GlimpseClutteredMNIST100-v0 --std 0.1 --cell lstm --location-weight-decay 0 --train-shift 0
  --ema-decay 0.999 --flush-denormal true --resume --epochs 1000)
LAUNCH="torchrun --standalone --nproc_per_node 2" run c100_ddp2_r208 "${c100_ddp2[@]}" --max-cpu-minutes 225 \
  --max-steps 46930  # stopped at epoch 123 (by hand then)
LAUNCH="torchrun --standalone --nproc_per_node 2" run c100_ddp2_r208 "${c100_ddp2[@]}" --max-cpu-minutes 208

# this session (2026-12-03, seventeenth, the same kind of host, no GPU lent): two warm starts (--init-from) from the
# sixteenth session's run at epoch 266 (its last.pt: the averaged weights), one process each, side by side, with a fresh
# cosine from lr 5e-4 over 110 CPU-minutes: the same recipe, and the same with the REINFORCE gradient let into the core
# (--detach-location false). Both were stopped by hand after 30 epochs (--max-steps replays that); the second was then
# resumed on both cores under torchrun (batches of 2 x 128, a budget of 120 CPU-minutes on each rank's clock).
C100W=(--env GlimpseClutteredMNIST100-v0 --std 0.1 --cell lstm --location-weight-decay 0 --train-shift 0
  --ema-decay 0.999 --flush-denormal true --epochs 1000 --lr 5e-4 --init-from "$RUNS/c100_ddp2_r208/last.pt")
run c100_w266_lr5e-4_cpu110 "${C100W[@]}" --max-cpu-minutes 110 --max-steps 12630 &
run c100_w266_lr5e-4_cpu110_nodetach "${C100W[@]}" --detach-location false --max-cpu-minutes 110 --max-steps 12630 &
wait
copy_run c100_w266_lr5e-4_cpu110_nodetach c100_w266_nodetach_ddp2
LAUNCH="torchrun --standalone --nproc_per_node 2" run c100_w266_nodetach_ddp2 "${C100W[@]}" --detach-location false \
  --resume --max-cpu-minutes 120

# this session (2026-12-07, eighteenth, the same kind of host, no GPU lent): REINFORCE into the core on cluttered 60x60,
# an A/B from scratch, one process each, side by side: the 60 CPU-minute row's recipe with and without
# --detach-location false; then both resumed to 120 CPU-minutes (--resume keeps the run's clock: the cosine restarts at
# half the peak rate and anneals over the last 60).
C60S=(--env GlimpseClutteredMNIST-v0 --epochs 1000 --std 0.1 --cell lstm)
before c60_cpu60_ctrl "${C60S[@]}" --max-cpu-minutes 60 &
before c60_cpu60_nodetach "${C60S[@]}" --max-cpu-minutes 60 --detach-location false &
wait
for arm in ctrl nodetach; do
  copy_run "c60_cpu60_$arm" "c60_cpu120r_$arm"
done
before c60_cpu120r_ctrl "${C60S[@]}" --max-cpu-minutes 120 --resume &
before c60_cpu120r_nodetach "${C60S[@]}" --max-cpu-minutes 120 --resume --detach-location false &
wait
# and the same flag on MNIST at 10 CPU-minutes (defaults), two seeds, each pair side by side
for seed in 0 1; do
  run mnist_cpu10_ctrl_s$seed --env GlimpseMNIST-v0 --max-cpu-minutes 10 --epochs 1000 --seed $seed &
  run mnist_cpu10_nodetach_s$seed --env GlimpseMNIST-v0 --max-cpu-minutes 10 --epochs 1000 --seed $seed --detach-location false &
  wait
done

# this session (2026-12-07, nineteenth, the same kind of host, no GPU lent), one process each, side by side: the
# eighteenth's 120 CPU-minute --detach-location false run resumed to 240 CPU-minutes (the cosine restarts at half the
# peak rate); and the same flag on translated 60x60 with distorted digits, epoch-matched to
# translated_e182_rot10_zoom10_std0.1_lstm (182 epochs). --flush-denormal true in both (speed).
copy_run c60_cpu120r_nodetach c60_cpu240r_nodetach
before c60_cpu240r_nodetach "${C60S[@]}" --max-cpu-minutes 240 --resume --detach-location false --flush-denormal true &
before translated_e182_rot10_zoom10_nodetach --env GlimpseTranslatedMNIST-v0 --epochs 182 --std 0.1 --cell lstm \
  --train-rotation 10 --train-zoom 10 --detach-location false --flush-denormal true &
wait
# then a second seed of the cluttered 60x60 A/B from scratch, at 30 CPU-minutes (seed 1), side by side
before c60_cpu30_ctrl_s1 "${C60S[@]}" --max-cpu-minutes 30 --seed 1 --flush-denormal true &
before c60_cpu30_nodetach_s1 "${C60S[@]}" --max-cpu-minutes 30 --seed 1 --flush-denormal true --detach-location false &
wait
# one rollout at location seeds 0-9 for both nodetach models of this session
location_seeds c60_cpu240r_nodetach translated_e182_rot10_zoom10_nodetach

# this session (2026-12-07, twentieth, the same kind of host, no GPU lent), one process each, side by side, from the
# nineteenth's 240 CPU-minute checkpoint: resumed to 370 CPU-minutes (the cosine restarts at 0.27 of the peak rate);
# and a warm start from the same weights at lr 3e-4 (about that rate) with the average of the weights, 130 CPU-minutes.
copy_run c60_cpu240r_nodetach c60_cpu370r_nodetach
before c60_cpu370r_nodetach "${C60S[@]}" --max-cpu-minutes 370 --resume --detach-location false --flush-denormal true &
before c60_w240_ema_nodetach "${C60S[@]}" --max-cpu-minutes 130 --init-from "$RUNS/c60_cpu240r_nodetach/last.pt" \
  --lr 3e-4 --ema-decay 0.999 --detach-location false --flush-denormal true &
wait
location_seeds c60_cpu370r_nodetach c60_w240_ema_nodetach
# the twenty-first session (2026-12-08, the same kind of host, no GPU lent), one process beside the cluttered 100x100
# run below: a second warm start, from the warm start's best weights (the 2.74 % row), at lr 3e-4 with the average of
# the weights, the location std annealed from 0.1 to 0.05 over 115 CPU-minutes (a narrower policy samples closer to
# its mean path, which scored 2.65 % against 2.74 % for one sampled rollout).
before c60_w274_ema_stdf0.05 "${C60S[@]}" --max-cpu-minutes 115 --init-from "$RUNS/c60_w240_ema_nodetach/best.pt" \
  --lr 3e-4 --ema-decay 0.999 --std-final 0.05 --detach-location false --flush-denormal true
location_seeds c60_w274_ema_stdf0.05
# then, in progress across sessions: a third warm start from that run's best weights at a constant std of 0.05
before_resumable c60_w271_ema_std0.05 --env GlimpseClutteredMNIST-v0 --epochs 1000 --std 0.05 --cell lstm \
  --max-cpu-minutes 115 --init-from "$RUNS/c60_w274_ema_stdf0.05/best.pt" --lr 3e-4 --ema-decay 0.999 \
  --detach-location false --flush-denormal true
# then, in progress across sessions (one process; the run folders have survived recent changes of session):
# cluttered 100x100 from scratch with the flag and the average of the weights, a cosine over 480 CPU-minutes
before_resumable c100_cpu480_nodetach_ema --env GlimpseClutteredMNIST100-v0 --epochs 1000 --std 0.1 --cell lstm \
  --max-cpu-minutes 480 --detach-location false --ema-decay 0.999 --flush-denormal true
