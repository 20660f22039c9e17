"""The REINFORCE trainer end to end: learning, exact resume, checkpoints, configs, the scripts."""

from __future__ import annotations

import logging
import math
import os
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from agents.checkpoint import CheckpointError, atomic_save, load_checkpoint
from agents.cli import UsageError, check_device, parse_config, run_main
from agents.reinforce import EpisodeLoss
from agents.trainer import TrainConfig, build_env, selection_error, train
from tests.conftest import REPO
from tests.wandb_records import history


def small_config(tmp_path, data_dir, **kwargs) -> TrainConfig:
    base = dict(env="GlimpseMNIST-v0", train_subset=512, val_subset=200, batch_size=64, eval_batch_size=100,
                hidden_size=64, glimpse_hidden=32, glimpse_out=64, epochs=2, out=str(tmp_path / "run"),
                data_dir=str(data_dir), progress=False, wandb_mode="disabled", threads=1)  # fmt: skip
    return TrainConfig(**(base | kwargs))


def parameters(path):
    return load_checkpoint(path, "ram")["model"]


def test_learns_far_better_than_chance(tmp_path, data_dir):
    config = small_config(tmp_path, data_dir, train_subset=4096, epochs=4, lr=3e-3, val_subset=500, hidden_size=128,
                          glimpse_hidden=64, glimpse_out=128)  # fmt: skip
    summary = train(config)
    assert summary["val_error"] < 65.0  # chance is 90 %; about 47 % after these 256 steps
    assert summary["global_step"] == 4 * 4096 // 64


def test_resume_continues_exactly(tmp_path, data_dir, caplog):
    straight = train(small_config(tmp_path / "a", data_dir, checkpoint_every=3))
    # the same run, stopped mid-epoch after 5 steps, then resumed to the end
    with caplog.at_level(logging.INFO, logger="agents.trainer"):
        first = train(small_config(tmp_path / "b", data_dir, max_steps=5))
    assert first["stopped_early"] and first["global_step"] == 5
    assert "epoch 0 + 5 of 8 steps: val error" in caplog.text  # not "epoch 0", which reads as a finished epoch
    for steps in (5, 3):  # --max-steps counts the run's steps in all: resumed at or past it, nothing more
        again = train(small_config(tmp_path / "b", data_dir, resume=True, max_steps=steps))
        assert again["global_step"] == 5 and again["stopped_early"] and again["val_error"] == first["val_error"]
    resumed = train(small_config(tmp_path / "b", data_dir, resume=True, lr=1.0))  # a changed lr is ignored
    assert resumed["global_step"] == straight["global_step"] == 16 and resumed["epoch"] == 2
    finished = train(small_config(tmp_path / "b", data_dir, resume=True))  # nothing left to train
    assert finished["global_step"] == 16 and finished["val_error"] == resumed["val_error"]
    a, b = parameters(tmp_path / "a" / "run" / "last.pt"), parameters(tmp_path / "b" / "run" / "last.pt")
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=0, msg=name)
    assert resumed["val_error"] == straight["val_error"]


def test_a_warm_start_takes_the_weights_and_not_the_run(tmp_path, data_dir):
    train(small_config(tmp_path / "a", data_dir, ema_decay=0.9))
    source = load_checkpoint(tmp_path / "a" / "run" / "best.pt", "ram")
    # a new run at another batch and rate, from the averaged weights: at lr 1e-9 one step leaves them as they were
    warm = train(small_config(tmp_path / "b", data_dir, init_from=str(tmp_path / "a" / "run" / "best.pt"), batch_size=128,
                              lr=1e-9, location_lr=1e-9, std=0.1, max_steps=1))  # fmt: skip
    assert warm["global_step"] == 1 and warm["epoch"] == 0  # its own count, not the source's
    started = load_checkpoint(tmp_path / "b" / "run" / "last.pt", "ram")
    assert started["config"]["batch_size"] == 128 and started["model_config"]["std"] == 0.1
    for name, value in source["model"].items():
        torch.testing.assert_close(started["model"][name], value, rtol=0, atol=1e-6, msg=name)
    with pytest.raises(UsageError, match=r"hidden_size \(checkpoint 64, this run 32\).*--init-from"):
        train(small_config(tmp_path / "c", data_dir, init_from=str(tmp_path / "a" / "run" / "best.pt"), hidden_size=32))
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        train(small_config(tmp_path / "d", data_dir, init_from=str(tmp_path / "nowhere.pt")))


