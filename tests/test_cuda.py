"""The GPU code paths give what the CPU gives: the environment, the agent's rollout and gradients,
the trainer (with an exact resume) and the translation models.

Skipped where torch sees no CUDA device, as in CI; on a GPU machine ``pytest tests/test_cuda.py``
runs them. ``GLIMPSE_TEST_DEVICE=cpu`` runs them against the CPU itself, which checks the tests.
"""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import pytest
import torch

from agents.checkpoint import load_checkpoint
from agents.reinforce import EpisodeLoss, rollout
from agents.trainer import TrainConfig, build_env, build_model, train
from glimpse_env import GlimpseVectorEnv
from seq_attention.checkpoints import load_translator, save_translation_checkpoint
from seq_attention.decoding import translate
from seq_attention.models import ModelConfig
from tests.test_seq_training import make_trainer, setup  # noqa: F401  (setup is a fixture)
from tests.test_train import small_config

DEVICE = os.environ.get("GLIMPSE_TEST_DEVICE", "cuda")
pytestmark = pytest.mark.skipif(
    DEVICE.startswith("cuda") and not torch.cuda.is_available(),
    reason="no CUDA device visible (CI has none); run on a GPU machine, or set GLIMPSE_TEST_DEVICE=cpu",
)
# float32 on two kinds of hardware: same maths, different summation orders
CLOSE = dict(rtol=1e-4, atol=1e-5)


def play(env, seed: int, actions) -> list[tuple]:
    obs, _ = env.reset(seed=seed)
    trace = [(obs["glimpse"], obs["location"])]
    for action in actions:
        obs, reward, terminated, _, _ = env.step(action)
        trace.append((obs["glimpse"], obs["location"], reward, terminated))
    return trace


# bilinear sampling may round a pixel of a rotated or scaled digit to the neighbouring uint8 level on
# the other device, so a glimpse (a mean of pixels in [0, 1]) may differ by 1/255; nothing else may
GREY_LEVEL = 1 / 255 + 1e-6


@pytest.mark.parametrize(("kwargs", "glimpse_atol"), [
    (dict(n_scales=3, start="random"), 1e-6), (dict(max_shift=2, augment=True), 1e-6),
    (dict(canvas_size=36, n_clutter=3, augment=True), 1e-6),
    (dict(n_scales=2, max_shift=2, max_rotation=15, max_zoom=10, augment=True), GREY_LEVEL),
    (dict(n_scales=2, canvas_size=36, n_clutter=2, max_rotation=15, max_zoom=10, augment=True), GREY_LEVEL)])  # fmt: skip
def test_vector_env_on_the_device_equals_the_cpu(toy_images, kwargs, glimpse_atol):
    images, labels = toy_images
    common = dict(images=images, labels=labels, glimpse_size=4, n_glimpses=3) | kwargs
    n, rng = 6, np.random.default_rng(7)
    actions = [{"location": torch.from_numpy(rng.uniform(-1, 1, (n, 2)).astype(np.float32)),
                "label": torch.from_numpy(rng.integers(0, 4, n))} for _ in range(10)]  # fmt: skip
    on_cpu = play(GlimpseVectorEnv(n, device="cpu", **common), 3, actions)
    on_device = play(GlimpseVectorEnv(n, device=DEVICE, **common), 3, actions)
    for t, (want, got) in enumerate(zip(on_cpu, on_device)):
        for i, (a, b) in enumerate(zip(want, got)):  # glimpse, location, then reward and terminated
            assert b.device.type == torch.device(DEVICE).type
            torch.testing.assert_close(b.cpu(), a, rtol=0, atol=glimpse_atol if i == 0 else 1e-6, msg=f"step {t}, item {i}")


