"""Score checkpoints with sacrebleu BLEU and chrF on detokenised output; optionally BLEU by source length.

Examples::

    # a test set given as two files; the last line is bleu=<score>
    python scripts/evaluate_translation.py runs/m30k-bahdanau/best.pt \
        --src-file data/multi30k/test_2016_flickr.de --ref-file data/multi30k/test_2016_flickr.en

    # a corpus split by name (languages from the checkpoint): Multi30k test_2016_flickr
    python scripts/evaluate_translation.py runs/m30k-bahdanau/best.pt --corpus multi30k --split test --beam 5

    # Bahdanau et al. (2015) Figure 2 in shape: two models, BLEU per source-length bucket, plot and table
    python scripts/evaluate_translation.py runs/tat-encdec/best.pt,runs/tat-search/best.pt \
        --labels RNNencdec,RNNsearch --corpus tatoeba --split test --length-buckets 1,5,10,15,20 \
        --plot results/figures/translation_bleu_by_length.png --table bleu_by_length.md

``CHECKPOINT`` may be given first without ``--checkpoint``; several checkpoints, separated by
commas, are scored on the same sentences and ``bleu=`` reports the first.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

import torch

from agents.cli import check_at_least, check_device, parse_config, run_main
from seq_attention.checkpoints import load_translator, positional_flags
from seq_attention.data import load_pairs, read_parallel
from seq_attention.decoding import translate
from seq_attention.metrics import bleu_by_length, corpus_scores, length_edges
from seq_attention.plots import plot_bleu_by_length


@dataclass
class Args:
    """Evaluate translation checkpoints with sacrebleu."""

    checkpoint: str = ""
    """checkpoint, or several separated by commas; also the first positional argument"""
    labels: Optional[str] = None
    """names of the checkpoints in tables and plots, separated by commas (default: the model kinds)"""
    src_file: Optional[str] = None
    """source sentences, one per line (with --ref-file)"""
    ref_file: Optional[str] = None
    """reference translations, line-aligned with --src-file"""
    corpus: Optional[Literal["multi30k", "tatoeba"]] = None
    """score a corpus split instead of files (languages from the checkpoint)"""
    split: Literal["train", "val", "test", "test_2016_flickr"] = "test"
    """corpus split: train, val, test (multi30k test is test_2016_flickr)"""
    data_dir: Optional[str] = None
    """data directory (default: $GLIMPSE_DATA_DIR, else ~/.cache/glimpse-attention/data)"""
    limit: Optional[int] = None
    """score only the first N sentences"""
    beam: int = 5
    """beam width (1: greedy)"""
    length_penalty: float = 1.0
    """GNMT length penalty alpha"""
    max_tokens: int = 4000
    """source tokens per batch"""
    length_buckets: Optional[str] = None
    """also report BLEU per source-length bucket, e.g. 1,5,10,15,20 (words)"""
    plot: Optional[str] = None
    """write the BLEU-by-length plot here (PNG; needs --length-buckets)"""
    table: Optional[str] = None
    """write a Markdown table of the scores (and buckets) here"""
    hypotheses: Optional[str] = None
    """write the first checkpoint's translations here"""
    device: str = "cpu"
    """torch device"""
    threads: int = 0
    """torch CPU threads (0: torch's default)"""

    def __post_init__(self):
        if not self.checkpoint:
            raise ValueError("give a checkpoint: evaluate_translation.py CHECKPOINT --src-file F --ref-file R")
        if (self.src_file is None) != (self.ref_file is None):
            raise ValueError("--src-file and --ref-file go together")
        if (self.src_file is None) == (self.corpus is None):
            raise ValueError("give either --src-file and --ref-file, or --corpus (and --split)")
        if self.plot and not self.length_buckets:
            raise ValueError("--plot draws BLEU by source length: give --length-buckets too, e.g. 1,5,10,15,20")
        check_at_least(self, 1, "beam", allowed=" (1: greedy)")
        check_at_least(self, 1, "limit", allowed=" sentences (or none: all)")
        self.bucket_edges()
        check_at_least(self, 0, "threads", allowed=" (0: torch's default)")
        check_device(self.device)

    def bucket_edges(self) -> list[int] | None:
        """--length-buckets as increasing word counts (None when not given)."""
        if not self.length_buckets:
            return None
        try:
            return length_edges(int(x) for x in self.length_buckets.split(","))
        except ValueError:
            raise ValueError(f"--length-buckets must be increasing word counts like 1,5,10,15,20; got {self.length_buckets!r}") from None


