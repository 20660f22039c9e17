"""Measure training throughput (target tokens per second) and greedy decoding speed of each model on CPU.

Examples::

    python scripts/bench_translation.py --threads 1 --out benchmarks/translation_throughput.md
    python scripts/bench_translation.py --models bahdanau,transformer --batches 10 --threads 2

Each model trains ``--batches`` bucketed Multi30k de->en batches (after ``--warmup`` untimed ones)
with the same sizes and settings as ``scripts/train_translation.py``'s defaults, then decodes
``--decode-sentences`` validation sentences greedily. Training is timed on the wall clock and in
CPU seconds of this process (the fair number on a shared machine); decoding in CPU seconds.
"""

from __future__ import annotations

import platform
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch

from agents.cli import check_at_least, parse_config, run_main
from seq_attention.batching import encode_pairs
from seq_attention.data import load_pairs
from seq_attention.decoding import translate
from seq_attention.models import MODELS, ModelConfig, build_model, count_parameters
from seq_attention.tokenize import SubwordTokenizer
from seq_attention.training import Trainer


@dataclass
class Args:
    """Benchmark translation models on CPU."""

    models: str = ",".join(MODELS)
    """models to time, separated by commas"""
    batches: int = 20
    """timed training batches per model"""
    warmup: int = 3
    """untimed batches first"""
    decode_sentences: int = 200
    """validation sentences decoded greedily (0: skip decoding)"""
    max_tokens: int = 800
    """padded tokens per batch"""
    vocab_size: int = 4000
    """BPE vocabulary per language"""
    embed_size: int = 256
    """E"""
    hidden_size: int = 256
    """D (RNN) or feed-forward width (Transformer)"""
    transformer_hidden_size: int = 256
    """feed-forward width of the Transformer"""
    attention_size: int = 128
    """A"""
    layers: int = 3
    """Transformer layers"""
    heads: int = 4
    """Transformer heads"""
    train_pairs: Optional[int] = None
    """use only the first N training pairs for the tokenizers and batches (smoke tests)"""
    data_dir: Optional[str] = None
    """data directory (default: $GLIMPSE_DATA_DIR, else ~/.cache/glimpse-attention/data)"""
    threads: int = 1
    """torch CPU threads"""
    seed: int = 1
    """seed"""
    out: Optional[str] = None
    """append the Markdown table to this file"""

    def __post_init__(self):
        check_at_least(self, 1, "batches", "decode_sentences", "max_tokens", "vocab_size", "embed_size", "hidden_size",
                       "transformer_hidden_size", "attention_size", "layers", "heads", "threads")  # fmt: skip
        check_at_least(self, 0, "warmup", allowed=" batches")
        check_at_least(self, 1, "train_pairs", allowed=" (or none: all)")
        unknown = sorted(set(self.models.split(",")) - set(MODELS))
        if unknown:
            raise ValueError(f"--models must be a comma-separated subset of {list(MODELS)}, got unknown {unknown}")


def cpu_name() -> str:
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines():
            if line.startswith("Model name"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor() or "unknown CPU"


def main(args: Args) -> list[dict]:
    torch.set_num_threads(args.threads)
    train = load_pairs("multi30k", "train", "de", "en", args.data_dir)[: args.train_pairs]
    val = load_pairs("multi30k", "val", "de", "en", args.data_dir)
    src_tok = SubwordTokenizer.train([s for s, _ in train], args.vocab_size)
    tgt_tok = SubwordTokenizer.train([t for _, t in train], args.vocab_size)
    examples = encode_pairs(train, src_tok, tgt_tok, max_len=100)
    rows = []
    for name in args.models.split(","):
        torch.manual_seed(args.seed)
        transformer = name == "transformer"
        config = ModelConfig(
            model=name, src_vocab=len(src_tok), tgt_vocab=len(tgt_tok), embed_size=args.embed_size,
            hidden_size=args.transformer_hidden_size if transformer else args.hidden_size,
            attention_size=args.attention_size, layers=args.layers, heads=args.heads,
        )  # fmt: skip
        model = build_model(config)
        trainer = Trainer(model, examples, max_tokens=args.max_tokens, seed=args.seed)
        batches = trainer.epoch_batches(0)
        for index in batches[: args.warmup]:
            trainer.train_step(index)
        tokens, start, cpu_start = 0, time.perf_counter(), time.process_time()
        for index in batches[args.warmup : args.warmup + args.batches]:
            tokens += trainer.train_step(index)[1]
        train_rate = tokens / (time.perf_counter() - start)
        train_cpu_rate = tokens / (time.process_time() - cpu_start)
        decode_rate = float("nan")
        if args.decode_sentences:
            cpu_start = time.process_time()
            translate(model, [s for s, _ in val[: args.decode_sentences]], src_tok, tgt_tok)
            decode_rate = args.decode_sentences / (time.process_time() - cpu_start)
        rows.append(
            {"model": name, "parameters": count_parameters(model), "train": train_rate, "train_cpu": train_cpu_rate,
             "decode": decode_rate}  # fmt: skip
        )
        print(
            f"{name}: {count_parameters(model):,} parameters, {train_rate:.0f} target tokens/s training "
            f"({train_cpu_rate:.0f} per CPU second), {decode_rate:.1f} sentences per CPU second greedy"
        )
    header = (
        f"{cpu_name()}, {args.threads} thread(s), torch {torch.__version__}, batches of {args.max_tokens} padded tokens, "
        f"{args.batches} timed batches, {time.strftime('%Y-%m-%d %H:%M')}"
    )
    table = [
        header,
        "",
        "| model | parameters | training target tokens/s (wall) | per CPU second | greedy sentences per CPU second |",
        "|---|---|---|---|---|",
    ]
    table += [
        f"| {r['model']} | {r['parameters']:,} | {r['train']:.0f} | {r['train_cpu']:.0f} | {r['decode']:.1f} |" for r in rows
    ]
    print("\n".join(table))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        with open(args.out, "a", encoding="utf-8") as f:
            f.write("\n".join(table) + "\n\n")
    return rows


if __name__ == "__main__":
    run_main(main, parse_config(Args))
