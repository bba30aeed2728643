"""Losses of the two seed networks that the colouriser's CompositeLoss lacks.

- ReferenceLoss: the colouriser's terms (losses.py: L1 on Lab, ab and RGB,
  SSIM, EfficientNet-Lite0 perceptual, per-pixel chroma deficit, a small
  hinge adversarial term from the kit's PatchGAN) and a PatchNCE contrastive term
  (Park et al., "Contrastive Learning for Unpaired Image-to-Image
  Translation", 2020): a feature of the output at one place must match the
  visible image's feature at the same place better than at the other
  sampled places. Features are the frozen EfficientNet-Lite0's (strides 8
  and 16) through small trained projection heads.
- FusionLoss: unsupervised fusion losses on the luma: intensity towards
  the brighter source, gradient magnitude towards the stronger source's,
  local contrast no lower than the more contrasted source's, SSIM to both
  sources, and the colour (chroma) of the visible image. A
  balance in [-1, 1] (from the prompt) moves the targets towards the
  thermal (+1) or the visible (-1) image.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .losses import DEFAULT_WEIGHTS, Perceptual, chroma_deficit, reconstruction_terms, ssim_loss

# Against the colouriser's weights: a stronger per-pixel chroma deficit and a
# weaker ab L1. With another scene's picture as the reference the L1 optimum is
# a hedged, washed-out chroma; a 100-step pilot scored colourfulness 0.38x the
# visible image's with the colouriser's weights.
REFERENCE_WEIGHTS = dict(DEFAULT_WEIGHTS, nce=0.1, chroma=4.0, l1_ab=1.5)


class PatchNCE(nn.Module):
    """InfoNCE over sampled positions of feature maps, one projection head per map."""

    def __init__(self, channels: list[int], dim: int = 128, patches: int = 64, temperature: float = 0.07):
        super().__init__()
        self.heads = nn.ModuleList(nn.Sequential(nn.Linear(c, dim), nn.ReLU(), nn.Linear(dim, dim)) for c in channels)
        self.patches, self.temperature = patches, temperature

    def forward(self, got: list[torch.Tensor], want: list[torch.Tensor]) -> torch.Tensor:
        total = 0.0
        for head, g, w in zip(self.heads, got, want):
            n, c, h, wd = g.shape
            count = min(self.patches, h * wd)
            index = torch.randperm(h * wd, device=g.device)[:count]
            q = F.normalize(head(g.flatten(2)[:, :, index].transpose(1, 2)), dim=-1)            # [N,P,d]
            k = F.normalize(head(w.detach().flatten(2)[:, :, index].transpose(1, 2)), dim=-1)
            logits = torch.bmm(q, k.transpose(1, 2)) / self.temperature                          # [N,P,P]
            target = torch.arange(count, device=g.device).expand(n, -1)
            total = total + F.cross_entropy(logits.flatten(0, 1), target.flatten())
        return total / len(self.heads)


class ReferenceLoss(nn.Module):
    # EfficientNet-Lite0 blocks 4 (stride 8, 40 channels) and 8 (stride 16, 112 channels).
    NCE_TAPS = (4, 8)

    def __init__(self, weights: dict | None = None):
        super().__init__()
        self.weights = dict(REFERENCE_WEIGHTS, **(weights or {}))
        w = self.weights
        self.perceptual = Perceptual() if (w["perceptual"] > 0 or w["nce"] > 0) else None
        self.nce = PatchNCE([40, 112]) if w["nce"] > 0 else None

    def forward(self, lab_out, rgb_out, lab_target, rgb_target, fake_logits=None, chroma_scale=None):
        """chroma_scale: [N] multipliers of each crop's chroma-deficit term (None: all 1)."""
        w = self.weights
        terms, rgb_small, target_small = reconstruction_terms(lab_out, rgb_out, lab_target, rgb_target)
        if self.perceptual is not None:
            got = self.perceptual.features(rgb_small)
            with torch.no_grad():
                want = self.perceptual.features(target_small)
            terms["perceptual"] = sum(F.l1_loss(g, t) for g, t in zip(got, want)) / len(got)
            if self.nce is not None:
                taps = sorted(self.perceptual.taps)
                pick = [taps.index(t) for t in self.NCE_TAPS]
                terms["nce"] = self.nce([got[i] for i in pick], [want[i] for i in pick])
        terms["l1_ab"] = F.l1_loss(lab_out[:, 1:] / 110, lab_target[:, 1:] / 110)
        if w["chroma"] > 0:
            terms["chroma"] = chroma_deficit(lab_out, lab_target, chroma_scale)
        if fake_logits is not None and w["adversarial"] > 0:
            terms["adversarial"] = -fake_logits.mean()
        total = sum(w[k] * v for k, v in terms.items())
        return total, {k: float(v.detach()) for k, v in terms.items()}


