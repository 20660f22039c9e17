"""Corpora, tokenizers and batches: files written by the tests, the shared copies when present."""

from __future__ import annotations

import gzip
import os
import zipfile
from pathlib import Path

import pytest
import torch

from seq_attention.batching import bucket_batches, collate, encode_pairs
from seq_attention.data import (
    DataError,
    default_data_dir,
    load_pairs,
    read_parallel,
    read_tsv_pairs,
    resolve_data_dir,
)
from seq_attention.tokenize import BOS, EOS, PAD, SubwordTokenizer

ENGLISH = [
    "A man is riding a bicycle.",
    "Two dogs play in the snow.",
    "A woman reads a book in the park.",
    "Children are playing football on the beach.",
    "The cat sleeps on the red sofa.",
    "A boy jumps into the lake.",
]
GERMAN = [
    "Ein Mann fährt Fahrrad.",
    "Zwei Hunde spielen im Schnee.",
    "Eine Frau liest ein Buch im Park.",
    "Kinder spielen Fußball am Strand.",
    "Die Katze schläft auf dem roten Sofa.",
    "Ein Junge springt in den See.",
]


def shared_data_dir() -> Path | None:
    for candidate in (os.environ.get("GLIMPSE_DATA_DIR"), Path(__file__).resolve().parents[1] / ".." / "shared" / "data"):
        if candidate and (Path(candidate) / "multi30k" / "train.de.gz").is_file():
            return Path(candidate)
    return None


needs_shared = pytest.mark.skipif(
    shared_data_dir() is None, reason="needs Multi30k/Tatoeba in $GLIMPSE_DATA_DIR or <repo>/../shared/data"
)


@pytest.fixture(scope="module")
def tokenizers():
    return SubwordTokenizer.train(GERMAN * 3, vocab_size=60), SubwordTokenizer.train(ENGLISH * 3, vocab_size=60)


def test_tokenizer_round_trip_and_reserved_ids(tokenizers):
    de, en = tokenizers
    ids = en.encode(ENGLISH)
    assert all(min(seq) > EOS for seq in ids)  # PAD, UNK, BOS, EOS are never pieces of text
    assert en.decode(ids) == ENGLISH
    assert en.decode([[BOS] + ids[0] + [EOS, PAD, PAD]]) == [ENGLISH[0]]
    restored = SubwordTokenizer.from_tensor(en.to_tensor())
    assert restored.encode(ENGLISH) == ids and len(restored) == len(en)
    assert en.to_tensor().dtype == torch.uint8
    assert "".join(en.pieces(ENGLISH[1])).replace("\u2581", " ").strip() == ENGLISH[1]


def test_tokenizer_rejects_an_empty_corpus():
    with pytest.raises(ValueError, match="empty corpus"):
        SubwordTokenizer.train(["", "   "], vocab_size=50)
    with pytest.raises(ValueError, match="model_type"):
        SubwordTokenizer.train(ENGLISH, model_type="wordpiece")


def write_lines(path: Path, lines: list[str], gz: bool = False) -> Path:
    text = "".join(line + "\n" for line in lines).encode()
    path.write_bytes(gzip.compress(text) if gz else text)
    return path


def test_read_parallel_plain_and_gzip(tmp_path):
    src = write_lines(tmp_path / "a.de.gz", GERMAN, gz=True)
    tgt = write_lines(tmp_path / "a.en", ENGLISH)
    assert read_parallel(src, tgt) == list(zip(GERMAN, ENGLISH))


def test_read_parallel_errors_are_clear(tmp_path):
    src = write_lines(tmp_path / "a.de", GERMAN)
    with pytest.raises(ValueError, match=r"mismatched line counts.*has 6 lines.*has 5"):
        read_parallel(src, write_lines(tmp_path / "b.en", ENGLISH[:5]))
    with pytest.raises(ValueError, match="empty corpus"):
        read_parallel(write_lines(tmp_path / "e.de", []), write_lines(tmp_path / "e.en", []))
    with pytest.raises(DataError, match="no such file"):
        read_parallel(tmp_path / "missing.de", src)


