"""Collect the runs of benchmarks/ram_runs.sh into the Markdown table of results/ram.md.

    python benchmarks/ram_table.py [runs/ram_results] [--plot results/figures/ram_curves.png]
    python benchmarks/ram_table.py [runs/ram_results] --seeds     # the seed study
    python benchmarks/ram_table.py [runs/ram_results] --overfit   # training against validation error
    python benchmarks/ram_table.py [runs/ram_results] --gpu       # the runs trained on a GPU
    python benchmarks/ram_table.py [runs/ram_results] --reference # the public RAM's own code, same budgets

Reads each run's test evaluation (``<name>.json`` from ``scripts/evaluate.py --json-out``) and its
checkpoints (settings, epochs, wall and CPU time); prints Markdown and, with ``--plot``, draws each
task row's validation error against CPU minutes from the history saved in ``last.pt``. Nothing is typed in by hand:
a run that is missing shows up as a missing row.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from agents.checkpoint import load_checkpoint
from agents.tracking import cpu_name

# name, task label, the paper's test error (%, Mnih et al. 2014, Table 1), best public (%)
ROWS = [
    # the task rows (with the paper's number): this project's best settings per task
    ("mnist_cpu2_zi_lwd1_shift2", "MNIST 28x28, 6 glimpses 8x8, **2 CPU-min**, defaults", "1.12", "3.89 at 2 CPU-min"),
    ("mnist_cpu10_zi_lwd1_shift2", "MNIST 28x28, 6 glimpses 8x8, **10 CPU-min**, defaults", "1.12", "2.35 at 10 CPU-min"),
    ("mnist_cpu30_zi_lwd1_shift2", "MNIST 28x28, 6 glimpses 8x8, **30 CPU-min**, defaults", "1.12", "0.85"),
    ("mnist_cpu60_zi_lwd1_shift2", "MNIST 28x28, 6 glimpses 8x8, **60 CPU-min**, defaults", "1.12", "0.85"),
    ("mnist_cpu120_zi_lwd1_shift2", "MNIST 28x28, 6 glimpses 8x8, **120 CPU-min**, defaults", "1.12", "0.85"),
    # the 2026-11-27 host (an Intel Xeon): more seeds, the average of the weights, the short budgets rerun
    ("mnist_cpu60_zi_lwd1_shift2_s3", "MNIST, 60 CPU-min, defaults, seed 3 (the 2026-11-27 host, an Intel Xeon: 279 epochs in the budget)", "1.12", "0.85"),
    ("mnist_cpu60_zi_lwd1_shift2_s4", "same, seed 4", "1.12", "0.85"),
    ("mnist_cpu60_zi_lwd1_shift2_ema0.999_s3", "same as seed 3, `--ema-decay 0.999` (the average of the weights validated and scored)", "1.12", "0.85"),
    ("mnist_cpu60_zi_lwd1_shift2_ema0.999_s4", "same as seed 4, `--ema-decay 0.999`", "1.12", "0.85"),
    ("mnist_cpu60_zi_lwd1_shift2_ema0.999_s0", "MNIST, 60 CPU-min, `--ema-decay 0.999`, seed 0 (the 2026-11-27 host)", "1.12", "0.85"),
    ("mnist_cpu60_zi_lwd1_shift2_ema0.999_s1", "same, seed 1", "1.12", "0.85"),
    ("mnist_cpu60_zi_lwd1_shift2_ema0.999_s2", "same, seed 2", "1.12", "0.85"),
    ("mnist_cpu10_zi_lwd1_shift2_again", "MNIST, 10 CPU-min, defaults, rerun on the 2026-11-27 host", "", ""),
    ("mnist_cpu10_zi_lwd1_shift2_ema0.999", "same, `--ema-decay 0.999`", "", ""),
    ("mnist_cpu2_zi_lwd1_shift2_again_s0", "MNIST, 2 CPU-min, defaults, rerun on the 2026-11-27 host, seed 0", "", ""),
    ("mnist_cpu2_zi_lwd1_shift2_again_s1", "same, seed 1", "", ""),
    ("mnist_cpu2_zi_lwd1_shift2_again_s2", "same, seed 2", "", ""),
    ("mnist_cpu2_zi_lwd1_shift2_ema0.999_s0", "MNIST, 2 CPU-min, `--ema-decay 0.999`, seed 0", "", ""),
    ("mnist_cpu2_zi_lwd1_shift2_ema0.999_s1", "same, seed 1", "", ""),
    ("mnist_cpu2_zi_lwd1_shift2_ema0.999_s2", "same, seed 2", "", ""),
    ("translated_cpu12_zi_std0.1_lstm", "translated 60x60, 6 glimpses 12x12 x3, LSTM, std 0.1", "1.22", ""),
    ("c60_cpu10_zi_std0.1_lstm", "cluttered 60x60, 8 glimpses 12x12 x3, **10 CPU-min**, LSTM, std 0.1", "4.04", ""),
    ("c60_cpu30_zi_std0.1_lstm", "cluttered 60x60, 8 glimpses 12x12 x3, **30 CPU-min**, LSTM, std 0.1", "4.04", "2.63"),
    ("c60_cpu60_zi_std0.1_lstm", "cluttered 60x60, 8 glimpses 12x12 x3, **60 CPU-min**, LSTM, std 0.1", "4.04", "2.63"),
    ("c60_cpu120_zi_std0.1_lstm", "cluttered 60x60, 8 glimpses 12x12 x3, **120 CPU-min**, LSTM, std 0.1", "4.04", "2.63"),
    ("c60_cpu220r_zi_std0.1_lstm", "cluttered 60x60, 8 glimpses 12x12 x3, **220 CPU-min** (the 120 run resumed), LSTM, std 0.1", "4.04", "2.63"),
    # the eighteenth session: an A/B from scratch with the policy gradient let into the core, then both resumed
    ("c60_cpu60_ctrl", "cluttered 60x60, 8 glimpses 12x12 x3, **60 CPU-min**, LSTM, std 0.1, rerun on the 2026-12-07 host beside the next row", "4.04", "2.63"),
    ("c60_cpu60_nodetach", "cluttered 60x60, 8 glimpses 12x12 x3, **60 CPU-min**, LSTM, std 0.1, **REINFORCE into the core** (`--detach-location false`)", "4.04", "2.63"),
    ("c60_cpu120r_ctrl", "cluttered 60x60, 8 glimpses 12x12 x3, **120 CPU-min** (the 2026-12-07 60 CPU-min run resumed), LSTM, std 0.1", "4.04", "2.63"),
    ("c60_cpu120r_nodetach", "cluttered 60x60, 8 glimpses 12x12 x3, **120 CPU-min** (its 60 CPU-min run resumed), LSTM, std 0.1, **REINFORCE into the core** (`--detach-location false`)", "4.04", "2.63"),
    # the nineteenth session: the 120 CPU-minute run with the flag resumed to 240; the flag on translated, epoch-matched
    ("c60_cpu240r_nodetach", "cluttered 60x60, 8 glimpses 12x12 x3, **240 CPU-min** (the 120 CPU-min run above resumed), LSTM, std 0.1, **REINFORCE into the core** (`--detach-location false`)", "4.04", "2.63"),
    ("c60_cpu30_ctrl_s1", "cluttered 60x60, 8 glimpses 12x12 x3, **30 CPU-min**, LSTM, std 0.1, seed 1, beside the next row", "4.04", "2.63"),
    ("c60_cpu30_nodetach_s1", "same, **REINFORCE into the core** (`--detach-location false`)", "4.04", "2.63"),
    # the twentieth session: 130 more CPU-minutes from the 240 row's weights, resumed and as a warm start with the average
    ("c60_cpu370r_nodetach", "cluttered 60x60, 8 glimpses 12x12 x3, **370 CPU-min** (the 240 CPU-min run above resumed), LSTM, std 0.1, **REINFORCE into the core** (`--detach-location false`)", "4.04", "2.63"),
    ("c60_w240_ema_nodetach", "cluttered 60x60, 8 glimpses 12x12 x3, **warm start** from the 240 CPU-min row's weights, lr 3e-4, `--ema-decay 0.999`, 130 CPU-min (**370 in all**), LSTM, std 0.1, **REINFORCE into the core** (`--detach-location false`)", "4.04", "2.63"),
    # the twenty-first session: a second warm start, from the row above's best weights, the location std annealed to 0.05
    ("c60_w274_ema_stdf0.05", "cluttered 60x60, 8 glimpses 12x12 x3, **second warm start** from the row above's best weights, lr 3e-4, `--ema-decay 0.999`, std 0.1 annealed to 0.05 (`--std-final 0.05`), 115 CPU-min (**467 in all**: 240, then 112 to the best weights of the row above, then 115), LSTM, **REINFORCE into the core** (`--detach-location false`)", "4.04", "2.63"),
    ("c60_cpu60_b512_lr2e-3_lstm", "cluttered 60x60, 8 glimpses 12x12 x3, **60 CPU-min**, LSTM, std 0.1, batch 512, lr 2e-3", "4.04", "2.63"),
    ("translated_cpu30_zi_std0.1_lstm", "translated 60x60, 6 glimpses 12x12 x3, **30 CPU-min**, LSTM, std 0.1", "1.22", ""),
    ("translated_cpu120_zi_std0.1_lstm", "translated 60x60, 6 glimpses 12x12 x3, **120 CPU-min**, LSTM, std 0.1", "1.22", ""),
    ("translated_cpu220r_zi_std0.1_lstm", "translated 60x60, 6 glimpses 12x12 x3, **220 CPU-min** (the 120 run resumed), LSTM, std 0.1", "1.22", ""),
    ("translated_e182_rot10_zoom10_std0.1_lstm", "translated 60x60, 6 glimpses 12x12 x3, **182 epochs** (the 120 CPU-min row's; 87.5 CPU-min on the 2026-11-27 host), LSTM, std 0.1, digits rotated up to 10 degrees and scaled up to 10 % in training", "1.22", ""),
    ("translated_e182_rot10_zoom10_nodetach", "same 182 epochs and distorted digits, **REINFORCE into the core** (`--detach-location false`; 86 CPU-min on the 2026-12-07 host)", "1.22", ""),
    # the fifth session (same host): MNIST with the distorted digits, then with an annealed location std
    ("mnist_cpu60_ema0.999_rot10_zoom10_s0", "MNIST, 60 CPU-min, `--ema-decay 0.999 --train-rotation 10 --train-zoom 10`, seed 0", "1.12", "0.85"),
    ("mnist_cpu60_ema0.999_rot10_zoom10_s1", "same, seed 1", "1.12", "0.85"),
    ("mnist_cpu60_ema0.999_stdf0.02_s0", "MNIST, 60 CPU-min, `--ema-decay 0.999 --std-final 0.02`, seed 0", "1.12", "0.85"),
    ("mnist_cpu60_ema0.999_stdf0.02_s1", "same, seed 1", "1.12", "0.85"),
    # the sixth session (same host): MNIST with a wider location std, then 0.1 annealed to 0.05
    ("mnist_cpu60_ema0.999_std0.1_s0", "MNIST, 60 CPU-min, `--ema-decay 0.999 --std 0.1`, seed 0", "1.12", "0.85"),
    ("mnist_cpu60_ema0.999_std0.15_s0", "MNIST, 60 CPU-min, `--ema-decay 0.999 --std 0.15`, seed 0", "1.12", "0.85"),
    ("mnist_cpu60_ema0.999_std0.1_stdf0.05_s0", "MNIST, 60 CPU-min, `--ema-decay 0.999 --std 0.1 --std-final 0.05`, seed 0", "1.12", "0.85"),
    ("mnist_cpu60_ema0.999_std0.1_stdf0.05_s1", "same, seed 1", "1.12", "0.85"),
    # the seventh session (same host): translated 60x60 with the average of the weights, one cosine of 130 CPU-min
    ("translated_cpu130_ema0.999_lstm", "translated 60x60, 6 glimpses 12x12 x3, **130 CPU-min**, LSTM, std 0.1, `--ema-decay 0.999` (the 2026-11-27 host; 1.40 mean over 10 location seeds)", "1.22", ""),
    ("translated_cpu220_ema0.999_lstm", "translated 60x60, 6 glimpses 12x12 x3, **220 CPU-min** (one cosine; stopped at 148 and resumed), LSTM, std 0.1, `--ema-decay 0.999` (the 2026-11-27 host)", "1.22", ""),
    # the eighth session (same host): MNIST's EMA recipe with a wider core, then with smoothed labels;
    # translated 60x60 with the location network's decay (the MNIST default) at the 30 CPU-min row's 44 epochs
    ("mnist_cpu60_ema0.999_h512_s0", "MNIST, 60 CPU-min, `--ema-decay 0.999 --hidden-size 512`, seed 0", "1.12", "0.85"),
    ("mnist_cpu60_ema0.999_ls0.1_s0", "MNIST, 60 CPU-min, `--ema-decay 0.999 --label-smoothing 0.1`, seed 0", "1.12", "0.85"),
    ("translated_e44_lwd1_lstm", "translated 60x60, 6 glimpses 12x12 x3, **44 epochs** (the 30 CPU-min row's), LSTM, std 0.1, `--location-weight-decay 1`", "1.22", ""),
    ("translated_e44_lwd0_lstm", "same, without the decay (`--location-weight-decay 0`, the translated rows' setting)", "1.22", ""),
    ("translated_e44_lwd1_lstm_s1", "translated 60x60, 44 epochs, `--location-weight-decay 1`, seed 1", "1.22", ""),
    ("translated_e44_lwd0_lstm_s1", "same, `--location-weight-decay 0`, seed 1", "1.22", ""),
    # the ninth session (same host): the 182-epoch distorted translated run resumed to 195 CPU-min (a warm restart),
    # as it was and with the location std annealed from 0.1 to 0.05 over the added CPU-minutes
    ("translated_cpu195r_rot10_zoom10_lstm", "translated 60x60, 6 glimpses 12x12 x3, **195 CPU-min** (the 182-epoch distorted run resumed), LSTM, std 0.1, digits rotated up to 10 degrees and scaled up to 10 % in training (the 2026-11-27 host)", "1.22", ""),
    ("translated_cpu195r_rot10_zoom10_stdf0.05_lstm", "same, the std annealed to 0.05 over the added CPU-minutes (`--std-final 0.05`)", "1.22", ""),
    # the tenth session (same host): the 1.15 % run resumed again, to 295 CPU-min
    ("translated_cpu295r_rot10_zoom10_lstm", "the 195 CPU-min distorted translated run resumed again, to **295 CPU-min** (the cosine restarts at 0.26x the peak rate)", "1.22", ""),
    ("mnist_cpu110r_ema0.999_s0", "MNIST, **110 CPU-min** (the 60 CPU-min `--ema-decay 0.999` run of seed 0, resumed)", "1.12", "0.85"),
    # the eleventh session (same host): cluttered with distorted digits under one cosine; MNIST with windowed selection
    ("c60_cpu300_rot10_zoom10_lstm", "cluttered 60x60, 8 glimpses 12x12 x3, **300 CPU-min** (one cosine), LSTM, std 0.1, digits rotated up to 10 degrees and scaled up to 10 % in training", "4.04", "2.63"),
    ("mnist_cpu60_ema0.999_sw10_s0", "MNIST, 60 CPU-min, `--ema-decay 0.999 --select-window 10`, seed 0", "1.12", "0.85"),
    ("mnist_cpu60_ema0.999_sw10_s1", "same, seed 1", "1.12", "0.85"),
    ("translated_cpu30_b512_lr2e-3_lstm", "translated 60x60, 6 glimpses 12x12 x3, **30 CPU-min**, LSTM, std 0.1, batch 512, lr 2e-3", "1.22", ""),
    ("translated_cpu45_b512_lr2e-3_lstm", "translated 60x60, 6 glimpses 12x12 x3, **45 CPU-min**, LSTM, std 0.1, batch 512, lr 2e-3", "1.22", ""),
    ("c60_randglimpse", "cluttered 60x60, **random glimpses** (RNN, earlier init)", "14.4", ""),
    ("c60_cpu10_randglimpse_lstm", "cluttered 60x60, **random glimpses**, **10 CPU-min**, LSTM, std 0.1 (the 10 CPU-min row's recipe)", "14.4", ""),
    ("c100_cpu20_zi_std0.1_lstm", "cluttered 100x100, 8 glimpses 12x12 x4, **20 CPU-min**, LSTM, std 0.1", "8.11", "5.9"),
    ("c100_cpu110_zi_std0.1_lstm", "cluttered 100x100, 8 glimpses 12x12 x4, **100 epochs** (110 CPU-min budget), LSTM, std 0.1", "8.11", "5.9"),
    ("c100_cpu140_ema0.999_fd", "cluttered 100x100, 8 glimpses 12x12 x4, **100 epochs** (140 CPU-min budget), LSTM, std 0.1, `--ema-decay 0.999`", "8.11", "5.9"),
    # the sixteenth session: that run resumed on both cores, two processes under torchrun; its clock is each rank's
    ("c100_ddp2_r208", "cluttered 100x100, 8 glimpses 12x12 x4, **208 CPU-min per process** (the 100-epoch `--ema-decay 0.999` run resumed on 2 processes under torchrun, batches of 2 x 128; 310 CPU-min in all), LSTM, std 0.1", "8.11", "5.9"),
    # the seventeenth: a warm start (--init-from) from that run's epoch 266 with the policy gradient let into the core
    ("c100_w266_nodetach_ddp2", "cluttered 100x100, 8 glimpses 12x12 x4, **warm start** from the 208 CPU-min row's weights (epoch 266), REINFORCE into the core (`--detach-location false`), lr 5e-4, **120 CPU-min per process** (30 epochs on 1 process, then 2 under torchrun; about 216 more CPU-min, 526 in all), LSTM, std 0.1", "8.11", "5.9"),
    # variants and earlier settings (torch's default init of the location network unless "zero init")
    ("mnist_cpu2_zi_lwd1", "MNIST, 2 CPU-min, no shift of the training images (the previous defaults)", "", ""),
    ("mnist_cpu10_zi_lwd1", "MNIST, 10 CPU-min, no shift (the previous defaults)", "", ""),
    ("mnist_cpu30_zi_lwd1", "MNIST, 100 epochs (30 CPU-min budget), no shift (the previous defaults)", "", ""),
    ("mnist_cpu10_zi_lwd1_std0.1", "MNIST, 10 CPU-min, no shift, std 0.1", "", ""),
    ("mnist_cpu10_zi_lwd1_wd0.1", "MNIST, 10 CPU-min, no shift, AdamW weight decay 0.1 on the whole model", "", ""),
    ("mnist_cpu10_zi_lwd1_shift2_lr2e-3", "MNIST, 10 CPU-min, `--lr 2e-3 --location-lr 1e-3`", "", ""),
    ("mnist_cpu10_zi_lwd1_shift2_lstm", "MNIST, 10 CPU-min, LSTM core", "", ""),
    ("mnist_cpu10_zi_lwd1_shift2_do0.3", "MNIST, 10 CPU-min, dropout 0.3 before the action network", "", ""),
    ("mnist_cpu10_zi_lwd1_shift3", "MNIST, 10 CPU-min, shift up to 3 pixels", "", ""),
    ("mnist_cpu2_zi_lwd1_shift2_h128", "MNIST, 2 CPU-min, a smaller model (`--hidden-size 128 --glimpse-out 128`)", "", ""),
    ("mnist_cpu2_zi_lwd1_shift2_h128_lr2e-3", "same, `--lr 2e-3 --location-lr 1e-3`", "", ""),
    ("mnist_cpu2", "MNIST, 2 CPU-min, default init (the earlier default)", "", ""),
    ("mnist_cpu2_b32", "same, batch 32", "", ""),
    ("mnist_cpu2_b64", "same, batch 64", "", ""),
    ("mnist_cpu2_b256", "same, batch 256", "", ""),
    ("mnist_cpu2_lr3e-3", "same, lr 3e-3", "", ""),
    ("mnist_cpu2_lstm", "same, LSTM core", "", ""),
    ("mnist_cpu2_gru", "same, GRU core", "", ""),
    ("mnist_cpu2_std0.1", "same, std 0.1", "", ""),
    ("mnist_cpu2_std0.2", "same, std 0.2", "", ""),
    ("mnist_cpu2_loclr1e-4", "same, location network lr 1e-4", "", ""),
    ("mnist_cpu2_lochid", "same, a 128-unit hidden layer in the location network", "", ""),
    ("mnist_cpu2_gauss", "same, Gaussian log-prob of the unclipped sample", "", ""),
    ("mnist_cpu2_kz", "same, kevinzakka's recipe (hidden layer, unclipped log-prob, constant lr 3e-4)", "", ""),
    ("mnist_cpu2_zi", "MNIST, 2 CPU-min, zero init, no location decay (the previous defaults)", "", ""),
    ("mnist_cpu10_zi", "MNIST, 10 CPU-min, zero init, no location decay (the previous defaults)", "", ""),
    ("mnist_cpu2_zi_lwd1_lr2e-3", "MNIST, 2 CPU-min, `--lr 2e-3 --location-lr 1e-3`", "", ""),
    ("mnist_cpu10_zi_lwd1_lr2e-3", "MNIST, 10 CPU-min, `--lr 2e-3 --location-lr 1e-3`", "", ""),
    ("mnist_cpu30_zi_lwd1_lr2e-3", "MNIST, 30 CPU-min, `--lr 2e-3 --location-lr 1e-3`", "", ""),
    ("mnist_cpu2_zi_lstm", "MNIST, 2 CPU-min, zero init, LSTM core", "", ""),
    ("mnist_cpu10", "MNIST, 10 CPU-min, default init (the earlier default)", "", ""),
    ("mnist_cpu10_zi_lstm", "MNIST, 10 CPU-min, zero init, LSTM core", "", ""),
    ("mnist_e100", "MNIST, a longer run, earlier settings (see notes)", "", ""),
    ("translated", "translated 60x60, 30 epochs, RNN, default init, std 0.05", "", ""),
    ("c60_cpu10", "cluttered 60x60, 10 CPU-min, RNN, default init, std 0.05", "", ""),
    ("c60_center", "cluttered 60x60, 60 epochs, RNN, default init, std 0.05", "", ""),
    ("c100", "cluttered 100x100, 30 epochs, RNN, default init, std 0.05", "", ""),
    ("c60_cpu10_nodetach", "cluttered 60x60, 10 CPU-min, REINFORCE into the core (`--detach-location false`)", "", ""),
    ("c60_cpu10_std0.1", "cluttered 60x60, 10 CPU-min, RNN, std 0.1", "", ""),
    ("c60_cpu10_zi_std0.1", "cluttered 60x60, 10 CPU-min, RNN, std 0.1, zero init", "", ""),
    ("c60_cpu10_zi_std0.1_k4", "same, `--rollouts-per-image 4`", "", ""),
]


# settings run on several seeds: (label, runs); the seed study of results/ram.md
SEED_GROUPS = [
    ("MNIST, 2 CPU-min, torch's default init of the location network", ["mnist_cpu2", "mnist_cpu2_s1", "mnist_cpu2_s2"]),
    ("same, `--std 0.2`", ["mnist_cpu2_std0.2", "mnist_cpu2_std0.2_s1", "mnist_cpu2_std0.2_s2"]),
    ("MNIST, 2 CPU-min, zero-initialised location network, no location decay (the previous defaults)", ["mnist_cpu2_zi", "mnist_cpu2_zi_s1", "mnist_cpu2_zi_s2"]),
    ("same, `--std 0.1`", ["mnist_cpu2_zi_std0.1", "mnist_cpu2_zi_std0.1_s1"]),
    ("same, `--std 0.2`", ["mnist_cpu2_zi_std0.2", "mnist_cpu2_zi_std0.2_s1"]),
    ("same, `--rollouts-per-image 4`", ["mnist_cpu2_zi_k4", "mnist_cpu2_zi_k4_s1"]),
    ("MNIST, 10 CPU-min, default init", ["mnist_cpu10", "mnist_cpu10_s1"]),
    ("MNIST, 10 CPU-min, zero init, no location decay (the previous defaults)", ["mnist_cpu10_zi", "mnist_cpu10_zi_s1"]),
    ("MNIST, 10 CPU-min, zero init, LSTM core", ["mnist_cpu10_zi_lstm", "mnist_cpu10_zi_lstm_s1", "mnist_cpu10_zi_lstm_s2"]),
    ("MNIST, 2 CPU-min, zero init, LSTM core", ["mnist_cpu2_zi_lstm", "mnist_cpu2_zi_lstm_s1", "mnist_cpu2_zi_lstm_s2"]),
    ("MNIST, 2 CPU-min, zero init, tanh RNN core (`--cell rnn_tanh`)", ["mnist_cpu2_zi_tanh", "mnist_cpu2_zi_tanh_s1", "mnist_cpu2_zi_tanh_s2"]),
    ("MNIST, 2 CPU-min, zero init, `--location-weight-decay 1`, no shift (the previous defaults)", ["mnist_cpu2_zi_lwd1", "mnist_cpu2_zi_lwd1_s1", "mnist_cpu2_zi_lwd1_s2"]),
    ("same, `--location-weight-decay 10`", ["mnist_cpu2_zi_lwd10", "mnist_cpu2_zi_lwd10_s1", "mnist_cpu2_zi_lwd10_s2"]),
    ("MNIST, 2 CPU-min, zero init, `--location-normalize`", ["mnist_cpu2_zi_lnorm", "mnist_cpu2_zi_lnorm_s1"]),
    ("MNIST, 2 CPU-min, zero init, `--location-weight-decay 1 --location-lr 1e-3 --lr 2e-3`", ["mnist_cpu2_zi_lwd1_lr2e-3", "mnist_cpu2_zi_lwd1_lr2e-3_s1", "mnist_cpu2_zi_lwd1_lr2e-3_s2"]),
    ("same, `--lr 3e-3`", ["mnist_cpu2_zi_lwd1_lr3e-3", "mnist_cpu2_zi_lwd1_lr3e-3_s1", "mnist_cpu2_zi_lwd1_lr3e-3_s2"]),
    ("same, `--lr 5e-3`", ["mnist_cpu2_zi_lwd1_lr5e-3", "mnist_cpu2_zi_lwd1_lr5e-3_s1"]),
    ("MNIST, 10 CPU-min, zero init, `--location-weight-decay 1`, no shift (the previous defaults)", ["mnist_cpu10_zi_lwd1", "mnist_cpu10_zi_lwd1_s1"]),
    ("MNIST, 10 CPU-min, `--train-shift 2` (the defaults now)", ["mnist_cpu10_zi_lwd1_shift2", "mnist_cpu10_zi_lwd1_shift2_s1", "mnist_cpu10_zi_lwd1_shift2_s2"]),
    ("MNIST, 60 CPU-min, `--train-shift 2` (the defaults now), seeds 0-4", ["mnist_cpu60_zi_lwd1_shift2", "mnist_cpu60_zi_lwd1_shift2_s1", "mnist_cpu60_zi_lwd1_shift2_s2",
                                                                   "mnist_cpu60_zi_lwd1_shift2_s3", "mnist_cpu60_zi_lwd1_shift2_s4"]),
    ("MNIST, 60 CPU-min, `--ema-decay 0.999`, seeds 0-4 (the 2026-11-27 host)", [f"mnist_cpu60_zi_lwd1_shift2_ema0.999_s{seed}" for seed in range(5)]),
    ("MNIST, 2 CPU-min, `--train-shift 2` (the defaults now)", ["mnist_cpu2_zi_lwd1_shift2", "mnist_cpu2_zi_lwd1_shift2_s1", "mnist_cpu2_zi_lwd1_shift2_s2"]),
    ("same, `--lr 2e-3 --location-lr 1e-3`", ["mnist_cpu2_zi_lwd1_shift2_lr2e-3", "mnist_cpu2_zi_lwd1_shift2_lr2e-3_s1", "mnist_cpu2_zi_lwd1_shift2_lr2e-3_s2"]),
    ("same, `--location-weight-decay 3`", ["mnist_cpu10_zi_lwd3"]),
    ("MNIST, 10 CPU-min, zero init, `--location-weight-decay 1 --location-lr 1e-3 --lr 2e-3`", ["mnist_cpu10_zi_lwd1_lr2e-3", "mnist_cpu10_zi_lwd1_lr2e-3_s1"]),
    ("MNIST, 2 CPU-min, zero init, `--early-ce-weight 0.3`", ["mnist_cpu2_zi_ece0.3", "mnist_cpu2_zi_ece0.3_s1"]),
    ("MNIST, 2 CPU-min, zero init, `--reward prob`", ["mnist_cpu2_zi_rprob", "mnist_cpu2_zi_rprob_s1", "mnist_cpu2_zi_rprob_s2"]),
    ("cluttered 60x60, 10 CPU-min, default init, std 0.05", ["c60_cpu10", "c60_cpu10_s1"]),
    ("same, `--std 0.1`", ["c60_cpu10_std0.1", "c60_cpu10_std0.1_s1"]),
    ("same, `--std 0.1`, zero init", ["c60_cpu10_zi_std0.1", "c60_cpu10_zi_std0.1_s1"]),
    ("same, `--std 0.1`, zero init, `--rollouts-per-image 4`", ["c60_cpu10_zi_std0.1_k4", "c60_cpu10_zi_std0.1_k4_s1"]),
    ("same, `--std 0.1`, zero init, LSTM core", ["c60_cpu10_zi_std0.1_lstm", "c60_cpu10_zi_std0.1_lstm_s1"]),
    ("same, `--std 0.1`, zero init, LSTM core, `--location-weight-decay 1`", ["c60_cpu10_zi_std0.1_lstm_lwd1"]),
    # the twelfth session's 2 CPU-minute sweep on a 2-vCPU AMD EPYC (benchmarks/ram_runs.sh, "twelfth"), its own folder
    ("EPYC, 2 CPU-min: the public RAM's own code (seeds 1 / 2 / 3)", [f"epyc_cpu2/reference/kz_cpu2_s{seed}" for seed in (1, 2, 3)]),
    ("EPYC, 2 CPU-min: our defaults, seeds 0-4", [f"epyc_cpu2/mnist_cpu2_defaults_s{seed}" for seed in range(5)]),
    ("EPYC, 2 CPU-min: `--train-shift 0 --lr 3e-3 --location-lr 1e-3`, seeds 0-5", [f"epyc_cpu2/mnist_cpu2_lr3e-3_s{seed}" for seed in range(6)]),
    ("same, `--batch-size 256 --lr 5e-3`, seeds 0-5", [f"epyc_cpu2/mnist_cpu2_b256_lr5e-3_s{seed}" for seed in range(6)]),
    ("same, `--batch-size 512 --lr 7e-3 --location-lr 1.5e-3`", [f"epyc_cpu2/mnist_cpu2_b512_lr7e-3_s{seed}" for seed in range(3)]),
    ("same, batch 128, `--lr 5e-3`", [f"epyc_cpu2/mnist_cpu2_lr5e-3_s{seed}" for seed in range(3)]),
    ("same, batch 64, `--lr 2e-3 --location-lr 7e-4`", ["epyc_cpu2/mnist_cpu2_b64_lr2e-3_s0"]),
    ("same as `--lr 3e-3`, `--core-init identity`", [f"epyc_cpu2/mnist_cpu2_irnn_lr3e-3_s{seed}" for seed in range(3)]),
    ("same as `--batch-size 256 --lr 5e-3`, `--core-init identity`", [f"epyc_cpu2/mnist_cpu2_b256_lr5e-3_irnn_s{seed}" for seed in range(3)]),
    ("same as `--lr 3e-3`, `--cell rnn_ln`", [f"epyc_cpu2/mnist_cpu2_ln_lr3e-3_s{seed}" for seed in range(3)]),
    ("EPYC, 2 CPU-min: our defaults, `--cell rnn_ln`", [f"epyc_cpu2/mnist_cpu2_ln_s{seed}" for seed in range(3)]),
    # the thirteenth session's, on another 2-vCPU AMD EPYC (9-10 epochs in the budget; ram_runs.sh "thirteenth")
    ("EPYC 2, 2 CPU-min: the public RAM's own code (seeds 1 / 2 / 3)", [f"epyc2_cpu2/reference/kz_cpu2_s{seed}" for seed in (1, 2, 3)]),
    ("EPYC 2, 2 CPU-min: `--train-shift 0 --lr 3e-3 --location-lr 1e-3`, seeds 0-5", [f"epyc2_cpu2/mnist_cpu2_lr3e-3_s{seed}" for seed in range(6)]),
    ("same, `--ema-decay 0.995`, seeds 0-5", [f"epyc2_cpu2/mnist_cpu2_lr3e-3_ema0.995_s{seed}" for seed in range(6)]),
    ("same, `--ema-decay 0.999`", [f"epyc2_cpu2/mnist_cpu2_lr3e-3_ema0.999_s{seed}" for seed in range(3)]),
    ("same, `--grad-clip 1000` (no clip in effect), seeds 0-5 (3-5: the fourteenth session, same host kind)", [f"epyc2_cpu2/mnist_cpu2_lr3e-3_noclip_s{seed}" for seed in range(6)]),
    ("same, `--lr 5e-3 --warmup-steps 150`", [f"epyc2_cpu2/mnist_cpu2_lr5e-3_wu150_s{seed}" for seed in range(3)]),
    # the fourteenth session's (2026-12-03 again, the same kind of host; ram_runs.sh "fourteenth")
    ("same, `--grad-clip 1000 --ema-decay 0.998 --ema-warmup true`, seeds 0-5", [f"epyc2_cpu2/mnist_cpu2_lr3e-3_noclip_ema0.998w_s{seed}" for seed in range(6)]),
    # the eighteenth session (2026-12-07): REINFORCE into the core on MNIST, beside the defaults
    ("MNIST, 10 CPU-min, defaults, seeds 0-1 (the 2026-12-07 host)", ["mnist_cpu10_ctrl_s0", "mnist_cpu10_ctrl_s1"]),
    ("same, REINFORCE into the core (`--detach-location false`)", ["mnist_cpu10_nodetach_s0", "mnist_cpu10_nodetach_s1"]),
]


# MNIST runs scored on their training images too (``<name>.train.json``): is the gap overfitting?
OVERFIT_RUNS = [
    ("mnist_cpu10_zi_lwd1", "10 CPU-min, no shift (the previous defaults), seed 0"),
    ("mnist_cpu10_zi_lwd1_s1", "same, seed 1"),
    ("mnist_cpu30_zi_lwd1", "100 epochs (30 CPU-min budget), no shift"),
    ("mnist_cpu10_zi_lwd1_wd0.1", "10 CPU-min, no shift, AdamW weight decay 0.1 on the whole model"),
    ("mnist_cpu10_zi_lwd1_std0.1", "10 CPU-min, no shift, std 0.1"),
    ("mnist_cpu10_zi_lwd1_shift2", "10 CPU-min, `--train-shift 2` (the defaults now), seed 0"),
    ("mnist_cpu10_zi_lwd1_shift2_s1", "same, seed 1"),
    ("mnist_cpu30_zi_lwd1_shift2", "30 CPU-min, `--train-shift 2`"),
    ("mnist_cpu60_zi_lwd1_shift2", "60 CPU-min, `--train-shift 2`"),
    ("mnist_cpu60_zi_lwd1_shift2_s1", "same, seed 1"),
    ("mnist_cpu60_zi_lwd1_shift2_s2", "same, seed 2"),
    ("mnist_cpu120_zi_lwd1_shift2", "120 CPU-min, `--train-shift 2`"),
]


# runs trained on one GPU (benchmarks/ram_runs.sh, "gpu"): six at once on one H100, 5 minutes each
GPU_RUNS = [
    ("gpu_mnist_b128", "MNIST 28x28, defaults"),
    ("gpu_translated_b128", "translated 60x60, LSTM, std 0.1"),
    ("gpu_c60_b128", "cluttered 60x60, LSTM, std 0.1"),
    ("gpu_c60_b512", "cluttered 60x60, LSTM, std 0.1, `--batch-size 512 --lr 2e-3`"),
    ("gpu_c100_b128", "cluttered 100x100, LSTM, std 0.1"),
    ("gpu_c100_b512", "cluttered 100x100, LSTM, std 0.1, `--batch-size 512 --lr 2e-3`"),
    # one H200, two runs at once (benchmarks/ram_runs.sh, "gpu, fifth"): only best.pt came back, the log has the totals
    ("gpu_h200_c100_b512_6min", "H200: cluttered 100x100, LSTM, std 0.1, `--batch-size 512 --lr 2e-3`"),
    ("gpu_h200_c100_b1024_6min", "H200: same, `--batch-size 1024 --lr 3e-3 --warmup-steps 200`"),
    ("gpu_h200_c100_b1024_3.5min", "H200: same, `--batch-size 1024 --lr 3e-3 --warmup-steps 200`"),
    ("gpu_h200_c100_b2048_3.5min", "H200: same, `--batch-size 2048 --lr 4e-3 --warmup-steps 200`"),
]


def gpu_table(runs: Path) -> None:
    """The GPU runs: steps and images they got through in their wall-clock budget, and test error."""
    print("| GPU run | batch | steps (per s) | epochs | wall min | test error, 1 rollout | 10 rollouts |")
    print("|---|---|---|---|---|---|---|")
    for name, label in GPU_RUNS:
        r = _result(runs, name)
        if r is None:
            continue
        last = Path(r["checkpoint"]).with_name("last.pt")
        if last.is_file():
            payload = load_checkpoint(last, "ram")
            state = payload["state"]
            epochs, steps, seconds = state["epoch"], state["global_step"], state["seconds"]
        else:  # the run's last line: "trained 105 epochs, 11041 steps in 360 s ..."
            payload = load_checkpoint(r["checkpoint"], "ram")
            line = next(x for x in (runs / f"{name}.log").read_text().splitlines() if x.startswith("trained "))
            words = line.replace(",", "").split()
            epochs, steps, seconds = int(words[1]), int(words[3]), float(words[6])
        batch = payload["config"]["batch_size"]
        print(f"| {label} | {batch} | {steps:,} ({steps / seconds:.1f}) | {epochs} "
              f"| {seconds / 60:.1f} | **{r['error_one_rollout']:.2f}** | {r['error_10_rollouts']:.2f} |")  # fmt: skip


# the public PyTorch RAM run by benchmarks/reference_ram.py (RUNS/reference/kz_cpu<N>_s<seed>.json)
# against ours on the same CPU budgets: (budget in CPU minutes, the brief's figure for it, our seed-0
# runs with the defaults and with the best 2-minute recipe, whose _s1 / _s2 twins are the other seeds;
# None: not run at that budget)
REFERENCE_BUDGETS = [
    (2, "3.89", "mnist_cpu2_zi_lwd1_shift2", "mnist_cpu2_zi_lwd1_lr3e-3"),
    (10, "2.35", "mnist_cpu10_zi_lwd1_shift2", None),
]


def reference_table(runs: Path) -> None:
    """MNIST test error (1 rollout, best-on-validation) of the public RAM's own code and of ours, per
    seed and in the mean, at equal budgets of CPU time on one thread."""
    print("| budget | public RAM, its code (seeds 1 / 2 / 3) | mean | ours, defaults (seeds 0 / 1 / 2) | mean "
          "| ours, `--train-shift 0 --lr 3e-3 --location-lr 1e-3` | mean | public RAM, the brief's figure |")
    print("|---|---|---|---|---|---|---|---|")

    def cells(errors: list[float]) -> tuple[str, str]:
        return " / ".join(f"{e:.2f}" for e in errors) or "not run", f"**{sum(errors) / len(errors):.2f}**" if errors else ""

    for minutes, brief, *names in REFERENCE_BUDGETS:
        paths = sorted((runs / "reference").glob(f"kz_cpu{minutes}_s*.json"), key=lambda p: int(p.stem.rsplit("_s", 1)[1]))
        theirs = [json.loads(p.read_text())["test_error_one_rollout"] for p in paths]
        ours = [cells([r["error_one_rollout"] for r in _seed_results(runs, name)] if name else []) for name in names]
        print(f"| {minutes} CPU-min | {' | '.join(cells(theirs))} | {' | '.join(c for pair in ours for c in pair)} | {brief} |")


def _result(runs: Path, name: str, split: str = "") -> dict | None:
    """The evaluation ``<name>.json`` (test) or ``<name>.<split>.json`` of a run, or None when missing."""
    path = runs / f"{name}{'.' + split if split else ''}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _seed_results(runs: Path, name: str) -> list[dict]:
    """The test evaluations of run ``name`` (seed 0) and its seed 1 / 2 twins ``name_s1``, ``name_s2`` that exist."""
    return [r for r in (_result(runs, n) for n in (name, f"{name}_s1", f"{name}_s2")) if r is not None]


def overfit_table(runs: Path) -> None:
    """Training error (10,000 training images, unshifted), the validation error that selected the
    checkpoint, and the test error, all with one rollout."""
    print("| MNIST run | training error | val error | test error |")
    print("|---|---|---|---|")
    for name, label in OVERFIT_RUNS:
        test, train = _result(runs, name), _result(runs, name, "train")
        if test is None or train is None:
            continue
        best = load_checkpoint(Path(test["checkpoint"]), "ram")["state"]
        print(f"| {label} | {train['error_one_rollout']:.2f} | {best['best_val_error']:.2f} | {test['error_one_rollout']:.2f} |")


def seed_table(runs: Path) -> None:
    """One row per setting: the test error of each seed, their mean, and the share of last glimpses
    parked on the border (from ``scripts/evaluate.py``; missing for runs scored before it counted)."""
    print("| setting | test error, 1 rollout, per seed | mean | last glimpse at the border, % |")
    print("|---|---|---|---|")
    for label, names in SEED_GROUPS:
        results = [r for r in (_result(runs, n) for n in names) if r is not None]
        if not results:
            continue
        # benchmarks/reference_ram.py names its one-rollout test error differently
        errors = [r.get("error_one_rollout", r.get("test_error_one_rollout")) for r in results]
        border = [r["border_percent"][-1] for r in results if r.get("border_percent")]
        shown = " / ".join(f"{b:.0f}" for b in border) if border else "not counted"
        print(f"| {label} | {' / '.join(f'{e:.2f}' for e in errors)} | **{sum(errors) / len(errors):.2f}** | {shown} |")


def plot_curves(histories: dict[str, list[dict]], path: Path) -> None:
    """Validation error (log scale) against CPU minutes, one line per run."""
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.2), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_prop_cycle(color=colormaps["tab20"].colors)  # the default cycle has 10 colours, fewer than the rows
    for name, history in histories.items():
        ax.plot([h["cpu_seconds"] / 60 for h in history], [h["val_error"] for h in history], marker=".", label=name)
    ax.set_xlabel("CPU minutes (1 thread)")
    ax.set_ylabel("validation error % (one rollout)")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)


def collect(runs: Path) -> list[tuple[str, str, str, str, dict, dict, dict]]:
    """``(name, label, paper, public, test results, best state, last state)`` of each run found."""
    found = []
    for name, label, paper, public in ROWS:
        r = _result(runs, name)
        if r is None:
            continue
        ckpt = Path(r["checkpoint"])
        best = load_checkpoint(ckpt, "ram")["state"]
        last = load_checkpoint(ckpt.with_name("last.pt"), "ram")["state"] if ckpt.with_name("last.pt").is_file() else best
        found.append((name, label, paper, public, r, best, last))
    return found


def main(runs: Path, plot: Path | None = None, short: bool = False, seeds: bool = False, overfit: bool = False,
         gpu: bool = False, reference: bool = False) -> None:  # fmt: skip
    if reference:
        reference_table(runs)
        return
    if gpu:
        gpu_table(runs)
        return
    if seeds:
        seed_table(runs)
        return
    if overfit:
        overfit_table(runs)
        return
    rows = collect(runs)
    if short:  # the task rows only, fewer columns: the README's table
        print("| task | paper | best public | ours, 1 rollout | mean over seeds | 10 rollouts | epochs | CPU min |")
        print("|---|---|---|---|---|---|---|---|")
        for name, label, paper, public, r, best, last in rows:
            if paper:
                seeds = _seed_results(runs, name)
                mean = f"{sum(x['error_one_rollout'] for x in seeds) / len(seeds):.2f} ({len(seeds)})" if len(seeds) > 1 else ""
                print(f"| {label} | {paper} | {public} | **{r['error_one_rollout']:.2f}** | {mean} | {r['error_10_rollouts']:.2f} "
                      f"| {last['epoch']} | {last['cpu_seconds'] / 60:.1f} |")  # fmt: skip
    else:
        print(f"Hardware: {cpu_name()}, 1 torch thread per run (OMP_NUM_THREADS=1), torch {torch.__version__}.\n")
        print("| run | task | paper | best public | val error | test error, 1 rollout | 10 rollouts averaged | mean path "
              "| best epoch / epochs | CPU min / wall min |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|---|---|")
        for name, label, paper, public, r, best, last in rows:
            print(f"| {name} | {label} | {paper} | {public} | {best['best_val_error']:.2f} | **{r['error_one_rollout']:.2f}** "
                  f"| {r['error_10_rollouts']:.2f} | {r['error_mean_path']:.2f} | {best['epoch']} / {last['epoch']} "
                  f"| {last['cpu_seconds'] / 60:.1f} / {last['seconds'] / 60:.1f} |")  # fmt: skip
    if plot is not None:  # the task rows; the sweep variants would crowd the picture
        plot_curves({name: last["history"] for name, _, paper, _, _, _, last in rows if paper}, plot)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="?", default="runs/ram_results", type=Path)
    parser.add_argument("--plot", type=Path, help="PNG of the validation curves")
    parser.add_argument("--short", action="store_true", help="the task rows only, for the README")
    parser.add_argument("--seeds", action="store_true", help="the seed study: settings run on several seeds")
    parser.add_argument("--overfit", action="store_true", help="MNIST runs' training, validation and test error")
    parser.add_argument("--gpu", action="store_true", help="the runs trained on a GPU")
    parser.add_argument("--reference", action="store_true", help="the public RAM's own code against ours at equal CPU budgets")
    args = parser.parse_args()
    main(args.runs, args.plot, args.short, args.seeds, args.overfit, args.gpu, args.reference)
