"""Validation: the model beside two baselines on the fixed validation split.

Baselines, fitted on the training pairs only:
- constant: every pixel the training images' mean RGB
- lookup table: 256 entries, grey level -> the mean RGB of training pixels
  whose thermal value is that level (empty levels interpolated)

Every image is scored at the thermal image's own resolution, against the
visible image resized onto the thermal grid (see metrics.py).
"""
from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import torch

from . import captions as captioning
from .metrics import score, summarise
from .color import rgb_to_lab


def fit_constant(pairs) -> np.ndarray:
    total = sum(p.visible.reshape(-1, 3).astype(np.float64).sum(0) for p in pairs)
    count = sum(p.visible.shape[0] * p.visible.shape[1] for p in pairs)
    return total / count


def fit_lookup_table(pairs) -> np.ndarray:
    sums = np.zeros((256, 3))
    counts = np.zeros(256)
    for p in pairs:
        grey = p.thermal.ravel()
        counts += np.bincount(grey, minlength=256)
        for c in range(3):
            sums[:, c] += np.bincount(grey, weights=p.visible[..., c].ravel().astype(np.float64), minlength=256)
    filled = counts > 0
    table = np.zeros((256, 3))
    levels = np.arange(256)
    for c in range(3):
        table[:, c] = np.interp(levels, levels[filled], sums[filled, c] / counts[filled])
    return table


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    return np.clip(np.floor(rgb + 0.5), 0, 255).astype(np.uint8)


class TorchColorizer:
    """The PyTorch model as a function of (thermal uint8 [H,W], embedding [D])."""

    def __init__(self, model):
        self.model = model.eval()

    @torch.no_grad()
    def __call__(self, thermal: np.ndarray, embedding: np.ndarray) -> np.ndarray:
        t = torch.from_numpy(thermal.astype(np.float32) / 255)[None, None]
        e = torch.from_numpy(np.asarray(embedding, dtype=np.float32))[None]
        rgb = self.model(t, e)[0].permute(1, 2, 0).numpy()
        return np.clip(np.floor(rgb * 255 + 0.5), 0, 255).astype(np.uint8)


def scene_descriptions(val_pairs) -> dict[str, str]:
    """Each validation image's description, the captioner's from its visible
    image: what a user who sees the scene would type as the prompt."""
    return {p.name: captioning.captions_for(p.visible, 1, seed=0)[0] for p in val_pairs}


SHORT_PROMPT_NAMES = ("time", "road", "sky", "vegetation", None)


def short_descriptions(val_pairs) -> dict[str, list[str]]:
    """Each validation image's short prompts: the subject with one of its true
    properties (time of day, road, sky, vegetation), and the bare subject.
    What a user types who names one thing about the scene, or none."""
    result = {}
    for p in val_pairs:
        props = captioning.measure(p.visible)
        result[p.name] = [captioning.describe(props, random.Random(i), frozenset(
            key for key in captioning.PROPERTIES if key != kept)) for i, kept in enumerate(SHORT_PROMPT_NAMES)]
    return result


def average_scene_embedding(train_pairs, encode, per_image: int = 8) -> np.ndarray:
    """The mean of the embeddings of the training images' full descriptions
    (`train`'s caption table, so the same wordings), scaled to unit length like the
    encoder's output: the network told the average training scene. Nobody
    types it; its row shows what a guess that hedges between day and night,
    blue and grey sky, buys in PSNR and costs in colour, where the default
    prompt's picture commits to one scene."""
    from .train import caption_table
    _, full, _, _ = caption_table(train_pairs, per_image, encode)
    mean = torch.cat(list(full.values())).double().mean(0).numpy()
    return (mean / np.linalg.norm(mean)).astype(np.float32)


