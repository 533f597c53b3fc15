"""The scaling token (Sec. 3.4, eqs. 5-7): E = linear(gamma(S)), one projection per adapter.

Where the token goes in CogVideoX's joint sequence
--------------------------------------------------
CogVideoX runs every block on two streams that its attention concatenates as
``[text; video]``. Positions enter in two places, and both are confined to the video stream:

* the patch embedding adds the (sincos or learned) positional table to ``[text; video]``, and
  the table's text rows are all zero (``CogVideoXPatchEmbed._get_positional_embeddings``); its
  length is fixed to ``max_text_seq_length + num_patches``, so nothing can be inserted *before*
  the patch embedding without shifting the video rows off their learned positions;
* 3D RoPE is applied inside the attention to the rows after the text
  (``query[:, :, text_seq_length:]``), where ``text_seq_length`` is the length of the text stream
  the block receives.

The tokens are therefore appended to the *end of the text stream* at the input of the first
block, after the patch embedding: they get no positional signal (exactly like text tokens, whose
positional rows are zero), RoPE still rotates exactly the video rows (the text stream, tokens
included, is skipped), and the learned positional table is untouched. Inside each block the
tokens go through the same AdaLN modulation, attention and feed-forward as text tokens; the
model drops the text stream after the last block, and the tokens with it. Attention has no
notion of order for rows without positional encoding, so ``[text; E; video]`` here is the
paper's ``H' = [H; E]`` (eq. 7) up to a permutation of rows.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def fourier_features(scale: torch.Tensor, num_freqs: int) -> torch.Tensor:
    """gamma(S) of eq. 5: ``[sin(2^j pi S), cos(2^j pi S)]`` for ``j = 0 .. J-1``, interleaved.

    Args:
        scale: scaling values S. ``[B]`` (any float dtype).
        num_freqs: J.
    Returns:
        ``[B, 2J]`` float32, ordered ``sin_0, cos_0, sin_1, cos_1, ...``.
    """
    s = scale.to(torch.float64).reshape(-1, 1)
    freqs = (2.0 ** torch.arange(num_freqs, dtype=torch.float64, device=s.device)) * math.pi
    angles = s * freqs  # [B, J]
    return torch.stack([torch.sin(angles), torch.cos(angles)], dim=-1).reshape(s.shape[0], 2 * num_freqs).float()


class ScalingToken(nn.Module):
    """E = linear(gamma(S)) (eq. 6): the adapter's own projection of S to the transformer width."""

    def __init__(self, num_freqs: int, width: int):
        super().__init__()
        self.num_freqs = num_freqs
        self.proj = nn.Linear(2 * num_freqs, width)

    def forward(self, scale: torch.Tensor) -> torch.Tensor:
        """Tokens for scaling values ``scale`` ``[B]`` -> ``[B, 1, width]``."""
        gamma = fourier_features(scale, self.num_freqs).to(device=self.proj.weight.device, dtype=self.proj.weight.dtype)
        return self.proj(gamma).unsqueeze(1)
