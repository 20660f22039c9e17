"""Train an attention-based translation model (RNNsearch, Luong, Transformer, or the RNNencdec baseline).

Examples::

    # Bahdanau attention (RNNsearch), Multi30k German->English, 15 CPU minutes on one thread
    python scripts/train_translation.py --corpus multi30k --src de --tgt en --model bahdanau \
        --max-cpu-minutes 15 --threads 1 --out runs/m30k-bahdanau

    # continue that run up to 25 CPU minutes in all (optimizer, schedule, data order and RNG continue exactly)
    python scripts/train_translation.py --out runs/m30k-bahdanau --resume --max-cpu-minutes 25 --threads 1

    # a wall-clock budget instead (on a machine of your own)
    python scripts/train_translation.py --model transformer --layers 3 --embed-size 128 --lr 1e-3 \
        --warmup-steps 400 --schedule inverse-sqrt --max-minutes 15 --out runs/m30k-transformer

    # the no-attention baseline on Tatoeba English->French
    python scripts/train_translation.py --corpus tatoeba --src en --tgt fr --model rnnencdec --out runs/tat-encdec

Every epoch writes ``OUT/last.pt`` (atomically) and, when validation BLEU improves, ``OUT/best.pt``;
both are complete checkpoints for ``scripts/translate.py`` and ``scripts/evaluate_translation.py``.
Metrics go to Weights & Biases, offline by default (``OUT/wandb/``; upload with ``wandb sync``):
``losses/*``, ``charts/*`` and ``attention/example`` heatmaps against ``global_step``. The last
line printed states the final validation BLEU.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, Optional

import torch
from tqdm.auto import tqdm

from agents.cli import check_at_least, check_device, check_positive, parse_config, run_main
from agents.tracking import init_wandb, rgb_to_wandb
from seq_attention.batching import encode_pairs
from seq_attention.checkpoints import load_translator, save_translation_checkpoint
from seq_attention.data import MULTI30K_LANGS, TATOEBA_LANGS, load_pairs
from seq_attention.decoding import translate
from seq_attention.models import ModelConfig, build_model, count_parameters
from seq_attention.plots import attention_image
from seq_attention.tokenize import SubwordTokenizer
from seq_attention.training import Trainer, validate

logger = logging.getLogger("train_translation")


@dataclass
class Args:
    """Train a translation model with attention on Multi30k or Tatoeba."""

    corpus: Literal["multi30k", "tatoeba"] = "multi30k"
    """parallel corpus"""
    src: str = "de"
    """source language (multi30k: en, de, fr; tatoeba: en, fr)"""
    tgt: str = "en"
    """target language"""
    model: Literal["rnnencdec", "bahdanau", "luong-dot", "luong-general", "transformer"] = "bahdanau"
    """model: RNN encoder-decoder without attention, RNNsearch, Luong dot/general, Transformer"""
    epochs: int = 30
    """total epochs (a resumed run counts the ones already done)"""
    max_minutes: Optional[float] = None
    """wall-clock budget in minutes for training and validation, over all resumed sessions (none: no limit)"""
    max_cpu_minutes: Optional[float] = None
    """budget in CPU minutes of this process (all threads), over all resumed sessions: fair on a shared machine"""
    out: str = "runs/translation"
    """output directory: last.pt, best.pt, wandb/"""
    seed: int = 1
    """seed of the initialisation, dropout and batch order"""
    device: str = "cpu"
    """torch device"""
    threads: int = 0
    """torch CPU threads (0: torch's default)"""
    wandb_mode: Literal["disabled", "offline", "online"] = "offline"
    """Weights & Biases mode; offline needs no account"""
    wandb_project: str = "glimpse-attention"
    """Weights & Biases project"""
    resume: bool = False
    """continue from OUT/last.pt exactly (model and training settings come from the checkpoint)"""
    data_dir: Optional[str] = None
    """data directory (default: $GLIMPSE_DATA_DIR, else ~/.cache/glimpse-attention/data)"""
    train_limit: Optional[int] = None
    """use only the first N training pairs (smoke tests)"""
    val_limit: Optional[int] = None
    """validate on the first N validation pairs only"""
    vocab_size: int = 4000
    """SentencePiece BPE vocabulary size per language, trained on the training split"""
    max_len: int = 100
    """drop training pairs longer than this many subword tokens"""
    embed_size: int = 256
    """E: embeddings, readout, Transformer width (RNNsearch at 15 CPU-minutes: 256 beat 128 by 0.4 BLEU in the mean of five seeds, on four of them; the Transformer there: 128 beat 256: results/translation.md)"""
    hidden_size: int = 256
    """D: RNN decoder state and encoder output (D/2 per direction); Transformer feed-forward width"""
    attention_size: int = 128
    """A: Bahdanau score width"""
    cell: Literal["rnn", "lstm", "gru"] = "gru"
    """decoder core cell (agents.core.CoreNetwork)"""
    layers: int = 2
    """Transformer layers (encoder and decoder each)"""
    heads: int = 4
    """Transformer heads"""
    dropout: float = 0.1
    """dropout"""
    lr: float = 2e-3
    """peak learning rate (Adam)"""
    schedule: Literal["constant", "inverse-sqrt", "cosine"] = "constant"
    """learning-rate schedule after warm-up; cosine anneals to zero over --epochs or, when it runs out first, over the time budget (--max-cpu-minutes / --max-minutes)"""
    warmup_steps: int = 100
    """linear warm-up steps"""
    max_tokens: int = 800
    """padded tokens per batch"""
    label_smoothing: float = 0.1
    """label smoothing of the loss"""
    clip_norm: float = 1.0
    """gradient-norm clipping (0: none)"""
    ema_decay: float = 0.998
    """keep an exponential moving average of the weights (decay per step; 0.998 averages over ~500 steps), validate it and save it as the checkpoints' model (0: off; +1.3 BLEU for RNNsearch at 15 CPU-minutes with the warm-up: results/translation.md)"""
    ema_warmup: bool = True
    """cap the average's decay at (1 + n) / (10 + n) after n updates, so it does not lag early in a run"""
    val_beam: int = 1
    """beam width of the per-epoch validation (1: greedy)"""
    log_every: int = 20
    """log training metrics every N steps"""

    def __post_init__(self):
        check_at_least(self, 1, "epochs", "vocab_size", "max_len", "max_tokens", "log_every", "val_beam")
        check_positive(self, "max_minutes", "max_cpu_minutes", allowed=" (or none: no budget)")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"--ema-decay must be in [0, 1) (0: no average of the weights), got {self.ema_decay!r}")
        if self.src == self.tgt:
            raise ValueError(f"--src and --tgt must differ, got {self.src!r} for both")
        langs = MULTI30K_LANGS if self.corpus == "multi30k" else TATOEBA_LANGS
        for name in ("src", "tgt"):  # a resumed run takes its corpus and languages from its checkpoint
            if not self.resume and getattr(self, name) not in langs:
                raise ValueError(f"--{name} must be one of {langs} for --corpus {self.corpus}, got {getattr(self, name)!r}")
        check_at_least(self, 1, "train_limit", "val_limit", allowed=" sentence pairs (or none: all)")
        check_at_least(self, 0, "threads", allowed=" (0: torch's default)")
        check_device(self.device)


