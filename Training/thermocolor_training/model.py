"""The colouriser: a small CMMF-Net-style network (Jiang et al., 2025).

thermal [N,1,H,W] (any size, 0-1 after the engine's AGC) and a text vector
[1 or N, D] in; sRGB [N,3,H,W] at the input's own resolution out.

- The frame is resized to a fixed working size (`size`).
- A convolutional stem gives skip features at 1/2, 1/4 and 1/8.
- A patch-embedding transformer encoder (16x16 patches plus the stem's 1/8
  features) runs over the frame; every block lets the image tokens attend to
  the text (cross-attention to a few tokens made from the text vector).
- A U-Net decoder with FiLM modulation by the text goes back up to half
  the working size through the stem's skips.
- Guided upsampling keeps the structure sharp at video resolution: the
  decoder predicts, per pixel at half the working size, a local linear model
  (gain, offset) for each of L*, a*, b* as functions of the thermal value.
  The coefficients are resized to the input's resolution and applied to the
  full-resolution thermal frame, so edges come from the frame itself, and
  the network can still choose the lightness (the visible image's sky is
  bright where the thermal one is dark). The local models are corrections
  to a global one fitted before training (a polynomial grey -> Lab, the
  lookup-table baseline smoothed), so training starts at the baseline.
- Lab -> sRGB (the engine's own constants) happens inside the network, so
  the bundle's output is the final picture (`"output": "rgb"`).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .color import lab_to_rgb_packed, rgb_to_lab

PRIOR_DEGREE = 5


def fit_prior(pairs, degree: int = PRIOR_DEGREE) -> np.ndarray:
    """[3, degree+1] least-squares polynomial grey level -> (L*, a*, b*) over the training pixels."""
    sums, counts = np.zeros((256, 3)), np.zeros(256)
    for p in pairs:
        lab = rgb_to_lab(p.visible.astype(np.float64) / 255).reshape(-1, 3)
        grey = p.thermal.ravel()
        counts += np.bincount(grey, minlength=256)
        for c in range(3):
            sums[:, c] += np.bincount(grey, weights=lab[:, c], minlength=256)
    used = counts > 0
    levels = np.arange(256)[used] / 255
    means = sums[used] / counts[used, None]
    weights = np.sqrt(counts[used])
    return np.stack([np.polynomial.polynomial.polyfit(levels, means[:, c], degree, w=weights) for c in range(3)])


def conv_block(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    # BatchNorm folds into the convolutions at export; GroupNorm is slow on CPU.
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.SiLU(),
        nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.SiLU())


class Block(nn.Module):
    """Pre-norm transformer block: self-attention, cross-attention to text, MLP."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attend = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.cross = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(dim, dim * 2), nn.GELU(), nn.Linear(dim * 2, dim))

    def forward(self, tokens: torch.Tensor, text_tokens: torch.Tensor) -> torch.Tensor:
        x = self.norm1(tokens)
        tokens = tokens + self.attend(x, x, x, need_weights=False)[0]
        tokens = tokens + self.cross(self.norm2(tokens), text_tokens, text_tokens, need_weights=False)[0]
        return tokens + self.mlp(self.norm3(tokens))


