"""Training of the reference colouriser and the text-guided fuser.

Both follow the colouriser's schedule (train.py): warm-up then cosine decay
of the learning rate over a wall-clock budget (`minutes`) or a number of
steps (tests), an exponential moving average of the weights that is what
gets saved, and checkpoints every few minutes so an interrupted run keeps
its work. Only the training pairs of the split reach these functions.
"""
from __future__ import annotations

import copy
import json
import math
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .color import lab_to_rgb_torch, rgb_to_lab, rgb_to_lab_torch
from .data import Augmenter, Pair

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


# --- the common loop ----------------------------------------------------------


class Schedule:
    def __init__(self, lr: float, minutes: float | None, steps: int | None, warmup: int = 40):
        if (minutes is None) == (steps is None):
            raise ValueError("give exactly one of minutes or steps")
        self.lr, self.minutes, self.steps, self.warmup = lr, minutes, steps, warmup
        self.start = time.monotonic()
        self.step = 0

    def progress(self) -> float:
        if self.steps is not None:
            return self.step / self.steps
        return (time.monotonic() - self.start) / (60 * self.minutes)

    def rate(self) -> float:
        warm = min(1.0, (self.step + 1) / self.warmup)
        return self.lr * warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(self.progress(), 1))))

    def elapsed(self) -> float:
        return time.monotonic() - self.start


def update_ema(ema, model, step: int) -> None:
    with torch.no_grad():
        decay = min(0.998, (1 + step) / (10 + step))
        for e, m in zip(ema.parameters(), model.parameters()):
            e.lerp_(m, 1 - decay)
        for e, m in zip(ema.buffers(), model.buffers()):
            e.copy_(m)


def _setup(threads, seed, device):
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    random.seed(seed)
    return torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))


def _log_line(schedule, seen, history, terms, every, lr) -> str:
    recent = {k: np.mean([h.get(k, np.nan) for h in history[-every:]]) for k in terms}
    elapsed = schedule.elapsed()
    return (f"step {schedule.step} {elapsed / 60:.1f} min {seen / max(elapsed, 1e-6):.1f} img/s lr {lr:.2e} "
            + " ".join(f"{k} {v:.4f}" for k, v in recent.items()))


# --- the reference colouriser -------------------------------------------------


