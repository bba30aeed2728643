"""Paired thermal/visible folders, the fixed validation split, augmentation.

Layout (RoadScene's, and what the other datasets become):

    DATA/ir/NAME.jpg   thermal, 8-bit grey (or 16-bit PNG/TIFF: the engine's AGC is applied)
    DATA/vi/NAME.jpg   visible, colour, same NAME, any resolution: resized onto the ir grid

KAIST (set*/V*/lwir and /visible, same file names), LLVIP (infrared/ and
visible/, same names) and FLIR-aligned (JPEGImages/NAME_PreviewData.jpeg and
NAME_RGB.jpg) map onto it with symlinks; see Training/README.md.
"""
from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .agc import engine_input

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp")


@dataclass
class Pair:
    name: str
    thermal: np.ndarray   # [H, W] uint8, what the engine feeds the network
    visible: np.ndarray   # [H, W, 3] uint8 on the thermal grid


def list_pairs(root: Path) -> list[str]:
    """Names present in both ir/ and vi/, sorted. Missing folders are one clear error."""
    root = Path(root)
    for sub in ("ir", "vi"):
        if not (root / sub).is_dir():
            raise FileNotFoundError(f"{root}: no {sub}/ folder (expected ir/ and vi/ with matching file names)")
    ir = {p.stem: p.name for p in (root / "ir").iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}
    vi = {p.stem for p in (root / "vi").iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}
    names = sorted(ir[stem] for stem in ir if stem in vi)
    if not names:
        raise FileNotFoundError(f"{root}: no names common to ir/ and vi/")
    return names


def _find(folder: Path, name: str) -> Path:
    exact = folder / name
    if exact.exists():
        return exact
    stem = Path(name).stem
    for path in folder.iterdir():
        if path.stem == stem:
            return path
    raise FileNotFoundError(f"{folder}: no image named {stem}")


def load_thermal(path: Path, agc_mode: str = "linear") -> np.ndarray:
    image = Image.open(path)
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        return engine_input(np.asarray(image).astype(np.uint16), agc_mode)
    return np.asarray(image.convert("L"))


