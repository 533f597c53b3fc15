"""Inception-v1 I3D (Carreira & Zisserman, "Quo Vadis, Action Recognition?", 2017) for FVD.

The module's parameter names and shapes follow the PyTorch port used by VideoGPT and TATS, so
their Kinetics-400 checkpoint ``i3d_pretrained_400.pt`` loads with ``load_state_dict(strict=True)``:

* top-level blocks named after the TensorFlow end points (``Conv3d_1a_7x7``, ``Conv3d_2b_1x1``,
  ``Conv3d_2c_3x3``, ``Mixed_3b`` ... ``Mixed_5c``) and the classifier ``logits``;
* a convolution unit holds ``conv3d`` (no bias) and ``bn`` (BatchNorm3d); the classifier unit
  holds only ``conv3d`` with a bias;
* an Inception block holds the branches ``b0`` (1x1), ``b1a``/``b1b`` (1x1 then 3x3x3),
  ``b2a``/``b2b`` (1x1 then 3x3x3), ``b3a`` (3x3x3 max pool, no parameters) and ``b3b`` (1x1).

Convolutions and pools use TensorFlow "SAME" padding computed from the input size, as the
original network does. ``forward`` takes the calling convention of StyleGAN-V's TorchScript
detector (``rescale``, ``resize``, ``return_features``), so both weight formats are driven by the
same code in :mod:`lionlora.eval.quality.weights`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lionlora.errors import InputError

#: Input side the network was trained at; the reference pipelines feed 224 x 224 frames.
I3D_SIZE = 224
#: Time steps are halved three times (stride-2 stem, pools 4a and 5a) and the logits average a
#: window of 2, so inputs need at least 9 frames; the presets ask for at least 10.
MIN_I3D_FRAMES = 9

# (name, input channels, [b0, b1a, b1b, b2a, b2b, b3b] output widths) of the Inception blocks.
_MIXED = {
    "Mixed_3b": (192, (64, 96, 128, 16, 32, 32)),
    "Mixed_3c": (256, (128, 128, 192, 32, 96, 64)),
    "Mixed_4b": (480, (192, 96, 208, 16, 48, 64)),
    "Mixed_4c": (512, (160, 112, 224, 24, 64, 64)),
    "Mixed_4d": (512, (128, 128, 256, 24, 64, 64)),
    "Mixed_4e": (512, (112, 144, 288, 32, 64, 64)),
    "Mixed_4f": (528, (256, 160, 320, 32, 128, 128)),
    "Mixed_5b": (832, (256, 160, 320, 32, 128, 128)),
    "Mixed_5c": (832, (384, 192, 384, 48, 128, 128)),
}
FEATURE_CHANNELS = 1024  # output width of Mixed_5c


def _triple(v: int | tuple[int, int, int]) -> tuple[int, int, int]:
    return (v, v, v) if isinstance(v, int) else tuple(v)


def same_pad(x: torch.Tensor, kernel: tuple[int, int, int], stride: tuple[int, int, int]) -> torch.Tensor:
    """Zero-pad ``x`` ``[B, C, T, H, W]`` like TensorFlow's "SAME": output size ceil(size / stride).

    The total padding of a dimension is ``max(k - s, 0)`` when the size is a multiple of the
    stride and ``max(k - size % s, 0)`` otherwise; the extra pixel of an odd total goes last.
    """
    pads: list[int] = []
    for size, k, s in zip(reversed(x.shape[2:]), reversed(kernel), reversed(stride)):
        total = max(k - s, 0) if size % s == 0 else max(k - size % s, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


class Unit3D(nn.Module):
    """SAME-padded Conv3d, then optional BatchNorm3d and ReLU."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int | tuple = 1,
        stride: int | tuple = 1,
        batch_norm: bool = True,
        relu: bool = True,
        bias: bool = False,
    ):
        super().__init__()
        self.kernel, self.stride, self.relu = _triple(kernel), _triple(stride), relu
        self.conv3d = nn.Conv3d(in_channels, out_channels, self.kernel, self.stride, padding=0, bias=bias)
        # eps as in the VideoGPT/TATS port (the checkpoint's statistics were exported for it)
        self.bn = nn.BatchNorm3d(out_channels, eps=1e-5, momentum=0.001) if batch_norm else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv3d(same_pad(x, self.kernel, self.stride))
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x) if self.relu else x


class MaxPool3dSame(nn.Module):
    """SAME-padded 3D max pool. Inputs follow a ReLU (>= 0), so zero padding equals -inf padding."""

    def __init__(self, kernel: tuple[int, int, int], stride: tuple[int, int, int]):
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool3d(same_pad(x, self.kernel, self.stride), self.kernel, self.stride)