def test_denormals_are_flushed_for_the_run_only(tmp_path, data_dir, monkeypatch):
    calls = []
    real = torch.set_flush_denormal
    monkeypatch.setattr(torch, "set_flush_denormal", lambda on: calls.append(on) or real(on))
    train(small_config(tmp_path, data_dir, max_steps=2, flush_denormal=True))
    assert calls in ([True, False], [True])  # [True] alone where the CPU cannot flush (it returned False)
    tiny = torch.tensor([1e-40], dtype=torch.float32)  # below float32's smallest normal, 1.2e-38
    assert (tiny * 1.0).item() != 0.0  # the process computes with denormals again afterwards
    calls.clear()
    train(small_config(tmp_path / "off", data_dir, max_steps=2))
    assert calls == []  # off by default


def test_an_average_of_the_weights_is_validated_saved_and_resumed_exactly(tmp_path, data_dir):
    straight = train(small_config(tmp_path / "a", data_dir, ema_decay=0.9))
    first = train(small_config(tmp_path / "b", data_dir, ema_decay=0.9, max_steps=5))
    resumed = train(small_config(tmp_path / "b", data_dir, ema_decay=0.9, resume=True))
    assert resumed["global_step"] == straight["global_step"] == 16 and first["global_step"] == 5
    a, b = (load_checkpoint(tmp_path / run / "run" / "last.pt", "ram") for run in "ab")
    assert a["ema_n_averaged"] == b["ema_n_averaged"] == 16
    for key in ("model", "online_model"):
        for name in a[key]:
            torch.testing.assert_close(a[key][name], b[key][name], rtol=0, atol=0, msg=f"{key}.{name}")
    assert resumed["val_error"] == straight["val_error"]
    # "model" (the weights evaluate.py scores) is the average: after step 1 the weights themselves,
    # after step 2 0.9 of them + 0.1 of the new ones
    step1 = train(small_config(tmp_path / "c", data_dir, ema_decay=0.9, max_steps=1))
    w1 = load_checkpoint(tmp_path / "c" / "run" / "last.pt", "ram")
    train(small_config(tmp_path / "c", data_dir, ema_decay=0.9, max_steps=2, resume=True))
    w2 = load_checkpoint(tmp_path / "c" / "run" / "last.pt", "ram")
    assert step1["global_step"] == 1 and w2["ema_n_averaged"] == 2
    name = "action_net.classify.weight"
    torch.testing.assert_close(w1["model"][name], w1["online_model"][name], rtol=0, atol=0)
    torch.testing.assert_close(w2["model"][name], 0.9 * w1["online_model"][name] + 0.1 * w2["online_model"][name])
    assert not torch.equal(w2["model"][name], w2["online_model"][name])


def test_the_warm_up_of_the_average_caps_its_decay_early_and_survives_a_resume(tmp_path, data_dir):
    # update 2 follows 1 earlier one: decay min(0.99, 2 / 11), so the new weights get 9 / 11
    train(small_config(tmp_path, data_dir, ema_decay=0.99, ema_warmup=True, max_steps=1))
    w1 = load_checkpoint(tmp_path / "run" / "last.pt", "ram")
    train(small_config(tmp_path, data_dir, ema_decay=0.99, ema_warmup=True, max_steps=2, resume=True))
    w2 = load_checkpoint(tmp_path / "run" / "last.pt", "ram")
    assert w2["config"]["ema_warmup"] is True and w2["ema_n_averaged"] == 2
    name = "action_net.classify.weight"
    torch.testing.assert_close(w2["model"][name], 2 / 11 * w1["online_model"][name] + 9 / 11 * w2["online_model"][name])


def test_a_time_budget_counts_the_whole_run_across_resumes(tmp_path, data_dir):
    first = train(small_config(tmp_path, data_dir, epochs=100, max_cpu_minutes=0.01))  # 0.6 CPU-seconds
    assert first["stopped_early"] and first["cpu_seconds"] >= 0.6 and 0 < first["global_step"] < 800
    again = train(small_config(tmp_path, data_dir, epochs=100, max_cpu_minutes=0.01, resume=True))
    assert again["global_step"] == first["global_step"]  # spent: a resume does not get a fresh budget
    more = train(small_config(tmp_path, data_dir, epochs=100, max_cpu_minutes=0.02, resume=True))
    assert more["global_step"] > first["global_step"] and more["cpu_seconds"] >= 1.2


