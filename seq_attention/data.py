"""Parallel corpora: Multi30k task 1 and Tatoeba English-French, found, fetched and checked.

Where the files are
-------------------
The data directory is, in order: the ``data_dir`` argument, ``$GLIMPSE_DATA_DIR``, or the user cache
(``$XDG_CACHE_HOME/glimpse-attention/data``, by default ``~/.cache/glimpse-attention/data``). Inside:

- ``multi30k/{train,val,test_2016_flickr}.{en,de,fr}[.gz]``: Multi30k task 1 (Elliott et al.,
  2016), 29,000 / 1,014 / 1,000 line-aligned image captions. Missing files are downloaded from
  the multi30k/dataset repository (``data/task1/raw/``) and checked against the SHA-256 pinned
  in :data:`MULTI30K_SHA256` (of the decompressed text, so a re-gzipped copy passes too).
- ``tatoeba/fra-eng.zip`` (or ``tatoeba/fra.txt``): Tatoeba English-French pairs from
  manythings.org, the 2019-04 release with 167,130 tab-separated pairs that the PyTorch seq2seq
  tutorial uses. manythings.org publishes only its latest release, so this file is not
  downloaded; a file whose ``fra.txt`` differs from :data:`TATOEBA_SHA256` is used with a warning
  (its splits, and so its scores, differ from ours).

Splits
------
Multi30k has its own ``train``, ``val`` and ``test_2016_flickr`` (alias ``test``). Tatoeba has none:
each distinct English sentence is assigned by a salted hash of its text (independent of the
training seed and of the file order): 1% to ``val``, 3% to ``test``, the rest to ``train``. Every
translation of a sentence lands on the same side, so no English test source was seen in training.
Long sentences are rare in Tatoeba, so 20% (not 3%) of the English sentences with
:data:`TATOEBA_LONG` or more words go to ``test``, giving the long-sentence buckets of the
BLEU-by-length plot enough pairs. The split is by the English side whichever direction is
translated; a French sentence translates several English ones ("Salut !": "Hi!", "Hello!"), so for
French sources ``train`` also drops the pairs whose French sentence is in ``val`` or ``test``, and
``val`` those whose French is in ``test`` (about 10% of the French test sources were otherwise
training sources too). The English-source splits are unchanged by this.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from glimpse_env.files import atomic_file
from glimpse_env.mnist import DataError, default_data_dir, read_decompressed, resolve_data_dir

logger = logging.getLogger(__name__)

__all__ = [
    "CORPORA",
    "DataError",
    "MULTI30K_SHA256",
    "TATOEBA_SHA256",
    "default_data_dir",
    "load_pairs",
    "read_parallel",
    "read_tsv_pairs",
    "resolve_data_dir",
]

CORPORA = ("multi30k", "tatoeba")
MULTI30K_LANGS = ("en", "de", "fr")
MULTI30K_SPLITS = {"train": "train", "val": "val", "test": "test_2016_flickr", "test_2016_flickr": "test_2016_flickr"}
MULTI30K_URL = "https://raw.githubusercontent.com/multi30k/dataset/master/data/task1/raw/{name}.gz"
# file -> (sha256 of the published .gz, sha256 of the decompressed text); checked against
# github.com/multi30k/dataset at commit a3d2e0d (the raw files date from c9be912).
MULTI30K_SHA256 = {
    "train.de": ("726e39b2fa9eb9ffb6dc763fb35a179f80fae06ffc5d28b6ace5faa883de28a6", "2c2b73fd2b548fbcde3a875e0a78d6ee94d498bfdee6bd3eae3945779e9ddf72"),
    "train.en": ("d79cfa999dd4c51d2cb42499b6796d5a882c3a8a961923c25a898c90f8bbd56f", "460a15fbd157e34a7a9957ee388c1ca247fe47af3ef25fb50442af6c274e0fc6"),
    "train.fr": ("622e75069e9f4c577425c4f277116ce66e63a2401c0a2312d90073cb12379a3c", "5925a3c18f1587b6b54b87743106e6e8ab93618edb6f65d19eac0621f853a10d"),
    "val.de": ("f0cba2f995189cf5770f29a8a9a537a3ad3f51657ad873405082ff6863a5e75a", "660e09eb7e1da2f856ea13ee5ad3cf6d36b3d5b0b733c857e94c5747a3dfc660"),
    "val.en": ("14f7d25ddd868909a9213e361768460edcacdd6ab9d1e77b92560dc10c10dc28", "1f2a23d992769b5b3d209b0a10dd0b77c08cceb1f20dfb97ed0aafa49d107227"),
    "val.fr": ("ca3106f1a72390591d25f6c45cb4cd39dec4cd3f123e099748a3ce5256c160e9", "5304e444d842e962b2dda4d816b70b22a1765b15401642b7ca37a67477e708dc"),
    "test_2016_flickr.de": ("9204244e408ccb38d2a55cfcd344df15005fc42a07a6e55ca6c52b6ababb8cc8", "4be6b5b3236b79c25475c6bb829800a7ce559e9ba7a1f6c2394fe4d40be46d16"),
    "test_2016_flickr.en": ("611d361c6334bc7246101d48097c13cf5c4413c5befc793cc629934359d532d9", "399a4382932c1aadd3ceb9bef1008d388a64c76d4ae4e9d4728c6f4301cac182"),
    "test_2016_flickr.fr": ("6d326e188d259fb1d04ac19eae3af956559b3a0b93d7635e56c90987c40c8b90", "cb3160d69b002bb638e66cc7612fcd56cb0af82eadc9c142dedc438afb885ef6"),
}
TATOEBA_URL = "https://www.manythings.org/anki/fra-eng.zip"
TATOEBA_SHA256 = "0bb85dbaa1c896844649094d7eaf2e34bee34e84fe362b26ce7e8f2e12aae104"  # fra.txt, 2019-04 release
TATOEBA_LANGS = ("en", "fr")
TATOEBA_SPLIT_SEED = 20190408
TATOEBA_FRACTIONS = {"val": 0.01, "test": 0.03}
TATOEBA_LONG = (15, 0.20)  # sources with >= 15 words go to test with probability 0.20
SPLITS = ("train", "val", "test")

Pair = tuple[str, str]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_text(path: Path) -> str:
    raw = read_decompressed(path)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"{path} is not UTF-8 text ({err})") from err


def _lines(text: str) -> list[str]:
    if not text:
        return []
    return [line.strip() for line in text.split("\n")[: -1 if text.endswith("\n") else None]]


def read_parallel(src_path: str | os.PathLike, tgt_path: str | os.PathLike) -> list[Pair]:
    """Line-aligned ``(source, target)`` pairs from two text files (``.gz`` or plain).

    Raises:
        DataError: a file is missing.
        ValueError: the files have different line counts, or no lines at all.
    """
    src_path, tgt_path = Path(src_path), Path(tgt_path)
    for path in (src_path, tgt_path):
        if not path.is_file():
            raise DataError(f"no such file: {path}")
    src, tgt = _lines(_read_text(src_path)), _lines(_read_text(tgt_path))
    if len(src) != len(tgt):
        raise ValueError(
            f"mismatched line counts: {src_path} has {len(src)} lines but {tgt_path} has {len(tgt)}; "
            "parallel files must be line-aligned (one sentence per line, same order)"
        )
    if not any(s and t for s, t in zip(src, tgt)):
        raise ValueError(f"empty corpus: {src_path} and {tgt_path} have no line with text on both sides")
    return list(zip(src, tgt))


def read_tsv_pairs(path: str | os.PathLike, member: str | None = None) -> list[Pair]:
    """``(first column, second column)`` of a tab-separated file, or of ``member`` inside a zip.

    Extra columns (Tatoeba's later releases add an attribution) are ignored.

    Raises:
        DataError: the file is missing.
        ValueError: a line has fewer than two columns, or there are no pairs.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such file: {path}")
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith(member or ".txt") and "__MACOSX" not in n]
            if not names:
                raise DataError(f"{path} has no member ending in {member or '.txt'!r}")
            text = archive.read(names[0]).decode("utf-8")
    else:
        text = _read_text(path)
    pairs = []
    for number, line in enumerate(_lines(text), 1):
        if not line:
            continue
        columns = line.split("\t")
        if len(columns) < 2:
            raise ValueError(f"{path} line {number}: expected tab-separated source and target, got {line[:80]!r}")
        pairs.append((columns[0].strip(), columns[1].strip()))
    if not pairs:
        raise ValueError(f"empty corpus: {path} has no tab-separated pairs")
    return pairs


