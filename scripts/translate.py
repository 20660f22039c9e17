"""Translate sentences with a trained checkpoint: greedy or beam search, batched.

Examples::

    python scripts/translate.py runs/m30k-bahdanau/best.pt "Ein Mann fährt Fahrrad."
    python scripts/translate.py runs/m30k-bahdanau/best.pt --file sentences.de --beam 5 --length-penalty 1.0
    cat sentences.de | python scripts/translate.py runs/m30k-bahdanau/best.pt --file -

    # one attention heatmap PNG per sentence (source tokens across, translation down)
    python scripts/translate.py runs/m30k-bahdanau/best.pt "Zwei Hunde spielen im Schnee." --attention-dir heatmaps/

``CHECKPOINT "text"`` is short for ``--checkpoint CHECKPOINT --text "text"``. Translations are
printed one per line, in input order.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch

from agents.cli import check_at_least, check_device, parse_config, run_main
from seq_attention.checkpoints import load_translator, positional_flags
from seq_attention.decoding import translate
from seq_attention.plots import save_attention_png


@dataclass
class Args:
    """Translate with a checkpoint written by scripts/train_translation.py."""

    checkpoint: str = ""
    """checkpoint (best.pt or last.pt); also the first positional argument"""
    text: Optional[str] = None
    """one sentence to translate; also the second positional argument"""
    file: Optional[str] = None
    """a file with one sentence per line ('-' reads standard input)"""
    beam: int = 5
    """beam width (1: greedy)"""
    length_penalty: float = 1.0
    """GNMT length penalty alpha of beam search (0: none)"""
    max_tokens: int = 4000
    """source tokens per batch"""
    attention_dir: Optional[str] = None
    """write one attention heatmap PNG per sentence here"""
    device: str = "cpu"
    """torch device"""
    threads: int = 0
    """torch CPU threads (0: torch's default)"""

    def __post_init__(self):
        if not self.checkpoint:
            raise ValueError("give a checkpoint: translate.py CHECKPOINT \"a sentence\" (or --file F)")
        if (self.text is None) == (self.file is None):
            raise ValueError("give exactly one of a sentence (--text or the second positional argument) or --file")
        check_at_least(self, 1, "beam", allowed=" (1: greedy)")
        check_at_least(self, 0, "threads", allowed=" (0: torch's default)")
        check_device(self.device)


def main(args: Args) -> list[str]:
    if args.threads:
        torch.set_num_threads(args.threads)
    translator = load_translator(args.checkpoint, args.device)
    if args.text is not None:
        sentences = [args.text]
    elif args.file == "-":
        sentences = sys.stdin.read().splitlines()
    else:
        sentences = Path(args.file).read_text(encoding="utf-8").splitlines()
    texts, translations = translate(
        translator.model, sentences, translator.src_tokenizer, translator.tgt_tokenizer, beam=args.beam,
        length_penalty=args.length_penalty, max_tokens=args.max_tokens, return_attention=args.attention_dir is not None,
        device=args.device,
    )  # fmt: skip
    for text in texts:
        print(text)
    if args.attention_dir is not None:
        directory = Path(args.attention_dir)
        directory.mkdir(parents=True, exist_ok=True)
        for i, (sentence, translation) in enumerate(zip(sentences, translations)):
            if translation.attention is None:
                print(f"{translator.config.model} has no attention: no heatmap written", file=sys.stderr)
                break
            src_pieces = translator.src_tokenizer.pieces(sentence) + ["</s>"]
            tgt_pieces = (translator.tgt_tokenizer.id_to_piece(translation.tokens) + ["</s>"])[: translation.attention.shape[0]]
            save_attention_png(directory / f"attention_{i:04d}.png", translation.attention, src_pieces, tgt_pieces, texts[i])
    return texts


if __name__ == "__main__":
    run_main(main, parse_config(Args, positional_flags(sys.argv[1:], ["--checkpoint", "--text"])))
