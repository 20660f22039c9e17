"""Episodes and losses of the recurrent attention model: a batched rollout through the glimpse
environment, the hybrid REINFORCE loss, and evaluation.

The agent learns only from what the environment gives it: glimpses, the reward, and at the end of
the episode ``info["label"]`` (the true class, which the hybrid loss's supervised term uses, as in
the paper). It acts by returning the environment's ``{"location", "label"}`` actions.

Timing (see :class:`glimpse_env.GlimpseEnv`): with ``T`` glimpses the agent makes ``T`` steps;
the locations of steps ``1 .. T-1`` choose glimpses ``2 .. T`` and enter the REINFORCE term; the
location of step ``T`` is never looked at, so it is neither sampled nor scored.

Loss (Mnih et al., 2014, section 3; hybrid as in their supervised experiments)::

    L = ce_weight * CE_eps(logits_T, y)                      # action network, core, glimpse network
      - reinforce_weight * mean_b sum_t log pi(l_t) (R - b_t)  # location network (t = 1 .. T-1)
      + baseline_weight * mean_{b,t} (b_t - R)^2             # baseline network
      + early_ce_weight * mean_{t<T} CE_eps(logits_t, y)      # optional, not the paper's

with ``R`` in ``{0, 1}`` the episode's reward, and ``CE_eps`` the cross-entropy against the label
smoothed by ``eps`` (Szegedy et al., 2016: ``1 - eps`` on the class, ``eps / N`` spread over all;
``eps = 0``, the default, is the plain cross-entropy of the paper). The last term (off by default) is deep supervision:
the action network also classifies after each earlier glimpse, which hands the glimpse and core
networks a gradient at every step instead of through ``T`` steps of recurrence.
With ``group = k > 1`` the batch holds ``k``
episodes of each image, side by side, and the policy's baseline is the mean reward of the image's
other ``k - 1`` episodes (leave-one-out, Kool, van Hoof and Welling, 2019) instead of ``b_t``:
the advantage then compares paths over the same image, free of the image's difficulty, which a
baseline that sees only glimpses can estimate only roughly. ``b_t`` is still trained and logged.
In pure-RL mode (``hybrid=False``) the class is
sampled from the action network and trained by REINFORCE too, ``- log p(y_T) (R - b_T)``.

Dimension letters: ``B`` batch, ``T`` glimpses, ``N`` classes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from agents.ram import RecurrentAttentionModel

__all__ = ["REWARDS", "Episode", "EpisodeLoss", "LossWeights", "evaluate", "reinforce_loss", "rollout"]

REWARDS = ("env", "prob")


@dataclass
class Episode:
    """What one batched rollout produced.

    Attributes:
        logits: ``(B, N)`` class logits after the last glimpse.
        labels: ``(B,)`` true classes, from the environment's final ``info["label"]``.
        reward: ``(B,)`` the environment's final reward.
        log_pi: ``(B, T - 1)`` log-probabilities of the locations the agent chose.
        baselines: ``(B, T)`` ``b_t`` at every step.
        label_log_prob: ``(B,)`` log-probability of the sampled class (pure-RL mode), else None.
        mu: ``(B, T - 1, 2)`` policy means.
        path: ``(B, T, 2)`` the glimpse locations, the first given by the environment.
        early_logits: ``(B, T - 1, N)`` class logits after glimpses ``1 .. T-1`` when the rollout
            was asked for them, else None.
    """

    logits: torch.Tensor
    labels: torch.Tensor
    reward: torch.Tensor
    log_pi: torch.Tensor
    baselines: torch.Tensor
    label_log_prob: torch.Tensor | None
    mu: torch.Tensor
    path: torch.Tensor
    early_logits: torch.Tensor | None = None


def _as_tensor(x, device) -> torch.Tensor:
    return x.to(device) if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x), device=device)


def rollout(model: RecurrentAttentionModel, envs, indices=None, *, deterministic: bool = False,
            sample_label: bool = False, random_locations: bool = False,
            generator: torch.Generator | None = None, early_logits: bool = False) -> Episode:  # fmt: skip
    """Play one episode in every sub-environment of ``envs`` (a :class:`glimpse_env.GlimpseVectorEnv`).

    Args:
        indices: ``(B,)`` images of the split, one per sub-env; default: each sub-env draws one.
        deterministic: look where the policy's mean points instead of sampling.
        sample_label: guess the class by sampling the action network (pure RL) instead of argmax.
        random_locations: ignore the location network and look uniformly at random (the paper's
            "random glimpses" control).
        generator: random source for the random locations and sampled classes (evaluation passes
            a seeded one; the location noise uses torch's global generator, saved in checkpoints).
        early_logits: also classify after every glimpse before the last (for deep supervision).
    """
    device = next(model.parameters()).device
    obs, _ = envs.reset(options=None if indices is None else {"indices": np.asarray(indices)})
    B, T = envs.num_envs, envs.config.n_glimpses
    state = model.initial_state(B, device)
    log_pis, baselines, mus, path, early = [], [], [], [], []
    label_log_prob = None
    for t in range(T):
        glimpse, location = _as_tensor(obs["glimpse"], device), _as_tensor(obs["location"], device)
        path.append(location)
        out, state = model.step(glimpse, location, state, deterministic=deterministic)
        baselines.append(out["baseline"])
        last = t == T - 1
        if last:
            next_location = torch.zeros(B, 2, device=device)  # ignored by the environment
        elif random_locations:
            next_location = torch.rand(B, 2, device=device, generator=generator) * 2 - 1
        else:
            next_location = out["location"]
            log_pis.append(out["log_pi"])
            mus.append(out["mu"])
        if not last:
            # the environment judges only the last step's label; earlier guesses are not sent
            label = torch.zeros(B, dtype=torch.int64, device=device)
            if early_logits:
                early.append(model.classify(out["h"]))
        else:
            logits = model.classify(out["h"])
            if sample_label:
                probs = logits.softmax(-1)
                label = torch.multinomial(probs, 1, generator=generator).squeeze(1)
                label_log_prob = logits.log_softmax(-1).gather(1, label[:, None]).squeeze(1)
            else:
                label = logits.argmax(-1)
        obs, reward, terminated, _, info = envs.step({"location": next_location, "label": label})
    if not bool(np.asarray(terminated.cpu() if isinstance(terminated, torch.Tensor) else terminated).all()):
        raise RuntimeError("the environment did not end every episode after n_glimpses steps")
    return Episode(
        logits=logits,
        labels=_as_tensor(info["label"], device),
        reward=_as_tensor(reward, device).to(torch.float32),
        log_pi=torch.stack(log_pis, 1) if log_pis else torch.zeros(B, 0, device=device),
        baselines=torch.stack(baselines, 1),
        label_log_prob=label_log_prob,
        mu=torch.stack(mus, 1) if mus else torch.zeros(B, 0, 2, device=device),
        path=torch.stack(path, 1),
        early_logits=torch.stack(early, 1) if early else None,
    )


@dataclass(frozen=True)
class LossWeights:
    """Weights of the loss terms."""

    ce: float = 1.0
    reinforce: float = 1.0
    baseline: float = 1.0
    early_ce: float = 0.0


def reinforce_loss(episode: Episode, weights: LossWeights = LossWeights(), hybrid: bool = True,
                   group: int = 1, reward: str = "env", label_smoothing: float = 0.0) -> dict[str, torch.Tensor]:  # fmt: skip
    """The named loss terms and their weighted sum ``"total"`` (see the module docstring).

    Args:
        group: ``k``, the episodes per image; episodes ``i * k .. i * k + k - 1`` share an image.
        reward: what the locations' REINFORCE term and the baseline see as ``R``: ``"env"``, the
            environment's 0/1 reward (the paper's); ``"prob"``, the probability the action network
            gives the true class after the last glimpse (detached; hybrid only). It lies in the same
            [0, 1] and has the same sign of change, but it also tells a confident right answer
            from a lucky one, so a glimpse that made the class clearer is credited even when the
            0/1 outcome does not change.
        label_smoothing: ``eps`` of the cross-entropy terms (hybrid only; the rewards stay as they are).

    Returns:
        dict of scalars: ``total``, ``action`` (CE, or the class's REINFORCE term in pure RL),
        ``reinforce``, ``baseline``; the unweighted terms are logged as they are.
    """
    if reward not in REWARDS:
        raise ValueError(f"reward must be one of {REWARDS}, got {reward!r}")
    if not 0 <= label_smoothing < 1:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing!r}")
    if label_smoothing and not hybrid:
        raise ValueError(f"label_smoothing={label_smoothing} smooths the hybrid cross-entropy; pure RL (hybrid=False) needs 0")
    if reward == "prob":
        if not hybrid:
            raise ValueError("reward='prob' scores the hybrid classifier; pure RL (hybrid=False) learns from the env's reward")
        R = episode.logits.detach().softmax(-1).gather(1, episode.labels[:, None]).squeeze(1)  # (B,)
    else:
        R = episode.reward  # (B,)
    b = episode.baselines  # (B, T)
    if group > 1:
        if R.shape[0] % group:
            raise ValueError(f"a batch of {R.shape[0]} episodes cannot be split into groups of {group}")
        shared = R.view(-1, group)  # (B / k, k)
        leave_one_out = (shared.sum(1, keepdim=True) - shared) / (group - 1)
        advantage = (R - leave_one_out.reshape(-1))[:, None].expand_as(b)  # (B, T)
    else:
        # detached: the policy gradient must not train the baseline (see agents.ram)
        advantage = R[:, None] - b.detach()  # (B, T)
    n_moves = episode.log_pi.shape[1]
    reinforce = -(episode.log_pi * advantage[:, :n_moves]).sum(1).mean()
    baseline = F.mse_loss(b, R[:, None].expand_as(b))
    if hybrid:
        action = F.cross_entropy(episode.logits, episode.labels, label_smoothing=label_smoothing)
    else:
        if episode.label_log_prob is None:
            raise ValueError("pure-RL loss needs the sampled class's log-probability: roll out with sample_label=True")
        action = -(episode.label_log_prob * advantage[:, -1]).mean()
    total = weights.ce * action + weights.reinforce * reinforce + weights.baseline * baseline
    terms = {"action": action, "reinforce": reinforce, "baseline": baseline}
    if weights.early_ce:
        if episode.early_logits is None:
            raise ValueError("early_ce needs the early class logits: roll out with early_logits=True")
        logits = episode.early_logits  # (B, T - 1, N)
        labels = episode.labels.repeat_interleave(logits.shape[1])
        terms["early_ce"] = F.cross_entropy(logits.flatten(0, 1), labels, label_smoothing=label_smoothing)
        total = total + weights.early_ce * terms["early_ce"]
    return {"total": total, **terms}


class EpisodeLoss(nn.Module):
    """One batched episode and its loss as a single ``forward``, so that
    :class:`torch.nn.parallel.DistributedDataParallel` can wrap it: DDP synchronises gradients for
    what happens inside ``forward``, and a whole episode is what one gradient step is made of.

    Args:
        model: the agent.
        weights, hybrid, group, reward, label_smoothing: see :func:`reinforce_loss`.
        random_locations: the random-glimpse control (see :func:`rollout`).
    """

    def __init__(self, model: RecurrentAttentionModel, weights: LossWeights = LossWeights(), hybrid: bool = True,
                 random_locations: bool = False, group: int = 1, reward: str = "env", label_smoothing: float = 0.0):  # fmt: skip
        super().__init__()
        self.model = model
        self.weights, self.hybrid, self.random_locations, self.group = weights, hybrid, random_locations, group
        self.reward, self.label_smoothing = reward, label_smoothing

    def forward(self, envs, indices=None, deterministic: bool = False) -> tuple[dict[str, torch.Tensor], Episode]:
        """Play ``indices`` (see :func:`rollout`) and return ``(loss terms, episode)``."""
        episode = rollout(self.model, envs, indices, deterministic=deterministic, sample_label=not self.hybrid,
                          random_locations=self.random_locations, early_logits=self.weights.early_ce > 0)  # fmt: skip
        return reinforce_loss(episode, self.weights, self.hybrid, self.group, self.reward, self.label_smoothing), episode


class _RolloutStream:
    """The random state of one of :func:`evaluate`'s rollouts: a generator for the random locations
    and sampled classes, and the global generator's state for the policy's location noise, swapped
    in for the rollout (``with stream:``) and kept for its next batch."""

    def __init__(self, seed: int, device: torch.device):
        self.device = device
        self.generator = torch.Generator(device=device).manual_seed(seed)
        outside = self._global_state()
        torch.manual_seed(seed)
        self.state = self._global_state()
        self._set_global_state(outside)

    def _global_state(self):
        cuda = torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None
        return torch.random.get_rng_state(), cuda

    def _set_global_state(self, state) -> None:
        torch.random.set_rng_state(state[0])
        if state[1] is not None:
            torch.cuda.set_rng_state(state[1], self.device)

    def __enter__(self):
        self._outside = self._global_state()
        self._set_global_state(self.state)

    def __exit__(self, *exc):
        self.state = self._global_state()
        self._set_global_state(self._outside)


@torch.no_grad()
def evaluate(model: RecurrentAttentionModel, envs, images, *, rollouts: int = 1, deterministic: bool = False,
             random_locations: bool = False, seed: int = 0) -> dict[str, float]:  # fmt: skip
    """Error rates on ``images`` of the environment's split (an int ``n`` means the first ``n``).

    With ``rollouts = M > 1`` the class probabilities of ``M`` rollouts per image are averaged
    before the argmax. Locations are sampled from the policy (seeded by ``seed``, so the result is
    reproducible) unless ``deterministic``. Rollout ``m`` draws from its own random stream (the
    first from ``seed`` itself), so the first rollout's error at a seed is the same whatever ``M``;
    the caller's random state is left as it was. A rank of a distributed run passes its shard of
    the images and sums the ``wrong_*`` counts over ranks.

    Returns:
        ``{"error": percent wrong after the first rollout, "error_avg": percent wrong after averaging
        M, "wrong_first", "wrong_avg", "n", "border": per glimpse after the first, the percentage of
        first-rollout glimpses taken at the border (a coordinate at or beyond +-0.95)}``.
    """
    if rollouts < 1:
        raise ValueError(f"rollouts must be >= 1, got {rollouts}")
    if np.isscalar(images) and images < 1:  # an array may be empty: a rank's shard of a few images
        raise ValueError(f"images must be a positive count (or an array of indices), got {images}")
    images = np.arange(images) if np.isscalar(images) else np.asarray(images)
    n_images = len(images)
    was_training = model.training
    model.eval()
    B = envs.num_envs
    device = next(model.parameters()).device
    # each stream swaps its state in and out around its rollouts, so the caller's is never touched
    streams = [_RolloutStream(seed if m == 0 else int(np.random.SeedSequence([seed, m]).generate_state(1)[0]), device)
               for m in range(rollouts)]  # fmt: skip
    envs.reset(seed=seed)
    wrong_first = wrong_avg = 0
    border = None
    try:
        for start in range(0, n_images, B):
            indices = images[np.arange(start, start + B) % n_images]  # the last batch wraps; extras are ignored
            keep = min(B, n_images - start)
            probs = None
            for m, stream in enumerate(streams):
                with stream:
                    episode = rollout(model, envs, indices, deterministic=deterministic,
                                      random_locations=random_locations, generator=stream.generator)  # fmt: skip
                p = episode.logits.softmax(-1)
                labels = episode.labels
                if m == 0:
                    wrong_first += int((p.argmax(-1) != labels)[:keep].sum())
                    # glimpses parked on the border see mostly padding: the policy's typical failure
                    at = (episode.path[:keep, 1:].abs().amax(-1) >= 0.95).sum(0)
                    border = at if border is None else border + at
                probs = p if probs is None else probs + p
            wrong_avg += int((probs.argmax(-1) != labels)[:keep].sum())
    finally:
        model.train(was_training)
    border = [] if border is None else (100.0 * border / max(n_images, 1)).tolist()
    return {"error": 100.0 * wrong_first / max(n_images, 1), "error_avg": 100.0 * wrong_avg / max(n_images, 1),
            "wrong_first": wrong_first, "wrong_avg": wrong_avg, "n": n_images, "border": border}  # fmt: skip
