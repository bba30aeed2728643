"""sRGB <-> CIE Lab with scikit-image's constants (D65), in numpy and torch.

The engine joins an `ab` output with L = thermal / 255 * 100 and converts
Lab -> XYZ (D65 white 0.95047, 1, 1.08883) -> linear sRGB -> sRGB, clamping
(Sources/Inference/TensorImaging.swift). `lab_to_rgb_packed` is that same
conversion, so training losses see the picture the engine will show.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

WHITE = (0.95047, 1.0, 1.08883)
RGB_TO_XYZ = np.array([[0.412453, 0.357580, 0.180423],
                       [0.212671, 0.715160, 0.072169],
                       [0.019334, 0.119193, 0.950227]])
XYZ_TO_RGB = np.linalg.inv(RGB_TO_XYZ)
EPSILON = 0.008856
KAPPA = 7.787


def srgb_to_linear(rgb):
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(linear):
    linear = np.clip(linear, 0, 1)
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * np.power(linear, 1 / 2.4) - 0.055)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """[..., 3] sRGB 0-1 -> [..., 3] Lab."""
    xyz = srgb_to_linear(np.asarray(rgb, dtype=np.float64)) @ RGB_TO_XYZ.T / np.array(WHITE)
    f = np.where(xyz > EPSILON, np.cbrt(xyz), KAPPA * xyz + 16 / 116)
    lightness = np.where(xyz[..., 1] > EPSILON, 116 * f[..., 1] - 16, 903.3 * xyz[..., 1])
    return np.stack([lightness, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """[..., 3] Lab -> [..., 3] sRGB 0-1, out-of-gamut clamped."""
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    xyz = np.where(f > 0.2068966, f ** 3, (f - 16 / 116) / KAPPA) * np.array(WHITE)
    return np.clip(linear_to_srgb(xyz @ XYZ_TO_RGB.T), 0, 1)


# Lab -> (fx, fy, fz) is linear: one 3x3 matrix and an offset.
_LAB_TO_F = np.array([[1 / 116, 1 / 500, 0], [1 / 116, 0, 0], [1 / 116, 0, -1 / 200]])


def _fit_srgb_curve(degree: int = 4) -> np.ndarray:
    """Coefficients, lowest power first, of 1.055 u^(5/3) - 0.055 over u = x^(1/4), x in [0.0031308, 1].

    The fit is at most 0.03/255 from the exact curve (a test checks it).
    """
    u = np.linspace(0.0031308 ** 0.25, 1, 20001)
    return np.polynomial.polynomial.polyfit(u, 1.055 * u ** (5 / 3) - 0.055, degree)


_SRGB_CURVE = _fit_srgb_curve()


def lab_to_rgb_packed(lab: torch.Tensor) -> torch.Tensor:
    """Lab [N,3,H,W] -> sRGB [N,3,H,W] 0-1, differentiable.

    Written as two 3x3 channel mixes around elementwise curves, with no
    per-channel slicing or concatenation: in an exported network this runs
    at full video resolution, where every extra pass over the frame counts.
    The mixes are 1x1 convolutions, which OpenVINO runs vectorised in the
    frame's own layout; an einsum became a transpose and a matrix product.
    """
    to_f = torch.tensor(_LAB_TO_F, dtype=lab.dtype, device=lab.device)[:, :, None, None]
    f = F.conv2d(lab, to_f) + 16 / 116
    cube = torch.where(f > 0.2068966, f.clamp(min=0) ** 3, (f - 16 / 116) / KAPPA)
    # The D65 white scales XYZ's channels: fold it into the matrix's columns.
    matrix = torch.tensor(XYZ_TO_RGB * np.array(WHITE)[None, :], dtype=lab.dtype, device=lab.device)
    linear = F.conv2d(cube, matrix[:, :, None, None]).clamp(0, 1)
    # The sRGB curve 1.055 x^(1/2.4) - 0.055 as a polynomial in u = x^(1/4),
    # two square roots: OpenVINO's CPU plugin runs Sqrt and multiply-adds
    # vectorised and fused, but a fractional Power through scalar powf and
    # Log through a scalar reference kernel (0.9 ms per 640x512 frame). Below
    # 0.0031308 the curve is linear, which also keeps the gradient finite.
    u = torch.sqrt(torch.sqrt(linear.clamp(min=0.0031308)))
    curve = float(_SRGB_CURVE[-1]) * u
    for coefficient in _SRGB_CURVE[-2:0:-1]:
        curve = (curve + float(coefficient)) * u
    encoded = torch.where(linear <= 0.0031308, 12.92 * linear, curve + float(_SRGB_CURVE[0]))
    return encoded.clamp(0, 1)


def rgb_to_lab_torch(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB [N,3,H,W] 0-1 -> Lab [N,3,H,W], differentiable."""
    rgb = rgb.clamp(0, 1)
    linear = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055).clamp(min=1e-6) ** 2.4)
    matrix = torch.tensor(RGB_TO_XYZ, dtype=rgb.dtype, device=rgb.device)
    white = torch.tensor(WHITE, dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    xyz = torch.einsum("ij,njhw->nihw", matrix, linear) / white
    f = torch.where(xyz > EPSILON, xyz.clamp(min=EPSILON) ** (1 / 3), KAPPA * xyz + 16 / 116)
    lightness = torch.where(xyz[:, 1:2] > EPSILON, 116 * f[:, 1:2] - 16, 903.3 * xyz[:, 1:2])
    return torch.cat([lightness, 500 * (f[:, 0:1] - f[:, 1:2]), 200 * (f[:, 1:2] - f[:, 2:3])], dim=1)