def evaluate(colorize, train_pairs, val_pairs, embedding: np.ndarray, described: dict | None = None,
             short: dict | None = None, average: np.ndarray | None = None) -> dict:
    """described: image name -> the embedding of its description, for a second model row;
    short: image name -> the embeddings of its short prompts, for a third (all of them scored);
    average: the average training scene's embedding (average_scene_embedding), for a fourth."""
    constant = fit_constant(train_pairs)
    table = fit_lookup_table(train_pairs)
    results = {"constant": [], "lookup_table": [], "model": []} | ({"model_described": []} if described else {}) | (
        {"model_short": []} if short else {}) | ({"model_average_scene": []} if average is not None else {})
    outputs = {}
    for p in val_pairs:
        const = to_uint8(np.broadcast_to(constant, p.visible.shape))
        lut = to_uint8(table[p.thermal])
        out = colorize(p.thermal, embedding)
        outputs[p.name] = {"constant": const, "lookup_table": lut, "model": out}
        if described:
            outputs[p.name]["model_described"] = colorize(p.thermal, described[p.name])
        for key, image in outputs[p.name].items():
            results[key].append(score(image, p.visible))
        for vector in (short or {}).get(p.name, []):
            results["model_short"].append(score(colorize(p.thermal, vector), p.visible))
        if average is not None:
            results["model_average_scene"].append(score(colorize(p.thermal, average), p.visible))
    summary = {key: summarise(v) for key, v in results.items()}
    return {"summary": summary, "per_image": {k: v for k, v in results.items()}, "outputs": outputs,
            "constant_rgb": constant.tolist()}


def table_markdown(summary: dict) -> str:
    rows = ["| method | PSNR dB | SSIM | mean ΔE (CIE76) | colourfulness ÷ visible | gradient ÷ visible |",
            "| --- | ---: | ---: | ---: | ---: | ---: |"]
    names = {"constant": "constant colour (training mean RGB)", "lookup_table": "grey→RGB lookup table (256)",
             "model": "road-colorizer", "model_described": "road-colorizer, each scene described in the prompt",
             "model_short": "road-colorizer, short prompts (one true property named, or none)",
             "model_average_scene": "road-colorizer, told the average training scene (mean caption embedding)"}
    for key in ("constant", "lookup_table", "model", "model_described", "model_short", "model_average_scene"):
        if key not in summary:
            continue
        s = summary[key]
        rows.append(f"| {names.get(key, key)} | {s['psnr']:.2f} | {s['ssim']:.3f} | {s['delta_e']:.2f} | "
                    f"{s['colourfulness_ratio']:.2f} | {s['gradient_ratio']:.2f} |")
    return "\n".join(rows)


