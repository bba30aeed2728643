"""Training of the reference colouriser and the text-guided fuser.

Both run in the kit's common loop (loop.py), as the colouriser does. Only
the training pairs of the split reach these functions.
"""
from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .color import lab_to_rgb_packed, rgb_to_lab, rgb_to_lab_torch
from .data import Augmenter, Pair
from .loop import Schedule, TrainingRun, setup_device

# --- references --------------------------------------------------------------


def descriptor(visible: np.ndarray) -> np.ndarray:
    """A simple scene descriptor: the image's Lab on a 4x3 grid, scaled to about -1..1."""
    t = torch.from_numpy(np.ascontiguousarray(visible)).permute(2, 0, 1)[None].float() / 255
    small = F.adaptive_avg_pool2d(t, (3, 4))[0].permute(1, 2, 0).numpy()
    lab = rgb_to_lab(small) / np.array([100.0, 50, 50])
    return lab.ravel()


def nearest_table(pairs: list[Pair], count: int = 5) -> list[list[int]]:
    """For each pair, the indices of the `count` other pairs with the closest descriptors."""
    count = min(count, len(pairs) - 1)
    d = np.stack([descriptor(p.visible) for p in pairs])
    distances = ((d[:, None] - d[None]) ** 2).sum(-1)
    np.fill_diagonal(distances, np.inf)
    return [list(np.argsort(row)[:count]) for row in distances]


def photometric(rgb: torch.Tensor, r: random.Random, strength: float = 1.0) -> torch.Tensor:
    """Brightness, contrast, saturation and gamma jitter of a [3,H,W] image 0-1."""
    s = strength
    rgb = rgb * (1 + r.uniform(-0.25, 0.25) * s)
    mean = rgb.mean()
    rgb = (rgb - mean) * (1 + r.uniform(-0.3, 0.3) * s) + mean
    grey = rgb.mean(0, keepdim=True)
    rgb = grey + (rgb - grey) * (1 + r.uniform(-0.4, 0.4) * s)
    rgb = rgb.clamp(0, 1) ** math.exp(r.uniform(-0.25, 0.25) * s)
    return rgb.clamp(0, 1)


def distorted_self(visible: np.ndarray, width: int, height: int, r: random.Random) -> torch.Tensor:
    """The pair's own visible image under strong geometric and photometric distortion."""
    v = torch.from_numpy(visible.astype(np.float32) / 255).permute(2, 0, 1)[None]
    angle = math.radians(r.uniform(-25, 25))
    zoom = r.uniform(0.45, 0.9)          # the crop covers this share of the frame
    flip = -1.0 if r.random() < 0.5 else 1.0
    cos, sin = math.cos(angle), math.sin(angle)
    shear = r.uniform(-0.2, 0.2)
    tx, ty = r.uniform(-1 + zoom, 1 - zoom), r.uniform(-1 + zoom, 1 - zoom)
    theta = torch.tensor([[flip * zoom * cos, zoom * (-sin + shear), tx],
                          [flip * zoom * sin, zoom * cos, ty]], dtype=torch.float32)
    grid = F.affine_grid(theta[None], (1, 3, height, width), align_corners=False)
    warped = F.grid_sample(v, grid, mode="bilinear", padding_mode="reflection", align_corners=False)[0]
    return photometric(warped, r, 1.0)


# With an arbitrary other pair's picture as the reference the right chroma is
# unknowable, and pressing for the visible image's saturation there teaches the
# network to paint the wrong scene's colours with confidence: those crops get a
# fraction of the chroma-deficit weight; nearest and distorted-self crops, where
# the reference does tell the colours, keep all of it.
RANDOM_REFERENCE_CHROMA = 0.5


