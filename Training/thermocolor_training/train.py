"""Training of the text-guided colouriser, in the kit's common loop (loop.py):
warm-up then cosine decay over the *wall-clock* budget (`--minutes`), or over
`--steps` when given (tests). The adversarial term starts after a fifth of
the run, once the colours have settled.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

import torch
import torch.nn.functional as F

from . import captions as captioning
from .color import lab_to_rgb_packed, rgb_to_lab_torch
from .data import Augmenter, Pair, stable_seed
from .loop import Schedule, TrainingRun, setup_device
from .losses import CompositeLoss, PatchDiscriminator, discriminator_step
from .model import Colorizer, fit_prior


def caption_table(pairs: list[Pair], per_image: int, encode, partial: bool = False):
    """Captions per pair (written to captions.json), the embeddings of each
    pair's full descriptions, of its partial ones (captions.partial_captions_for;
    empty unless `partial`), and the embeddings a dropped caption becomes."""
    full = {p.name: captioning.captions_for(p.visible, per_image, seed=stable_seed(p.name)) for p in pairs}
    short = {p.name: captioning.partial_captions_for(p.visible, per_image, seed=stable_seed(p.name)) if partial else []
             for p in pairs}
    uninformative = [captioning.EMPTY_PROMPT, captioning.DEFAULT_PROMPT]
    flat = sorted({t for v in (*full.values(), *short.values()) for t in v} | set(uninformative))
    vectors = dict(zip(flat, torch.from_numpy(encode(flat))))
    embed = lambda texts: {name: torch.stack([vectors[t] for t in v]) for name, v in texts.items() if v}
    texts = {name: full[name] + short[name] for name in full}
    return texts, embed(full), embed(short), torch.stack([vectors[t] for t in uninformative])


def train(pairs: list[Pair], out: Path, *, minutes: float | None = None, steps: int | None = None,
          size=(256, 192), crop=(320, 240), batch: int = 8, lr: float = 2e-3, weights: dict | None = None,
          caption_dropout: float = 0.15, captions_per_image: int = 8, encode=None, model_kwargs: dict | None = None,
          seed: int = 0, log_every: int = 20, threads: int | None = None, device: str | None = None,
          checkpoint_minutes: float = 10, init: Path | None = None, stop_after: float | None = None,
          adversarial_from: float = 0.2, dropped_chroma: float = 1.0, partial_captions: float = 0.0,
          shift_consistency: float = 0.0, log=print) -> dict:
    """Trains a Colorizer on `pairs`; writes out/model.pt and out/config.json. Returns the history.

    init: a checkpoint to start from (a second phase with other loss weights).
    stop_after: stop after this many minutes although the schedule is planned over `minutes`.
    dropped_chroma: scales the chroma-deficit term of crops whose caption was
    dropped. Their prompt says nothing about the scene, so the visible image's
    saturation there is a guess the network is pressed to make with confidence.
    partial_captions: the share of kept captions that leave out some of the
    scene's properties, so that a short prompt gets the network's best guess
    for what it does not say.
    shift_consistency: weight of a term that asks a crop's colour to stay put
    when the frame moves (see `shift_consistency_term`).
    """
    if encode is None:
        from .text import encode
    device = setup_device(threads, seed, device)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    texts, table, partial_table, uninformative = caption_table(pairs, captions_per_image, encode,
                                                               partial=partial_captions > 0)
    (out / "captions.json").write_text(json.dumps(texts, indent=1))
    model_kwargs = dict(model_kwargs or {})
    model = Colorizer(size=size, **model_kwargs)
    model.set_prior(fit_prior(pairs))
    if init is not None:
        saved = torch.load(init, map_location="cpu", weights_only=False)
        model.load_state_dict(saved["state"])
    model = model.to(device).to(memory_format=torch.channels_last)
    loss_fn = CompositeLoss(weights).to(device)
    disc = PatchDiscriminator().to(device) if loss_fn.weights["adversarial"] > 0 else None
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, betas=(0.9, 0.99))
    opt_d = torch.optim.AdamW(disc.parameters(), lr=2e-4, betas=(0.5, 0.99)) if disc else None
    augment = Augmenter(crop[0], crop[1], seed=seed)
    rng = random.Random(seed + 1)
    shift_rng = random.Random(seed + 2)
    config = {"size": list(size), "crop": list(crop), "batch": batch, "lr": lr, "weights": loss_fn.weights,
              "caption_dropout": caption_dropout, "model": model_kwargs, "seed": seed,
              "minutes": minutes, "steps": steps, "stop_after": stop_after, "dropped_chroma": dropped_chroma,
              "partial_captions": partial_captions, "shift_consistency": shift_consistency,
              "init": str(init) if init else None, "pairs": [p.name for p in pairs]}
    run = TrainingRun(model, opt, Schedule(lr, minutes, steps, warmup=100), config, out, log_every=log_every,
                      checkpoint_minutes=checkpoint_minutes, log=log, stop_after=stop_after)

    # The discriminator judges half-resolution pairs: colour, not the
    # thermal detail that the output carries by construction.
    half = lambda x: F.interpolate(x, scale_factor=0.5, mode="bilinear", align_corners=False)
    while run.running():
        p = run.schedule.progress()
        chosen = [rng.choice(pairs) for _ in range(batch)]
        thermal, visible, text, chroma_scale = [], [], [], []
        for pair in chosen:
            t, v = augment(pair)
            thermal.append(torch.from_numpy(t))
            visible.append(torch.from_numpy(v))
            # Dropped captions become the empty prompt or the bundle's default
            # one, which therefore says nothing about the scene: with either,
            # the network gives its best guess for any road scene.
            dropped = uninformative[rng.randrange(len(uninformative))]
            if rng.random() < caption_dropout:
                text.append(dropped)
                chroma_scale.append(dropped_chroma)
            else:
                shortened = partial_captions > 0 and rng.random() < partial_captions
                options = (partial_table if shortened else table)[pair.name]
                text.append(options[rng.randrange(len(options))])
                chroma_scale.append(1.0)
        thermal = torch.stack(thermal).to(device).contiguous(memory_format=torch.channels_last)
        visible = torch.stack(visible).to(device)
        text = torch.stack(text).to(device)
        lab_target = rgb_to_lab_torch(visible)

        model.train()
        lab = model.lab(thermal, text)
        rgb = lab_to_rgb_packed(lab)
        adversarial = disc is not None and p >= adversarial_from
        fake_logits = disc(half(thermal), half(rgb)) if adversarial else None
        loss, terms = loss_fn(lab, rgb, lab_target, visible, fake_logits, model.last_coefficients,
                              torch.tensor(chroma_scale, device=device))
        if shift_consistency > 0:
            shift = shift_consistency_term(model, thermal, text, lab, shift_rng)
            loss = loss + shift_consistency * shift
            terms["shift"] = float(shift.detach())
        run.optimise(loss)
        if adversarial:
            terms["discriminator"] = discriminator_step(disc, opt_d, half(thermal), half(visible), half(rgb.detach()))
        run.record(loss, terms, batch)
    return run.finish()


def shift_consistency_term(model, thermal, text, lab, rng: random.Random, crops: int = 2,
                           largest: int = 12) -> torch.Tensor:
    """Mean |ΔLab| (scaled to about 0-1) between the colour of the first
    `crops` crops and the colour of the same crops cut a few pixels in from a
    corner, on the part both show.

    The network sees the frame at its working size, so a frame moved by a few
    pixels falls differently on its patch grid and its context changes at
    the borders; a vehicle's camera pans all the time, and colour that
    changes more than the scene does is flicker. Cut on two sides only, the
    smaller frame is still a plausible frame.
    """
    dx, dy = rng.randint(2, largest), rng.randint(0, largest // 2)
    height, width = thermal.shape[-2:]
    left, top = rng.random() < 0.5, rng.random() < 0.5
    xs = slice(dx, width) if left else slice(0, width - dx)
    ys = slice(dy, height) if top else slice(0, height - dy)
    moved = model.lab(thermal[:crops, :, ys, xs].contiguous(memory_format=torch.channels_last), text[:crops])
    scale = torch.tensor([100.0, 110, 110], device=lab.device).view(1, 3, 1, 1)
    return (moved - lab[:crops, :, ys, xs]).abs().div(scale).mean()


def load_model(checkpoint: Path) -> tuple[Colorizer, dict]:
    saved = torch.load(checkpoint, map_location="cpu", weights_only=False)
    config = saved["config"]
    model = Colorizer(size=tuple(config["size"]), **config.get("model", {}))
    model.load_state_dict(saved["state"])
    return model.eval(), saved