def contact_sheet(val_pairs, outputs: dict, path: Path, count: int = 6, tile_width: int = 240) -> None:
    """Rows of thermal | constant | lookup table | model | [model, scene described] | visible, labelled."""
    from PIL import Image, ImageDraw
    described = "model_described" in next(iter(outputs.values()))
    columns = ["thermal", "constant", "lookup table", "road-colorizer"] + (["scene described"] if described else []) + [
        "visible"]
    chosen = val_pairs[:: max(1, len(val_pairs) // count)][:count]
    tile_height = int(tile_width * 0.75)
    label = 18
    sheet = Image.new("RGB", (tile_width * len(columns), label + tile_height * len(chosen)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for i, name in enumerate(columns):
        draw.text((i * tile_width + 6, 3), name, fill=(0, 0, 0))
    for row, p in enumerate(chosen):
        o = outputs[p.name]
        tiles = [np.repeat(p.thermal[..., None], 3, 2), o["constant"], o["lookup_table"], o["model"]] + (
            [o["model_described"]] if described else []) + [p.visible]
        for col, tile in enumerate(tiles):
            image = Image.fromarray(tile).resize((tile_width, tile_height), Image.BILINEAR)
            sheet.paste(image, (col * tile_width, label + row * tile_height))
    sheet.save(path)


def prompt_steering(colorize, val_pairs, encode) -> dict:
    """Mean Lab shifts that sky and vegetation words cause on validation images.

    sky: b* in the top fifth of the frame (negative = bluer) with 'clear blue
    sky' minus with 'grey overcast sky'; vegetation: a* over the frame
    (negative = greener) with 'lush green trees' minus with 'dry brown grass'.
    """
    prompts = {
        "blue_sky": "a road on a bright sunny day under a clear blue sky",
        "grey_sky": "a road under a grey overcast sky",
        "green": "a road with lush green trees",
        "brown": "a road with dry brown grass",
    }
    vectors = dict(zip(prompts, encode(list(prompts.values()))))
    shifts = {"sky_b": [], "vegetation_a": []}
    for p in val_pairs:
        lab = {k: rgb_to_lab(colorize(p.thermal, v).astype(np.float64) / 255) for k, v in vectors.items()}
        top = slice(0, max(1, p.thermal.shape[0] // 5))
        shifts["sky_b"].append(float(lab["blue_sky"][top, :, 2].mean() - lab["grey_sky"][top, :, 2].mean()))
        shifts["vegetation_a"].append(float(lab["green"][..., 1].mean() - lab["brown"][..., 1].mean()))
    return {"prompts": prompts,
            "sky_b_blue_minus_grey": float(np.mean(shifts["sky_b"])),
            "sky_b_images_bluer": int(sum(s < 0 for s in shifts["sky_b"])),
            "vegetation_a_green_minus_brown": float(np.mean(shifts["vegetation_a"])),
            "vegetation_images_greener": int(sum(s < 0 for s in shifts["vegetation_a"])),
            "images": len(val_pairs)}


def chroma_change_ratio(thermal_frames: list[np.ndarray], rgb_frames: list[np.ndarray]) -> float:
    """A clip's frame-to-frame chroma change against what its input's own change explains.

    Both changes are measured in units of their own spatial spread, so the
    ratio needs nothing but the input and the output:

        (mean |Δ(a*, b*)| ÷ spread of (a*, b*)) ÷ (mean |Δ thermal| ÷ spread of thermal)

    where Δ is between consecutive frames, per pixel, and a spread is the
    clip's mean per-frame standard deviation (for chroma, of a* and b*
    together). Colour that changes while the input stays still raises it.
    A fixed but steep per-pixel mapping raises it too (sensor noise moves
    its colour), so `flicker` divides it by the lookup table's ratio on the
    same frames.
    """
    lab = [rgb_to_lab(f / 255.0)[..., 1:] for f in rgb_frames]
    grey = [f.astype(np.float64) for f in thermal_frames]
    chroma_change = np.mean([np.linalg.norm(b - a, axis=-1).mean() for a, b in zip(lab, lab[1:])])
    input_change = np.mean([np.abs(b - a).mean() for a, b in zip(grey, grey[1:])])
    chroma_spread = np.mean([np.sqrt(f[..., 0].var() + f[..., 1].var()) for f in lab])
    input_spread = np.mean([f.std() for f in grey])
    return float((chroma_change / max(chroma_spread, 1e-6)) / max(input_change / max(input_spread, 1e-6), 1e-9))


def synthetic_clip(width: int = 320, height: int = 256, frames: int = 12, seed: int = 0) -> list[np.ndarray]:
    """An 8-bit thermal clip made from nothing: a sky-to-road background, a
    cool tree line, warm figures walking across, sensor noise and a slow
    gain drift, as a live camera's frames look after gain control."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    background = 60 + 90 * (y / height) ** 1.5 + 6 * np.sin(x / 23.0) * (y > height * 0.55)
    background -= 25 * np.exp(-((y - height * 0.42) / (height * 0.06)) ** 2) * (1 + 0.3 * np.sin(x / 9.0))
    walkers = [(rng.uniform(0, width), rng.uniform(height * 0.5, height * 0.85), rng.choice([-3, -2, 2, 3]),
                rng.uniform(10, 18)) for _ in range(4)]
    clip = []
    for f in range(frames):
        frame = background.copy()
        for x0, y0, speed, size in walkers:
            cx = (x0 + speed * f) % width
            frame += 70 * np.exp(-(((x - cx) / (size * 0.45)) ** 2 + ((y - y0) / size) ** 2) ** 2)
        frame = frame * (1 + 0.004 * f) + rng.normal(0, 1.0, frame.shape)
        clip.append(np.clip(np.round(frame), 0, 255).astype(np.uint8))
    return clip


def flicker(colorize, val_pairs, embedding, table, frames: int = 8, step: int = 3) -> dict:
    """Frame-to-frame chroma change against what the input's own change explains.

    Validation clips: each pair becomes a clip, a window that pans `step`
    pixels per frame over both the thermal and the visible image. There the
    visible clip explains the change: flicker = the model's mean |Δ(a*, b*)|
    between consecutive frames ÷ the visible clip's. 1 means the colour
    moves only as the scene does.

    Every clip, and the synthetic one (`synthetic_clip`), which has no
    visible image, is also scored against the input alone: the model's
    `chroma_change_ratio` ÷ the lookup table's on the same frames. The lookup
    table's colour is a fixed function of each pixel's grey level, so all of
    its change is explained by the input's own; above 1, the model's colour
    changes more than that.

    And against the output's own motion: the clip's change ÷ the change of
    the whole frame's output moved by the same pan. 1: the colour moves
    exactly with the scene; above, the network colours a moved frame
    differently (its patch grid and the context at the borders move).
    """
    ratios, input_ratios, motion_ratios = [], [], []
    lookup = lambda t: to_uint8(table[t])
    explained = lambda clip, outputs: chroma_change_ratio(clip, outputs) / max(
        chroma_change_ratio(clip, [lookup(t) for t in clip]), 1e-9)
    for p in val_pairs:
        h, w = p.thermal.shape
        width = w - step * frames
        if width < w // 2:
            continue
        windows = [np.ascontiguousarray(p.thermal[:, f * step:f * step + width]) for f in range(frames)]
        outputs = [colorize(t, embedding) for t in windows]
        lab = [rgb_to_lab(o / 255.0)[..., 1:] for o in outputs]
        vis = [rgb_to_lab(p.visible[:, f * step:f * step + width] / 255.0)[..., 1:] for f in range(frames)]
        model_change = np.mean([np.linalg.norm(b - a, axis=-1).mean() for a, b in zip(lab, lab[1:])])
        visible_change = np.mean([np.linalg.norm(b - a, axis=-1).mean() for a, b in zip(vis, vis[1:])])
        ratios.append(model_change / max(visible_change, 1e-6))
        input_ratios.append(explained(windows, outputs))
        whole = rgb_to_lab(colorize(p.thermal, embedding) / 255.0)[..., 1:]
        moved = [whole[:, f * step:f * step + width] for f in range(frames)]
        motion_change = np.mean([np.linalg.norm(b - a, axis=-1).mean() for a, b in zip(moved, moved[1:])])
        motion_ratios.append(model_change / max(motion_change, 1e-6))
    clip = synthetic_clip()
    return {"flicker_ratio_mean": float(np.mean(ratios)), "flicker_ratio_max": float(np.max(ratios)),
            "clips": len(ratios), "frames": frames, "pixels_per_frame": step,
            "against_motion": {"validation_mean": float(np.mean(motion_ratios)),
                               "validation_max": float(np.max(motion_ratios))},
            "against_input": {"validation_mean": float(np.mean(input_ratios)),
                              "validation_max": float(np.max(input_ratios)),
                              "synthetic": float(explained(clip, [colorize(t, embedding) for t in clip])), "synthetic_frames": len(clip)}}


def cmd_evaluate(args):
    from .cli import load_split_pairs
    from .train import load_model
    from .text import encode
    train_pairs = load_split_pairs(args.data, args.split, "train")
    val_pairs = load_split_pairs(args.data, args.split, "validation")
    model, saved = load_model(args.checkpoint)
    torch.set_num_threads(args.threads or torch.get_num_threads())
    colorize = TorchColorizer(model)
    embedding = encode([args.prompt])[0]
    descriptions = scene_descriptions(val_pairs)
    vectors = dict(zip(descriptions, encode(list(descriptions.values()))))
    shorts = short_descriptions(val_pairs)
    # Many images share a short prompt ("a city street"): each text encoded once.
    texts = sorted({t for v in shorts.values() for t in v})
    encoded = dict(zip(texts, encode(texts)))
    short_vectors = {name: [encoded[t] for t in v] for name, v in shorts.items()}
    report = evaluate(colorize, train_pairs, val_pairs, embedding, vectors, short_vectors,
                      average_scene_embedding(train_pairs, encode))
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    summary = report["summary"]
    print(table_markdown(summary))
    contact_sheet(val_pairs, report["outputs"], out / "contact-sheet.png")
    result = {"prompt": args.prompt, "summary": summary, "validation_pairs": len(val_pairs),
              "training_seconds": saved.get("seconds"), "steps": saved.get("step"),
              "constant_rgb": report["constant_rgb"], "descriptions": descriptions,
              "short_prompts": shorts}
    if not args.no_extras:
        result["steering"] = prompt_steering(colorize, val_pairs, encode)
        result["flicker"] = flicker(colorize, val_pairs[:10], embedding, fit_lookup_table(train_pairs))
        print(json.dumps({k: result[k] for k in ("steering", "flicker")}, indent=1))
    (out / "metrics.json").write_text(json.dumps(result, indent=1))
    (out / "metrics.md").write_text(table_markdown(summary) + "\n")
    print(f"wrote {out / 'metrics.json'} and {out / 'contact-sheet.png'}")


def register(sub):
    from .cli import DEFAULT_DATA, DEFAULT_SPLIT
    p = sub.add_parser("evaluate", help="score a checkpoint and the baselines on the validation split")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--split", type=Path, default=DEFAULT_SPLIT)
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--prompt", default=captioning.DEFAULT_PROMPT)
    p.add_argument("--threads", type=int)
    p.add_argument("--no-extras", action="store_true", help="skip prompt steering and flicker")
    p.set_defaults(run=cmd_evaluate)