class ReferencePicker:
    """Chooses each training crop's reference: a similar pair (nearest by
    descriptor), any other pair, or the pair itself under strong distortion."""

    def __init__(self, pairs: list[Pair], crop: tuple[int, int], seed: int = 0,
                 nearest: float = 0.45, other: float = 0.3):
        self.pairs = pairs
        self.index = {p.name: i for i, p in enumerate(pairs)}
        self.near = nearest_table(pairs) if len(pairs) > 1 else [[0]]
        self.crop = crop
        self.augment = Augmenter(crop[0], crop[1], rotation=10, scale=(0.9, 1.5), seed=seed + 7)
        self.random = random.Random(seed + 3)
        self.p_nearest, self.p_other = nearest, other

    def __call__(self, pair: Pair) -> tuple[torch.Tensor, str]:
        r = self.random
        i = self.index[pair.name]
        u = r.random()
        if len(self.pairs) > 1 and u < self.p_nearest + self.p_other:
            if u < self.p_nearest:
                j = int(r.choice(self.near[i]))
                kind = "nearest"
            else:
                j = r.choice([k for k in range(len(self.pairs)) if k != i])
                kind = "random"
            _, visible = self.augment(self.pairs[j])
            return photometric(torch.from_numpy(visible), r, 0.3), kind
        return distorted_self(pair.visible, self.crop[0], self.crop[1], r), "self"


# --- the reference colouriser -------------------------------------------------


def train_reference(pairs: list[Pair], out: Path, *, minutes: float | None = None, steps: int | None = None,
                    size=(256, 192), crop=(320, 240), batch: int = 6, lr: float = 2e-3, weights: dict | None = None,
                    model_kwargs: dict | None = None, seed: int = 0, threads: int | None = None,
                    device: str | None = None, log_every: int = 20, checkpoint_minutes: float = 5,
                    random_chroma: float = RANDOM_REFERENCE_CHROMA, log=print) -> dict:
    """Trains a ReferenceColorizer; writes out/model.pt, config.json, history.json.

    random_chroma scales the chroma-deficit term of crops whose reference is
    an arbitrary other pair (see RANDOM_REFERENCE_CHROMA)."""
    from .fusion_losses import ReferenceLoss
    from .losses import PatchDiscriminator, discriminator_step
    from .model import fit_prior
    from .reference_model import ReferenceColorizer
    device = setup_device(threads, seed, device)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model_kwargs = dict(model_kwargs or {})
    model = ReferenceColorizer(size=size, **model_kwargs)
    model.set_prior(fit_prior(pairs))
    model = model.to(device)
    loss_fn = ReferenceLoss(weights).to(device)
    disc = PatchDiscriminator().to(device) if loss_fn.weights["adversarial"] > 0 else None
    params = list(model.parameters()) + (list(loss_fn.nce.parameters()) if loss_fn.nce is not None else [])
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01, betas=(0.9, 0.99))
    opt_d = torch.optim.AdamW(disc.parameters(), lr=2e-4, betas=(0.5, 0.99)) if disc else None
    augment = Augmenter(crop[0], crop[1], seed=seed)
    picker = ReferencePicker(pairs, crop, seed=seed)
    rng = random.Random(seed + 1)
    config = {"kind": "reference-colorizer", "size": list(size), "crop": list(crop), "batch": batch, "lr": lr,
              "weights": loss_fn.weights, "random_chroma": random_chroma, "model": model_kwargs, "seed": seed,
              "minutes": minutes, "steps": steps, "pairs": [p.name for p in pairs]}
    run = TrainingRun(model, opt, Schedule(lr, minutes, steps), config, out, log_every=log_every,
                      checkpoint_minutes=checkpoint_minutes, log=log)
    kinds = {"nearest": 0, "random": 0, "self": 0}

    half = lambda x: F.interpolate(x, scale_factor=0.5, mode="bilinear", align_corners=False)
    while run.running():
        p = run.schedule.progress()
        thermal, visible, reference, chroma_scale = [], [], [], []
        for pair in (rng.choice(pairs) for _ in range(batch)):
            t, v = augment(pair)
            ref, kind = picker(pair)
            kinds[kind] += 1
            thermal.append(torch.from_numpy(t))
            visible.append(torch.from_numpy(v))
            reference.append(ref)
            chroma_scale.append(random_chroma if kind == "random" else 1.0)
        chroma_scale = torch.tensor(chroma_scale, device=device)
        thermal = torch.stack(thermal).to(device)
        visible = torch.stack(visible).to(device)
        reference = torch.stack(reference).to(device)
        model.train()
        lab = model.lab(thermal, reference)
        rgb = lab_to_rgb_packed(lab)
        adversarial = disc is not None and p > 0.2
        fake_logits = disc(half(thermal), half(rgb)) if adversarial else None
        loss, terms = loss_fn(lab, rgb, rgb_to_lab_torch(visible), visible, fake_logits, chroma_scale)
        run.optimise(loss)
        if adversarial:
            terms["discriminator"] = discriminator_step(disc, opt_d, half(thermal), half(visible), half(rgb.detach()))
        run.record(loss, terms, batch)
    return run.finish(f" (references: {kinds})", references=kinds)