def test_an_older_checkpoint_keeps_the_settings_it_trained_with(tmp_path, data_dir):
    from agents.trainer import ABSENT_MEANS, saved_config

    train(small_config(tmp_path, data_dir, max_steps=2))
    payload = load_checkpoint(tmp_path / "run" / "last.pt", "ram")
    assert saved_config(payload).location_zero_init is True and saved_config(payload).train_shift == 2
    for key in ABSENT_MEANS:  # written before these settings existed
        del payload["config"][key]
    payload["config"]["a_setting_since_removed"] = 3
    old = saved_config(payload)
    assert old.location_zero_init is False and old.location_weight_decay is None and old.train_shift == 0


def test_location_network_has_its_own_learning_rate_and_decay(tmp_path, data_dir):
    train(small_config(tmp_path, data_dir, max_steps=3, lr=1e-3, location_lr=1e-4, lr_schedule="constant",
                       weight_decay=0.01, location_weight_decay=2.0))  # fmt: skip
    payload = load_checkpoint(tmp_path / "run" / "last.pt", "ram")
    assert [g["lr"] for g in payload["optimizer"]["param_groups"]] == [1e-3, 1e-4]
    assert [g["weight_decay"] for g in payload["optimizer"]["param_groups"]] == [0.01, 2.0]
    location = {n for n in payload["model"] if n.startswith("location_net.")}
    assert len(payload["optimizer"]["param_groups"][1]["params"]) == len(location) == 2


def test_episodes_of_one_image_share_its_canvas(data_dir):
    from agents.trainer import build_env, share_streams

    config = TrainConfig(env="GlimpseClutteredMNIST-v0", data_dir=str(data_dir), train_subset=64)
    envs = build_env(config, "train", 6)
    envs.reset(seed=0)
    share_streams(envs, 3)
    for _ in range(2):  # the streams stay in step, episode after episode
        obs, _ = envs.reset(options={"indices": np.repeat([5, 9], 3)})
        glimpses = np.asarray(obs["glimpse"])
        for a, b in [(0, 1), (0, 2), (3, 4), (3, 5)]:
            np.testing.assert_array_equal(glimpses[a], glimpses[b])
        assert not np.array_equal(glimpses[0], glimpses[3])


def test_train_shift_defaults_to_two_pixels_on_images_without_a_canvas():
    assert TrainConfig(env="GlimpseMNIST-v0").train_shift == 2
    for env in ("GlimpseTranslatedMNIST-v0", "GlimpseClutteredMNIST-v0", "GlimpseClutteredMNIST100-v0"):
        assert TrainConfig(env=env).train_shift == 0
    assert TrainConfig(env="GlimpseMNIST-v0", train_shift=0).train_shift == 0


def test_train_shift_augments_the_training_split_only(data_dir):
    from agents.trainer import build_env

    config = TrainConfig(data_dir=str(data_dir))
    assert build_env(config, "train", 4, max_images=64).config.source.max_shift == 2
    for split in ("val", "test"):
        assert build_env(config, split, 4, max_images=64).config.source.max_shift == 0
    config = TrainConfig(env="GlimpseTranslatedMNIST-v0", train_rotation=10, train_zoom=5, data_dir=str(data_dir))
    source = build_env(config, "train", 4, max_images=64).config.source
    assert (source.max_shift, source.max_rotation, source.max_zoom) == (0, 10, 5)
    for split in ("val", "test"):
        assert not build_env(config, split, 4, max_images=64).config.source.distorts
    with pytest.raises(ValueError, match="train_rotation must be an integer >= 0, got -5"):
        TrainConfig(train_rotation=-5)


def test_several_rollouts_per_image(tmp_path, data_dir):
    summary = train(small_config(tmp_path, data_dir, epochs=1, rollouts_per_image=4))
    assert summary["global_step"] == 512 // (64 // 4)  # an epoch shows every image, k times
    with pytest.raises(ValueError, match="multiple of rollouts_per_image"):
        small_config(tmp_path, data_dir, rollouts_per_image=3)