def main(args: Args) -> float:
    if args.threads:
        torch.set_num_threads(args.threads)
    paths = [p for p in args.checkpoint.split(",") if p]
    translators = [load_translator(p, args.device) for p in paths]
    labels = args.labels.split(",") if args.labels else [t.config.model for t in translators]
    if len(labels) != len(paths):
        raise SystemExit(f"--labels names {len(labels)} checkpoints but {len(paths)} were given")
    if args.corpus is not None:
        directions = {(t.payload["run_config"]["src"], t.payload["run_config"]["tgt"]) for t in translators}
        if len(directions) != 1:
            raise SystemExit(f"the checkpoints translate in different directions: {sorted(directions)}")
        ((src, tgt),) = directions
        pairs = load_pairs(args.corpus, args.split, src, tgt, args.data_dir)
        where = f"{args.corpus} {args.split} {src}->{tgt}"
    else:
        pairs = read_parallel(args.src_file, args.ref_file)
        where = f"{args.src_file} -> {args.ref_file}"
    pairs = pairs[: args.limit]
    sources, references = [s for s, _ in pairs], [t for _, t in pairs]
    edges = args.bucket_edges()

    decoding = "greedy" if args.beam == 1 else f"beam {args.beam}, length penalty {args.length_penalty}"
    print(f"{where}: {len(pairs)} sentences; {decoding}; {torch.get_num_threads()} threads")
    results, buckets = [], {}
    for label, path, translator in zip(labels, paths, translators):
        start = time.perf_counter()
        hypotheses, _ = translate(
            translator.model, sources, translator.src_tokenizer, translator.tgt_tokenizer, beam=args.beam,
            length_penalty=args.length_penalty, max_tokens=args.max_tokens, device=args.device,
        )  # fmt: skip
        seconds = time.perf_counter() - start
        scores = corpus_scores(hypotheses, references)
        results.append((label, scores))
        print(f"== {label} ({path}), decoded in {seconds:.1f} s")
        for line in scores.lines():
            print(line)
        if edges:
            buckets[label] = bleu_by_length(hypotheses, references, sources, edges)
            for name, n, bleu in buckets[label]:
                print(f"   source {name:>6} words: {n:5d} sentences, BLEU {bleu:6.2f}")
        if args.hypotheses and label == labels[0]:
            Path(args.hypotheses).write_text("".join(h + "\n" for h in hypotheses), encoding="utf-8")

    if args.plot:
        Path(args.plot).parent.mkdir(parents=True, exist_ok=True)
        plot_bleu_by_length(args.plot, buckets, title=f"{where}, {decoding}")
        print(f"wrote {args.plot}")
    if args.table:
        lines = [f"{where}; {decoding}; sacrebleu {results[0][1].bleu_signature}", "", "| model | BLEU | chrF |", "|---|---|---|"]
        lines += [f"| {label} | {s.bleu:.2f} | {s.chrf:.2f} |" for label, s in results]
        if edges:
            first = next(iter(buckets.values()))
            lines += ["", "| source words | sentences | " + " | ".join(f"BLEU {lab}" for lab in buckets) + " |"]
            lines += ["|---|---|" + "---|" * len(buckets)]
            for k, (name, n, _) in enumerate(first):
                lines.append(f"| {name} | {n} | " + " | ".join(f"{rows[k][2]:.2f}" for rows in buckets.values()) + " |")
        Path(args.table).parent.mkdir(parents=True, exist_ok=True)
        Path(args.table).write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"wrote {args.table}")
    print(f"bleu={results[0][1].bleu:.2f}")
    return results[0][1].bleu


if __name__ == "__main__":
    run_main(main, parse_config(Args, positional_flags(sys.argv[1:], ["--checkpoint"])))