# --- the text-guided fuser ----------------------------------------------------


def train_fuser(pairs: list[Pair], out: Path, *, minutes: float | None = None, steps: int | None = None,
                size=(256, 192), crop=(320, 240), batch: int = 6, lr: float = 2e-3, weights: dict | None = None,
                encode=None, model_kwargs: dict | None = None, seed: int = 0, threads: int | None = None,
                device: str | None = None, log_every: int = 20, checkpoint_minutes: float = 5, log=print) -> dict:
    """Trains a TextFuser with the unsupervised fusion losses; writes out/model.pt, config.json."""
    from . import fusion_prompts
    from .fuser_model import TextFuser
    from .fusion_losses import FusionLoss
    if encode is None:
        from .text import encode
    device = setup_device(threads, seed, device)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    prompts = fusion_prompts.training_prompts()
    vectors = torch.from_numpy(encode([text for text, _ in prompts]))
    model_kwargs = dict(model_kwargs or {})
    model = TextFuser(size=size, text_dim=vectors.shape[1], **model_kwargs).to(device)
    loss_fn = FusionLoss(weights)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, betas=(0.9, 0.99))
    augment = Augmenter(crop[0], crop[1], seed=seed)
    rng = random.Random(seed + 1)
    config = {"kind": "fuser", "size": list(size), "crop": list(crop), "batch": batch, "lr": lr,
              "weights": loss_fn.weights, "model": model_kwargs, "seed": seed, "minutes": minutes, "steps": steps,
              "pairs": [p.name for p in pairs], "prompts": prompts}
    run = TrainingRun(model, opt, Schedule(lr, minutes, steps), config, out, log_every=log_every,
                      checkpoint_minutes=checkpoint_minutes, log=log)

    while run.running():
        thermal, visible, text, balance = [], [], [], []
        for pair in (rng.choice(pairs) for _ in range(batch)):
            t, v = augment(pair)
            k = rng.randrange(len(prompts))
            thermal.append(torch.from_numpy(t))
            visible.append(torch.from_numpy(v))
            text.append(vectors[k])
            balance.append(prompts[k][1])
        thermal = torch.stack(thermal).to(device)
        visible = torch.stack(visible).to(device)
        text = torch.stack(text).to(device)
        balance = torch.tensor(balance, dtype=torch.float32, device=device)
        model.train()
        rgb, y, _ = model.fuse(thermal, visible, text, stretch=False)
        loss, terms = loss_fn(y, rgb, thermal, visible, balance)
        run.optimise(loss)
        run.record(loss, terms, batch)
    return run.finish()


def load_seed_model(checkpoint: Path):
    """(model in eval mode, saved dict) for a reference-colorizer or fuser checkpoint."""
    saved = torch.load(checkpoint, map_location="cpu", weights_only=False)
    config = saved["config"]
    if config["kind"] == "reference-colorizer":
        from .reference_model import ReferenceColorizer
        model = ReferenceColorizer(size=tuple(config["size"]), **config.get("model", {}))
    elif config["kind"] == "fuser":
        from .fuser_model import TextFuser
        model = TextFuser(size=tuple(config["size"]), **config.get("model", {}))
    else:
        raise ValueError(f"{checkpoint}: unknown model kind {config['kind']!r}")
    model.load_state_dict(saved["state"])
    return model.eval(), saved
