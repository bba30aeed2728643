"""What the validation metrics allow: scores of predictors that cheat.

Each "oracle" here is given something no colouriser has, the validation
image's own visible picture in part, and is scored with the same metrics
(metrics.py) on the same split as the model and the baselines. They bound
what a goal can ask of a network that sees only the thermal frame:

- true mean colour: every pixel the visible image's own mean RGB. The best
  constant picture for each image; it knows the scene's overall colour and
  brightness (day, dusk, overcast), which the thermal frame does not show.
- lookup table on the true mean: the grey->RGB lookup-table baseline,
  shifted so its mean is the visible image's own. Thermal structure with
  the right overall colour.
- visible, blurred: the visible image itself under a Gaussian blur
  (sigma in pixels). Knows every colour in place, but none of the fine
  structure; SSIM falls quickly without the visible image's own edges.

A goal above the true-mean oracle's PSNR (or below its mean Delta E)
asks a thermal-only network to know more than the scene's true overall
colour; one above the blurred images' SSIM asks for the visible image's
own fine structure, which thermal edges (different materials, different
edges) do not supply.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .evaluate import fit_lookup_table, to_uint8
from .metrics import score, summarise


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    radius = max(1, int(round(3 * sigma)))
    x = np.arange(-radius, radius + 1)
    kernel = np.exp(-(x ** 2) / (2 * sigma ** 2))
    kernel /= kernel.sum()
    out = image.astype(np.float64)
    for axis in (0, 1):
        padded = np.pad(out, [(radius, radius) if a == axis else (0, 0) for a in range(3)], mode="reflect")
        out = sum(kernel[i] * np.take(padded, range(i, i + out.shape[axis]), axis=axis) for i in range(len(kernel)))
    return out


def ceilings(train_pairs, val_pairs, sigmas=(2.0, 4.0, 8.0)) -> dict:
    table = fit_lookup_table(train_pairs)
    results: dict[str, list] = {"true_mean_colour": [], "lookup_table_on_true_mean": []}
    for sigma in sigmas:
        results[f"visible_blurred_{sigma:g}px"] = []
    for p in val_pairs:
        visible = p.visible.astype(np.float64)
        mean = visible.reshape(-1, 3).mean(0)
        results["true_mean_colour"].append(score(to_uint8(np.broadcast_to(mean, visible.shape)), p.visible))
        lut = table[p.thermal]
        shifted = lut - lut.reshape(-1, 3).mean(0) + mean
        results["lookup_table_on_true_mean"].append(score(to_uint8(shifted), p.visible))
        for sigma in sigmas:
            results[f"visible_blurred_{sigma:g}px"].append(score(to_uint8(_blur(visible, sigma)), p.visible))
    return {name: summarise(scores) for name, scores in results.items()}


def table_markdown(summary: dict) -> str:
    rows = ["| oracle (knows part of the answer) | PSNR dB | SSIM | mean ΔE | colourfulness ÷ visible | gradient ÷ visible |",
            "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, s in summary.items():
        rows.append(f"| {name.replace('_', ' ')} | {s['psnr']:.2f} | {s['ssim']:.3f} | {s['delta_e']:.2f} | "
                    f"{s['colourfulness_ratio']:.2f} | {s['gradient_ratio']:.2f} |")
    return "\n".join(rows)


def cmd_ceilings(args):
    from .cli import load_split_pairs
    train_pairs = load_split_pairs(args.data, args.split, "train")
    val_pairs = load_split_pairs(args.data, args.split, "validation")
    summary = ceilings(train_pairs, val_pairs)
    print(table_markdown(summary))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(summary, indent=1) + "\n")
        print(f"wrote {args.out}")


def register(sub):
    from .cli import DEFAULT_DATA, DEFAULT_SPLIT
    p = sub.add_parser("ceilings", help="score oracles that know part of each validation image: what a goal can ask")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--split", type=Path, default=DEFAULT_SPLIT)
    p.add_argument("--out", type=Path, help="write the table as JSON here")
    p.set_defaults(run=cmd_ceilings)