def test_label_smoothing_reaches_the_trainers_loss(tmp_path, data_dir, monkeypatch):
    import agents.trainer as trainer_module

    made = []
    monkeypatch.setattr(trainer_module, "EpisodeLoss", lambda *a, **k: made.append(EpisodeLoss(*a, **k)) or made[-1])
    plain = train(small_config(tmp_path / "a", data_dir, max_steps=1))
    smoothed = train(small_config(tmp_path / "b", data_dir, max_steps=1, label_smoothing=0.2))
    assert [m.label_smoothing for m in made] == [0.0, 0.2]
    assert plain["global_step"] == smoothed["global_step"] == 1
    # the same seed and batch, another target: the one step moves the classifier elsewhere
    a, b = parameters(tmp_path / "a" / "run" / "last.pt"), parameters(tmp_path / "b" / "run" / "last.pt")
    assert not torch.equal(a["action_net.classify.weight"], b["action_net.classify.weight"])


def test_random_glimpse_control_is_validated_with_random_glimpses(tmp_path, data_dir):
    from agents.reinforce import evaluate
    from agents.trainer import build_env, load_model

    config = small_config(tmp_path, data_dir, random_glimpses=True, epochs=1)
    summary = train(config)
    payload = load_checkpoint(tmp_path / "run" / "last.pt", "ram")
    envs = build_env(config, "val", config.eval_batch_size, max_images=config.val_subset)
    model = load_model(payload)
    scored = {random: evaluate(model, envs, config.val_subset, seed=config.seed, random_locations=random)["error"]
              for random in (True, False)}  # fmt: skip
    # selection scored the control as it is tested (uniform locations), not with its untrained location net
    assert summary["val_error"] == pytest.approx(scored[True])
    assert scored[True] != scored[False]


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(std=-0.1), "std must be a number > 0"),
        (dict(n_glimpses=0), "n_glimpses must be an integer > 0"),
        (dict(env="GlimpseCIFAR-v0"), "unknown env id 'GlimpseCIFAR-v0'; registered glimpse environments"),
        (dict(batch_size=0), "batch_size"),
        (dict(cell="transformer"), "cell must be one of"),
        (dict(wandb_mode="cloud"), "wandb_mode"),
        (dict(random_glimpses=True, hybrid=False), "needs hybrid"),
        (dict(location_lr=0.0), "location_lr must be a number > 0"),
        (dict(location_weight_decay=-1.0), "location_weight_decay must be a number >= 0"),
        (dict(early_ce_weight=0.5, hybrid=False), "pure RL"),
        (dict(reward="prob", hybrid=False), "needs reward=env"),
        (dict(reward="bonus"), "reward must be one of"),
        (dict(dropout=-0.1), "dropout must be a probability in \\[0, 1\\), got -0.1"),
        (dict(label_smoothing=1.0), "label_smoothing must be in \\[0, 1\\) .0: plain cross-entropy., got 1.0"),
        (dict(label_smoothing=0.1, hybrid=False), "needs label_smoothing=0"),
        (dict(ema_decay=1.0), "ema_decay must be in \\[0, 1\\) .0: no average of the weights., got 1.0"),
        (dict(train_shift=1.5), "train_shift must be an integer >= 0"),
        (dict(select_window=0), "select_window must be an integer > 0, got 0"),
        (dict(core_init="orthogonal"), "core_init must be one of"),
        (dict(cell="lstm", core_init="identity"), "plain RNN cores .* got cell='lstm'"),
    ],
)
def test_bad_config_is_explained(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


def test_a_lucky_epoch_does_not_win_a_selection_window():
    history = [{"val_error": e} for e in (1.2, 0.8, 1.3, 0.95, 0.95, 0.95)]
    for window, chosen in ((1, 1), (3, 5)):  # epoch 2's 0.8 wins alone; averaged with its neighbours it loses
        scores = [selection_error(history[: i + 1], window) for i in range(len(history))]
        assert int(np.argmin(scores)) == chosen
    assert selection_error(history[:2], 3) == pytest.approx(1.0)  # fewer records than the window: all of them


def test_best_checkpoint_is_chosen_by_the_windowed_validation_error(tmp_path, data_dir):
    summary = train(small_config(tmp_path, data_dir, epochs=3, select_window=2))
    errors = [r["val_error"] for r in load_checkpoint(tmp_path / "run" / "last.pt", "ram")["state"]["history"]]
    windowed = [np.mean(errors[max(0, i - 1) : i + 1]) for i in range(len(errors))]
    assert len(errors) == 3 and summary["best_val_error"] == pytest.approx(min(windowed))
    assert summary["best_epoch"] == 1 + int(np.argmin(windowed))
    assert load_checkpoint(tmp_path / "run" / "best.pt", "ram")["state"]["best_epoch"] == summary["best_epoch"]


def test_checkpoint_is_atomic_data_and_checks_its_kind(tmp_path):
    path = atomic_save({"weights": torch.ones(3), "step": 7}, tmp_path / "c.pt", kind="ram")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.pt"]
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # as open() makes it, not mkstemp's 0600
    assert load_checkpoint(path, "ram")["step"] == 7
    with pytest.raises(CheckpointError, match="holds a 'ram' checkpoint, but a 'translation' one"):
        load_checkpoint(path, "translation")
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable checkpoint") as error:
        load_checkpoint(tmp_path / "bad.pt", "ram")
    assert "weights_only` set to `False" not in str(error.value)  # torch's advice would run a foreign file's code
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "missing.pt", "ram")


