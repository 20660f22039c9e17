"""The public PyTorch RAM (kevinzakka/recurrent-visual-attention) under our budget protocol.

    git clone https://github.com/kevinzakka/recurrent-visual-attention /tmp/recurrent-visual-attention
    GLIMPSE_DATA_DIR=../shared/data python benchmarks/reference_ram.py /tmp/recurrent-visual-attention \\
        --cpu-minutes 2 --seed 1 --json-out runs/reference/kz_cpu2_s1.json

Imports the reference's own ``model.py`` / ``modules.py`` from a checkout (nothing of it is copied
here) and trains it as its ``trainer.py`` does, with its defaults: 6 glimpses of 8x8, one scale, a
uniformly random first location, std 0.05, Adam at 3e-4, batch 128, the same hybrid loss
(``nll + mse(baseline) + 0.01 * reinforce``). The data and the measure are ours, so the two agents
compare on equal terms: MNIST's first 54,000 training images (``glimpse_env.mnist``, standardised as
the reference does), a budget of process CPU time on one torch thread (validation included, as
``train_ram.py --max-cpu-minutes`` counts it), validation on the last 6,000 after every epoch and
once more at the budget, and the test error (10,000 images, one rollout) of the best-on-validation
weights. Its ReduceLROnPlateau (patience 20 epochs) never acts within such budgets and is left out.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import torch
from torch.nn import functional as F

from agents.tracking import cpu_name
from glimpse_env.mnist import load_mnist

N_GLIMPSES, HIDDEN, BATCH = 6, 256, 128


def standardised(split: str, data_dir: str | None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(N, 1, 28, 28)`` float images, ``(x / 255 - 0.1307) / 0.3081`` as the reference's loader, and labels."""
    x, y = load_mnist(split, data_dir)
    x = torch.tensor(x, dtype=torch.float32).div(255).sub(0.1307).div(0.3081).unsqueeze(1)
    return x, torch.tensor(y, dtype=torch.int64)


def episode(model, x: torch.Tensor):
    """The reference's rollout: ``(log_probas (B, 10), baselines (B, T), log_pi (B, T))``."""
    B = x.shape[0]
    h_t = torch.zeros(B, HIDDEN, requires_grad=True)
    l_t = torch.empty(B, 2).uniform_(-1, 1).requires_grad_()
    log_pi, baselines = [], []
    for _ in range(N_GLIMPSES - 1):
        h_t, l_t, b_t, p = model(x, l_t, h_t)
        baselines.append(b_t)
        log_pi.append(p)
    h_t, l_t, b_t, log_probas, p = model(x, l_t, h_t, last=True)
    return log_probas, torch.stack(baselines + [b_t], 1), torch.stack(log_pi + [p], 1)


@torch.no_grad()
def error(model, x: torch.Tensor, y: torch.Tensor) -> float:
    """Percent misclassified, one rollout per image."""
    wrong = sum(int((episode(model, x[i : i + 1000])[0].argmax(1) != y[i : i + 1000]).sum()) for i in range(0, len(x), 1000))
    return 100 * wrong / len(x)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo", type=Path, help="a checkout of kevinzakka/recurrent-visual-attention")
    parser.add_argument("--cpu-minutes", type=float, required=True, help="budget of process CPU time")
    parser.add_argument("--seed", type=int, default=1, help="torch seed (the reference's default is 1)")
    parser.add_argument("--data-dir", default=None, help="data directory holding mnist/ (default: $GLIMPSE_DATA_DIR, else the user cache)")
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args(argv)
    if not (args.repo / "model.py").is_file() or not (args.repo / "modules.py").is_file():
        raise SystemExit(f"{args.repo} has no model.py and modules.py: pass a checkout of kevinzakka/recurrent-visual-attention")
    sys.path.insert(0, str(args.repo))
    from model import RecurrentAttention  # the reference's own module

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = (standardised(s, args.data_dir) for s in ("train", "val", "test"))
    # patch 8, 1 patch, scale 1, 1 channel, loc_hidden 128, glimpse_hidden 128, std 0.05, hidden 256, 10 classes
    model = RecurrentAttention(8, 1, 1, 1, 128, 128, 0.05, HIDDEN, 10)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-4)
    budget, start = args.cpu_minutes * 60, time.process_time()
    best_val, best_state, epoch, steps, out_of_time = float("inf"), None, 0, 0, False
    while not out_of_time:
        order = torch.randperm(len(x_train))
        for i in range(0, len(x_train), BATCH):
            x, y = x_train[order[i : i + BATCH]], y_train[order[i : i + BATCH]]
            log_probas, baselines, log_pi = episode(model, x)
            R = (log_probas.argmax(1) == y).float()[:, None].expand(-1, N_GLIMPSES)
            reinforce = torch.sum(-log_pi * (R - baselines.detach()), 1).mean()
            loss = F.nll_loss(log_probas, y) + F.mse_loss(baselines, R) + 0.01 * reinforce
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            steps += 1
            if time.process_time() - start > budget:
                out_of_time = True
                break
        epoch += 1
        val = error(model, x_val, y_val)
        print(f"epoch {epoch}: val error {val:.2f}%, {time.process_time() - start:.0f} CPU-s", flush=True)
        if val < best_val:
            best_val, best_state = val, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    result = {
        "reference": "kevinzakka/recurrent-visual-attention", "cpu_minutes": args.cpu_minutes, "seed": args.seed,
        "epochs": epoch, "steps": steps, "best_val_error": best_val, "test_error_one_rollout": error(model, x_test, y_test),
        "cpu": cpu_name(), "threads": 1, "torch": torch.__version__,
    }  # fmt: skip
    print(f"test_error={result['test_error_one_rollout']:.2f} (best-on-validation, 1 rollout; {epoch} epochs, {steps} steps)")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
