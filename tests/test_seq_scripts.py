"""Smoke tests: every translation script runs end to end with a tiny budget.

One subprocess per script (the real command line); further variations call the script's ``main``
in-process, which saves an interpreter and a torch import each. The corpus is a small
Tatoeba-format file written here (the loader accepts other releases with a warning), so these tests
need no downloaded data; the benchmark needs Multi30k and skips without it.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from agents.checkpoint import atomic_save
from agents.cli import parse_config
from seq_attention.checkpoints import KIND

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SUBJECTS = [("the cat", "le chat"), ("a dog", "un chien"), ("my friend", "mon ami"), ("the teacher", "le professeur")]
VERBS = [("sees", "voit"), ("likes", "aime"), ("finds", "trouve")]
NUMBERS = [("one", "un"), ("two", "deux"), ("three", "trois"), ("four", "quatre"), ("five", "cinq")]
TINY = ["--embed-size", "16", "--hidden-size", "32", "--attention-size", "16", "--vocab-size", "80", "--max-tokens", "300"]


def run(script: str, *args: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / script), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{script} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def load_script(name: str):
    module_name = f"_script_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def run_in_process(name: str, *args: str, monkeypatch, env: dict, positional=()):
    """``main(parse_config(Args, argv))`` of a script, with ``env`` set, in this process."""
    for key in ("GLIMPSE_DATA_DIR", "WANDB_MODE", "WANDB_DIR", "WANDB_SILENT"):
        monkeypatch.setenv(key, env[key])
    module = load_script(name)
    argv = list(args)
    if positional:
        from seq_attention.checkpoints import positional_flags

        argv = positional_flags(argv, positional)
    threads = torch.get_num_threads()
    try:
        return module.main(parse_config(module.Args, argv))
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A data directory with a small tatoeba/fra.txt, and the environment to run scripts in."""
    root = tmp_path_factory.mktemp("scripts")
    (root / "data" / "tatoeba").mkdir(parents=True)
    lines = []
    for subject, sujet in SUBJECTS:
        for verb, verbe in VERBS:
            for obj, objet in SUBJECTS:
                for number, nombre in NUMBERS:
                    lines.append(f"{subject} {verb} {obj} {number} times .\t{sujet} {verbe} {objet} {nombre} fois .")
    (root / "data" / "tatoeba" / "fra.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {
        **os.environ,
        "GLIMPSE_DATA_DIR": str(root / "data"),
        "WANDB_MODE": "offline",
        "WANDB_DIR": str(root),
        "WANDB_SILENT": "true",
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": str(ROOT),
    }
    return root, env


@pytest.fixture(scope="module")
def trained(workspace):
    """One epoch of a tiny RNNsearch, offline W&B logging."""
    root, env = workspace
    out = root / "run"
    args = ["--corpus", "tatoeba", "--src", "en", "--tgt", "fr", "--model", "bahdanau", "--epochs", "1", *TINY]
    result = run(
        "train_translation.py", *args, "--out", str(out), "--threads", "1", "--wandb-mode", "offline", "--log-every", "2",
        env=env, cwd=root,
    )  # fmt: skip
    return out, result


def test_train_translation_writes_checkpoints_logs_and_ends_with_the_validation_bleu(trained):
    from tests.wandb_records import history

    out, result = trained
    assert (out / "last.pt").is_file() and (out / "best.pt").is_file()
    (run_file,) = (out / "wandb").glob("offline-run-*/run-*.wandb")
    logged = history(run_file)
    keys = set().union(*logged)
    for key in ("losses/train_loss", "losses/val_loss", "charts/val_bleu", "charts/learning_rate"):
        assert key in keys, sorted(keys)
    assert all("global_step" in row for row in logged)
    images = [row for row in logged if "attention/example/_type" in row]
    assert images and images[0]["attention/example/_type"] == "image-file"
    assert images[0]["attention/example/format"] == "png"
    assert result.stdout.strip().splitlines()[-1].startswith("final validation BLEU = ")


