#!/usr/bin/env bash
# The translation results of results/translation.md, one training at a time, 1 CPU thread each.
#
#   GLIMPSE_DATA_DIR=../shared/data bash benchmarks/translation_runs.sh [multi30k|tatoeba|budget|ema|averaged|sizes|cache|all]
#
# Budgets are CPU minutes of the training process (--max-cpu-minutes), so that a shared machine
# slows a run down without changing what it learns. Each Multi30k model first trains for 4 CPU
# minutes, is scored on test_2016_flickr, then resumes (exactly: optimizer, schedule, RNG, data
# order) up to 15 CPU minutes and is scored again. Logs go to runs/translation/*.log.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
RUNS=runs/translation
mkdir -p "$RUNS"
which=${1:-all}

# --ema-decay 0: these tables were measured before the average of the weights became the default, and
# --embed-size 128 before E=256 did (2026-12-03, fifteenth session)
COMMON=(--threads 1 --seed 1 --max-tokens 800 --dropout 0.1 --ema-decay 0 --embed-size 128 --wandb-mode offline)
declare -A EXTRA=(
  [rnnencdec]=""
  [bahdanau]=""
  [luong-dot]=""
  [luong-general]=""
  [transformer]="--layers 3 --heads 4 --lr 1e-3 --warmup-steps 400 --schedule inverse-sqrt"
)

if [[ $which == all || $which == multi30k ]]; then
  for model in bahdanau rnnencdec luong-dot luong-general transformer; do
    out=$RUNS/m30k-$model
    # shellcheck disable=SC2086
    python scripts/train_translation.py --corpus multi30k --src de --tgt en --model "$model" ${EXTRA[$model]} \
      "${COMMON[@]}" --max-cpu-minutes 4 --out "$out" > "$RUNS/m30k-$model.train4.log" 2>&1
    python scripts/evaluate_translation.py "$out/last.pt" --corpus multi30k --split test --beam 5 --threads 1 \
      > "$RUNS/m30k-$model.test4.log" 2>&1
    python scripts/train_translation.py --out "$out" --resume --max-cpu-minutes 15 --threads 1 --wandb-mode offline \
      > "$RUNS/m30k-$model.train15.log" 2>&1
    python scripts/evaluate_translation.py "$out/best.pt" --corpus multi30k --split test --beam 5 --threads 1 \
      --hypotheses "$RUNS/m30k-$model.test.hyp" > "$RUNS/m30k-$model.test15.log" 2>&1
  done
fi

if [[ $which == all || $which == tatoeba ]]; then
  for model in rnnencdec bahdanau; do
    python scripts/train_translation.py --corpus tatoeba --src en --tgt fr --model "$model" "${COMMON[@]}" \
      --max-cpu-minutes 12 --out "$RUNS/tatoeba-$model" > "$RUNS/tatoeba-$model.train.log" 2>&1
  done
  python scripts/evaluate_translation.py "$RUNS/tatoeba-rnnencdec/best.pt,$RUNS/tatoeba-bahdanau/best.pt" \
    --labels RNNencdec,RNNsearch --corpus tatoeba --split test --beam 5 --threads 1 \
    --length-buckets 1,5,10,15,20 --plot results/figures/translation_bleu_by_length.png \
    --table "$RUNS/tatoeba-bleu-by-length.md" > "$RUNS/tatoeba-test.log" 2>&1
fi

# RNNsearch trained once for 15 CPU minutes (no stop at 4) with other optimisation settings, each scored on
# test_2016_flickr (best.pt, beam 5): results/translation.md, "RNNsearch at 15 CPU-minutes, tuned"
if [[ $which == all || $which == budget ]]; then
  declare -A BUDGET=(
    [constant_t800]="--max-tokens 800"
    [cosine_t800]="--max-tokens 800 --schedule cosine"
    [constant_t800_lr3e-3]="--max-tokens 800 --lr 3e-3"
    [constant_t1600_lr3e-3]="--max-tokens 1600 --lr 3e-3"
    [constant_t1600_lr3e-3_do0]="--max-tokens 1600 --lr 3e-3 --dropout 0"
    [constant_t3200_lr4e-3]="--max-tokens 3200 --lr 4e-3"
    [constant_t800_s2]="--max-tokens 800 --seed 2"
    [constant_t1600_lr3e-3_s2]="--max-tokens 1600 --lr 3e-3 --seed 2"
  )
  for name in "${!BUDGET[@]}"; do
    out=$RUNS/m30k-bahdanau-15-$name
    # shellcheck disable=SC2086
    python scripts/train_translation.py --corpus multi30k --src de --tgt en --model bahdanau --threads 1 --seed 1 \
      --dropout 0.1 --ema-decay 0 --embed-size 128 --wandb-mode offline --max-cpu-minutes 15 --out "$out" ${BUDGET[$name]} > "$out.train.log" 2>&1
    python scripts/evaluate_translation.py "$out/best.pt" --corpus multi30k --split test --beam 5 --threads 1 \
      --hypotheses "$out.test.hyp" > "$out.test.log" 2>&1
  done
fi

