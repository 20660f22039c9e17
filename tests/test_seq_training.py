"""Training: a tiny model learns 20 pairs by heart, checkpoints round-trip, resuming is exact."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agents.averaging import ema_decay_at
from agents.checkpoint import CheckpointError, atomic_save
from seq_attention.batching import encode_pairs
from seq_attention.checkpoints import load_translator, save_translation_checkpoint
from seq_attention.decoding import translate
from seq_attention.metrics import corpus_scores
from seq_attention.models import ModelConfig, build_model
from seq_attention.tokenize import PAD, SubwordTokenizer
from seq_attention.training import Trainer, _Schedule, sequence_loss

SUBJECTS = ["the cat", "a dog", "my friend", "the teacher", "a child"]
VERBS = [("sees", "voit"), ("likes", "aime"), ("finds", "trouve"), ("calls", "appelle")]
OBJECTS = {"the cat": "le chat", "a dog": "un chien", "my friend": "mon ami", "the teacher": "le professeur", "a child": "un enfant"}


def twenty_pairs() -> list[tuple[str, str]]:
    """20 English-French pairs built from a small grammar (subject verb object)."""
    pairs = []
    for i, subject in enumerate(SUBJECTS):
        for j, (verb, verbe) in enumerate(VERBS):
            obj = SUBJECTS[(i + j + 1) % len(SUBJECTS)]
            pairs.append((f"{subject} {verb} {obj} .", f"{OBJECTS[subject]} {verbe} {OBJECTS[obj]} ."))
    return pairs


@pytest.fixture(scope="module")
def setup():
    pairs = twenty_pairs()
    src_tok = SubwordTokenizer.train([s for s, _ in pairs], vocab_size=60)
    tgt_tok = SubwordTokenizer.train([t for _, t in pairs], vocab_size=60)
    return pairs, src_tok, tgt_tok, encode_pairs(pairs, src_tok, tgt_tok)


def make_trainer(setup, model="bahdanau", seed=0, dropout=0.1, **kwargs) -> Trainer:
    pairs, src_tok, tgt_tok, examples = setup
    torch.manual_seed(seed)
    config = ModelConfig(
        model=model, src_vocab=len(src_tok), tgt_vocab=len(tgt_tok), embed_size=32, hidden_size=64,
        attention_size=32, layers=1, heads=2, dropout=dropout,
    )  # fmt: skip
    options = dict(lr=1e-2, max_tokens=120, seed=seed, label_smoothing=0.0, warmup_steps=0)
    return Trainer(build_model(config), examples, **{**options, **kwargs})


@pytest.mark.parametrize(
    "model, epochs, options",
    [("bahdanau", 25, dict(lr=1e-2)), ("transformer", 40, dict(lr=3e-3, warmup_steps=20, dropout=0.0))],
)
def test_a_tiny_model_learns_twenty_pairs_by_heart(setup, model, epochs, options):
    pairs, src_tok, tgt_tok, _ = setup
    trainer = make_trainer(setup, model, max_tokens=60, **options)
    for epoch in range(epochs):
        for index in trainer.epoch_batches(epoch):
            trainer.train_step(index)
    hypotheses, _ = translate(trainer.model, [s for s, _ in pairs], src_tok, tgt_tok, beam=2)
    bleu = corpus_scores(hypotheses, [t for _, t in pairs]).bleu
    assert bleu > 90, list(zip(hypotheses, [t for _, t in pairs]))


def test_sequence_loss_ignores_padding():
    logits = torch.randn(2, 3, 5)
    targets = torch.tensor([[4, 2, PAD], [1, PAD, PAD]])
    loss, n = sequence_loss(logits, targets)
    assert n == 3
    expected = -(
        logits[0, 0].log_softmax(-1)[4] + logits[0, 1].log_softmax(-1)[2] + logits[1, 0].log_softmax(-1)[1]
    )
    torch.testing.assert_close(loss, expected)


def test_schedule_warms_up_then_decays():
    warm = _Schedule(10, "inverse-sqrt")
    assert warm(0) == pytest.approx(0.1) and warm(9) == pytest.approx(1.0)
    assert warm(39) == pytest.approx(0.5)
    assert _Schedule(0, "constant")(1000) == 1.0
    cosine = _Schedule(10, "cosine")
    assert cosine(4, done=0.0) == pytest.approx(0.5)  # still warming up
    assert cosine(100, done=0.5) == pytest.approx(0.5) and cosine(100, done=1.0) == pytest.approx(0.0)
    assert cosine(100, done=3.0) == pytest.approx(0.0)  # past its budget it stays annealed
    with pytest.raises(ValueError, match="schedule must be one of"):
        _Schedule(10, "linear")


def test_cosine_anneals_over_the_epochs_or_a_budget_whichever_ends_first(setup, tmp_path):
    trainer = make_trainer(setup, schedule="cosine", epochs=2)
    steps = [index for epoch in range(2) for index in trainer.epoch_batches(epoch)]
    for index in steps[: len(steps) // 2]:
        trainer.train_step(index)
    assert trainer.lr == pytest.approx(0.5e-2, rel=0.05)  # half-way: half the peak rate of 1e-2
    for index in steps[len(steps) // 2 :]:
        trainer.train_step(index)
    assert trainer.lr == pytest.approx(0.0, abs=1e-12)

    spent = {"share": 0.0}  # a budget clock, far shorter than the 100 epochs
    clocked = make_trainer(setup, schedule="cosine", epochs=100, budget_used=lambda: spent["share"])
    index = clocked.epoch_batches(0)[0]
    spent["share"] = 0.5
    clocked.train_step(index)
    assert clocked.lr == pytest.approx(0.5e-2)
    spent["share"] = 1.0
    clocked.train_step(index)
    assert clocked.lr == pytest.approx(0.0, abs=1e-12)
    # a checkpoint holds no function (it loads with weights_only) and restores the step count
    atomic_save({"trainer": clocked.state_dict()}, tmp_path / "t.pt", "test")
    state = torch.load(tmp_path / "t.pt", weights_only=True)["trainer"]
    assert state["scheduler"]["last_epoch"] == 2
    with pytest.raises(ValueError, match="anneals over the run"):
        make_trainer(setup, schedule="cosine")


def test_trainer_rejects_an_empty_corpus(setup):
    model = make_trainer(setup).model
    with pytest.raises(ValueError, match="empty corpus"):
        Trainer(model, [])


@pytest.mark.parametrize("ema_decay", [0.0, 0.9])
def test_resuming_from_a_checkpoint_is_exact(setup, tmp_path, ema_decay):
    pairs, src_tok, tgt_tok, _ = setup
    straight = make_trainer(setup, seed=5, ema_decay=ema_decay)
    for epoch in range(2):
        for index in straight.epoch_batches(epoch):
            straight.train_step(index)

    first = make_trainer(setup, seed=5, ema_decay=ema_decay)
    batches = first.epoch_batches(0)
    for index in batches[:2]:  # stop in the middle of epoch 0
        first.train_step(index)
    first.progress.batch = 2
    save_translation_checkpoint(tmp_path / "last.pt", ModelConfig(**first.model.config.to_dict()), src_tok, tgt_tok, first.state_dict(), {})
    torch.manual_seed(123)  # whatever happens to the global RNG in between

    payload = load_translator(tmp_path / "last.pt").payload
    resumed = make_trainer(setup, seed=99, ema_decay=ema_decay)  # a different initialisation, overwritten by the checkpoint
    resumed.seed = 5
    resumed.load_state_dict(payload["trainer"])
    for epoch in range(2):
        for index in resumed.epoch_batches(epoch)[resumed.progress.batch if epoch == 0 else 0 :]:
            resumed.train_step(index)
    for (name, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name
    for (name, a), b in zip(straight.scored_model.state_dict().items(), resumed.scored_model.state_dict().values()):
        assert torch.equal(a, b), name
    assert resumed.progress.global_step == straight.progress.global_step


def test_the_average_of_the_weights_is_what_is_scored_and_saved(setup, tmp_path):
    pairs, src_tok, tgt_tok, _ = setup
    trainer = make_trainer(setup, ema_decay=0.9)
    first, second = trainer.epoch_batches(0)[:2]
    trainer.train_step(first)
    after_one = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    for k, v in trainer.scored_model.state_dict().items():  # the first update copies the weights
        assert torch.equal(v, after_one[k]), k
    trainer.train_step(second)
    weights = trainer.model.state_dict()
    for k, v in trainer.scored_model.state_dict().items():
        torch.testing.assert_close(v, 0.9 * after_one[k] + 0.1 * weights[k])
    assert any(not torch.equal(v, weights[k]) for k, v in trainer.scored_model.state_dict().items())

    config = ModelConfig(**trainer.model.config.to_dict())
    path = save_translation_checkpoint(tmp_path / "ckpt.pt", config, src_tok, tgt_tok, trainer.state_dict(), {})
    loaded = load_translator(path)  # translate.py and evaluate_translation.py get the average
    for (k, v), w in zip(trainer.scored_model.state_dict().items(), loaded.model.state_dict().values()):
        assert torch.equal(v, w), k
    assert loaded.payload["trainer"]["ema_n_averaged"] == 2
    assert trainer.evaluate_loss(setup[3]) != make_trainer(setup).evaluate_loss(setup[3])

    warm = make_trainer(setup, ema_decay=0.9, ema_warmup=True)  # the 2nd update: decay min(0.9, 2 / 11)
    warm.train_step(first)
    after_one = {k: v.clone() for k, v in warm.model.state_dict().items()}
    warm.train_step(second)
    for k, v in warm.scored_model.state_dict().items():
        torch.testing.assert_close(v, 2 / 11 * after_one[k] + 9 / 11 * warm.model.state_dict()[k])
    assert ema_decay_at(0.998, 0, True) == pytest.approx(0.1) and ema_decay_at(0.998, 90, True) == pytest.approx(0.91)
    assert ema_decay_at(0.998, 10**6, True) == ema_decay_at(0.998, 0, False) == 0.998

    plain = make_trainer(setup)
    plain.train_step(first)
    with pytest.raises(ValueError, match="trained without an average of the weights"):
        make_trainer(setup, ema_decay=0.9).load_state_dict(plain.state_dict())
    with pytest.raises(ValueError, match=r"ema_decay must be in \[0, 1\).*got 1.0"):
        make_trainer(setup, ema_decay=1.0)


def test_checkpoint_round_trip_translates_the_same(setup, tmp_path):
    pairs, src_tok, tgt_tok, _ = setup
    trainer = make_trainer(setup, "luong-general")
    for index in trainer.epoch_batches(0):
        trainer.train_step(index)
    config = ModelConfig(**trainer.model.config.to_dict())
    path = save_translation_checkpoint(tmp_path / "ckpt.pt", config, src_tok, tgt_tok, trainer.state_dict(), {"seed": 0})
    loaded = load_translator(path)
    assert loaded.config == config and not loaded.model.training
    sources = [s for s, _ in pairs[:5]]
    expected, _ = translate(trainer.model, sources, src_tok, tgt_tok, beam=3)
    got, _ = translate(loaded.model, sources, loaded.src_tokenizer, loaded.tgt_tokenizer, beam=3)
    assert got == expected
    assert loaded.payload["run_config"] == {"seed": 0}


def test_a_foreign_checkpoint_is_refused(tmp_path):
    atomic_save({"model": {}}, tmp_path / "ram.pt", kind="ram")
    with pytest.raises(CheckpointError, match="holds a 'ram' checkpoint"):
        load_translator(tmp_path / "ram.pt")
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_translator(tmp_path / "missing.pt")


def test_bleu_by_length_buckets_must_increase():
    from seq_attention.metrics import bleu_by_length

    text = ["a man sleeps", "two dogs run in the park"]
    rows = bleu_by_length(text, text, text, [1, 5])
    assert [(label, n) for label, n, _ in rows] == [("1-4", 1), ("5+", 1)]
    assert bleu_by_length(text, text, text, np.array([1, 5])) == rows
    for bad in ([20, 10, 1], [1.5, 5]):
        with pytest.raises(ValueError, match="edges must be increasing whole word counts"):
            bleu_by_length(text, text, text, bad)
