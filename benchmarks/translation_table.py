"""Collect the numbers of benchmarks/translation_runs.sh into the Markdown table of results/translation.md.

    python benchmarks/translation_table.py [runs/translation]
    python benchmarks/translation_table.py runs/translation 'm30k-15-*'   # single 15 CPU-minute runs

Reads the training and evaluation logs and the checkpoints the runs wrote; prints Markdown. Nothing
here is typed in by hand: a missing log shows up as a missing row. With a pattern, one row per run
``RUNS/<name>.train.log`` that matches it (the "budget" and "ema" sections of translation_runs.sh).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import torch

from agents.tracking import cpu_name
from seq_attention.checkpoints import load_translator
from seq_attention.models import count_parameters

MODELS = [
    ("rnnencdec", "RNNencdec (no attention)"),
    ("bahdanau", "RNNsearch (Bahdanau, additive)"),
    ("luong-dot", "Luong dot"),
    ("luong-general", "Luong general"),
    ("transformer", "Transformer"),
]
TRAINED = re.compile(
    r"trained (?P<epochs>[\d.]+) epochs, (?P<steps>\d+) steps, (?P<wall>[\d.]+) min \((?P<cpu>[\d.]+) CPU min\), "
    r"(?P<rate>\d+) target tokens/s \((?P<cpu_rate>\d+) per CPU s\)"
)
FINAL = re.compile(r"final validation BLEU = (?P<bleu>[\d.]+)")
BLEU = re.compile(r"^BLEU = (?P<bleu>[\d.]+) .*sacrebleu (?P<sig>\S+)\)", re.M)
CHRF = re.compile(r"^chrF = (?P<chrf>[\d.]+)", re.M)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace").replace("\r", "\n") if path.is_file() else ""


def main(runs: Path) -> None:
    rows, signature = [], None
    for model, label in MODELS:
        train4, train15 = read(runs / f"m30k-{model}.train4.log"), read(runs / f"m30k-{model}.train15.log")
        test4, test15 = read(runs / f"m30k-{model}.test4.log"), read(runs / f"m30k-{model}.test15.log")
        ckpt = runs / f"m30k-{model}" / "last.pt"
        if not (train4 and ckpt.is_file()):
            continue
        translator = load_translator(ckpt)
        progress = translator.payload["trainer"]["progress"]
        t4, t15 = TRAINED.search(train4), TRAINED.search(train15)
        b4, b15 = BLEU.search(test4), BLEU.search(test15)
        c15 = CHRF.search(test15)
        signature = signature or (b15 or b4).group("sig") if (b15 or b4) else signature
        best = max(progress["history"], key=lambda h: h["val_bleu"])
        rows.append(
            "| {label} | {params:,} | {e4} / {b4} | {e15} / {b15} | {chrf} | {best:.2f} (epoch {best_epoch:.2f}) | "
            "{wall:.1f} / {cpu:.1f} | {rate} |".format(
                label=label,
                params=count_parameters(translator.model),
                e4=t4.group("epochs") if t4 else "?",
                b4=b4.group("bleu") if b4 else "?",
                e15=t15.group("epochs") if t15 else "?",
                b15=b15.group("bleu") if b15 else "?",
                chrf=c15.group("chrf") if c15 else "?",
                best=best["val_bleu"],
                best_epoch=best["epoch"],
                wall=progress["train_seconds"] / 60,
                cpu=progress["cpu_seconds"] / 60,
                rate=round(progress["target_tokens"] / max(1e-9, progress["step_cpu_seconds"])),
            )
        )
    print(f"Hardware: {cpu_name()}, 1 torch thread per run (OMP_NUM_THREADS=1), torch {torch.__version__}, shared machine.")
    print(f"Test BLEU: sacrebleu {signature}, beam 5, length penalty 1.0, on the best-validation checkpoint.\n")
    print(
        "| model | parameters | 4 CPU-min: epochs / test BLEU | 15 CPU-min: epochs / test BLEU | test chrF | "
        "best val BLEU (greedy) | wall / CPU minutes | train target tokens per CPU s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


def single_runs(runs: Path, pattern: str) -> None:
    """One row per single run (trained once, best.pt scored on test): its settings, speed and BLEU."""
    print("| run | seed | average of the weights | epochs | target tokens per CPU s | best val BLEU (greedy) | test BLEU (beam 5) |")
    print("|---|---|---|---|---|---|---|")
    for log in sorted(runs.glob(f"{pattern}.train.log")):
        name = log.name.removesuffix(".train.log")
        trained, test, ckpt = TRAINED.search(read(log)), BLEU.search(read(runs / f"{name}.test.log")), runs / name / "best.pt"
        if not (trained and test and ckpt.is_file()):
            continue
        payload = load_translator(ckpt).payload
        config, best = payload["run_config"], payload["trainer"]["progress"]["best_bleu"]
        decay = config.get("ema_decay", 0.0)  # runs from before the option have no such key
        average = f"{decay}{', warm-up' if config.get('ema_warmup') else ''}" if decay else "none"
        print(
            f"| {name} | {config['seed']} | {average} | {trained.group('epochs')} | "
            f"{trained.group('cpu_rate')} | {best:.2f} | "
            f"**{test.group('bleu')}** |"
        )


if __name__ == "__main__":
    if len(sys.argv) > 2:
        single_runs(Path(sys.argv[1]), sys.argv[2])
    else:
        main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/translation"))
