"""The recurrent attention model (RAM) of Mnih, Heess, Graves and Kavukcuoglu (NIPS 2014).

One class per part of the paper's Figure 1:

- :class:`GlimpseNetwork` ``f_g``: ``h_g = ReLU(what(rho(x, l)))``, ``h_l = ReLU(where(l))``,
  ``g_t = ReLU(what_to_g(h_g) + where_to_g(h_l))``. It sees the glimpse the environment returned,
  never the image.
- :class:`~agents.core.CoreNetwork` ``f_h``: ``h_t = f_h(h_{t-1}, g_t)``.
- :class:`LocationNetwork` ``f_l``: a Gaussian policy over the next location, mean
  ``tanh(Linear(h_t))``, fixed standard deviation, the sample clipped to ``[-1, 1]``.
- :class:`ActionNetwork` ``f_a``: ``softmax(Linear(h_t))`` over the classes.
- :class:`BaselineNetwork` ``b_t = Linear(h_t)``: the learned reward baseline.

What is detached, and why
-------------------------
- The sampled location ``l_t`` is detached: it is an action fed back to the environment, and the
  policy learns about it only through REINFORCE's ``log pi(l_t | h_t)``, not through the glimpse
  network's view of it (no path-wise gradient through the sensor exists anyway).
- The location network sees ``h_t.detach()`` by default (``detach_location=True``): the REINFORCE
  term, high in variance, then trains only the location network, while the glimpse and core
  networks learn from the low-variance classification loss. ``detach_location=False`` lets the
  policy gradient reach the core and the glimpse network too, as in the paper, which trains them
  with the policy's reward. Where finding the digit is the task, that wins: on cluttered 100x100,
  two warm starts from the same weights (LSTM core, 30 epochs each) reached 11.4 % validation error
  with it against 14.8 % without (mean of epochs 21-30), so results/ram.md trains that task with
  ``--detach-location false``; on cluttered 60x60 from scratch, side by side with a control, it
  gave 4.22 against 4.66 % test error after 60 CPU-minutes and 3.45 against 4.00 % after 120 (at
  10 CPU-minutes, 18.61 against 18.24 %: too early to tell). On translated 60x60 it tied (1.41 %
  mean over ten location seeds either way, 182 epochs), and on MNIST it lost (1.69 against 1.50 %
  test error, two seeds at 10 CPU-minutes), so the default stays.
- The baseline network always sees ``h_t.detach()``: it is a regression onto the reward and must
  not shape the features it is judging; and the advantage ``R - b_t`` uses ``b_t.detach()`` so the
  policy gradient does not train the baseline.

The location policy's spread
----------------------------
``std = 0.05`` in the ``[-1, 1]`` frame by default: 0.7 pixel on a 28x28 image, 1.5 on 60x60, so
exploration moves a glimpse by about one pixel. On MNIST wider spreads did not help (2 CPU-minutes,
zero-initialised policy: 5.49 / 5.98 % test error for 0.2 against 6.24 / 5.48 / 5.19 % for 0.05;
60 CPU-minutes, seed 0: one rollout 1.32 % for 0.1 and 1.49 % for 0.15 against 1.12 %, though ten
rollouts averaged gain, 0.63 / 0.62 % against 0.75 %: a wider policy makes a better ensemble and a
worse single draw).
On the cluttered 60x60 canvas ``std = 0.1`` is better (10 CPU-minutes, two seeds each: 15.47 /
15.15 % against 18.24 / 19.85 %), so results/ram.md trains the canvas tasks with ``--std 0.1``.

Where the glimpses go wrong: zero init, and a location network that decays
--------------------------------------------------------------------------
The typical failure of a trained policy is glimpses parked on the border, where they see mostly
padding (``scripts/evaluate.py`` reports the share of glimpses at the border). Both factors of
the mean's pre-activation ``W h_t`` grow: the paper's ReLU core multiplies ``|h_t|`` by about 1.6
per glimpse, and under Adam the location weights wander at a pace set by the learning rate, not
by the mostly-noise policy gradient (``|W|`` doubled from 2 to 10 CPU-minutes of MNIST), until
``tanh`` saturates; a glimpse in empty space then finds no reward gradient to bring it back
(``benchmarks/ram_drift.py`` measures both factors).

- With torch's default initialisation the starting direction is a property of the seed: on MNIST
  at 2 CPU-minutes seed 1 walked its glimpses into one corner (96 % of last glimpses on the
  border, 9.76 % test error, against 5.06 % and 6.62 % for seeds 0 and 2). The last layer of
  the location network therefore starts at zero (``location_zero_init``, as CleanRL starts its
  policy heads near zero): every mean starts at the centre. Same seeds: 6.24 / 5.48 / 5.19 %.
- Later glimpses still drifted outward as training went on. The trainer's
  ``--location-weight-decay`` (AdamW decay on this network only) holds ``|W|`` down: at 10
  CPU-minutes 17-18 % of last glimpses on the border against 72-91 %, and 3.92 / 3.62 % test
  error against 4.26 / 5.85 %. A bounded core state alone does not do it (a tanh RNN parks
  49-67 %), nor does ``normalize`` (reading ``h_t / |h_t|``), which parks none but does not
  lower the error. results/ram.md has the runs.

The location's log-probability
------------------------------
The environment receives the *clipped* sample ``clip(mu + sigma * eps, -1, 1)``. Its likelihood
under the policy is the Gaussian density inside ``(-1, 1)`` and, for a coordinate clipped onto a
border, the probability mass beyond it: ``log Phi((-1 - mu) / sigma)`` or
``log(1 - Phi((1 - mu) / sigma))``. :func:`clipped_gaussian_log_prob` computes exactly that, so the
REINFORCE term is the score of the action that was actually taken (Fujita and Maeda, 2018, "Clipped
action policy gradient"). ``log_prob="gaussian"`` scores the sample before clipping instead, as the
public re-implementations do. One seed at 2 CPU-minutes on MNIST gave 9.42 % against 5.06 %, no
proof either way: seeds alone spread that setting from 5.06 to 9.76 %.

Dimension letters: ``B`` batch, ``K`` scales, ``C`` channels, ``G`` glimpse side, ``D`` core width,
``N`` classes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
from torch import nn
from torch.nn import functional as F

from agents.core import CoreNetwork, State

__all__ = [
    "ActionNetwork",
    "BaselineNetwork",
    "GlimpseNetwork",
    "LocationNetwork",
    "RAMConfig",
    "RecurrentAttentionModel",
    "clipped_gaussian_log_prob",
]

LOG_PROBS = ("clipped", "gaussian")


def _gaussian_log_density(x: torch.Tensor, mean: torch.Tensor, std: float) -> torch.Tensor:
    """Elementwise ``log N(x; mean, std^2)``."""
    z = (x - mean) / std
    # written out rather than torch.distributions.Normal, whose argument checks cost more than the math
    return -0.5 * z * z - math.log(std) - 0.5 * math.log(2 * math.pi)


def clipped_gaussian_log_prob(action: torch.Tensor, mean: torch.Tensor, std: float) -> torch.Tensor:
    """Log-likelihood of ``action = clip(mean + std * eps, -1, 1)``, summed over the last axis.

    Args:
        action: ``(B, 2)`` clipped sample in ``[-1, 1]``.
        mean: ``(B, 2)`` policy mean.
        std: the policy's standard deviation.

    Returns:
        ``(B,)``: density inside the interval, tail mass on the borders.
    """
    inside = _gaussian_log_density(action, mean, std)
    # log Phi(z) via log_ndtr: stable far in the tail, where 1 - cdf would round to 0
    below = torch.special.log_ndtr((-1.0 - mean) / std)
    above = torch.special.log_ndtr((mean - 1.0) / std)
    log_prob = torch.where(action <= -1.0, below, torch.where(action >= 1.0, above, inside))
    return log_prob.sum(-1)


class GlimpseNetwork(nn.Module):
    """``g_t = f_g(rho(x_t, l_{t-1}), l_{t-1})``, the "what" and "where" pathways joined.

    Args:
        glimpse_dim: ``K * C * G * G``, the flattened glimpse.
        what_size, where_size: widths of ``h_g`` and ``h_l`` (128 and 128 in the paper).
        output_size: width of ``g_t`` (256).
        pixel_mean, pixel_std: the glimpse is standardised with these before the "what" layer.
    """

    def __init__(self, glimpse_dim: int, what_size: int = 128, where_size: int = 128, output_size: int = 256,
                 pixel_mean: float = 0.0, pixel_std: float = 1.0):  # fmt: skip
        super().__init__()
        # a fixed standardisation of the glimpse's pixels (the env gives [0, 1]), saved with the weights
        self.register_buffer("pixel_mean", torch.tensor(float(pixel_mean)))
        self.register_buffer("pixel_std", torch.tensor(float(pixel_std)))
        self.what = nn.Linear(glimpse_dim, what_size)
        self.where = nn.Linear(2, where_size)
        self.what_to_g = nn.Linear(what_size, output_size)
        self.where_to_g = nn.Linear(where_size, output_size)
        self.output_size = output_size

    def forward(self, glimpse: torch.Tensor, location: torch.Tensor) -> torch.Tensor:
        """``glimpse`` ``(B, K, [C,] G, G)`` and ``location`` ``(B, 2)`` -> ``g_t`` ``(B, output_size)``."""
        h_g = F.relu(self.what((glimpse.flatten(1) - self.pixel_mean) / self.pixel_std))
        h_l = F.relu(self.where(location))
        return F.relu(self.what_to_g(h_g) + self.where_to_g(h_l))


class LocationNetwork(nn.Module):
    """Gaussian policy ``l_t ~ clip(N(tanh(Linear(h_t)), std^2), -1, 1)``.

    Args:
        hidden_size: width ``D`` of ``h_t``.
        std: the policy's fixed standard deviation.
        mlp_size: 0 for the paper's linear mean; else a ReLU layer of this width before it.
        zero_init: start the mean's last layer at zero, so every glimpse starts centred (see the
            module docstring).
        log_prob: ``"clipped"`` scores the action taken (:func:`clipped_gaussian_log_prob`);
            ``"gaussian"`` scores the sample before clipping, as the public re-implementations do.
        normalize: read ``h_t / |h_t|`` instead of ``h_t``: the mean then depends on the state's
            direction only, so a weight change moves every glimpse of the episode by the same
            amount, where the ReLU core's ``|h_t|`` grows about 1.6x per glimpse (results/ram.md).
    """

    def __init__(self, hidden_size: int, std: float, mlp_size: int = 0, log_prob: str = "clipped",
                 zero_init: bool = True, normalize: bool = False):  # fmt: skip
        super().__init__()
        self.normalize = normalize
        if mlp_size:
            self.mean = nn.Sequential(nn.Linear(hidden_size, mlp_size), nn.ReLU(), nn.Linear(mlp_size, 2))
        else:
            self.mean = nn.Linear(hidden_size, 2)
        if zero_init:
            last = self.mean[-1] if mlp_size else self.mean
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
        self.std = std
        self.log_prob = log_prob

    def forward(self, h_t: torch.Tensor, deterministic: bool = False):
        """``h_t`` ``(B, D)`` -> ``(l_t, log_pi, mu)``, each ``(B, 2)`` but ``log_pi`` ``(B,)``.

        ``l_t`` is detached (an action); ``deterministic`` returns the mean, with ``log_pi`` of it.
        """
        mu = torch.tanh(self.mean(F.normalize(h_t, dim=-1) if self.normalize else h_t))
        if deterministic:
            sample = mu.detach()
        else:
            sample = mu.detach() + self.std * torch.randn_like(mu)
        l_t = sample.clamp(-1.0, 1.0)
        if self.log_prob == "gaussian":
            log_pi = _gaussian_log_density(sample, mu, self.std).sum(-1)
        else:
            log_pi = clipped_gaussian_log_prob(l_t, mu, self.std)
        return l_t, log_pi, mu


class ActionNetwork(nn.Module):
    """Class logits ``Linear(dropout(h_t))``; the softmax is left to the loss.

    Dropout (off by default, not in the paper) acts in training mode only, on the classifier's
    input; on MNIST a shift of the training images is what stopped the memorising, and dropout on
    top of it did harm (results/ram.md).
    """

    def __init__(self, hidden_size: int, n_classes: int, dropout: float = 0.0):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.classify = nn.Linear(hidden_size, n_classes)

    def forward(self, h_t: torch.Tensor) -> torch.Tensor:
        """``(B, D)`` -> ``(B, N)`` logits."""
        return self.classify(self.dropout(h_t))


class BaselineNetwork(nn.Module):
    """``b_t = Linear(h_t)``, the expected reward from step ``t``."""

    def __init__(self, hidden_size: int):
        super().__init__()
        self.value = nn.Linear(hidden_size, 1)

    def forward(self, h_t: torch.Tensor) -> torch.Tensor:
        """``(B, D)`` -> ``(B,)``."""
        return self.value(h_t).squeeze(-1)


@dataclass(frozen=True)
class RAMConfig:
    """Sizes of the model. ``glimpse_shape`` is the environment's glimpse, ``(K, G, G)`` or ``(K, C, G, G)``."""

    glimpse_shape: tuple[int, ...]
    n_classes: int = 10
    what_size: int = 128
    where_size: int = 128
    glimpse_out: int = 256
    hidden_size: int = 256
    cell: str = "rnn"
    core_init: str = "default"
    std: float = 0.05
    detach_location: bool = True
    pixel_mean: float = 0.0
    pixel_std: float = 1.0
    location_hidden: int = 0
    log_prob: str = "clipped"
    location_zero_init: bool = True
    location_normalize: bool = False
    dropout: float = 0.0

    def __post_init__(self):
        if self.log_prob not in LOG_PROBS:
            raise ValueError(f"log_prob must be one of {LOG_PROBS}, got {self.log_prob!r}")
        if isinstance(self.location_hidden, bool) or not isinstance(self.location_hidden, int) or self.location_hidden < 0:
            raise ValueError(f"location_hidden must be an integer >= 0 (0: a linear mean), got {self.location_hidden!r}")
        if not (isinstance(self.std, (int, float)) and self.std > 0 and math.isfinite(self.std)):
            raise ValueError(f"std (the location policy's standard deviation) must be > 0, got {self.std!r}")
        if not self.pixel_std > 0:
            raise ValueError(f"pixel_std must be > 0, got {self.pixel_std!r}")
        if self.n_classes < 2:
            raise ValueError(f"n_classes must be >= 2, got {self.n_classes!r}")
        if not (isinstance(self.dropout, (int, float)) and 0 <= self.dropout < 1):
            raise ValueError(f"dropout (a probability of dropping a unit) must be in [0, 1), got {self.dropout!r}")
        for name in ("what_size", "where_size", "glimpse_out", "hidden_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")


