"""The recurrent core: a cell stepped one input at a time, knowing nothing of images or words.

In the recurrent attention model (Mnih et al., 2014) the core network folds each glimpse feature
``g_t`` into the hidden state, ``h_t = f_h(h_{t-1}, g_t)``; in an attention decoder (Bahdanau et al.,
2015) the same piece folds ``[E y_{i-1}; c_i]`` into ``s_i``. Both only need
``step(input_t, state) -> (output_t, state)``, which is all this module offers.

States are tuples of tensors so that every cell looks alike to its caller: ``(h,)`` for ``rnn``,
``rnn_tanh``, ``rnn_ln`` and ``gru``, ``(h, c)`` for ``lstm``; the output is always ``h``.

Dimension letters: ``B`` batch, ``I`` input width, ``D`` hidden width.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["CELLS", "INITS", "PLAIN_RNN_CELLS", "CoreNetwork", "LayerNormRNNCell", "State"]

State = tuple[torch.Tensor, ...]
CELLS = ("rnn", "rnn_tanh", "rnn_ln", "lstm", "gru")
INITS = ("default", "identity")
PLAIN_RNN_CELLS = ("rnn", "rnn_tanh", "rnn_ln")  # one recurrent matrix, weight_hh: what init="identity" starts


class LayerNormRNNCell(nn.Module):
    """``h_t = ReLU(LN(W_ih x_t + W_hh h_{t-1}))``: the paper's ReLU core with layer normalisation
    of the summed inputs (Ba, Kiros and Hinton, 2016, section 3.1), before the non-linearity.

    The normalisation holds every step's pre-activation at zero mean and unit spread across the
    units (then a learned gain and bias), whatever the step: the plain ReLU core's state grows
    about 1.6x per glimpse (results/ram.md). No bias before the normalisation: its mean would be
    subtracted and the learned bias after it does the rest.

    Parameters ``weight_ih`` ``(D, I)`` and ``weight_hh`` ``(D, D)`` start as ``nn.RNNCell``'s,
    uniform in ``+-1/sqrt(D)``; ``norm`` is an ``nn.LayerNorm(D)``.
    """

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        bound = 1.0 / math.sqrt(hidden_size)
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size).uniform_(-bound, bound))
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, hidden_size).uniform_(-bound, bound))
        self.norm = nn.LayerNorm(hidden_size)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``x`` ``(B, I)``, ``h`` ``(B, D)`` -> ``(B, D)``."""
        summed = torch.addmm(F.linear(x, self.weight_ih), h, self.weight_hh.t())
        return F.relu(self.norm(summed))


class CoreNetwork(nn.Module):
    """``h_t = f_h(h_{t-1}, x_t)`` with a plain ReLU RNN (the paper's), a tanh RNN, a layer-normalised
    ReLU RNN, an LSTM or a GRU cell.

    The paper's core is ``h_t = ReLU(Linear(h_{t-1}) + Linear(g_t))``, which is
    ``nn.RNNCell(nonlinearity="relu")``. ``rnn_tanh`` is the same cell with a bounded state, the
    one change that separates "ReLU state grows" from "recurrence" as a cause of drifting glimpses
    (its glimpses drifted too, and it learned slower: results/ram.md). ``rnn_ln`` is the ReLU cell
    with its summed inputs layer-normalised (:class:`LayerNormRNNCell`).

    Args:
        input_size: ``I``.
        hidden_size: ``D``.
        cell: one of :data:`CELLS`.
        init: ``"default"``, torch's initialisation of the cell; ``"identity"`` starts the recurrent
            weights of a plain RNN cell (``rnn``, ``rnn_tanh``, ``rnn_ln``) at the identity and their
            bias at zero, so the state carries what it holds to the next step unchanged until
            training says otherwise (Le, Jaitly and Hinton, 2015, "IRNN").
    """

    def __init__(self, input_size: int, hidden_size: int, cell: str = "rnn", init: str = "default"):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        if init == "identity" and cell not in PLAIN_RNN_CELLS:
            raise ValueError(f"init='identity' is for the plain RNN cells {PLAIN_RNN_CELLS}, got cell={cell!r}")
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.cell_type = cell
        self.input_size = input_size
        self.hidden_size = hidden_size
        if cell in ("rnn", "rnn_tanh"):
            self.cell = nn.RNNCell(input_size, hidden_size, nonlinearity="relu" if cell == "rnn" else "tanh")
        elif cell == "rnn_ln":
            self.cell = LayerNormRNNCell(input_size, hidden_size)
        elif cell == "lstm":
            self.cell = nn.LSTMCell(input_size, hidden_size)
        else:
            self.cell = nn.GRUCell(input_size, hidden_size)
        if init == "identity":
            with torch.no_grad():
                self.cell.weight_hh.copy_(torch.eye(hidden_size))
                if getattr(self.cell, "bias_hh", None) is not None:
                    self.cell.bias_hh.zero_()

    def initial_state(self, batch_size: int, device=None, dtype=None) -> State:
        """Zeros: ``(h,)`` or ``(h, c)``, each ``(B, D)``."""
        weight = self.cell.weight_hh
        zeros = torch.zeros(batch_size, self.hidden_size, device=device or weight.device, dtype=dtype or weight.dtype)
        return (zeros, zeros.clone()) if self.cell_type == "lstm" else (zeros,)

    def step(self, input_t: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """One step.

        Args:
            input_t: ``(B, I)``.
            state: from :meth:`initial_state` or the previous step.

        Returns:
            ``(h_t, state)``: ``h_t`` is ``(B, D)``; ``state`` as given, advanced.
        """
        if self.cell_type == "lstm":
            h, c = self.cell(input_t, state)
            return h, (h, c)
        h = self.cell(input_t, state[0])
        return h, (h,)

    def forward(self, inputs: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """Run over a sequence: ``inputs`` ``(B, T, I)`` -> outputs ``(B, T, D)`` and the last state."""
        if state is None:
            state = self.initial_state(inputs.shape[0], inputs.device, inputs.dtype)
        outputs = []
        for t in range(inputs.shape[1]):
            h, state = self.step(inputs[:, t], state)
            outputs.append(h)
        return torch.stack(outputs, 1), state