def test_train_translation_resume_continues_exactly(workspace, trained, monkeypatch):
    root, env = workspace
    out, _ = trained
    common = ["--threads", "1", "--wandb-mode", "disabled"]
    run_in_process("train_translation", "--out", str(out), "--resume", "--epochs", "2", *common, monkeypatch=monkeypatch, env=env)
    straight = root / "straight"
    args = ["--corpus", "tatoeba", "--src", "en", "--tgt", "fr", "--model", "bahdanau", "--epochs", "2", *TINY]
    run_in_process("train_translation", *args, "--out", str(straight), *common, monkeypatch=monkeypatch, env=env)
    resumed = torch.load(out / "last.pt", weights_only=True)["trainer"]
    direct = torch.load(straight / "last.pt", weights_only=True)["trainer"]
    assert resumed["progress"]["epoch"] == direct["progress"]["epoch"] == 2
    assert resumed["progress"]["global_step"] == direct["progress"]["global_step"]
    for name, value in direct["model"].items():
        assert torch.equal(value, resumed["model"][name]), name
    assert "online_model" in direct and resumed["ema_n_averaged"] == direct["ema_n_averaged"]  # the default average


def test_a_run_from_before_the_average_of_the_weights_resumes_without_it(workspace, monkeypatch):
    root, env = workspace
    out = root / "old"
    common = ["--threads", "1", "--wandb-mode", "disabled"]
    args = ["--corpus", "tatoeba", "--src", "en", "--tgt", "fr", "--model", "bahdanau", "--epochs", "1", *TINY]
    run_in_process("train_translation", *args, "--ema-decay", "0", "--out", str(out), *common, monkeypatch=monkeypatch, env=env)
    payload = torch.load(out / "last.pt", weights_only=True)
    for key in ("ema_decay", "ema_warmup"):  # as the run configs of older checkpoints
        del payload["run_config"][key]
    atomic_save(payload, out / "last.pt", KIND)
    run_in_process("train_translation", "--out", str(out), "--resume", "--epochs", "2", *common, monkeypatch=monkeypatch, env=env)
    resumed = torch.load(out / "last.pt", weights_only=True)
    assert resumed["trainer"]["progress"]["epoch"] == 2 and "online_model" not in resumed["trainer"]
    assert resumed["run_config"]["ema_decay"] == 0.0


def test_translate_a_sentence_a_file_and_heatmaps(workspace, trained, monkeypatch):
    root, env = workspace
    out, _ = trained
    texts = run_in_process(
        "translate", str(out / "best.pt"), "the cat sees a dog two times .", "--beam", "3",
        monkeypatch=monkeypatch, env=env, positional=["--checkpoint", "--text"],
    )  # fmt: skip
    assert len(texts) == 1 and isinstance(texts[0], str)
    (root / "in.en").write_text("the cat sees a dog two times .\nmy friend likes the teacher one times .\n")
    heatmaps = root / "heatmaps"
    result = run(
        "translate.py", str(out / "best.pt"), "--file", str(root / "in.en"), "--beam", "1",
        "--attention-dir", str(heatmaps), env=env, cwd=root,
    )  # fmt: skip
    assert len(result.stdout.strip().splitlines()) == 2
    assert sorted(p.name for p in heatmaps.glob("*.png")) == ["attention_0000.png", "attention_0001.png"]


def test_evaluate_translation_ends_with_bleu(workspace, trained):
    root, env = workspace
    out, _ = trained
    (root / "src.en").write_text("the cat sees a dog two times .\nmy friend likes the teacher one times .\n")
    (root / "ref.fr").write_text("le chat voit un chien deux fois .\nmon ami aime le professeur un fois .\n")
    result = run(
        "evaluate_translation.py", str(out / "best.pt"), "--src-file", str(root / "src.en"), "--ref-file",
        str(root / "ref.fr"), "--beam", "2", env=env, cwd=root,
    )  # fmt: skip
    lines = result.stdout.strip().splitlines()
    assert lines[-1].startswith("bleu=") and float(lines[-1][5:]) >= 0
    assert any("nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp" in line for line in lines)
    assert any(line.startswith("chrF = ") for line in lines)


def test_evaluate_translation_by_length_with_plot_and_table(workspace, trained, monkeypatch, capsys):
    root, env = workspace
    out, _ = trained
    ckpt = str(out / "best.pt")
    bleu = run_in_process(
        "evaluate_translation", f"{ckpt},{ckpt}", "--labels", "a,b", "--corpus", "tatoeba", "--split", "train",
        "--limit", "40", "--beam", "1", "--length-buckets", "1,8", "--plot", str(root / "len.png"), "--table",
        str(root / "len.md"), monkeypatch=monkeypatch, env=env, positional=["--checkpoint"],
    )  # fmt: skip
    assert (root / "len.png").stat().st_size > 0
    table = (root / "len.md").read_text()
    assert "| a |" in table and "| b |" in table and "BLEU a" in table
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"bleu={bleu:.2f}"


