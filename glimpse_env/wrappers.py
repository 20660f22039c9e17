"""Action wrappers that give the glimpse environments an action space generic RL libraries accept.

The environments act through a ``Dict`` (``location``: ``Box(-1, 1, (2,))``, ``label``:
``Discrete(N)``), which Stable-Baselines3 and most libraries refuse. Two flat encodings:

| encoding | space | to the Dict action | from the Dict action |
|---|---|---|---|
| multidiscrete | ``MultiDiscrete([n, n, N])``: column cell, row cell, class | location = centre of cell ``(i, j)`` on an ``n x n`` grid over ``[-1, 1]^2`` | the cell containing the location |
| box | ``Box(-1, 1, (2 + N,), float32)``: ``x, y``, then ``N`` class scores | location = ``clip((x, y), -1, 1)``, label = ``argmax`` of the scores | scores ``+1`` for the label, ``-1`` elsewhere |

Cell ``i`` of ``n`` covers ``[-1 + 2i/n, -1 + 2(i+1)/n)`` and its centre is ``-1 + (2i + 1)/n``;
an odd ``n`` puts a centre at ``0``, where the first glimpse is taken.

Observations are untouched (still a ``Dict``). Each encoding comes as a single-env wrapper
(:class:`MultiDiscreteAction`, :class:`BoxAction`) and a vector-env wrapper
(:class:`MultiDiscreteVectorAction`, :class:`BoxVectorAction`) over :class:`~glimpse_env.GlimpseVectorEnv`
(or any Gymnasium vector env with the same action space); all four share the pure functions below,
which map arrays with any leading batch axes ``(...)``. :func:`wrap_actions` picks the right one.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import VectorActionWrapper, VectorEnv
from gymnasium.vector.utils import batch_space

from glimpse_env.checks import check_int

__all__ = [
    "ACTION_ENCODINGS",
    "BoxAction",
    "BoxVectorAction",
    "MultiDiscreteAction",
    "MultiDiscreteVectorAction",
    "box_to_dict",
    "dict_to_box",
    "dict_to_multidiscrete",
    "grid_centres",
    "multidiscrete_to_dict",
    "wrap_actions",
]

ACTION_ENCODINGS = ("multidiscrete", "box")


# ---- pure maps between encodings (leading axes ``...`` are batch axes) ----------------------------


def _check_grid_size(grid_size) -> int:
    return check_int("grid_size", grid_size, 1, " (cells per side of the location grid)")


def grid_centres(grid_size: int) -> np.ndarray:
    """``(n,)`` float32: the centres ``-1 + (2i + 1)/n`` of the ``n`` cells that tile ``[-1, 1]``."""
    n = _check_grid_size(grid_size)
    return ((2.0 * np.arange(n) + 1.0) / n - 1.0).astype(np.float32)


def multidiscrete_to_dict(actions, grid_size: int, n_classes: int) -> dict[str, np.ndarray]:
    """``(..., 3)`` ints ``(column cell, row cell, class)`` -> ``{"location": (..., 2) float32, "label": (...) int64}``."""
    actions = np.asarray(actions)
    if actions.shape[-1:] != (3,) or not np.issubdtype(actions.dtype, np.integer):
        raise ValueError(
            f"a MultiDiscrete glimpse action is an integer array (..., 3) of (column cell, row cell, class), "
            f"got dtype {actions.dtype} shape {actions.shape}"
        )
    n = _check_grid_size(grid_size)
    cells, label = actions[..., :2], actions[..., 2]
    if cells.size and (cells.min() < 0 or cells.max() >= n):
        raise ValueError(f"grid cells must lie in [0, {n}) (grid_size={n}), got values in [{cells.min()}, {cells.max()}]")
    if label.size and (label.min() < 0 or label.max() >= n_classes):
        raise ValueError(f"class indices must lie in [0, {n_classes}), got values in [{label.min()}, {label.max()}]")
    return {"location": grid_centres(n)[cells], "label": label.astype(np.int64)}


def dict_to_multidiscrete(action: dict, grid_size: int) -> np.ndarray:
    """The inverse of :func:`multidiscrete_to_dict`: each location goes to the cell containing it.

    ``location`` ``(..., 2)`` in ``[-1, 1]`` and ``label`` ``(...)`` -> ``(..., 3)`` int64. Exact on cell
    centres; any other location is quantised (``x = 1`` falls in the last cell).
    """
    n = _check_grid_size(grid_size)
    location = np.asarray(action["location"], np.float64)
    cells = np.clip(np.floor((location + 1.0) / 2.0 * n), 0, n - 1).astype(np.int64)
    return np.concatenate([cells, np.asarray(action["label"], np.int64)[..., None]], axis=-1)


def box_to_dict(actions, n_classes: int) -> dict[str, np.ndarray]:
    """``(..., 2 + N)`` floats ``(x, y, scores)`` -> ``{"location": clip((x, y), -1, 1), "label": argmax(scores)}``."""
    actions = np.asarray(actions)
    if actions.shape[-1:] != (2 + n_classes,):
        raise ValueError(
            f"a Box glimpse action is an array (..., {2 + n_classes}) of x, y and {n_classes} class scores, "
            f"got shape {actions.shape}"
        )
    location = np.clip(actions[..., :2], -1.0, 1.0).astype(np.float32)
    return {"location": location, "label": np.argmax(actions[..., 2:], axis=-1).astype(np.int64)}


def dict_to_box(action: dict, n_classes: int) -> np.ndarray:
    """The inverse of :func:`box_to_dict`: ``(..., 2 + N)`` float32, scores ``+1`` at the label and ``-1`` elsewhere."""
    location = np.asarray(action["location"], np.float32)
    label = np.asarray(action["label"], np.int64)
    scores = np.where(np.arange(n_classes) == label[..., None], 1.0, -1.0).astype(np.float32)
    return np.concatenate([location, scores], axis=-1)


# ---- spaces --------------------------------------------------------------------------------------


def _n_classes(action_space: gym.Space, what: str) -> int:
    """The class count of a glimpse Dict action space; a ``TypeError`` for anything else."""
    if (
        not isinstance(action_space, spaces.Dict)
        or not isinstance(action_space.spaces.get("location"), spaces.Box)
        or action_space["location"].shape != (2,)
        or not isinstance(action_space.spaces.get("label"), spaces.Discrete)
    ):
        raise TypeError(
            f"{what} wraps an env whose action space is Dict(location=Box(-1, 1, (2,)), label=Discrete(N)) "
            f"(a GlimpseEnv or GlimpseVectorEnv), got {action_space!r}; wrap the glimpse env itself"
        )
    return int(action_space["label"].n)


def _multidiscrete_space(grid_size: int, n_classes: int) -> spaces.MultiDiscrete:
    return spaces.MultiDiscrete([grid_size, grid_size, n_classes], dtype=np.int64)


def _box_space(n_classes: int) -> spaces.Box:
    return spaces.Box(np.float32(-1.0), np.float32(1.0), (2 + n_classes,), np.float32)


# ---- single-env wrappers ---------------------------------------------------------------------------


class MultiDiscreteAction(gym.ActionWrapper, gym.utils.RecordConstructorArgs):
    """Act with ``MultiDiscrete([n, n, N])``: a cell of an ``n x n`` location grid and a class."""

    def __init__(self, env: gym.Env, grid_size: int = 7):
        # recorded so that env.spec (and gymnasium's check_env, which remakes the env from it) knows the wrapper
        gym.utils.RecordConstructorArgs.__init__(self, grid_size=grid_size)
        super().__init__(env)
        self.n_classes = _n_classes(env.action_space, type(self).__name__)
        self.grid_size = _check_grid_size(grid_size)
        self.action_space = _multidiscrete_space(self.grid_size, self.n_classes)

    def action(self, action):
        return multidiscrete_to_dict(action, self.grid_size, self.n_classes)

    def reverse_action(self, action: dict) -> np.ndarray:
        return dict_to_multidiscrete(action, self.grid_size)


class BoxAction(gym.ActionWrapper, gym.utils.RecordConstructorArgs):
    """Act with ``Box(-1, 1, (2 + N,))``: the location, then one score per class (argmax is the guess)."""

    def __init__(self, env: gym.Env):
        gym.utils.RecordConstructorArgs.__init__(self)
        super().__init__(env)
        self.n_classes = _n_classes(env.action_space, type(self).__name__)
        self.action_space = _box_space(self.n_classes)

    def action(self, action):
        return box_to_dict(action, self.n_classes)

    def reverse_action(self, action: dict) -> np.ndarray:
        return dict_to_box(action, self.n_classes)


# ---- vector-env wrappers ---------------------------------------------------------------------------


class MultiDiscreteVectorAction(VectorActionWrapper):
    """:class:`MultiDiscreteAction` for a vector env: actions ``(num_envs, 3)``."""

    def __init__(self, env: VectorEnv, grid_size: int = 7):
        super().__init__(env)
        self.n_classes = _n_classes(env.single_action_space, type(self).__name__)
        self.grid_size = _check_grid_size(grid_size)
        self.single_action_space = _multidiscrete_space(self.grid_size, self.n_classes)
        self.action_space = batch_space(self.single_action_space, self.num_envs)

    def actions(self, actions):
        return multidiscrete_to_dict(actions, self.grid_size, self.n_classes)

    def reverse_actions(self, actions: dict) -> np.ndarray:
        return dict_to_multidiscrete(actions, self.grid_size)


class BoxVectorAction(VectorActionWrapper):
    """:class:`BoxAction` for a vector env: actions ``(num_envs, 2 + N)``."""

    def __init__(self, env: VectorEnv):
        super().__init__(env)
        self.n_classes = _n_classes(env.single_action_space, type(self).__name__)
        self.single_action_space = _box_space(self.n_classes)
        self.action_space = batch_space(self.single_action_space, self.num_envs)

    def actions(self, actions):
        return box_to_dict(actions, self.n_classes)

    def reverse_actions(self, actions: dict) -> np.ndarray:
        return dict_to_box(actions, self.n_classes)


def wrap_actions(env: gym.Env | VectorEnv, encoding: str, grid_size: int = 7):
    """Wrap a single or vector glimpse env in the ``encoding`` (``"multidiscrete"`` or ``"box"``) wrapper.

    ``grid_size`` is used by ``"multidiscrete"`` only.
    """
    if encoding not in ACTION_ENCODINGS:
        raise ValueError(f"action encoding must be one of {ACTION_ENCODINGS}, got {encoding!r}")
    vector = isinstance(env, VectorEnv)
    if encoding == "multidiscrete":
        return (MultiDiscreteVectorAction if vector else MultiDiscreteAction)(env, grid_size)
    return (BoxVectorAction if vector else BoxAction)(env)