def resize_rgb(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bilinear, half-pixel centres, no antialiasing: the engine's convention."""
    import torch
    import torch.nn.functional as F
    tensor = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float()
    if rgb.shape[0] != height or rgb.shape[1] != width:
        # The visible images are ~2.8x larger: average first so the resize does not alias.
        factor = max(1, int(min(rgb.shape[0] / height, rgb.shape[1] / width)))
        if factor > 1:
            tensor = F.avg_pool2d(tensor, factor, factor)
        tensor = F.interpolate(tensor, size=(height, width), mode="bilinear", align_corners=False)
    return tensor[0].permute(1, 2, 0).round().clamp(0, 255).byte().numpy()


def load_pair(root: Path, name: str) -> Pair:
    root = Path(root)
    thermal = load_thermal(_find(root / "ir", name))
    visible = np.asarray(Image.open(_find(root / "vi", name)).convert("RGB"))
    height, width = thermal.shape
    return Pair(name, thermal, resize_rgb(visible, width, height))


def make_split(names: list[str], fraction: float = 0.2, seed: int = 11) -> list[str]:
    """A fixed, seeded choice of validation names (committed as splits/*.txt)."""
    chosen = sorted(names)
    random.Random(seed).shuffle(chosen)
    return sorted(chosen[: max(1, round(fraction * len(chosen)))])


def read_split(path: Path) -> list[str]:
    return [line.strip() for line in Path(path).read_text().splitlines() if line.strip() and not line.startswith("#")]


def split_names(root: Path, split_file: Path | None) -> tuple[list[str], list[str]]:
    """(train, validation) names; validation names never reach training."""
    names = list_pairs(root)
    validation = read_split(split_file) if split_file and Path(split_file).exists() else make_split(names)
    missing = sorted(set(validation) - set(names))
    if missing:
        raise ValueError(f"split names {missing[:3]} are not pairs in {root}")
    held = set(validation)
    return [n for n in names if n not in held], sorted(held)


def stable_seed(*parts) -> int:
    return int.from_bytes(hashlib.sha256("/".join(map(str, parts)).encode()).digest()[:4], "little")


class Augmenter:
    """Flips, small rotations and scales, crops, thermal gain/contrast jitter.

    Geometry is applied to both images identically; the jitter only to the
    thermal input (the target stays the real visible picture).
    """

    def __init__(self, width: int, height: int, rotation: float = 5.0, scale: tuple[float, float] = (0.85, 1.2),
                 gain: float = 0.15, contrast: float = 0.2, seed: int = 0):
        self.width, self.height = width, height
        self.rotation, self.scale, self.gain, self.contrast = rotation, scale, gain, contrast
        self.random = random.Random(seed)

    def __call__(self, pair: Pair) -> tuple[np.ndarray, np.ndarray]:
        import torch
        import torch.nn.functional as F
        r = self.random
        thermal = torch.from_numpy(pair.thermal.astype(np.float32) / 255)[None]
        visible = torch.from_numpy(pair.visible.astype(np.float32) / 255).permute(2, 0, 1)
        stack = torch.cat([thermal, visible])[None]
        h, w = pair.thermal.shape
        # Pixel-space affine from the output crop to the input: scale (at
        # least enough to fill the crop), rotation, flip, then a random shift
        # that keeps the rotated crop inside the frame where there is room.
        base = max(self.height / h, self.width / w)
        scale = base * r.uniform(*self.scale)
        scale = max(scale, base)
        angle = math.radians(r.uniform(-self.rotation, self.rotation))
        flip = -1.0 if r.random() < 0.5 else 1.0
        cos, sin = math.cos(angle), math.sin(angle)
        out_h, out_w = self.height, self.width
        half_w, half_h = out_w / 2 / scale, out_h / 2 / scale
        extent_x = abs(cos) * half_w + abs(sin) * half_h
        extent_y = abs(sin) * half_w + abs(cos) * half_h
        room_x, room_y = max(0.0, w / 2 - extent_x), max(0.0, h / 2 - extent_y)
        cx, cy = r.uniform(-room_x, room_x), r.uniform(-room_y, room_y)
        theta = torch.tensor([[flip * cos * half_w / (w / 2), -sin * half_h / (w / 2), cx / (w / 2)],
                              [flip * sin * half_w / (h / 2), cos * half_h / (h / 2), cy / (h / 2)]],
                             dtype=torch.float32)
        grid = F.affine_grid(theta[None], (1, 4, out_h, out_w), align_corners=False)
        warped = F.grid_sample(stack, grid, mode="bilinear", padding_mode="reflection", align_corners=False)[0]
        thermal, visible = warped[:1], warped[1:]
        # Gain and contrast jitter around the frame's mean, then 8-bit like the engine's input.
        mean = thermal.mean()
        contrast = 1 + r.uniform(-self.contrast, self.contrast)
        offset = r.uniform(-self.gain, self.gain) * 0.5
        thermal = ((thermal - mean) * contrast + mean + offset).clamp(0, 1)
        thermal = torch.round(thermal * 255) / 255
        return thermal.numpy(), visible.clamp(0, 1).numpy()


def fit_to(pair: Pair, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """The whole pair resized to width x height (evaluation at a fixed size)."""
    import torch
    import torch.nn.functional as F
    t = torch.from_numpy(pair.thermal.astype(np.float32) / 255)[None, None]
    v = torch.from_numpy(pair.visible.astype(np.float32) / 255).permute(2, 0, 1)[None]
    t = F.interpolate(t, size=(height, width), mode="bilinear", align_corners=False)
    v = F.interpolate(v, size=(height, width), mode="bilinear", align_corners=False)
    return t[0].numpy(), v[0].numpy()