def test_cli_is_built_from_the_dataclass():
    @dataclass
    class Args:
        rate: float = 0.5
        """how fast (2 is 100 % faster)"""
        name: str | None = None
        """who"""
        flag: bool = False
        """on or off"""

    args = parse_config(Args, ["--rate", "2", "--name", "none", "--flag"])
    assert args == Args(rate=2.0, name=None, flag=True)
    assert parse_config(Args, ["--flag", "false"]).flag is False
    # torchrun takes `--start` for its own `--start-method`; `script.py -- --start ...` gets past it
    assert parse_config(Args, ["--", "--rate", "2"]) == Args(rate=2.0)
    with pytest.raises(SystemExit):
        parse_config(Args, ["--rate", "fast"])


def test_a_users_mistake_found_while_running_ends_without_a_traceback(capsys):
    def missing(_):
        load_checkpoint("no/such.pt", "ram")

    with pytest.raises(SystemExit) as exit_info:
        run_main(missing, None)
    assert exit_info.value.code == 2 and "error: no checkpoint at no/such.pt" in capsys.readouterr().err
    with pytest.raises(KeyError):  # a bug is not a user's mistake: its traceback stays
        run_main(lambda _: {}["x"], None)


def test_devices_are_checked_before_anything_runs():
    assert check_device("cpu") == "cpu"
    with pytest.raises(UsageError, match="unknown device 'gpu'"):
        check_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(UsageError, match="sees no CUDA GPU here; use --device cpu"):
            check_device("cuda")
    with pytest.raises(UsageError, match="runs on cpu or cuda"):
        check_device("meta")


