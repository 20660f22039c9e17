"""The glimpse environment of *Recurrent Models of Visual Attention* (Mnih et al., 2014).

Importing the package registers the paper's tasks with Gymnasium::

    import gymnasium as gym
    import glimpse_env  # noqa: F401

    env = gym.make("GlimpseMNIST-v0")                       # one episode at a time
    envs = gym.make_vec("GlimpseMNIST-v0", num_envs=256)    # natively batched

| id | task | canvas | glimpse | scales | glimpses |
|---|---|---|---|---|---|
| ``GlimpseMNIST-v0`` | MNIST | 28x28 | 8x8 | 1 | 6 |
| ``GlimpseTranslatedMNIST-v0`` | translated MNIST | 60x60 | 12x12 | 3 | 6 |
| ``GlimpseClutteredMNIST-v0`` | cluttered MNIST, 4 pieces | 60x60 | 12x12 | 3 | 8 |
| ``GlimpseClutteredMNIST100-v0`` | cluttered MNIST, 8 pieces | 100x100 | 12x12 | 4 | 8 |

Every argument of :class:`GlimpseEnv` can be overridden: ``gym.make("GlimpseMNIST-v0", n_glimpses=7)``.
"""

from __future__ import annotations

import gymnasium as gym

from glimpse_env.datasets import ImageSource, make_source
from glimpse_env.mnist import DataError, load_mnist
from glimpse_env.env import GlimpseEnv
from glimpse_env.render import draw_episode
from glimpse_env.sensor import extract_glimpses
from glimpse_env.vector import GlimpseVectorEnv

__all__ = [
    "ENV_IDS",
    "DataError",
    "GlimpseEnv",
    "GlimpseVectorEnv",
    "ImageSource",
    "draw_episode",
    "extract_glimpses",
    "load_mnist",
    "make_source",
    "check_env_id",
    "register_envs",
]

ENV_IDS = {
    "GlimpseMNIST-v0": dict(task="mnist", glimpse_size=8, n_scales=1, n_glimpses=6),
    "GlimpseTranslatedMNIST-v0": dict(task="translated", canvas_size=60, glimpse_size=12, n_scales=3, n_glimpses=6),
    "GlimpseClutteredMNIST-v0": dict(
        task="cluttered", canvas_size=60, n_clutter=4, glimpse_size=12, n_scales=3, n_glimpses=8
    ),
    "GlimpseClutteredMNIST100-v0": dict(
        task="cluttered", canvas_size=100, n_clutter=8, glimpse_size=12, n_scales=4, n_glimpses=8
    ),
}


def register_envs() -> None:
    """Register the ids of :data:`ENV_IDS` (idempotent)."""
    for env_id, kwargs in ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(
                id=env_id,
                entry_point="glimpse_env.env:GlimpseEnv",
                vector_entry_point="glimpse_env.vector:GlimpseVectorEnv",
                kwargs=kwargs,
            )


def _is_glimpse(spec: gym.envs.registration.EnvSpec) -> bool:
    # both entry points: gym.make builds the single env, the trainers the native vector one
    return all(str(point).startswith("glimpse_env") for point in (spec.entry_point, spec.vector_entry_point))


def check_env_id(env_id: str) -> gym.envs.registration.EnvSpec:
    """The registry's spec of ``env_id`` if it names a glimpse environment (one of :data:`ENV_IDS`,
    or one a user registered with this package's two entry points; ``"module:Env-v0"`` imports
    ``module`` first, as ``gymnasium.make`` does), else ``ValueError`` listing the glimpse ids."""
    try:
        spec = gym.spec(env_id)
    except (gym.error.Error, TypeError):  # TypeError: not a string
        spec = None
    if spec is None:
        problem = f"unknown env id {env_id!r}"
    elif not _is_glimpse(spec):
        problem = (f"env id {env_id!r} is not a glimpse environment (its entry point is {spec.entry_point!r}, "
                   f"its vector entry point {spec.vector_entry_point!r})")  # fmt: skip
    else:
        return spec
    known = sorted(i for i, s in gym.registry.items() if _is_glimpse(s))
    raise ValueError(f"{problem}; registered glimpse environments: {known}")


register_envs()