class InceptionBlock(nn.Module):
    """Four parallel branches concatenated along channels: 1x1 | 1x1-3x3 | 1x1-3x3 | pool-1x1."""

    def __init__(self, in_channels: int, widths: tuple[int, int, int, int, int, int]):
        super().__init__()
        w0, w1a, w1b, w2a, w2b, w3b = widths
        self.b0 = Unit3D(in_channels, w0)
        self.b1a = Unit3D(in_channels, w1a)
        self.b1b = Unit3D(w1a, w1b, kernel=3)
        self.b2a = Unit3D(in_channels, w2a)
        self.b2b = Unit3D(w2a, w2b, kernel=3)
        self.b3a = MaxPool3dSame((3, 3, 3), (1, 1, 1))
        self.b3b = Unit3D(in_channels, w3b)
        self.out_channels = w0 + w1b + w2b + w3b

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))], dim=1)


class InceptionI3d(nn.Module):
    """Kinetics-400 Inception-I3D returning class logits averaged over time.

    Args:
        num_classes: width of the classifier (400 for Kinetics-400).
    """

    def __init__(self, num_classes: int = 400):
        super().__init__()
        self.num_classes = num_classes
        self._order: list[str] = []
        self._add("Conv3d_1a_7x7", Unit3D(3, 64, kernel=7, stride=2))
        self._add("MaxPool3d_2a_3x3", MaxPool3dSame((1, 3, 3), (1, 2, 2)))
        self._add("Conv3d_2b_1x1", Unit3D(64, 64))
        self._add("Conv3d_2c_3x3", Unit3D(64, 192, kernel=3))
        self._add("MaxPool3d_3a_3x3", MaxPool3dSame((1, 3, 3), (1, 2, 2)))
        for name in ("Mixed_3b", "Mixed_3c"):
            self._add(name, InceptionBlock(*_MIXED[name]))
        self._add("MaxPool3d_4a_3x3", MaxPool3dSame((3, 3, 3), (2, 2, 2)))
        for name in ("Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f"):
            self._add(name, InceptionBlock(*_MIXED[name]))
        self._add("MaxPool3d_5a_2x2", MaxPool3dSame((2, 2, 2), (2, 2, 2)))
        for name in ("Mixed_5b", "Mixed_5c"):
            self._add(name, InceptionBlock(*_MIXED[name]))
        self.dropout = nn.Dropout(0.5)  # inactive in eval mode; kept for the reference layout
        self.logits = Unit3D(FEATURE_CHANNELS, num_classes, batch_norm=False, relu=False, bias=True)

    def _add(self, name: str, module: nn.Module) -> None:
        self.add_module(name, module)
        self._order.append(name)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Mixed_5c activations ``[B, 1024, T', H', W']`` of inputs ``[B, 3, T, H, W]`` in [-1, 1]."""
        for name in self._order:
            x = self._modules[name](x)
        return x

    def forward(
        self, x: torch.Tensor, rescale: bool = False, resize: bool = False, return_features: bool = True
    ) -> torch.Tensor:
        """Kinetics-400 logits (``return_features``) or class probabilities.

        Args:
            x: videos ``[B, 3, T, H, W]``, values in [-1, 1], or in [0, 255] with ``rescale``.
            rescale: map [0, 255] to [-1, 1] first (``x / 127.5 - 1``).
            resize: resize every frame to 224 x 224 first (bilinear, ``align_corners=False``).
            return_features: return the 400 logits averaged over time (the FVD features);
                otherwise their softmax.
        Returns:
            ``[B, num_classes]`` float tensor.
        """
        if x.ndim != 5 or x.shape[1] != 3:
            raise InputError("I3D input", "shape", "a [B, 3, T, H, W] tensor", got=tuple(x.shape))
        if x.shape[2] < MIN_I3D_FRAMES:
            raise InputError("I3D input", "frames", f"at least {MIN_I3D_FRAMES} frames", got=x.shape[2])
        x = x.float()
        if rescale:
            x = x / 127.5 - 1.0
        if resize:
            x = F.interpolate(x, size=(x.shape[2], I3D_SIZE, I3D_SIZE), mode="trilinear", align_corners=False)
        h = self.features(x)
        # Average a temporal window of 2 (stride 1) and the whole remaining spatial grid: at the
        # 224 x 224 input this is exactly the reference 2x7x7 average pool; smaller inputs still work.
        h = F.avg_pool3d(h, kernel_size=(2, h.shape[3], h.shape[4]), stride=1)
        logits = self.logits(self.dropout(h)).flatten(3).mean(dim=3).mean(dim=2)  # [B, classes]
        return logits if return_features else logits.softmax(dim=1)