def _download(url: str, target: Path, sha256: str) -> None:
    """Fetch ``url``, check its SHA-256, and write it to ``target`` atomically."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            data = response.read()
    except (urllib.error.URLError, OSError, TimeoutError) as err:
        raise DataError(f"could not download {url}: {err}") from err
    if _sha256(data) != sha256:
        raise DataError(f"{url} has SHA-256 {_sha256(data)}, expected {sha256}; not saved")
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(target) as f:
        f.write(data)


def _multi30k_file(directory: Path, name: str, download: bool) -> Path:
    for candidate in (directory / f"{name}.gz", directory / name):
        if candidate.is_file():
            text_sha = _sha256(_read_text(candidate).encode("utf-8"))
            if text_sha != MULTI30K_SHA256[name][1]:
                raise DataError(
                    f"{candidate} is corrupt or another version: decompressed SHA-256 {text_sha}, expected "
                    f"{MULTI30K_SHA256[name][1]}. Delete it to re-download, or replace it with the file from "
                    f"{MULTI30K_URL.format(name=name)}"
                )
            return candidate
    needed = ", ".join(f"{n}.gz" for n in MULTI30K_SHA256)
    hint = (
        f"Put the Multi30k task 1 raw files ({needed}) from github.com/multi30k/dataset data/task1/raw/ in "
        f"{directory}/, or point $GLIMPSE_DATA_DIR or data_dir= at a directory whose multi30k/ holds them."
    )
    if not download:
        raise DataError(f"Multi30k file {name}[.gz] not found in {directory}/. {hint}")
    target = directory / f"{name}.gz"
    logger.info("downloading %s to %s", name, target)
    try:
        _download(MULTI30K_URL.format(name=name), target, MULTI30K_SHA256[name][0])
    except DataError as err:
        raise DataError(f"Multi30k file {name}.gz not found in {directory}/ and {err}. {hint}") from err
    return target


def _tatoeba_pairs(directory: Path) -> list[Pair]:
    for candidate in (directory / "fra-eng.zip", directory / "fra.txt"):
        if candidate.is_file():
            if candidate.suffix == ".zip":
                with zipfile.ZipFile(candidate) as archive:
                    names = [n for n in archive.namelist() if n.endswith("fra.txt") and "__MACOSX" not in n]
                    raw = archive.read(names[0]) if names else b""
            else:
                raw = candidate.read_bytes()
            if _sha256(raw) != TATOEBA_SHA256:
                logger.warning(
                    "%s is not the 2019-04 release of fra.txt (SHA-256 %s, expected %s): its splits and "
                    "scores will differ from results/translation.md",
                    candidate,
                    _sha256(raw),
                    TATOEBA_SHA256,
                )
            return read_tsv_pairs(candidate, "fra.txt")
    raise DataError(
        f"Tatoeba English-French pairs not found: put fra-eng.zip (with fra-eng/fra.txt, from {TATOEBA_URL}; "
        f"our results use the 2019-04 release, fra.txt SHA-256 {TATOEBA_SHA256}) in {directory}/, or point "
        "$GLIMPSE_DATA_DIR or data_dir= at a directory whose tatoeba/ holds it. manythings.org publishes only "
        "its latest release, so it is not downloaded automatically."
    )


def _tatoeba_split(english: str) -> str:
    """The split of an English sentence: a fixed function of the sentence, so every translation of it goes together."""
    digest = hashlib.sha256(f"{TATOEBA_SPLIT_SEED}|{english}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    long_words, long_test = TATOEBA_LONG
    test = long_test if len(english.split()) >= long_words else TATOEBA_FRACTIONS["test"]
    if u < test:
        return "test"
    if u < test + TATOEBA_FRACTIONS["val"]:
        return "val"
    return "train"


def load_pairs(
    corpus: str, split: str, src: str, tgt: str, data_dir: str | os.PathLike | None = None, download: bool = True
) -> list[Pair]:
    """``(source, target)`` sentence pairs of one split, in file order.

    Args:
        corpus: ``"multi30k"`` or ``"tatoeba"``.
        split: ``"train"``, ``"val"`` or ``"test"`` (``"test_2016_flickr"`` for Multi30k too).
        src: source language, ``"en"``, ``"de"`` or ``"fr"`` (Tatoeba: ``"en"`` or ``"fr"``).
        tgt: target language, different from ``src``.
        data_dir: see the module docstring.
        download: fetch missing Multi30k files (SHA-256 checked).

    Raises:
        ValueError: an unknown corpus, split or language.
        DataError: files missing and not downloadable, or corrupt; the message says where to put them.
    """
    if corpus not in CORPORA:
        raise ValueError(f"corpus must be one of {CORPORA}, got {corpus!r}")
    langs = MULTI30K_LANGS if corpus == "multi30k" else TATOEBA_LANGS
    for name, lang in (("src", src), ("tgt", tgt)):
        if lang not in langs:
            raise ValueError(f"{name} must be one of {langs} for {corpus}, got {lang!r}")
    if src == tgt:
        raise ValueError(f"src and tgt must differ, got {src!r} for both")
    root = resolve_data_dir(data_dir)
    if corpus == "multi30k":
        if split not in MULTI30K_SPLITS:
            raise ValueError(f"split must be one of {tuple(MULTI30K_SPLITS)}, got {split!r}")
        name = MULTI30K_SPLITS[split]
        directory = root / "multi30k"
        return read_parallel(
            _multi30k_file(directory, f"{name}.{src}", download), _multi30k_file(directory, f"{name}.{tgt}", download)
        )
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    every = [(en, fr, _tatoeba_split(en)) for en, fr in _tatoeba_pairs(root / "tatoeba")]
    if src == "en":
        return [(en, fr) for en, fr, s in every if s == split]
    held_out = {"train": ("val", "test"), "val": ("test",), "test": ()}[split]
    later = {fr for _, fr, s in every if s in held_out}  # French sources of the later splits
    return [(fr, en) for en, fr, s in every if s == split and fr not in later]


def shuffled(pairs: list[Pair], seed: int) -> list[Pair]:
    """A seeded shuffled copy (for subsampling)."""
    out = list(pairs)
    random.Random(seed).shuffle(out)
    return out