@pytest.mark.parametrize("script", ["train_ram", "evaluate", "train_sb3"])
def test_help_lists_every_option(script, monkeypatch, capsys):
    """The scripts' own entry lines with --help (a "%" in a doc once crashed argparse's help)."""
    import runpy

    monkeypatch.setattr(sys, "argv", [script, "--help"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(REPO / "scripts" / f"{script}.py"), run_name="__main__")
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "show this help message" in text and "(default: " in text
    if script == "train_ram":
        for name in TrainConfig.__dataclass_fields__:
            assert "--" + name.replace("_", "-") in text
        assert "4.49 % against" in text


def run_script(*args, cwd):
    env = os.environ | {"WANDB_MODE": "offline", "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_scoring_the_training_split_shows_each_image_on_one_canvas(data_dir):
    """evaluate.py --split train on a canvas task: the M rollouts averaged for an image see one
    canvas, as on val and test (the training env draws a new placement every episode)."""
    import runpy

    scoring_env = runpy.run_path(str(REPO / "scripts" / "evaluate.py"))["scoring_env"]
    config = TrainConfig(env="GlimpseTranslatedMNIST-v0", data_dir=str(data_dir), progress=False, wandb_mode="disabled")
    twice = {"indices": np.array([0, 0, 1, 1])}
    scoring = scoring_env(config, "train", 4)
    first = scoring.reset(seed=0, options=twice)[0]["glimpse"]
    again = scoring.reset(seed=1, options=twice)[0]["glimpse"]
    assert np.array_equal(first, again) and np.array_equal(first[0], first[1]) and not np.array_equal(first[1], first[2])
    drawn = build_env(config, "train", 4).reset(seed=0, options=twice)[0]["glimpse"]
    assert not np.array_equal(drawn[0], drawn[1])


def test_train_and_evaluate_scripts(tmp_path, data_dir):
    out = tmp_path / "run"
    result = run_script(
        str(REPO / "scripts" / "train_ram.py"), "--epochs", "1", "--train-subset", "256", "--batch-size", "64",
        "--val-subset", "100", "--eval-batch-size", "100", "--out", str(out), "--data-dir", str(data_dir),
        "--picture-every", "1", "--log-every", "1", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("final validation error: ")
    assert (out / "best.pt").is_file() and (out / "last.pt").is_file()
    # an offline W&B run holding every metric the trainer promises
    (run_file,) = (out / "wandb").glob("offline-run-*/run-*.wandb")
    rows = history(run_file)
    logged = set().union(*(row.keys() for row in rows))
    assert any(row.get("attention/glimpse_paths/_type") == "image-file" for row in rows)  # the picture
    expected = {"losses/total", "losses/action", "losses/reinforce", "losses/baseline", "charts/train_accuracy",
                "charts/val_error", "charts/val_accuracy", "charts/learning_rate", "charts/location_std",
                "charts/mean_abs_location", "charts/images_per_second"}  # fmt: skip
    assert expected <= logged, expected - logged
    result = run_script(str(REPO / "scripts" / "evaluate.py"), str(out / "best.pt"), "--rollouts", "2", "--subset", "200",
                        "--batch-size", "100", "--data-dir", str(data_dir), cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1].startswith("test_error=") and 0 <= float(lines[-1].split("=")[1]) <= 100
    assert "2 rollouts averaged" in result.stdout and (out / "test_glimpse_paths.png").is_file()
    result = run_script(str(REPO / "scripts" / "evaluate.py"), str(out / "best.pt"), "--split", "train", "--subset", "100",
                        "--batch-size", "100", "--data-dir", str(data_dir), cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("train_error=")
    result = run_script(str(REPO / "scripts" / "evaluate.py"), str(out / "best.pt"), "--subset", "0", cwd=tmp_path)
    assert result.returncode != 0 and "--subset must be >= 1 images (or none: all), got 0" in result.stderr  # not 0.00 %
    result = run_script(str(REPO / "scripts" / "evaluate.py"), str(out / "best.pt"), "--picture", "paths", cwd=tmp_path)
    assert result.returncode != 0 and "--picture must be a .png file, got 'paths'" in result.stderr
    result = run_script(str(REPO / "scripts" / "evaluate.py"), str(out / "missing.pt"), cwd=tmp_path)
    assert result.returncode == 2 and "no checkpoint at" in result.stderr and "Traceback" not in result.stderr
    result = run_script(str(REPO / "scripts" / "train_ram.py"), "--std", "-1", cwd=tmp_path)
    assert result.returncode != 0 and "std must be a number > 0" in result.stderr


def test_an_annealed_std_is_trained_saved_scored_and_resumed_exactly(tmp_path, data_dir):
    from agents.trainer import load_model

    run = dict(std=0.1, std_final=0.02, ema_decay=0.9)
    straight = train(small_config(tmp_path / "a", data_dir, **run))
    train(small_config(tmp_path / "b", data_dir, max_steps=5, **run))
    resumed = train(small_config(tmp_path / "b", data_dir, resume=True, **run))
    assert resumed["global_step"] == straight["global_step"] == 16 and resumed["val_error"] == straight["val_error"]
    a, b = (load_checkpoint(tmp_path / r / "run" / "last.pt", "ram") for r in "ab")
    for name in a["model"]:
        torch.testing.assert_close(a["model"][name], b["model"][name], rtol=0, atol=0, msg=name)
    # the last of the 16 steps ran at 15/16 of the cosine from 0.1 to 0.02; that std is saved and scored
    want = 0.02 + 0.08 * 0.5 * (1 + math.cos(math.pi * 15 / 16))
    assert a["model_config"]["std"] == b["model_config"]["std"] == pytest.approx(want)
    assert load_model(a).location_net.std == pytest.approx(want)
    with pytest.raises(ValueError, match="std_final.*-0.01"):
        small_config(tmp_path, data_dir, std_final=-0.01)
