"""Agents for the glimpse environment: the recurrent attention model trained with REINFORCE, and
Stable-Baselines3 baselines. The recurrent core (:mod:`agents.core`) knows no images and is reused
by :mod:`seq_attention`."""

from agents.core import CELLS, CoreNetwork
from agents.ram import RAMConfig, RecurrentAttentionModel

__all__ = ["CELLS", "CoreNetwork", "RAMConfig", "RecurrentAttentionModel"]
