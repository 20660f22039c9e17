#!/usr/bin/env bash
# The Stable-Baselines3 results of results/sb3.md: 10 CPU-minutes each, 1 thread, seed 0.
#
#   GLIMPSE_DATA_DIR=../shared/data bash benchmarks/sb3_runs.sh
#
# Each run writes runs/sb3/<name>/result.json (test error on the 10,000 test images, one rollout);
# benchmarks/sb3_table.py collects them.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
mkdir -p runs/sb3
python scripts/train_sb3.py --out runs/sb3/mnist_a2c --wandb-mode offline --max-cpu-minutes 10 --total-timesteps 100000000 --num-envs 64 --seed 0 --threads 1 --env GlimpseMNIST-v0 --algo a2c --n-steps 12 --frame-stack 6 > runs/sb3/mnist_a2c.log 2>&1
# the same A2C with the glimpse network's pixels standardised as the RAM trainer's are (MNIST's mean and std)
python scripts/train_sb3.py --out runs/sb3/mnist_a2c_std --wandb-mode offline --max-cpu-minutes 10 --total-timesteps 100000000 --num-envs 64 --seed 0 --threads 1 --env GlimpseMNIST-v0 --algo a2c --n-steps 12 --frame-stack 6 --pixel-mean 0.1307 --pixel-std 0.3081 > runs/sb3/mnist_a2c_std.log 2>&1
python scripts/train_sb3.py --out runs/sb3/mnist_ppo --wandb-mode offline --max-cpu-minutes 10 --total-timesteps 100000000 --num-envs 64 --seed 0 --threads 1 --env GlimpseMNIST-v0 --algo ppo --n-steps 32 --batch-size 512 --n-epochs 4 --learning-rate 1e-3 --frame-stack 6 > runs/sb3/mnist_ppo.log 2>&1
python scripts/train_sb3.py --out runs/sb3/mnist_rppo --wandb-mode offline --max-cpu-minutes 10 --total-timesteps 100000000 --num-envs 64 --seed 0 --threads 1 --env GlimpseMNIST-v0 --algo recurrent_ppo --n-steps 32 --batch-size 512 --n-epochs 4 --shared-lstm --learning-rate 3e-3 > runs/sb3/mnist_rppo.log 2>&1
python scripts/train_sb3.py --out runs/sb3/cluttered_a2c --wandb-mode offline --max-cpu-minutes 10 --total-timesteps 100000000 --num-envs 64 --seed 0 --threads 1 --env GlimpseClutteredMNIST-v0 --algo a2c --n-steps 12 --frame-stack 8 > runs/sb3/cluttered_a2c.log 2>&1
python scripts/train_sb3.py --out runs/sb3/cluttered_ppo --wandb-mode offline --max-cpu-minutes 10 --total-timesteps 100000000 --num-envs 64 --seed 0 --threads 1 --env GlimpseClutteredMNIST-v0 --algo ppo --n-steps 32 --batch-size 512 --n-epochs 4 --learning-rate 1e-3 --frame-stack 8 > runs/sb3/cluttered_ppo.log 2>&1
python scripts/train_sb3.py --out runs/sb3/cluttered_rppo --wandb-mode offline --max-cpu-minutes 10 --total-timesteps 100000000 --num-envs 64 --seed 0 --threads 1 --env GlimpseClutteredMNIST-v0 --algo recurrent_ppo --n-steps 32 --batch-size 512 --n-epochs 4 --shared-lstm --learning-rate 3e-3 > runs/sb3/cluttered_rppo.log 2>&1