def train_reference(pairs: list[Pair], out: Path, *, minutes: float | None = None, steps: int | None = None,
                    size=(256, 192), crop=(320, 240), batch: int = 6, lr: float = 2e-3, weights: dict | None = None,
                    model_kwargs: dict | None = None, seed: int = 0, threads: int | None = None,
                    device: str | None = None, log_every: int = 20, checkpoint_minutes: float = 5, log=print) -> dict:
    """Trains a ReferenceColorizer; writes out/model.pt, config.json, history.json."""
    from .fusion_losses import ReferenceLoss
    from .losses import PatchDiscriminator, discriminator_step
    from .reference_model import ReferenceColorizer
    device = _setup(threads, seed, device)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model_kwargs = dict(model_kwargs or {})
    model = ReferenceColorizer(size=size, **model_kwargs).to(device)
    ema = copy.deepcopy(model).eval()
    loss_fn = ReferenceLoss(weights).to(device)
    disc = PatchDiscriminator().to(device) if loss_fn.weights["adversarial"] > 0 else None
    params = list(model.parameters()) + (list(loss_fn.nce.parameters()) if loss_fn.nce is not None else [])
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01, betas=(0.9, 0.99))
    opt_d = torch.optim.AdamW(disc.parameters(), lr=2e-4, betas=(0.5, 0.99)) if disc else None
    augment = Augmenter(crop[0], crop[1], seed=seed)
    picker = ReferencePicker(pairs, crop, seed=seed)
    rng = random.Random(seed + 1)
    config = {"kind": "reference-colorizer", "size": list(size), "crop": list(crop), "batch": batch, "lr": lr,
              "weights": loss_fn.weights, "model": model_kwargs, "seed": seed, "minutes": minutes, "steps": steps,
              "pairs": [p.name for p in pairs]}
    schedule = Schedule(lr, minutes, steps)
    history, seen, last_save = [], 0, time.monotonic()
    kinds = {"nearest": 0, "random": 0, "self": 0}

    def save():
        torch.save({"state": ema.state_dict(), "config": config, "step": schedule.step,
                    "seconds": schedule.elapsed()}, out / "model.pt")

    half = lambda x: F.interpolate(x, scale_factor=0.5, mode="bilinear", align_corners=False)
    while schedule.progress() < 1:
        p = schedule.progress()
        for group in opt.param_groups:
            group["lr"] = schedule.rate()
        thermal, visible, reference = [], [], []
        for pair in (rng.choice(pairs) for _ in range(batch)):
            t, v = augment(pair)
            ref, kind = picker(pair)
            kinds[kind] += 1
            thermal.append(torch.from_numpy(t))
            visible.append(torch.from_numpy(v))
            reference.append(ref)
        thermal = torch.stack(thermal).to(device)
        visible = torch.stack(visible).to(device)
        reference = torch.stack(reference).to(device)
        model.train()
        lab = model.lab(thermal, reference)
        rgb = lab_to_rgb_torch(lab[:, :1], lab[:, 1:])
        adversarial = disc is not None and p > 0.2
        fake_logits = disc(half(thermal), half(rgb)) if adversarial else None
        loss, terms = loss_fn(lab, rgb, rgb_to_lab_torch(visible), visible, fake_logits)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if adversarial:
            terms["discriminator"] = discriminator_step(disc, opt_d, half(thermal), half(visible), half(rgb.detach()))
        update_ema(ema, model, schedule.step)
        schedule.step += 1
        seen += batch
        terms["total"] = float(loss)
        history.append(terms)
        if schedule.step % log_every == 0 or schedule.step == 1:
            log(_log_line(schedule, seen, history, terms, log_every, opt.param_groups[0]["lr"]))
        if time.monotonic() - last_save > 60 * checkpoint_minutes:
            save()
            last_save = time.monotonic()
    config.update(seconds=schedule.elapsed(), steps_done=schedule.step, references=kinds)
    save()
    (out / "config.json").write_text(json.dumps(config, indent=1))
    (out / "history.json").write_text(json.dumps(history))
    log(f"trained {schedule.step} steps, {seen} crops, in {config['seconds'] / 60:.1f} min -> {out / 'model.pt'} "
        f"(references: {kinds})")
    return {"history": history, "model": ema, "config": config}


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
    device = _setup(threads, seed, device)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    prompts = fusion_prompts.training_prompts()
    vectors = torch.from_numpy(encode([text for text, _ in prompts]))
    model_kwargs = dict(model_kwargs or {})
    model = TextFuser(size=size, text_dim=vectors.shape[1], **model_kwargs).to(device)
    ema = copy.deepcopy(model).eval()
    loss_fn = FusionLoss(weights)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, betas=(0.9, 0.99))
    augment = Augmenter(crop[0], crop[1], seed=seed)
    rng = random.Random(seed + 1)
    config = {"kind": "fuser", "size": list(size), "crop": list(crop), "batch": batch, "lr": lr,
              "weights": loss_fn.weights, "model": model_kwargs, "seed": seed, "minutes": minutes, "steps": steps,
              "pairs": [p.name for p in pairs], "prompts": prompts}
    schedule = Schedule(lr, minutes, steps)
    history, seen, last_save = [], 0, time.monotonic()

    def save():
        torch.save({"state": ema.state_dict(), "config": config, "step": schedule.step,
                    "seconds": schedule.elapsed()}, out / "model.pt")

    while schedule.progress() < 1:
        for group in opt.param_groups:
            group["lr"] = schedule.rate()
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
        rgb, y, _ = model.fuse(thermal, visible, text)
        loss, terms = loss_fn(y, rgb, thermal, visible, balance)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        update_ema(ema, model, schedule.step)
        schedule.step += 1
        seen += batch
        terms["total"] = float(loss)
        history.append(terms)
        if schedule.step % log_every == 0 or schedule.step == 1:
            log(_log_line(schedule, seen, history, terms, log_every, opt.param_groups[0]["lr"]))
        if time.monotonic() - last_save > 60 * checkpoint_minutes:
            save()
            last_save = time.monotonic()
    config.update(seconds=schedule.elapsed(), steps_done=schedule.step)
    save()
    (out / "config.json").write_text(json.dumps(config, indent=1))
    (out / "history.json").write_text(json.dumps(history))
    log(f"trained {schedule.step} steps, {seen} crops, in {config['seconds'] / 60:.1f} min -> {out / 'model.pt'}")
    return {"history": history, "model": ema, "config": config}


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