def sobel_magnitude(x: torch.Tensor) -> torch.Tensor:
    kx = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]], device=x.device, dtype=x.dtype)
    kernel = torch.stack([kx, kx.t()])[:, None]
    g = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), kernel)
    return g.abs().sum(1, keepdim=True)


# The gradient term weighs double the intensity: a 135-step pilot with weight 2
# kept less fine detail (spatial frequency 15.2 on the validation split) than the
# classic pyramid (15.4).
# The contrast term is a hinge: the fused luma's local standard deviation
# must not fall below the more contrasted source's. Without it the balanced
# prompt's picture averaged the two cameras' contrast away (SD 48.5 on the
# validation split, against the thermal image's own 53.7).
FUSION_WEIGHTS = {"intensity": 1.0, "gradient": 4.0, "ssim": 0.5, "colour": 1.0, "balance": 1.0, "contrast": 4.0}


def local_deviation(x: torch.Tensor, size: int = 9) -> torch.Tensor:
    """Standard deviation over a size x size window around each pixel."""
    mean = F.avg_pool2d(x, size, 1, size // 2, count_include_pad=False)
    square = F.avg_pool2d(x * x, size, 1, size // 2, count_include_pad=False)
    return (square - mean * mean).clamp(min=0).add(1e-6).sqrt()


class FusionLoss(nn.Module):
    def __init__(self, weights: dict | None = None):
        super().__init__()
        self.weights = dict(FUSION_WEIGHTS, **(weights or {}))

    def forward(self, fused_y, fused_rgb, thermal, visible, balance: torch.Tensor):
        """balance [N]: +1 thermal emphasis, 0 neutral, -1 the visible camera's look."""
        from .fuser_model import chroma, luma
        w = self.weights
        y_vi = luma(visible)
        b = balance.view(-1, 1, 1, 1)
        # Intensity: the brighter source; emphasis prompts add a pull towards one source.
        brighter = torch.maximum(thermal, y_vi)
        intensity = (fused_y - brighter).abs().mean(dim=(1, 2, 3))
        towards = torch.where(b > 0, thermal, y_vi)
        pull = (fused_y - towards).abs().mean(dim=(1, 2, 3)) * b.abs().view(-1)
        gradient = (sobel_magnitude(fused_y) - torch.maximum(sobel_magnitude(thermal), sobel_magnitude(y_vi))).abs()
        ssim_ir = torch.stack([ssim_loss(fused_y[i:i + 1], thermal[i:i + 1]) for i in range(len(b))])
        ssim_vi = torch.stack([ssim_loss(fused_y[i:i + 1], y_vi[i:i + 1]) for i in range(len(b))])
        share = 0.5 + 0.3 * b.view(-1)
        cb, cr = chroma(fused_rgb)
        vcb, vcr = chroma(visible)
        colour = ((cb - vcb).abs() + (cr - vcr).abs()).mean(dim=(1, 2, 3)) * (1 - 0.5 * b.view(-1).clamp(min=0))
        stronger = torch.maximum(local_deviation(thermal), local_deviation(y_vi))
        terms = {
            "intensity": intensity.mean(),
            "gradient": gradient.mean(),
            "contrast": F.relu(stronger - local_deviation(fused_y)).mean(),
            "ssim": (share * ssim_ir + (1 - share) * ssim_vi).mean(),
            "colour": colour.mean(),
            "balance": pull.mean(),
        }
        total = sum(w[k] * v for k, v in terms.items())
        return total, {k: float(v.detach()) for k, v in terms.items()}