def test_read_tsv_pairs_from_text_and_zip(tmp_path):
    lines = [f"{en}\t{de}\tCC-BY 2.0 attribution" for en, de in zip(ENGLISH, GERMAN)]
    tsv = write_lines(tmp_path / "fra.txt", lines)
    assert read_tsv_pairs(tsv) == list(zip(ENGLISH, GERMAN))
    archive = tmp_path / "fra-eng.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("fra-eng/_about.txt", "about")
        z.writestr("fra-eng/fra.txt", tsv.read_text())
    assert read_tsv_pairs(archive, "fra.txt") == list(zip(ENGLISH, GERMAN))
    with pytest.raises(ValueError, match="line 2: expected tab-separated"):
        read_tsv_pairs(write_lines(tmp_path / "bad.txt", ["a\tb", "no tab here"]))
    with pytest.raises(ValueError, match="empty corpus"):
        read_tsv_pairs(write_lines(tmp_path / "empty.txt", []))


def test_data_dir_resolution(tmp_path, monkeypatch):
    monkeypatch.delenv("GLIMPSE_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert default_data_dir() == tmp_path / "cache" / "glimpse-attention" / "data"
    monkeypatch.setenv("GLIMPSE_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir() == tmp_path / "env"
    assert resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"


def test_missing_multi30k_says_where_to_put_it(tmp_path):
    with pytest.raises(DataError, match=rf"not found in {tmp_path}/multi30k.*train.de.gz"):
        load_pairs("multi30k", "train", "de", "en", data_dir=tmp_path, download=False)


def test_corrupt_multi30k_is_refused(tmp_path):
    (tmp_path / "multi30k").mkdir()
    write_lines(tmp_path / "multi30k" / "val.de.gz", GERMAN, gz=True)
    with pytest.raises(DataError, match="corrupt or another version"):
        load_pairs("multi30k", "val", "de", "en", data_dir=tmp_path, download=False)


def test_missing_tatoeba_says_where_to_put_it(tmp_path):
    with pytest.raises(DataError, match=rf"put fra-eng.zip.*in {tmp_path}/tatoeba"):
        load_pairs("tatoeba", "train", "en", "fr", data_dir=tmp_path)


def test_another_tatoeba_release_loads_with_a_warning(tmp_path, caplog):
    (tmp_path / "tatoeba").mkdir()
    pairs = [(f"Sentence number {i} here.", f"Phrase numéro {i} ici.") for i in range(300)]
    write_lines(tmp_path / "tatoeba" / "fra.txt", [f"{en}\t{fr}" for en, fr in pairs])
    splits = {s: load_pairs("tatoeba", s, "en", "fr", data_dir=tmp_path) for s in ("train", "val", "test")}
    assert "not the 2019-04 release" in caplog.text
    assert sum(len(p) for p in splits.values()) == 300
    assert not set(splits["train"]) & set(splits["test"])
    assert load_pairs("tatoeba", "test", "fr", "en", data_dir=tmp_path) == [(fr, en) for en, fr in splits["test"]]


def test_tatoeba_french_sources_of_test_are_not_trained_on(tmp_path):
    # a French sentence that translates several English ones, split apart by the English side
    (tmp_path / "tatoeba").mkdir()
    pairs = [(f"Hello number {i}!", "Salut !") for i in range(60)] + [(f"Go {i}.", f"Va {i}.") for i in range(200)]
    write_lines(tmp_path / "tatoeba" / "fra.txt", [f"{en}\t{fr}" for en, fr in pairs])
    english = {s: load_pairs("tatoeba", s, "en", "fr", data_dir=tmp_path) for s in ("train", "val", "test")}
    assert any(fr == "Salut !" for _, fr in english["test"]) and any(fr == "Salut !" for _, fr in english["train"])
    french = {s: load_pairs("tatoeba", s, "fr", "en", data_dir=tmp_path) for s in ("train", "val", "test")}
    assert french["test"] == [(fr, en) for en, fr in english["test"]]
    sources = {s: {fr for fr, _ in p} for s, p in french.items()}
    assert "Salut !" in sources["test"] and not sources["test"] & (sources["train"] | sources["val"])
    assert not sources["val"] & sources["train"]


def test_load_pairs_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="corpus must be one of"):
        load_pairs("europarl", "train", "de", "en", data_dir=tmp_path)
    with pytest.raises(ValueError, match="src must be one of"):
        load_pairs("tatoeba", "train", "de", "en", data_dir=tmp_path)
    with pytest.raises(ValueError, match="must differ"):
        load_pairs("multi30k", "train", "en", "en", data_dir=tmp_path)
    with pytest.raises(ValueError, match="split must be one of"):
        load_pairs("multi30k", "dev", "de", "en", data_dir=tmp_path)


@needs_shared
def test_shared_multi30k_and_tatoeba():
    root = shared_data_dir()
    sizes = {s: len(load_pairs("multi30k", s, "de", "en", data_dir=root, download=False)) for s in ("train", "val", "test")}
    assert sizes == {"train": 29000, "val": 1014, "test": 1000}
    tatoeba = {s: load_pairs("tatoeba", s, "en", "fr", data_dir=root) for s in ("train", "val", "test")}
    assert sum(len(p) for p in tatoeba.values()) == 167_130
    train_sources = {en for en, _ in tatoeba["train"]}
    assert not train_sources & {en for en, _ in tatoeba["test"]}  # no test source was seen in training
    french = {s: {fr for fr, _ in load_pairs("tatoeba", s, "fr", "en", data_dir=root)} for s in ("train", "test")}
    assert not french["train"] & french["test"]  # in the other direction neither


def test_encode_pairs_drops_empty_and_long_and_rejects_empty_corpus(tokenizers):
    de, en = tokenizers
    pairs = list(zip(GERMAN, ENGLISH)) + [("", "Empty source.")]
    examples = encode_pairs(pairs, de, en)
    assert len(examples) == len(GERMAN)
    assert all(s[-1] == EOS and t[-1] == EOS for s, t in examples)
    assert 0 < len(encode_pairs(pairs, de, en, max_len=22)) < len(GERMAN)
    with pytest.raises(ValueError, match="empty corpus"):
        encode_pairs([("", "")], de, en)


def test_bucket_batches_cover_everything_once_within_budget_and_replay():
    g = torch.Generator().manual_seed(0)
    lengths = torch.randint(1, 40, (500,), generator=g).tolist()
    batches = bucket_batches(lengths, max_tokens=200, seed=3, epoch=0)
    assert sorted(i for b in batches for i in b) == list(range(500))
    assert all(max(lengths[i] for i in b) * len(b) <= 200 for b in batches)
    assert batches == bucket_batches(lengths, max_tokens=200, seed=3, epoch=0)
    assert batches != bucket_batches(lengths, max_tokens=200, seed=3, epoch=1)
    padded = sum(max(lengths[i] for i in b) * len(b) for b in batches)
    assert padded < 1.1 * sum(lengths)  # bucketing keeps padding small
    ordered = bucket_batches(lengths, max_tokens=200, seed=0, epoch=0, shuffle=False)
    flat = [lengths[i] for b in ordered for i in b]
    assert flat == sorted(flat)
    # nothing to batch (translate.py on an empty file): no batches, in either mode
    assert bucket_batches([], max_tokens=200, seed=0, epoch=0, shuffle=False) == []
    assert bucket_batches([], max_tokens=200, seed=0, epoch=0) == []


def test_collate_pads_and_shifts(tokenizers):
    de, en = tokenizers
    examples = encode_pairs(list(zip(GERMAN, ENGLISH)), de, en)
    batch = collate(examples, [0, 3])
    s0, t0 = examples[0]
    assert batch.src.shape[0] == 2 and batch.src_lengths.tolist() == [len(s0), len(examples[3][0])]
    assert batch.tgt_out[0, : len(t0)].tolist() == t0 and torch.all(batch.tgt_out[0, len(t0) :] == PAD)
    assert batch.tgt_in[0, 0] == BOS and batch.tgt_in[0, 1 : len(t0)].tolist() == t0[:-1]
    assert batch.n_target_tokens == len(t0) + len(examples[3][1])


def test_multi30k_download_checks_the_checksum(tmp_path, monkeypatch):
    """Downloads go through ``MULTI30K_URL``; a ``file://`` mirror stands in for GitHub here."""
    import seq_attention.data as data

    mirror = tmp_path / "mirror"
    mirror.mkdir()
    write_lines(mirror / "val.de.gz", GERMAN, gz=True)  # not the real file
    monkeypatch.setattr(data, "MULTI30K_URL", mirror.as_uri() + "/{name}.gz")
    with pytest.raises(DataError, match=r"SHA-256 .* expected .*not saved"):
        load_pairs("multi30k", "val", "de", "en", data_dir=tmp_path / "data")
    assert not (tmp_path / "data" / "multi30k" / "val.de.gz").exists()
    shared = shared_data_dir()
    if shared is None:
        pytest.skip("the successful download needs the real files in $GLIMPSE_DATA_DIR or <repo>/../shared/data")
    for lang in ("de", "en"):
        (mirror / f"val.{lang}.gz").write_bytes((shared / "multi30k" / f"val.{lang}.gz").read_bytes())
    pairs = load_pairs("multi30k", "val", "de", "en", data_dir=tmp_path / "data")
    assert len(pairs) == 1014 and (tmp_path / "data" / "multi30k" / "val.en.gz").is_file()
