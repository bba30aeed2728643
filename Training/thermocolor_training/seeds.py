"""Command line of the reference colouriser and the fuser: each bundle is
re-made by one command that trains, exports, validates and checks parity.

    python -m thermocolor_training make-reference --minutes 22 --bundle models/reference-colorizer
    python -m thermocolor_training make-fuser --minutes 22 --bundle models/text-fuser

With --checkpoint RUN/model.pt the training is skipped (re-export and
re-score a finished run). The engine binary is found as `parity` finds it
(.build/release/thermocolor, $THERMOCOLOR, PATH); without one the engine's
rows (classic baselines, fusion metrics, parity) are skipped with a message.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image


def _thermocolor(explicit):
    from .parity import find_thermocolor
    try:
        return find_thermocolor(explicit)
    except FileNotFoundError as error:
        print(f"no engine, skipping its rows: {error}", flush=True)
        return None


def _pairs(args):
    from .cli import load_split_pairs
    return load_split_pairs(args.data, args.split, "train"), load_split_pairs(args.data, args.split, "validation")


def _train_or_load(args, kind, train_pairs):
    from .seed_train import load_seed_model, train_fuser, train_reference
    if args.checkpoint:
        return (*load_seed_model(args.checkpoint), args.checkpoint)
    if args.minutes is None and args.steps is None:
        args.minutes = args.default_minutes
    print(f"training a {kind} on {len(train_pairs)} pairs from {args.data} (validation split {args.split} held out)",
          flush=True)
    trainer = train_reference if kind == "reference-colorizer" else train_fuser
    extra = {} if args.size is None else {"size": args.size}
    trainer(train_pairs, args.out, minutes=args.minutes, steps=args.steps, batch=args.batch, lr=args.lr,
            threads=args.threads, seed=args.seed, log=lambda line: print(line, flush=True), **extra)
    checkpoint = Path(args.out) / "model.pt"
    return (*load_seed_model(checkpoint), checkpoint)


def _bundle_size(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file() and p.name.startswith("model.")) / 1e6


def _parity_cases(val_pairs, folder: Path, kind: str, count: int = 3) -> list[tuple[Path, Path]]:
    """Validation thermal images with another scene's (reference) or their own (fuser) visible image, as PNG."""
    from .seed_evaluate import reference_pairing
    pairing = reference_pairing(val_pairs)
    cases = []
    for i in range(0, len(val_pairs), max(1, len(val_pairs) // count))[:count]:
        p = val_pairs[i]
        side = val_pairs[pairing[i]].visible if kind == "reference-colorizer" else p.visible
        stem = Path(p.name).stem
        Image.fromarray(p.thermal).save(folder / f"{stem}-ir.png")
        Image.fromarray(side).save(folder / f"{stem}-side.png")
        cases.append((folder / f"{stem}-ir.png", folder / f"{stem}-side.png"))
    return cases


def cmd_make_reference(args):
    from .seed_evaluate import evaluate_reference, parity, reference_table
    from .seed_export import export_seed_bundle
    torch.set_num_threads(args.threads or torch.get_num_threads())
    train_pairs, val_pairs = _pairs(args)
    model, saved, checkpoint = _train_or_load(args, "reference-colorizer", train_pairs)
    bundle = export_seed_bundle(model, "reference-colorizer", args.bundle)
    print(f"wrote {bundle}: {_bundle_size(bundle):.1f} MB", flush=True)
    thermocolor = _thermocolor(args.thermocolor)
    started = time.monotonic()
    report = evaluate_reference(model, train_pairs, val_pairs, thermocolor, Path(args.out) / "evaluation")
    print(reference_table(report["summary"]), flush=True)
    result = {"checkpoint": str(checkpoint), "training_seconds": saved.get("seconds"), "steps": saved.get("step"),
              "validation_pairs": len(val_pairs), "summary": report["summary"], "pairing": report["pairing"],
              "evaluation_seconds": time.monotonic() - started}
    if thermocolor:
        with tempfile.TemporaryDirectory() as tmp:
            result["parity"] = parity(model, "reference-colorizer", bundle,
                                      _parity_cases(val_pairs, Path(tmp), "reference-colorizer"), thermocolor)
        print(f"parity: max {result['parity']['max']}/255, mean {result['parity']['mean']:.3f}/255", flush=True)
    _write_results(args, bundle, result, Path(args.out) / "evaluation" / "contact-sheet.png")


def cmd_make_fuser(args):
    from . import fusion_prompts
    from .seed_evaluate import (CDDFUSE_ROADSCENE, engine_fuse_folder, engine_scores, fusion_table, parity,
                                prompt_effect, write_pairs)
    from .seed_export import export_seed_bundle
    from .text import encode
    torch.set_num_threads(args.threads or torch.get_num_threads())
    train_pairs, val_pairs = _pairs(args)
    model, saved, checkpoint = _train_or_load(args, "fuser", train_pairs)
    bundle = export_seed_bundle(model, "fuser", args.bundle)
    print(f"wrote {bundle}: {_bundle_size(bundle):.1f} MB", flush=True)
    prompts = {"default": fusion_prompts.DEFAULT_PROMPT, "thermal": fusion_prompts.HELD_OUT_THERMAL,
               "visible": fusion_prompts.HELD_OUT_VISIBLE, "empty": ""}
    effect = prompt_effect(model, val_pairs, encode, prompts)
    for key, row in effect.items():
        print(f"prompt {key} {row['prompt']!r}: thermal weight {row['thermal_weight']:.3f}, "
              f"corr balance {row['correlation_balance']:+.3f}", flush=True)
    result = {"checkpoint": str(checkpoint), "training_seconds": saved.get("seconds"), "steps": saved.get("step"),
              "validation_pairs": len(val_pairs), "prompt_effect": effect}
    thermocolor = _thermocolor(args.thermocolor)
    out = Path(args.out) / "evaluation"
    if thermocolor:
        metrics = ["EN", "SD", "SF", "MI", "Qabf", "SSIM"]
        ir, vi = write_pairs(val_pairs, out / "roadscene-val")
        tables = {}
        roadscene = {"CDDFuse (published, RoadScene)": CDDFUSE_ROADSCENE}
        for name, prompt in (("text-fuser", None), ("text-fuser, thermal prompt", prompts["thermal"]),
                             ("text-fuser, visible prompt", prompts["visible"])):
            fused = engine_fuse_folder(thermocolor, ir, vi, out / f"val-{len(roadscene)}", bundle, prompt)
            slug = f"text-fuser-{len(roadscene)}"
            roadscene[name] = engine_scores(thermocolor, fused, ir, vi, slug, out / f"val-{len(roadscene)}.csv")
        fused = engine_fuse_folder(thermocolor, ir, vi, out / "val-pyramid", None)
        roadscene["classic pyramid"] = engine_scores(thermocolor, fused, ir, vi, "pyramid", out / "val-pyramid.csv")
        tables["roadscene"] = roadscene
        if args.vifb.is_dir():
            vifb = {}
            vir, vvi = args.vifb / "ir", args.vifb / "vi"
            fused = engine_fuse_folder(thermocolor, vir, vvi, out / "vifb-model", bundle)
            vifb["text-fuser"] = engine_scores(thermocolor, fused, vir, vvi, "text-fuser", out / "vifb-model.csv")
            fused = engine_fuse_folder(thermocolor, vir, vvi, out / "vifb-pyramid", None)
            vifb["classic pyramid"] = engine_scores(thermocolor, fused, vir, vvi, "pyramid", out / "vifb-pyramid.csv")
            tables["vifb"] = vifb
            _fusion_sheet(thermocolor, vir, vvi, out)
        else:
            print(f"{args.vifb}: no VIFB pairs, skipping that table", flush=True)
        for key, table in tables.items():
            print(f"{key}:\n{fusion_table(table, metrics)}", flush=True)
        result["fusion"] = tables
        with tempfile.TemporaryDirectory() as tmp:
            result["parity"] = parity(model, "fuser", bundle, _parity_cases(val_pairs, Path(tmp), "fuser"), thermocolor)
            result["parity_thermal_prompt"] = parity(model, "fuser", bundle,
                                                     _parity_cases(val_pairs, Path(tmp), "fuser", 1), thermocolor,
                                                     prompts["thermal"])
        print(f"parity: max {result['parity']['max']}/255, mean {result['parity']['mean']:.3f}/255", flush=True)
    _write_results(args, bundle, result, out / "contact-sheet.png")


def _fusion_sheet(thermocolor, ir: Path, vi: Path, out: Path) -> None:
    """thermal | visible | pyramid | text-fuser for a few VIFB pairs."""
    from PIL import ImageDraw
    names = sorted(p.stem for p in ir.iterdir())[::4][:6]
    columns = [("thermal", lambda n: ir / f"{n}.jpg"), ("visible", lambda n: vi / f"{n}.jpg"),
               ("classic pyramid", lambda n: out / "vifb-pyramid" / f"{n}.png"),
               ("text-fuser", lambda n: out / "vifb-model" / f"{n}.png")]
    tw, th, label = 200, 150, 18
    sheet = Image.new("RGB", (tw * len(columns), label + th * len(names)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for i, (title, _) in enumerate(columns):
        draw.text((i * tw + 4, 3), title, fill=(0, 0, 0))
    for row, name in enumerate(names):
        for col, (_, path) in enumerate(columns):
            sheet.paste(Image.open(path(name)).convert("RGB").resize((tw, th), Image.BILINEAR), (col * tw, label + row * th))
    sheet.save(out / "contact-sheet.png")


def _write_results(args, bundle: Path, result: dict, sheet: Path) -> None:
    (Path(args.out) / "evaluation").mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "evaluation" / "result.json").write_text(json.dumps(result, indent=1))
    (bundle / "metrics.json").write_text(json.dumps({k: v for k, v in result.items() if k != "checkpoint"}, indent=1) + "\n")
    if sheet.exists():
        Image.open(sheet).save(bundle / "contact-sheet.png", optimize=True)
    print(f"wrote {bundle / 'metrics.json'}", flush=True)


def register(sub):
    from .cli import DEFAULT_DATA, DEFAULT_SPLIT, REPO, size_arg
    for name, kind, run, minutes in (("make-reference", "reference-colorizer", cmd_make_reference, 22),
                                     ("make-fuser", "text-fuser", cmd_make_fuser, 22)):
        p = sub.add_parser(name, help=f"train, export, validate and check the {kind} bundle")
        p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with ir/ and vi/ (default: RoadScene)")
        p.add_argument("--split", type=Path, default=DEFAULT_SPLIT, help="validation split list")
        p.add_argument("--out", type=Path, default=REPO / ".deps" / "runs" / kind, help="run folder")
        p.add_argument("--bundle", type=Path, default=REPO / "models" / kind)
        budget = p.add_mutually_exclusive_group()
        budget.add_argument("--minutes", type=float, help=f"wall-clock training budget (default {minutes})")
        budget.add_argument("--steps", type=int)
        budget.add_argument("--checkpoint", type=Path, help="skip training: export and score this model.pt")
        p.add_argument("--size", type=size_arg, help="network working size WxH")
        p.add_argument("--batch", type=int, default=6)
        p.add_argument("--lr", type=float, default=2e-3)
        p.add_argument("--threads", type=int)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--thermocolor", help="the engine binary")
        if run is cmd_make_fuser:
            p.add_argument("--vifb", type=Path, default=REPO.parent / "shared" / "data" / "vifb",
                           help="VIFB's 21 pairs (scored, never trained on)")
        p.set_defaults(run=run, default_minutes=minutes)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="thermocolor-train")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