class Film(nn.Module):
    def __init__(self, text_dim: int, channels: int):
        super().__init__()
        self.project = nn.Linear(text_dim, 2 * channels)
        nn.init.zeros_(self.project.weight)
        nn.init.zeros_(self.project.bias)

    def forward(self, features: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        scale, shift = self.project(text)[:, :, None, None].chunk(2, dim=1)
        return features * (1 + scale) + shift


class Up(nn.Module):
    def __init__(self, cin: int, skip: int, cout: int, text_dim: int):
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(cin + skip, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.SiLU())
        self.film = Film(text_dim, cout)

    def forward(self, x, skip, text):
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.film(self.block(torch.cat([x, skip], 1)), text)


# Picks the gains (first three channels) and the offsets (last three) out of
# the resized [gains, offsets] tensor as two fixed 1x1 convolutions: OpenVINO
# runs those vectorised, where a channel split of a blocked tensor is a scalar
# copy over the whole frame.
_PICK_GAINS = torch.eye(6)[:3, :, None, None]
_PICK_OFFSETS = torch.eye(6)[3:, :, None, None]


def guided_lab(coefficients: torch.Tensor, prior: torch.Tensor, thermal: torch.Tensor) -> torch.Tensor:
    """Local linear models in the thermal value, applied to the full-resolution frame.

    coefficients: [N,6,h,w] gain and offset corrections (interleaved: L* gain,
    L* offset, a* gain, ...) at a low resolution; prior: [3,K+1] polynomial
    coefficients for L*, a*, b*, lowest power first; thermal: [N,1,H,W].
    Returns Lab [N,3,H,W], L* clamped to 0-100.
    """
    # Everything that can happen at the low resolution does: the prior's
    # constant and linear terms join the local offset and gain there
    # (bilinear resizing keeps a constant), and gains and offsets are resized
    # in one pass. At video size only that resize, Horner's rule for the
    # prior's higher powers and one multiply-add remain.
    gain = coefficients[:, 0::2] + prior[:, 1].view(1, 3, 1, 1)
    offset = coefficients[:, 1::2] + prior[:, 0].view(1, 3, 1, 1)
    both = F.interpolate(torch.cat([gain, offset], 1), size=thermal.shape[-2:], mode="bilinear",
                         align_corners=False)
    gain = F.conv2d(both, _PICK_GAINS.to(both))
    offset = F.conv2d(both, _PICK_OFFSETS.to(both))
    higher = prior[:, -1].view(1, 3, 1, 1) * thermal
    for power in range(prior.shape[1] - 2, 1, -1):
        higher = (higher + prior[:, power].view(1, 3, 1, 1)) * thermal
    lab = (higher + gain) * thermal + offset
    low = torch.tensor([0.0, -1e4, -1e4], dtype=lab.dtype, device=lab.device).view(1, 3, 1, 1)
    high = torch.tensor([100.0, 1e4, 1e4], dtype=lab.dtype, device=lab.device).view(1, 3, 1, 1)
    return torch.minimum(torch.maximum(lab, low), high)


class Colorizer(nn.Module):
    def __init__(self, size: tuple[int, int] = (256, 192), text_dim: int = 384, width: int = 16,
                 dim: int = 128, depth: int = 3, heads: int = 4, text_tokens: int = 4, patch: int = 16):
        super().__init__()
        self.size = tuple(size)  # (width, height)
        w, h = self.size
        if w % patch or h % patch:
            raise ValueError(f"working size {w}x{h} must be a multiple of the patch size {patch}")
        self.text_dim, self.patch, self.text_count = text_dim, patch, text_tokens
        c = width
        self.stem2 = conv_block(1, 2 * c, 2)       # 1/2
        self.stem3 = conv_block(2 * c, 4 * c, 2)   # 1/4
        self.stem4 = conv_block(4 * c, 6 * c, 2)   # 1/8
        self.patch_embed = nn.Conv2d(1, dim, patch, patch)
        self.stem_embed = nn.Conv2d(6 * c, dim, 2, 2)
        self.position = nn.Parameter(torch.zeros(1, (h // patch) * (w // patch), dim))
        nn.init.trunc_normal_(self.position, std=0.02)
        self.text_project = nn.Sequential(nn.Linear(text_dim, dim * text_tokens), nn.GELU())
        self.text_norm = nn.LayerNorm(dim)
        self.blocks = nn.ModuleList(Block(dim, heads) for _ in range(depth))
        self.token_norm = nn.LayerNorm(dim)
        self.up4 = Up(dim, 6 * c, 6 * c, text_dim)
        self.up3 = Up(6 * c, 4 * c, 4 * c, text_dim)
        self.up2 = Up(4 * c, 2 * c, 2 * c, text_dim)
        self.head = nn.Conv2d(2 * c, 6, 3, 1, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        # A per-channel polynomial in the thermal value, fitted to the training
        # pairs before training (the grey->Lab lookup-table baseline, smoothed):
        # the network starts from the baseline and learns what it misses.
        self.register_buffer("prior", torch.zeros(3, PRIOR_DEGREE + 1))
        self.prior[0, 1] = 100.0  # until fitted: lightness = thermal, no colour

    def set_prior(self, coefficients) -> None:
        """[3, PRIOR_DEGREE + 1] polynomial coefficients, lowest power first, for L*, a*, b*."""
        self.prior.copy_(torch.as_tensor(coefficients, dtype=self.prior.dtype))

    def coefficients(self, thermal: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """[N,6,h/2,w/2] at half the working size: gain and offset corrections for L*, a*, b* (Lab units)."""
        w, h = self.size
        n = thermal.shape[0]
        text = text.expand(n, -1) if text.shape[0] == 1 else text
        small = F.interpolate(thermal, size=(h, w), mode="bilinear", align_corners=False)
        s2 = self.stem2(small)
        s3 = self.stem3(s2)
        s4 = self.stem4(s3)
        tokens = self.patch_embed(small) + self.stem_embed(s4)
        grid = tokens.shape[-2:]
        tokens = tokens.flatten(2).transpose(1, 2) + self.position
        text_tokens = self.text_norm(self.text_project(text).view(n, self.text_count, -1))
        for block in self.blocks:
            tokens = block(tokens, text_tokens)
        x = self.token_norm(tokens).transpose(1, 2).reshape(n, -1, grid[0], grid[1])
        x = self.up4(x, s4, text)
        x = self.up3(x, s3, text)
        x = self.up2(x, s2, text)
        raw = self.head(x)
        # Corrections to the prior: zero at the start.
        scale = torch.tensor([100.0, 50, 60, 60, 60, 60], dtype=raw.dtype, device=raw.device).view(1, 6, 1, 1)
        return scale * raw

    def lab(self, thermal: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """[N,3,H,W] Lab at the input's resolution."""
        coefficients = self.coefficients(thermal, text)
        self.last_coefficients = coefficients  # for the smoothness term while training
        return guided_lab(coefficients, self.prior, thermal)

    def forward(self, thermal: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        return lab_to_rgb_packed(self.lab(thermal, text))
