"""The reference-driven colouriser (after Zhan et al., Infrared Physics &
Technology 145, 2024): colour for a thermal frame taken from a colour
picture of a similar scene.

thermal [N,1,H,W] (0-1 after the engine's AGC, any size) and reference
[N,3,H,W] (sRGB 0-1, any size; the engine resizes it to the video size) in;
sRGB [N,3,H,W] at the thermal frame's own resolution out.

- Both images are resized to the working size (`size`); the reference is
  converted to Lab inside the network.
- Dual encoder: one convolutional encoder for the thermal image, one for the
  reference (strides 2, 4, 8), no shared weights.
- Multi-receptive-field feature integration: parallel 3x3 convolutions with
  dilations 1, 2 and 4 and a 1x1 branch over the 1/8 features of both
  encoders, merged by a 1x1 convolution (a residual).
- Channel-spatial feature enhancement: channel attention (pooled statistics
  through a bottleneck) then spatial attention (a 7x7 convolution over the
  channel mean and maximum), each a multiplicative gate.
- Stop-gradient attention aligns the reference to the thermal image: every
  thermal position (query) attends over the reference positions (keys);
  the keys' gradient is stopped, so the similarity only trains the thermal
  side to find the reference's features and cannot pull the reference
  encoder towards the thermal one (the collapse where everything matches
  everything). The attended values are the reference's features and its
  Lab chroma, so colour lands where the thermal image looks like the
  reference.
- A pooled code of the whole reference modulates the decoder (FiLM), which
  carries the reference's overall palette when no single region matches;
  the chroma starts from the reference's mean a*, b* and the network learns
  where to depart from it.
- The decoder goes up to half the working size through the thermal skips and
  predicts, per pixel, a local linear model of L*, a*, b* in the thermal
  value (the training kit's guided upsampling, see model.py): applied to the
  full-resolution thermal frame, edges come from the frame itself. Lightness
  starts from the colouriser's fitted grey -> L* polynomial.
- Lab -> sRGB with the engine's constants happens inside the network
  (`"output": "rgb"`).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .color import lab_to_rgb_packed, rgb_to_lab_torch
from .model import PRIOR_DEGREE, Film, conv_block, guided_lab


def downscale(image: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """Bilinear to twice the size, then 2x2 averages: a cheap antialiased resize that exports to ONNX."""
    doubled = F.interpolate(image, size=(2 * height, 2 * width), mode="bilinear", align_corners=False)
    return F.avg_pool2d(doubled, 2, 2)


class MultiReceptiveField(nn.Module):
    """Parallel dilated 3x3 convolutions and a 1x1 branch, merged; residual."""

    def __init__(self, channels: int, dilations: tuple[int, ...] = (1, 2, 4)):
        super().__init__()
        branch = channels // 2
        self.branches = nn.ModuleList(
            nn.Sequential(nn.Conv2d(channels, branch, 3, 1, d, dilation=d, bias=False), nn.BatchNorm2d(branch), nn.SiLU())
            for d in dilations)
        self.point = nn.Sequential(nn.Conv2d(channels, branch, 1, bias=False), nn.BatchNorm2d(branch), nn.SiLU())
        self.merge = nn.Sequential(nn.Conv2d(branch * (len(dilations) + 1), channels, 1, bias=False),
                                   nn.BatchNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = [b(x) for b in self.branches] + [self.point(x)]
        return F.silu(x + self.merge(torch.cat(parts, 1)))


class ChannelSpatialEnhancement(nn.Module):
    """Channel attention, then spatial attention (CBAM-style gates)."""

    def __init__(self, channels: int, reduction: int = 4):
        super().__init__()
        hidden = max(8, channels // reduction)
        self.channel = nn.Sequential(nn.Conv2d(channels, hidden, 1), nn.SiLU(), nn.Conv2d(hidden, channels, 1))
        self.spatial = nn.Conv2d(2, 1, 7, 1, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=(2, 3), keepdim=True)
        peak = x.amax(dim=(2, 3), keepdim=True)
        x = x * torch.sigmoid(self.channel(mean) + self.channel(peak))
        pooled = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], 1)
        return x * torch.sigmoid(self.spatial(pooled))


class StopGradientAttention(nn.Module):
    """Thermal queries over reference keys, with the keys' gradient stopped.

    Returns the reference's values (features and chroma) rearranged onto
    the thermal grid, and the attention's confidence (the largest weight).
    """

    def __init__(self, thermal_channels: int, reference_channels: int, dim: int = 64):
        super().__init__()
        self.query = nn.Conv2d(thermal_channels, dim, 1)
        self.key = nn.Conv2d(reference_channels, dim, 1)
        self.temperature = nn.Parameter(torch.tensor(0.1).log())

    def forward(self, thermal: torch.Tensor, reference: torch.Tensor, values: torch.Tensor):
        n, _, h, w = thermal.shape
        q = F.normalize(self.query(thermal).flatten(2), dim=1)               # [N,d,HW]
        k = F.normalize(self.key(reference.detach()).flatten(2), dim=1).detach()
        similarity = torch.einsum("ndq,ndk->nqk", q, k) / self.temperature.exp().clamp(min=0.01)
        weights = similarity.softmax(-1)                                    # [N,HWq,HWk]
        moved = torch.einsum("nqk,nck->ncq", weights, values.flatten(2))
        confidence = weights.amax(-1).view(n, 1, h, w)
        return moved.view(n, -1, h, w), confidence


class Up(nn.Module):
    def __init__(self, cin: int, skip: int, cout: int, code: int):
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(cin + skip, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.SiLU(),
                                   nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.SiLU())
        self.film = Film(code, cout)

    def forward(self, x, skip, code):
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.film(self.block(torch.cat([x, skip], 1)), code)


def encoder(cin: int, c: int) -> nn.ModuleList:
    return nn.ModuleList([conv_block(cin, 2 * c, 2), conv_block(2 * c, 4 * c, 2), conv_block(4 * c, 8 * c, 2)])


class ReferenceColorizer(nn.Module):
    def __init__(self, size: tuple[int, int] = (256, 192), width: int = 16, attention_dim: int = 64):
        super().__init__()
        self.size = tuple(size)  # (width, height)
        w, h = self.size
        if w % 8 or h % 8:
            raise ValueError(f"working size {w}x{h} must be a multiple of 8")
        c = width
        self.thermal_encoder = encoder(1, c)
        self.reference_encoder = encoder(3, c)
        self.thermal_mrf = MultiReceptiveField(8 * c)
        self.reference_mrf = MultiReceptiveField(8 * c)
        self.enhance = ChannelSpatialEnhancement(8 * c)
        self.align = StopGradientAttention(8 * c, 8 * c, attention_dim)
        code = 8 * c
        self.code = nn.Sequential(nn.Linear(2 * 8 * c + 6, code), nn.SiLU(), nn.Linear(code, code))
        # 1/8: thermal features, the aligned reference features and chroma, the confidence.
        self.merge = nn.Sequential(nn.Conv2d(8 * c + 8 * c + 2 + 1, 8 * c, 3, 1, 1, bias=False),
                                   nn.BatchNorm2d(8 * c), nn.SiLU())
        self.merge_film = Film(code, 8 * c)
        self.up3 = Up(8 * c, 4 * c, 4 * c, code)
        self.up2 = Up(4 * c, 2 * c, 2 * c, code)
        self.head = nn.Conv2d(2 * c, 6, 3, 1, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        # The colouriser's grey -> L* polynomial (model.py), fitted to the
        # training pairs before training; a* and b* rows stay zero, because
        # their start is the reference's own mean chroma.
        self.register_buffer("prior", torch.zeros(3, PRIOR_DEGREE + 1))
        self.prior[0, 1] = 100.0  # until fitted: lightness = thermal

    def set_prior(self, coefficients) -> None:
        """[3, PRIOR_DEGREE + 1] coefficients, lowest power first; only the L* row is used."""
        coefficients = torch.as_tensor(coefficients, dtype=self.prior.dtype).clone()
        coefficients[1:] = 0
        self.prior.copy_(coefficients)

    def coefficients(self, thermal: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        """[N,6,h/2,w/2]: gain and offset for L*, a*, b* (Lab units) at half the working size."""
        w, h = self.size
        t = F.interpolate(thermal, size=(h, w), mode="bilinear", align_corners=False)
        lab = rgb_to_lab_torch(downscale(reference, w, h))
        r = lab / torch.tensor([100.0, 110, 110], dtype=lab.dtype, device=lab.device).view(1, 3, 1, 1)
        skips = []
        for block in self.thermal_encoder:
            t = block(t)
            skips.append(t)
        for block in self.reference_encoder:
            r = block(r)
        t = self.enhance(self.thermal_mrf(t))
        r = self.reference_mrf(r)
        chroma = F.avg_pool2d(lab[:, 1:], 8, 8) / 110   # the working size is a multiple of 8
        moved, confidence = self.align(t, r, torch.cat([r, chroma], 1))
        # The reference's palette as a whole: pooled features and Lab mean and spread.
        flat = lab.flatten(2)
        stats = torch.cat([flat.mean(-1), flat.std(-1)], 1) / 100
        code = self.code(torch.cat([r.mean(dim=(2, 3)), r.amax(dim=(2, 3)), stats], 1))
        x = self.merge_film(self.merge(torch.cat([t, moved, confidence], 1)), code)
        x = self.up3(x, skips[1], code)
        x = self.up2(x, skips[0], code)
        raw = self.head(x)
        # Start from "lightness = the fitted grey -> L* polynomial, chroma =
        # the reference's mean chroma": an untrained network already lights
        # the scene like the lookup-table baseline and transfers the
        # reference's overall colour.
        mean_ab = flat[:, 1:].mean(-1)                                        # [N,2]
        zero = torch.zeros_like(mean_ab[:, :1])
        start = torch.cat([zero, zero, zero, mean_ab[:, :1], zero, mean_ab[:, 1:]], 1)[:, :, None, None]
        scale = torch.tensor([100.0, 50, 60, 60, 60, 60], dtype=raw.dtype, device=raw.device).view(1, 6, 1, 1)
        return start + scale * raw

    def lab(self, thermal: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        """[N,3,H,W] Lab at the thermal frame's resolution."""
        return guided_lab(self.coefficients(thermal, reference), self.prior, thermal)

    def forward(self, thermal: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        return lab_to_rgb_packed(self.lab(thermal, reference))