class RecurrentAttentionModel(nn.Module):
    """The whole agent: glimpse, core, location, action and baseline networks.

    The model is stepped by its caller (see :mod:`agents.reinforce`): :meth:`step` takes the
    environment's observation and returns the next location, its log-probability and the
    baseline; :meth:`classify` gives the class logits.
    """

    def __init__(self, config: RAMConfig):
        super().__init__()
        self.config = config
        glimpse_dim = math.prod(config.glimpse_shape)
        self.glimpse_net = GlimpseNetwork(glimpse_dim, config.what_size, config.where_size, config.glimpse_out,
                                          config.pixel_mean, config.pixel_std)  # fmt: skip
        self.core = CoreNetwork(config.glimpse_out, config.hidden_size, config.cell, config.core_init)
        self.location_net = LocationNetwork(config.hidden_size, config.std, config.location_hidden, config.log_prob,
                                            config.location_zero_init, config.location_normalize)  # fmt: skip
        self.action_net = ActionNetwork(config.hidden_size, config.n_classes, config.dropout)
        self.baseline_net = BaselineNetwork(config.hidden_size)

    def initial_state(self, batch_size: int, device=None) -> State:
        return self.core.initial_state(batch_size, device)

    def set_std(self, std: float) -> None:
        """Change the location policy's standard deviation (an annealed schedule); the model's config,
        saved with its checkpoints, follows, so a checkpoint is scored with the std it was trained to."""
        self.config = replace(self.config, std=std)  # RAMConfig checks it
        self.location_net.std = self.config.std

    def step(self, glimpse: torch.Tensor, location: torch.Tensor, state: State, deterministic: bool = False):
        """Read one glimpse and decide.

        Args:
            glimpse: ``(B, K, [C,] G, G)`` from the environment.
            location: ``(B, 2)`` where it was taken.
            state: the core's state.
            deterministic: take the policy's mean location instead of a sample.

        Returns:
            dict with ``h`` ``(B, D)``, ``location`` ``(B, 2)`` (next ``l_t``, detached),
            ``log_pi`` ``(B,)``, ``mu`` ``(B, 2)``, ``baseline`` ``(B,)``; and the new state.
            Class logits come from :meth:`classify`, called only when a guess is judged.
        """
        g_t = self.glimpse_net(glimpse, location)
        h_t, state = self.core.step(g_t, state)
        # see the module docstring for each detach
        l_t, log_pi, mu = self.location_net(h_t.detach() if self.config.detach_location else h_t, deterministic)
        out = {"h": h_t, "location": l_t, "log_pi": log_pi, "mu": mu, "baseline": self.baseline_net(h_t.detach())}
        return out, state

    def classify(self, h_t: torch.Tensor) -> torch.Tensor:
        """Class logits ``(B, N)`` from the core's output ``h_t`` ``(B, D)``."""
        return self.action_net(h_t)