# One run from scratch, RNNsearch unless the settings say otherwise: CPU minutes, the checkpoint to score (best or
# last), name, then train_translation.py settings (later ones win; E=128 unless they say otherwise, the size of every
# run before the fifteenth session)
run_for() {
  local minutes=$1 checkpoint=$2 name=$3 out=$RUNS/m30k-$1-$3
  shift 3
  python scripts/train_translation.py --corpus multi30k --src de --tgt en --model bahdanau --threads 1 --seed 1 \
    --max-tokens 800 --dropout 0.1 --embed-size 128 --wandb-mode offline --max-cpu-minutes "$minutes" --out "$out" "$@" \
    > "$out.train.log" 2>&1
  python scripts/evaluate_translation.py "$out/$checkpoint.pt" --corpus multi30k --split test --beam 5 --threads 1 \
    --hypotheses "$out.test.hyp" > "$out.test.log" 2>&1
}
# 15 CPU minutes scored on the best-validation checkpoint; 4 on last.pt, like the table's 4-minute column
run15() { run_for 15 best "$@"; }
run4() { run_for 4 last "$@"; }

# RNNsearch for 15 CPU minutes with an average of the weights (--ema-decay), against the same settings without it,
# seeds 1-3: results/translation.md, "An average of the weights"
if [[ $which == all || $which == ema ]]; then
  declare -A EMA=(
    [ema0.999]="--ema-decay 0.999"
    [ema0.998]="--ema-decay 0.998"
    [ema0.995]="--ema-decay 0.995"
    [base]=""
    [ema0.998_s2]="--ema-decay 0.998 --seed 2"
    [base_s2]="--seed 2"
    [ema0.998_s3]="--ema-decay 0.998 --seed 3"
    [base_s3]="--seed 3"
    [ema0.998_t1600_lr3e-3]="--ema-decay 0.998 --max-tokens 1600 --lr 3e-3"
    [ema0.998w]="--ema-decay 0.998 --ema-warmup true"
    [ema0.998w_s2]="--ema-decay 0.998 --ema-warmup true --seed 2"
    [ema0.998w_s3]="--ema-decay 0.998 --ema-warmup true --seed 3"
  )
  for name in "${!EMA[@]}"; do
    # shellcheck disable=SC2086
    run15 "$name" --ema-decay 0 --ema-warmup false ${EMA[$name]}
  done
fi

# The average of the weights as the default (2026-12-03, fourteenth session): seven seeds of RNNsearch with the
# faster training step (logits at the non-PAD targets only, fused Adam), a higher rate, and the Transformer and
# Luong dot rows of the table with the average: results/translation.md, "The average as the default"
if [[ $which == all || $which == averaged ]]; then
  declare -A AVERAGED=(
    [ema0.998w-fast]="--seed 1"
    [ema0.998w-fast_s2]="--seed 2"
    [ema0.998w-fast_s3]="--seed 3"
    [ema0.998w-fast_s4]="--seed 4"
    [ema0.998w-fast_s5]="--seed 5"
    [ema0.998w-fast_s6]="--seed 6"
    [ema0.998w-fast_s7]="--seed 7"
    [ema0.998w_lr3e-3]="--lr 3e-3"
    [luong-dot-ema0.998w]="--model luong-dot"
    [transformer-ema0.998w]="--model transformer ${EXTRA[transformer]}"
  )
  for name in "${!AVERAGED[@]}"; do
    # shellcheck disable=SC2086
    run15 "$name" --ema-decay 0.998 --ema-warmup true ${AVERAGED[$name]}
  done
  run4 ema0.998w --ema-decay 0.998 --ema-warmup true  # the 4 CPU-minute mark with the default average
fi

# The sizes (2026-12-03, fifteenth session): a larger or smaller BPE vocabulary, E=256 embeddings (five seeds; the
# default since), a wider decoder, the Transformer at width 256, and E=256 at the 4 CPU-minute mark:
# results/translation.md, "Wider embeddings"
if [[ $which == all || $which == sizes ]]; then
  declare -A SIZES=(
    [v8000]="--vocab-size 8000"
    [v2000]="--vocab-size 2000"
    [e256]="--embed-size 256"
    [e256_s2]="--embed-size 256 --seed 2"
    [e256_s3]="--embed-size 256 --seed 3"
    [e256_s4]="--embed-size 256 --seed 4"
    [e256_s5]="--embed-size 256 --seed 5"
    [e256-d512]="--embed-size 256 --hidden-size 512"
    [transformer-e256]="--model transformer ${EXTRA[transformer]} --embed-size 256"
  )
  for name in "${!SIZES[@]}"; do
    # shellcheck disable=SC2086
    run15 "$name" --ema-decay 0.998 --ema-warmup true ${SIZES[$name]}
  done
  run4 e256 --ema-decay 0.998 --ema-warmup true --embed-size 256
fi

# The Transformer with its decoding cache (2026-12-03, sixteenth session): its two rows of the sizes section again,
# at E=128 and E=256: results/translation.md, "A decoding cache for the Transformer"
if [[ $which == all || $which == cache ]]; then
  run15 transformer-kv --ema-decay 0.998 --ema-warmup true --model transformer ${EXTRA[transformer]} --embed-size 128
  run15 transformer-e256-kv --ema-decay 0.998 --ema-warmup true --model transformer ${EXTRA[transformer]} --embed-size 256
fi