def test_cluttered_mnist_rollout_and_gradients_match_the_cpu(data_dir):
    config = TrainConfig(env="GlimpseClutteredMNIST-v0", data_dir=str(data_dir), cell="lstm", seed=3)
    terms = {}
    for name, device in (("cpu", "cpu"), ("device", DEVICE)):
        on = replace(config, device=device)
        envs = build_env(on, "val", 16, max_images=16)
        torch.manual_seed(0)  # the same initial weights on both
        net = build_model(on, envs.config.glimpse_shape, envs.config.n_classes)
        envs.reset(seed=11)
        loss, episode = EpisodeLoss(net)(envs, np.arange(16), deterministic=True)
        loss["total"].backward()
        terms[name] = ({k: v.detach().cpu() for k, v in loss.items()}, episode,
                       {k: p.grad.cpu() for k, p in net.named_parameters() if p.grad is not None})  # fmt: skip
    (loss_a, ep_a, grad_a), (loss_b, ep_b, grad_b) = terms["cpu"], terms["device"]
    torch.testing.assert_close(ep_b.path.cpu(), ep_a.path, **CLOSE)
    torch.testing.assert_close(ep_b.logits.cpu(), ep_a.logits, **CLOSE)
    for key in loss_a:
        torch.testing.assert_close(loss_b[key], loss_a[key], **CLOSE, msg=key)
    assert grad_a.keys() == grad_b.keys() and len(grad_a) > 10
    for key in grad_a:
        torch.testing.assert_close(grad_b[key], grad_a[key], rtol=1e-3, atol=1e-5, msg=key)


def test_sampled_rollouts_stay_on_the_device_and_inside_the_frame(data_dir):
    config = TrainConfig(env="GlimpseTranslatedMNIST-v0", data_dir=str(data_dir), device=DEVICE)
    envs = build_env(config, "train", 64, max_images=256)
    model = build_model(config, envs.config.glimpse_shape, envs.config.n_classes)
    envs.reset(seed=0)
    episode = rollout(model, envs)
    assert episode.path.device.type == torch.device(DEVICE).type
    assert episode.path.abs().max() <= 1 and episode.log_pi.isfinite().all()


def test_training_on_the_device_resumes_exactly(tmp_path, data_dir):
    run = dict(device=DEVICE, env="GlimpseTranslatedMNIST-v0", cell="lstm", checkpoint_every=3, dropout=0.2)
    straight = train(small_config(tmp_path / "a", data_dir, **run))
    first = train(small_config(tmp_path / "b", data_dir, max_steps=5, **run))
    assert first["stopped_early"]
    resumed = train(small_config(tmp_path / "b", data_dir, resume=True, **run))
    assert resumed["global_step"] == straight["global_step"] == 16
    a = load_checkpoint(tmp_path / "a" / "run" / "last.pt", "ram")["model"]
    b = load_checkpoint(tmp_path / "b" / "run" / "last.pt", "ram")["model"]
    for name in a:
        # the same kernels in the same order; atomics in a backward pass may still reorder sums
        torch.testing.assert_close(b[name], a[name], rtol=1e-5, atol=1e-6, msg=name)


def test_translation_training_resumes_exactly_and_translates_on_the_device(setup, tmp_path):  # noqa: F811
    pairs, src_tok, tgt_tok, _ = setup
    straight = make_trainer(setup, seed=5, dropout=0.3, device=DEVICE)
    for epoch in range(2):
        for index in straight.epoch_batches(epoch):
            straight.train_step(index)
    first = make_trainer(setup, seed=5, dropout=0.3, device=DEVICE)
    for index in first.epoch_batches(0)[:2]:
        first.train_step(index)
    first.progress.batch = 2
    path = tmp_path / "last.pt"
    save_translation_checkpoint(path, ModelConfig(**first.model.config.to_dict()), src_tok, tgt_tok, first.state_dict(), {})
    torch.manual_seed(123)
    if DEVICE.startswith("cuda"):
        torch.cuda.manual_seed(123)  # dropout's generator on the GPU: the checkpoint must restore it
    resumed = make_trainer(setup, seed=99, dropout=0.3, device=DEVICE)
    resumed.seed = 5
    # as train_translation.py --resume does: the model on the device, generator states from the checkpoint
    resumed.load_state_dict(load_translator(path, DEVICE).payload["trainer"])
    for epoch in range(2):
        for index in resumed.epoch_batches(epoch)[resumed.progress.batch if epoch == 0 else 0 :]:
            resumed.train_step(index)
    for (name, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6, msg=name)

    sources = [s for s, _ in pairs]
    on_device, _ = translate(straight.model, sources, src_tok, tgt_tok, beam=3, device=DEVICE)
    on_cpu, _ = translate(straight.model.cpu(), sources, src_tok, tgt_tok, beam=3)
    assert on_device == on_cpu