def model_config(args: Args, src_vocab: int, tgt_vocab: int) -> ModelConfig:
    return ModelConfig(
        model=args.model,
        src_vocab=src_vocab,
        tgt_vocab=tgt_vocab,
        embed_size=args.embed_size,
        hidden_size=args.hidden_size,
        attention_size=args.attention_size,
        cell=args.cell,
        layers=args.layers,
        heads=args.heads,
        dropout=args.dropout,
    )


def log_attention(run, model, pair, src_tok, tgt_tok, step: int) -> None:
    """Translate one validation sentence and log its attention heatmap (models with attention only)."""
    if run.disabled:
        return
    _, (translation,) = translate(model, [pair[0]], src_tok, tgt_tok, return_attention=True)
    if translation.attention is None:
        return
    src_pieces = src_tok.pieces(pair[0]) + ["</s>"]
    tgt_pieces = tgt_tok.id_to_piece(translation.tokens) + ["</s>"]
    weights = translation.attention[: len(tgt_pieces), : len(src_pieces)]
    image = attention_image(weights, src_pieces, tgt_pieces[: weights.shape[0]])
    run.log({"attention/example": rgb_to_wandb(image, caption=tgt_tok.decode([translation.tokens])[0]), "global_step": step})


def main(args: Args) -> float:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    last_path, best_path = out / "last.pt", out / "best.pt"
    session_start, session_cpu_start = time.perf_counter(), time.process_time()

    if args.resume:
        previous = load_translator(last_path, args.device)
        # runs from before the average of the weights became the default trained without it
        saved = {"ema_decay": 0.0, "ema_warmup": False} | previous.payload["run_config"]
        # the model, data and optimisation settings are the checkpoint's; budget, epochs and logging are this command's
        keep = ("epochs", "max_minutes", "max_cpu_minutes", "out", "device", "threads", "wandb_mode", "wandb_project", "resume", "log_every")
        args = Args(**{**saved, **{k: getattr(args, k) for k in keep}})
        src_tok, tgt_tok = previous.src_tokenizer, previous.tgt_tokenizer
        config = previous.config
    else:
        torch.manual_seed(args.seed)
        previous = None
    train_pairs = load_pairs(args.corpus, "train", args.src, args.tgt, args.data_dir)[: args.train_limit]
    val_pairs = load_pairs(args.corpus, "val", args.src, args.tgt, args.data_dir)[: args.val_limit]
    if previous is None:
        src_tok = SubwordTokenizer.train([s for s, _ in train_pairs], args.vocab_size)
        tgt_tok = SubwordTokenizer.train([t for _, t in train_pairs], args.vocab_size)
        config = model_config(args, len(src_tok), len(tgt_tok))
    examples = encode_pairs(train_pairs, src_tok, tgt_tok, args.max_len)
    val_examples = encode_pairs(val_pairs, src_tok, tgt_tok)
    model = build_model(config)
    # the run's clocks count every session: a resumed run starts from what its checkpoint had spent
    prior = {"seconds": 0.0, "cpu_seconds": 0.0}
    if previous is not None:
        saved_progress = previous.payload["trainer"]["progress"]
        prior.update(seconds=saved_progress["train_seconds"], cpu_seconds=saved_progress["cpu_seconds"])

    def elapsed() -> float:
        return prior["seconds"] + time.perf_counter() - session_start

    def cpu_elapsed() -> float:
        return prior["cpu_seconds"] + time.process_time() - session_cpu_start

    def budget_used() -> float:
        """The larger share spent of the time budgets (0 without one)."""
        wall = elapsed() / (args.max_minutes * 60.0) if args.max_minutes is not None else 0.0
        cpu = cpu_elapsed() / (args.max_cpu_minutes * 60.0) if args.max_cpu_minutes is not None else 0.0
        return max(wall, cpu)

    trainer = Trainer(
        model, examples, lr=args.lr, max_tokens=args.max_tokens, seed=args.seed, label_smoothing=args.label_smoothing,
        clip_norm=args.clip_norm, warmup_steps=args.warmup_steps, schedule=args.schedule, device=args.device,
        epochs=args.epochs, budget_used=budget_used, ema_decay=args.ema_decay,
        ema_warmup=args.ema_warmup,
    )  # fmt: skip
    if previous is not None:
        trainer.load_state_dict(previous.payload["trainer"])
    progress = trainer.progress
    logger.info(
        "%s %s->%s: %d training pairs (%d used), %d validation pairs; vocab %d/%d; %s with %d parameters; %d threads",
        args.corpus, args.src, args.tgt, len(train_pairs), len(examples), len(val_pairs), len(src_tok), len(tgt_tok),
        args.model, count_parameters(model), torch.get_num_threads(),
    )  # fmt: skip

    run_name = f"{args.corpus}-{args.src}-{args.tgt}__{args.model}__{args.seed}__{int(time.time())}"
    run = init_wandb(args.wandb_project, asdict(args), mode=args.wandb_mode, name=run_name, dir=out)
    run.define_metric("global_step")
    run.define_metric("*", step_metric="global_step")

    def out_of_budget() -> bool:
        return budget_used() >= 1.0

    def checkpoint(path: Path) -> None:
        save_translation_checkpoint(path, config, src_tok, tgt_tok, trainer.state_dict(), asdict(args))

    def run_validation() -> float:
        scores, _, seconds = validate(trainer.scored_model, val_pairs, src_tok, tgt_tok, beam=args.val_beam, device=args.device)
        val_loss = trainer.evaluate_loss(val_examples)
        epochs_done = progress.epoch + progress.batch / max(1, len(trainer.epoch_batches(progress.epoch)))
        progress.history.append(
            {"epoch": round(epochs_done, 3), "step": progress.global_step, "val_bleu": scores.bleu, "val_chrf": scores.chrf,
             "val_loss": val_loss, "seconds": round(elapsed(), 1), "cpu_seconds": round(cpu_elapsed(), 1)}  # fmt: skip
        )
        run.log(
            {"charts/val_bleu": scores.bleu, "charts/val_chrf": scores.chrf, "losses/val_loss": val_loss,
             "charts/epoch": epochs_done, "charts/validation_seconds": seconds, "global_step": progress.global_step}  # fmt: skip
        )
        log_attention(run, trainer.scored_model, val_pairs[0], src_tok, tgt_tok, progress.global_step)
        tqdm.write(
            f"epoch {epochs_done:.2f}: val BLEU {scores.bleu:.2f} chrF {scores.chrf:.2f} loss {val_loss:.3f} "
            f"({elapsed() / 60:.1f} min, {cpu_elapsed() / 60:.1f} CPU min)"
        )
        return scores.bleu

    out_of_time = False
    while progress.epoch < args.epochs and not out_of_time:
        if out_of_budget():  # a resumed run whose budget is already spent
            break
        batches = trainer.epoch_batches(progress.epoch)
        bar = tqdm(total=len(batches), initial=progress.batch, desc=f"epoch {progress.epoch + 1}/{args.epochs}", unit="batch")
        window_loss, window_tokens, window_start = 0.0, 0, time.perf_counter()
        while progress.batch < len(batches):
            step_start, step_cpu_start = time.perf_counter(), time.process_time()
            loss, n = trainer.train_step(batches[progress.batch])
            progress.step_seconds += time.perf_counter() - step_start
            progress.step_cpu_seconds += time.process_time() - step_cpu_start
            progress.batch += 1
            window_loss, window_tokens = window_loss + loss * n, window_tokens + n
            bar.update(1)
            if progress.global_step % args.log_every == 0:
                rate = window_tokens / max(1e-9, time.perf_counter() - window_start)
                run.log(
                    {"losses/train_loss": window_loss / window_tokens, "charts/learning_rate": trainer.lr,
                     "charts/target_tokens_per_second": rate, "global_step": progress.global_step}  # fmt: skip
                )
                bar.set_postfix(loss=f"{window_loss / window_tokens:.3f}", tok_s=f"{rate:.0f}")
                window_loss, window_tokens, window_start = 0.0, 0, time.perf_counter()
            if out_of_budget():
                out_of_time = True
                break
        bar.close()
        if progress.batch >= len(batches):
            progress.epoch, progress.batch = progress.epoch + 1, 0
        bleu = run_validation()
        progress.train_seconds, progress.cpu_seconds = elapsed(), cpu_elapsed()
        if bleu > progress.best_bleu:
            progress.best_bleu, progress.best_epoch = bleu, progress.epoch
            checkpoint(best_path)
        checkpoint(last_path)

    if not progress.history:  # resumed a finished run: report its last validation
        run_validation()
    final = progress.history[-1]
    rate = progress.target_tokens / max(1e-9, progress.step_seconds)
    cpu_rate = progress.target_tokens / max(1e-9, progress.step_cpu_seconds)
    run.summary.update(
        {"final_val_bleu": final["val_bleu"], "best_val_bleu": progress.best_bleu, "target_tokens_per_second": rate,
         "target_tokens_per_cpu_second": cpu_rate}  # fmt: skip
    )
    run.finish()
    print(
        f"trained {final['epoch']:.2f} epochs, {progress.global_step} steps, {progress.train_seconds / 60:.1f} min "
        f"({progress.cpu_seconds / 60:.1f} CPU min), "
        f"{rate:.0f} target tokens/s ({cpu_rate:.0f} per CPU s), {torch.get_num_threads()} threads; best val BLEU {progress.best_bleu:.2f} "
        f"(epoch {progress.best_epoch}) -> {best_path}"
    )
    print(f"final validation BLEU = {final['val_bleu']:.2f}")
    return final["val_bleu"]


if __name__ == "__main__":
    run_main(main, parse_config(Args))