def test_bench_translation(workspace):
    root, env = workspace
    shared = [os.environ.get("GLIMPSE_DATA_DIR"), str(ROOT.parent / "shared" / "data")]
    data = next((d for d in shared if d and (Path(d) / "multi30k" / "train.de.gz").is_file()), None)
    if data is None:
        pytest.skip("needs Multi30k in $GLIMPSE_DATA_DIR or <repo>/../shared/data")
    result = run(
        "bench_translation.py", "--models", "rnnencdec,transformer", "--batches", "1", "--warmup", "0",
        "--decode-sentences", "4", "--embed-size", "16", "--hidden-size", "32", "--transformer-hidden-size", "32",
        "--layers", "1", "--max-tokens", "300", "--vocab-size", "200", "--train-pairs", "1000", "--data-dir", data, "--out", str(root / "bench.md"),
        env=env, cwd=root,
    )  # fmt: skip
    assert "| transformer |" in result.stdout and (root / "bench.md").is_file()


@pytest.mark.parametrize("script", ["train_translation", "translate", "evaluate_translation", "bench_translation"])
def test_help_documents_every_option(script, capsys):
    module = load_script(script)
    with pytest.raises(SystemExit) as exit_info:
        parse_config(module.Args, ["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for field in module.Args.__dataclass_fields__:
        assert "--" + field.replace("_", "-") in text
    assert " \n" not in text  # every option has a doc line


def test_bad_arguments_are_refused_with_the_reason(capsys):
    translate = load_script("translate")
    with pytest.raises(SystemExit):
        parse_config(translate.Args, ["--checkpoint", "x.pt"])
    assert "give exactly one of a sentence" in capsys.readouterr().err
    train = load_script("train_translation")
    with pytest.raises(SystemExit):
        parse_config(train.Args, ["--src", "en", "--tgt", "en"])
    assert "must differ" in capsys.readouterr().err
    refused = [
        ("train_translation", ["--src", "xx"], "--src must be one of ('en', 'de', 'fr') for --corpus multi30k"),
        ("train_translation", ["--train-limit", "0"], "--train-limit must be >= 1"),
        ("train_translation", ["--threads", "-1"], "--threads must be >= 0 (0: torch's default), got -1"),
        ("train_translation", ["--device", "gpu"], "unknown device 'gpu'"),
        ("train_translation", ["--ema-decay", "1"], "--ema-decay must be in [0, 1) (0: no average of the weights), got 1.0"),
        ("evaluate_translation", ["--checkpoint", "x.pt", "--corpus", "multi30k", "--beam", "0"], "--beam must be >= 1 (1: greedy), got 0"),
        ("evaluate_translation", ["--checkpoint", "x.pt", "--corpus", "multi30k", "--limit", "-1"], "--limit must be >= 1"),
        ("evaluate_translation", ["--checkpoint", "x.pt", "--corpus", "multi30k", "--split", "dev"], "invalid choice: 'dev'"),
        ("evaluate_translation", ["--checkpoint", "x.pt", "--corpus", "multi30k", "--length-buckets", "1,x"], "increasing word counts"),
        ("evaluate_translation", ["--checkpoint", "x.pt", "--corpus", "multi30k", "--length-buckets", "20,10,1"], "increasing word counts"),
        ("translate", ["--checkpoint", "x.pt", "--text", "Hallo", "--threads", "-2"], "--threads must be >= 0 (0: torch's default), got -2"),
    ]  # fmt: skip
    for script, argv, message in refused:
        with pytest.raises(SystemExit):
            parse_config(load_script(script).Args, argv)
        assert message in capsys.readouterr().err, (script, argv)
    bench = load_script("bench_translation")
    for argv, message in [(["--train-pairs", "-1"], "--train-pairs must be >= 1"), (["--models", "bahdanau,rnn"], "unknown ['rnn']")]:
        with pytest.raises(SystemExit):
            parse_config(bench.Args, argv)
        assert message in capsys.readouterr().err
    # a resumed run takes its languages from its checkpoint; the Multi30k test file goes by its own name too
    assert parse_config(train.Args, ["--corpus", "tatoeba", "--resume"]).resume
    assert parse_config(load_script("evaluate_translation").Args, ["--checkpoint", "x.pt", "--corpus", "multi30k",
                                                                   "--split", "test_2016_flickr"]).split == "test_2016_flickr"  # fmt: skip
