"""The recurrent attention model: shapes, what is detached, the policy's likelihood, the loss."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from agents.core import CoreNetwork
from agents.ram import RAMConfig, RecurrentAttentionModel, clipped_gaussian_log_prob
from agents.reinforce import Episode, LossWeights, evaluate, reinforce_loss, rollout
from glimpse_env import GlimpseVectorEnv


def model(**kwargs):
    torch.manual_seed(0)
    return RecurrentAttentionModel(RAMConfig(glimpse_shape=(2, 6, 6), n_classes=4, **kwargs))


@pytest.mark.parametrize("cell", ["rnn", "rnn_tanh", "rnn_ln", "lstm", "gru"])
def test_step_shapes(cell):
    m = model(cell=cell, hidden_size=32)
    state = m.initial_state(5)
    assert len(state) == (2 if cell == "lstm" else 1) and state[0].shape == (5, 32)
    out, state = m.step(torch.rand(5, 2, 6, 6), torch.zeros(5, 2), state)
    assert out["h"].shape == (5, 32)
    assert out["location"].shape == (5, 2) and out["mu"].shape == (5, 2)
    assert out["log_pi"].shape == (5,) and out["baseline"].shape == (5,)
    assert m.classify(out["h"]).shape == (5, 4)
    assert out["location"].abs().max() <= 1


def test_tanh_core_bounds_the_state_the_relu_core_does_not():
    torch.manual_seed(0)
    x = 100 * torch.randn(2, 4, 3)
    relu, tanh = CoreNetwork(3, 7, "rnn"), CoreNetwork(3, 7, "rnn_tanh")
    tanh.load_state_dict(relu.state_dict())  # same weights, only the nonlinearity differs
    assert relu(x)[0].abs().max() > 1 and tanh(x)[0].abs().max() <= 1


def test_layer_norm_core_is_blind_to_the_input_scale_the_relu_core_is_not():
    torch.manual_seed(0)
    x = torch.randn(2, 3)
    ln, relu = CoreNetwork(3, 7, "rnn_ln"), CoreNetwork(3, 7, "rnn")
    # from h_0 = 0 the summed input is W_ih x: normalising it removes any scale of x
    # (scales well above the normalisation's eps of 1e-5 on the variance)
    h_small, _ = ln.step(10 * x, ln.initial_state(2))
    h_large, _ = ln.step(1000 * x, ln.initial_state(2))
    torch.testing.assert_close(h_small, h_large)
    assert not torch.allclose(relu.step(x, relu.initial_state(2))[0], relu.step(1000 * x, relu.initial_state(2))[0])
    # the state cannot grow step after step: each h_t is a ReLU of unit-spread values (gain 1 at the start)
    outputs, _ = ln(100 * torch.randn(2, 20, 3))
    assert outputs.pow(2).mean(-1).max() <= 1 + 1e-5


@pytest.mark.parametrize("cell", ["rnn", "rnn_tanh", "rnn_ln"])
def test_identity_init_starts_the_recurrence_at_the_identity(cell):
    core = CoreNetwork(3, 7, cell, init="identity")
    torch.testing.assert_close(core.cell.weight_hh.detach(), torch.eye(7))
    if cell != "rnn_ln":
        assert not core.cell.bias_hh.any()
        # a positive state meets no input: the ReLU cell hands it on unchanged, bias aside
        h = torch.rand(2, 7)
        expected = torch.relu(core.cell.bias_ih + h) if cell == "rnn" else torch.tanh(core.cell.bias_ih + h)
        torch.testing.assert_close(core.step(torch.zeros(2, 3), (h,))[0], expected)
    with pytest.raises(ValueError, match="plain RNN cells"):
        CoreNetwork(3, 7, "lstm", init="identity")
    with pytest.raises(ValueError, match="init must be one of"):
        CoreNetwork(3, 7, "rnn", init="orthogonal")


def test_core_runs_sequences_like_steps():
    core = CoreNetwork(3, 7, "gru")
    x = torch.randn(2, 4, 3)
    outputs, state = core(x)
    s = core.initial_state(2)
    for t in range(4):
        h, s = core.step(x[:, t], s)
        torch.testing.assert_close(outputs[:, t], h)
    with pytest.raises(ValueError, match="cell must be one of"):
        CoreNetwork(3, 7, "transformer")


def grads_of(module, loss):
    module.zero_grad()
    loss.backward(retain_graph=True)
    return {n: p.grad for n, p in module.named_parameters()}


def test_detach_decisions():
    m = model()
    state = m.initial_state(3)
    out, _ = m.step(torch.rand(3, 2, 6, 6), torch.zeros(3, 2), state)
    assert not out["location"].requires_grad  # the sampled location is an action
    # the baseline's loss reaches the baseline network only
    g = grads_of(m, out["baseline"].sum())
    assert all(v is None for n, v in g.items() if not n.startswith("baseline_net"))
    # the policy's log-likelihood reaches the location network only (detach_location=True)
    g = grads_of(m, out["log_pi"].sum())
    assert g["location_net.mean.weight"] is not None
    assert all(v is None for n, v in g.items() if not n.startswith("location_net"))
    # ... and the core too when detach_location=False
    m2 = model(detach_location=False)
    out2, _ = m2.step(torch.rand(3, 2, 6, 6), torch.zeros(3, 2), m2.initial_state(3))
    g = grads_of(m2, out2["log_pi"].sum())
    assert g["core.cell.weight_hh"] is not None and g["glimpse_net.what.weight"] is not None
    # the class logits train glimpse and core networks
    g = grads_of(m, m.classify(out["h"]).sum())
    assert g["glimpse_net.what.weight"] is not None and g["location_net.mean.weight"] is None


def test_clipped_gaussian_likelihood_is_a_distribution():
    mean, std = torch.tensor([[0.9, -0.3]]), 0.2
    inside = torch.linspace(-1, 1, 20_001)[1:-1]
    density = clipped_gaussian_log_prob(torch.stack([inside, torch.zeros_like(inside)], 1), mean.expand(len(inside), 2), std)
    # integrate over x with y fixed: the mass inside plus the two border masses is 1
    log_y = torch.distributions.Normal(-0.3, std).log_prob(torch.tensor(0.0))
    px = (density - log_y).exp()
    mass_inside = float(px.sum() * (2 / 20_000))
    lo = float(clipped_gaussian_log_prob(torch.tensor([[-1.0, 0.0]]), mean, std).exp() / log_y.exp())
    hi = float(clipped_gaussian_log_prob(torch.tensor([[1.0, 0.0]]), mean, std).exp() / log_y.exp())
    assert mass_inside + lo + hi == pytest.approx(1.0, abs=1e-3)
    assert hi == pytest.approx(1 - torch.distributions.Normal(0.9, std).cdf(torch.tensor(1.0)).item(), rel=1e-5)
    # inside the interval it is the Gaussian's density
    a = torch.tensor([[0.5, 0.2]])
    want = torch.distributions.Normal(mean, std).log_prob(a).sum()
    torch.testing.assert_close(clipped_gaussian_log_prob(a, mean, std)[0], want)


def test_location_policy_options():
    h = torch.randn(64, 256)
    # near a border with a wide spread, so that many samples are clipped and the two scores differ
    for log_prob in ("clipped", "gaussian"):
        net = model(std=0.5, log_prob=log_prob).location_net
        torch.nn.init.constant_(net.mean.bias, 2.0)
        torch.manual_seed(1)
        location, log_pi, mu = net(h)
        torch.manual_seed(1)
        sample = mu.detach() + 0.5 * torch.randn_like(mu)
        torch.testing.assert_close(location, sample.clamp(-1, 1))
        assert (sample.abs() > 1).any()
        want = (torch.distributions.Normal(mu, 0.5).log_prob(sample).sum(-1) if log_prob == "gaussian"
                else clipped_gaussian_log_prob(location, mu, 0.5))  # fmt: skip
        torch.testing.assert_close(log_pi, want)
    # a hidden layer before the mean, still reading a detached h_t
    m = model(location_hidden=16)
    assert m.location_net.mean[0].out_features == 16
    out, _ = m.step(torch.rand(3, 2, 6, 6), torch.zeros(3, 2), m.initial_state(3))
    g = grads_of(m, out["log_pi"].sum())
    assert g["location_net.mean.0.weight"] is not None
    assert all(v is None for n, v in g.items() if not n.startswith("location_net"))
    # zero init: every mean starts at the centre, and the policy gradient still moves it
    net = model(location_zero_init=True).location_net
    location, log_pi, mu = net(h)
    assert (mu == 0).all()
    assert model(location_zero_init=False).location_net(h)[2].abs().sum() > 0  # torch's init: anywhere
    log_pi.sum().backward()
    assert net.mean.weight.grad.abs().sum() > 0
    # normalize: the mean reads the state's direction, not its size
    net = model(location_zero_init=False, location_normalize=True).location_net
    torch.testing.assert_close(net(h, deterministic=True)[2], net(10 * h, deterministic=True)[2])
    assert not torch.allclose(model(location_zero_init=False).location_net(10 * h, deterministic=True)[2],
                              model(location_zero_init=False).location_net(h, deterministic=True)[2])  # fmt: skip


def test_set_std_changes_the_sampling_the_likelihood_and_the_saved_config():
    m = model(std=0.1)
    h = torch.randn(32, 256)
    m.set_std(0.02)
    assert m.config.std == m.location_net.std == 0.02
    torch.manual_seed(3)
    location, log_pi, mu = m.location_net(h)
    torch.manual_seed(3)
    torch.testing.assert_close(location, (mu + 0.02 * torch.randn_like(mu)).clamp(-1, 1))
    torch.testing.assert_close(log_pi, clipped_gaussian_log_prob(location, mu, 0.02))
    for bad in (0, -0.1, float("nan")):
        with pytest.raises(ValueError, match="std"):
            m.set_std(bad)


def test_reinforce_makes_a_paying_location_more_probable():
    """A one-step bandit: reward 1 when the sampled x > 0. REINFORCE must move the mean right."""
    torch.manual_seed(0)
    m = model(std=0.3)
    optimizer = torch.optim.SGD(m.location_net.parameters(), lr=0.5)
    h = torch.randn(256, 256)
    before = m.location_net(h)[2][:, 0].mean().item()
    for _ in range(30):
        location, log_pi, mu = m.location_net(h)
        reward = (location[:, 0] > 0).float()
        baseline = torch.full_like(reward, 0.5)
        loss = -(log_pi * (reward - baseline)).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    after = m.location_net(h)[2][:, 0].mean().item()
    assert after > before + 0.3


def test_loss_terms_and_their_gradients():
    B, T = 6, 4
    logits = torch.randn(B, 3, requires_grad=True)
    log_pi = torch.randn(B, T - 1, requires_grad=True)
    baselines = torch.rand(B, T, requires_grad=True)
    reward = torch.tensor([1.0, 0, 1, 1, 0, 0])
    episode = Episode(logits, torch.tensor([0, 1, 2, 0, 1, 2]), reward, log_pi, baselines, None,
                      torch.zeros(B, T - 1, 2), torch.zeros(B, T, 2))  # fmt: skip
    terms = reinforce_loss(episode)
    assert set(terms) == {"total", "action", "reinforce", "baseline"}
    terms["total"].backward()
    # d(reinforce)/d(log_pi) = -(R - b) / B: positive advantage raises log_pi
    expected = -(reward[:, None] - baselines.detach()[:, : T - 1]) / B
    torch.testing.assert_close(log_pi.grad, expected)
    # the baseline learns from its squared error only
    torch.testing.assert_close(baselines.grad, 2 * (baselines.detach() - reward[:, None]) / (B * T))
    with pytest.raises(ValueError, match="sample_label=True"):
        reinforce_loss(episode, hybrid=False)
    # k = 3 episodes per image: each episode's baseline is the mean reward of its image's other two
    log_pi.grad = None
    reinforce_loss(episode, group=3)["total"].backward()
    others = torch.tensor([0.5, 1, 0.5, 0, 0.5, 0.5])
    torch.testing.assert_close(log_pi.grad, (-(reward - others) / B)[:, None].expand(B, T - 1))
    with pytest.raises(ValueError, match="groups of 4"):
        reinforce_loss(episode, group=4)
    with pytest.raises(ValueError, match="early_logits=True"):
        reinforce_loss(episode, LossWeights(early_ce=0.5))


def test_probability_reward_credits_the_classifier_confidence():
    B, T = 4, 3
    logits = torch.tensor([[2.0, 0, 0], [0, 1, 0], [0, 0, 3], [1, 1, 1]], requires_grad=True)
    labels = torch.tensor([0, 0, 2, 1])
    log_pi = torch.zeros(B, T - 1, requires_grad=True)
    baselines = torch.full((B, T), 0.5, requires_grad=True)
    episode = Episode(logits, labels, (logits.argmax(-1) == labels).float(), log_pi, baselines, None,
                      torch.zeros(B, T - 1, 2), torch.zeros(B, T, 2))  # fmt: skip
    reinforce_loss(episode, reward="prob")["total"].backward()
    p = logits.detach().softmax(-1)[torch.arange(B), labels]
    torch.testing.assert_close(log_pi.grad, (-(p - 0.5) / B)[:, None].expand(B, T - 1))
    torch.testing.assert_close(baselines.grad, 2 * (0.5 - p)[:, None].expand(B, T) / (B * T))
    # the classifier learns from the cross-entropy only, not through the reward
    logits.grad = None
    reinforce_loss(episode, LossWeights(ce=0.0), reward="prob")["total"].backward()
    assert logits.grad is None or not logits.grad.any()
    with pytest.raises(ValueError, match="reward must be one of"):
        reinforce_loss(episode, reward="bonus")


def test_label_smoothing_moves_eps_of_the_target_onto_every_class():
    B, T, N = 5, 3, 4
    logits = torch.randn(B, N, requires_grad=True)
    labels = torch.tensor([0, 1, 2, 3, 0])
    early = torch.randn(B, T - 1, N)
    episode = Episode(logits, labels, torch.ones(B), torch.zeros(B, T - 1), torch.zeros(B, T), None,
                      torch.zeros(B, T - 1, 2), torch.zeros(B, T, 2), early_logits=early)  # fmt: skip
    eps = 0.2

    def smoothed(y):  # (1 - eps) on the class, eps / N on every class
        return torch.full((len(y), N), eps / N) + (1 - eps) * torch.nn.functional.one_hot(y, N)

    def smoothed_ce(z, y):
        return -(smoothed(y) * z.log_softmax(-1)).sum(-1).mean()

    terms = reinforce_loss(episode, LossWeights(early_ce=0.5), label_smoothing=eps)
    torch.testing.assert_close(terms["action"], smoothed_ce(logits, labels))
    torch.testing.assert_close(terms["early_ce"], smoothed_ce(early.flatten(0, 1), labels.repeat_interleave(T - 1)))
    # the gradient pulls the logits to the smoothed target: softmax - target, not softmax - one_hot
    terms["action"].backward()
    torch.testing.assert_close(logits.grad, (logits.detach().softmax(-1) - smoothed(labels)) / B)
    plain = reinforce_loss(episode)
    torch.testing.assert_close(plain["action"], torch.nn.functional.cross_entropy(logits, labels))
    with pytest.raises(ValueError, match="label_smoothing must be in \\[0, 1\\), got 1.0"):
        reinforce_loss(episode, label_smoothing=1.0)
    with pytest.raises(ValueError, match="pure RL"):
        reinforce_loss(episode, hybrid=False, label_smoothing=0.1)


def test_deep_supervision_adds_a_cross_entropy_per_earlier_glimpse(toy_images):
    images, labels = toy_images
    envs = GlimpseVectorEnv(8, images=images, labels=labels, glimpse_size=6, n_scales=2, n_glimpses=4, device="cpu")
    m = model()
    envs.reset(seed=0)
    torch.manual_seed(1)
    episode = rollout(m, envs, np.arange(8), early_logits=True)
    assert episode.early_logits.shape == (8, 3, 4)
    # the last glimpse's logits are the episode's logits; the early ones come from h_1 .. h_{T-1}
    assert not torch.allclose(episode.early_logits[:, -1], episode.logits)
    plain = reinforce_loss(episode, LossWeights())
    terms = reinforce_loss(episode, LossWeights(early_ce=0.5))
    y = episode.labels
    expected = sum(torch.nn.functional.cross_entropy(episode.early_logits[:, t], y) for t in range(3)) / 3
    torch.testing.assert_close(terms["early_ce"], expected)
    torch.testing.assert_close(terms["total"], plain["total"] + 0.5 * expected)
    assert "early_ce" not in plain and rollout(m, envs, np.arange(8)).early_logits is None


def test_rollout_through_the_environment(toy_images):
    images, labels = toy_images
    envs = GlimpseVectorEnv(8, images=images, labels=labels, glimpse_size=6, n_scales=2, n_glimpses=5, device="cpu")
    m = model()
    envs.reset(seed=0)
    episode = rollout(m, envs, np.arange(8))
    assert episode.log_pi.shape == (8, 4)  # the last location is never looked at: not scored
    assert episode.baselines.shape == (8, 5) and episode.path.shape == (8, 5, 2)
    np.testing.assert_array_equal(episode.labels.numpy(), labels[:8])
    assert set(episode.reward.tolist()) <= {0.0, 1.0}
    torch.testing.assert_close(episode.reward, (episode.logits.argmax(-1) == episode.labels).float())
    assert (episode.path[:, 0] == 0).all()  # the environment's centre start
    random = rollout(m, envs, np.arange(8), random_locations=True)
    assert random.log_pi.shape == (8, 0)
    pure = rollout(m, envs, np.arange(8), sample_label=True)
    assert pure.label_log_prob.shape == (8,)
    reinforce_loss(pure, hybrid=False)["total"].backward()


def test_evaluation_counts_glimpses_parked_on_the_border(toy_images):
    images, labels = toy_images
    envs = GlimpseVectorEnv(8, images=images, labels=labels, glimpse_size=6, n_scales=2, n_glimpses=4, device="cpu")
    centred = model(location_zero_init=True)  # means at the centre, 0.05 spread: never near the border
    assert evaluate(centred, envs, 10)["border"] == [0.0, 0.0, 0.0]
    parked = model(location_zero_init=True, std=1e-3)
    torch.nn.init.constant_(parked.location_net.mean.bias, 5.0)  # tanh(5): every mean at the corner
    result = evaluate(parked, envs, 10)
    assert result["border"] == [100.0, 100.0, 100.0] and result["n"] == 10
    assert evaluate(parked, envs, np.array([], dtype=int))["n"] == 0  # a rank's empty shard
    for bad, message in [(dict(images=0), "images must be a positive count"), (dict(images=10, rollouts=0), "rollouts must be >= 1")]:
        with pytest.raises(ValueError, match=message):
            evaluate(parked, envs, **bad)


def test_first_rollout_is_the_same_whatever_the_number_averaged(toy_images, monkeypatch):
    import agents.reinforce

    grad_enabled = []  # evaluation builds no autograd graph
    real_rollout = agents.reinforce.rollout
    def recording_rollout(*args, **kwargs):
        grad_enabled.append(torch.is_grad_enabled())
        return real_rollout(*args, **kwargs)

    monkeypatch.setattr(agents.reinforce, "rollout", recording_rollout)
    images, labels = toy_images
    envs = GlimpseVectorEnv(8, images=images, labels=labels, glimpse_size=6, n_scales=2, n_glimpses=4, device="cpu")
    noisy = model(std=0.5)  # an untrained policy with wide noise: the error moves with the draw
    one = [evaluate(noisy, envs, 40, rollouts=1, seed=seed) for seed in range(6)]
    assert len({r["wrong_first"] for r in one}) > 1  # the seed matters
    torch.manual_seed(123)
    outside = torch.random.get_rng_state()
    for seed, alone in enumerate(one):
        averaged = evaluate(noisy, envs, 40, rollouts=3, seed=seed)  # five batches, three rollouts each
        assert (averaged["wrong_first"], averaged["border"]) == (alone["wrong_first"], alone["border"])
        assert evaluate(noisy, envs, 40, rollouts=3, seed=seed) == averaged
    assert torch.equal(torch.random.get_rng_state(), outside)  # the caller's generator is left as it was
    assert grad_enabled and not any(grad_enabled)


@pytest.mark.parametrize(
    "kwargs,message",
    [(dict(std=-0.1), "std"), (dict(std=0.0), "std"), (dict(n_classes=1), "n_classes"), (dict(hidden_size=0), "hidden_size"),
     (dict(log_prob="beta"), "log_prob must be one of"), (dict(location_hidden=-1), "location_hidden must be"),
     (dict(dropout=1.0), "dropout .* must be in \\[0, 1\\), got 1.0")],
)
def test_bad_model_config(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RAMConfig(glimpse_shape=(1, 8, 8), **kwargs)


def test_dropout_acts_on_the_classifier_in_training_only():
    model = RecurrentAttentionModel(RAMConfig(glimpse_shape=(1, 8, 8), dropout=0.5))
    h = torch.ones(64, model.config.hidden_size)
    model.eval()
    np.testing.assert_array_equal(model.classify(h).detach(), model.action_net.classify(h).detach())
    model.train()
    logits = model.classify(h)
    assert not torch.allclose(logits, model.action_net.classify(h))
    assert not torch.allclose(logits[0], logits[1])  # each episode drops its own units


def test_log_prob_is_finite_far_in_the_tail():
    value = clipped_gaussian_log_prob(torch.tensor([[1.0, -1.0]]), torch.tensor([[-0.99, 0.99]]), 0.05)
    assert torch.isfinite(value).all() and value.item() < -100 * math.log(10)


def test_drift_diagnostic_records_the_state_norm_per_glimpse(toy_images):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "ram_drift.py"
    spec = importlib.util.spec_from_file_location("ram_drift", path)
    ram_drift = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ram_drift)
    images, labels = toy_images
    envs = GlimpseVectorEnv(8, images=images, labels=labels, glimpse_size=6, n_scales=2, n_glimpses=5, device="cpu")
    m = model()
    envs.reset(seed=0)
    norms = ram_drift.state_norms(m, envs, 8)
    assert len(norms) == 5 and all(n > 0 for n in norms)
    assert "step" not in vars(m.core)  # the recording wrapper is gone afterwards
    _, state = m.core.step(torch.zeros(2, m.core.input_size), m.core.initial_state(2))
    assert state[0].shape == (2, m.core.hidden_size)
