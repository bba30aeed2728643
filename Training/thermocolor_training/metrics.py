"""Validation metrics on 8-bit RGB against the visible image on the thermal grid.

- PSNR over all three channels, peak 255
- SSIM: 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, on each RGB
  channel (0-255), averaged over channels
- CIE76 Delta E: mean Euclidean Lab distance
- Hasler-Suesstrunk colourfulness: sqrt(sd_rg^2 + sd_yb^2) + 0.3 sqrt(mu_rg^2 + mu_yb^2),
  rg = R - G, yb = (R + G)/2 - B, reported as output / visible
- sharpness: mean luma-gradient magnitude (central differences of
  Y = 0.299 R + 0.587 G + 0.114 B), reported as output / visible
"""
from __future__ import annotations

import numpy as np

from .color import rgb_to_lab


def psnr(output: np.ndarray, target: np.ndarray) -> float:
    mse = np.mean((output.astype(np.float64) - target.astype(np.float64)) ** 2)
    return float(10 * np.log10(255 ** 2 / max(mse, 1e-10)))


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    x = np.arange(size) - size // 2
    g = np.exp(-(x ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def _filter(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Separable 'valid' filtering of a 2-D image."""
    k = len(kernel)
    rows = sum(kernel[i] * image[i:image.shape[0] - k + 1 + i] for i in range(k))
    return sum(kernel[i] * rows[:, i:rows.shape[1] - k + 1 + i] for i in range(k))


def ssim(output: np.ndarray, target: np.ndarray) -> float:
    kernel = _gaussian_window()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    values = []
    for channel in range(output.shape[2]):
        x = output[..., channel].astype(np.float64)
        y = target[..., channel].astype(np.float64)
        mx, my = _filter(x, kernel), _filter(y, kernel)
        sxx = _filter(x * x, kernel) - mx * mx
        syy = _filter(y * y, kernel) - my * my
        sxy = _filter(x * y, kernel) - mx * my
        value = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
        values.append(value.mean())
    return float(np.mean(values))


def delta_e(output: np.ndarray, target: np.ndarray) -> float:
    a = rgb_to_lab(output.astype(np.float64) / 255)
    b = rgb_to_lab(target.astype(np.float64) / 255)
    return float(np.sqrt(((a - b) ** 2).sum(-1)).mean())


def colourfulness(image: np.ndarray) -> float:
    rgb = image.astype(np.float64)
    rg = rgb[..., 0] - rgb[..., 1]
    yb = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def gradient(image: np.ndarray) -> float:
    rgb = image.astype(np.float64)
    luma = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    gx = (luma[1:-1, 2:] - luma[1:-1, :-2]) / 2
    gy = (luma[2:, 1:-1] - luma[:-2, 1:-1]) / 2
    return float(np.hypot(gx, gy).mean())


def score(output: np.ndarray, target: np.ndarray) -> dict[str, float]:
    """All metrics for one image pair (uint8 [H,W,3] each)."""
    return {
        "psnr": psnr(output, target),
        "ssim": ssim(output, target),
        "delta_e": delta_e(output, target),
        "colourfulness": colourfulness(output),
        "colourfulness_visible": colourfulness(target),
        "gradient": gradient(output),
        "gradient_visible": gradient(target),
    }


def summarise(scores: list[dict[str, float]]) -> dict[str, float]:
    """Means, with the two ratios taken as ratio of means over the split."""
    mean = {key: float(np.mean([s[key] for s in scores])) for key in scores[0]}
    return {
        "psnr": mean["psnr"], "ssim": mean["ssim"], "delta_e": mean["delta_e"],
        "colourfulness_ratio": mean["colourfulness"] / mean["colourfulness_visible"],
        "gradient_ratio": mean["gradient"] / mean["gradient_visible"],
        "images": len(scores),
    }
