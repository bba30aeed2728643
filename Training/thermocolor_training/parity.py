"""PyTorch vs engine: the same frames through the checkpoint and through
`thermocolor convert --model BUNDLE --precision f32`, compared on the final
8-bit RGB. The bundle passes at a maximum difference of 2/255.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .evaluate import TorchColorizer


def find_thermocolor(explicit: str | None = None) -> str:
    candidates = [explicit, os.environ.get("THERMOCOLOR"),
                  str(Path(__file__).resolve().parents[2] / ".build" / "release" / "thermocolor"),
                  str(Path(__file__).resolve().parents[2] / ".build" / "debug" / "thermocolor"),
                  shutil.which("thermocolor")]
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return c
    raise FileNotFoundError("no thermocolor binary: build it (swift build -c release --product thermocolor), "
                            "or name it with --thermocolor or $THERMOCOLOR")


def engine_colorize(thermocolor: str, bundle: Path, image: Path, prompt: str | None = None) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.png"
        command = [thermocolor, "convert", str(image), str(out), "--model", str(bundle), "--precision", "f32"]
        if prompt is not None:
            command += ["--prompt", prompt]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {result.stderr.strip()}")
        return np.asarray(Image.open(out).convert("RGB"))


def parity(model, bundle: Path, images: list[Path], thermocolor: str, prompt: str | None = None) -> dict:
    config = json.loads((Path(bundle) / "model.json").read_text())
    key = prompt if prompt is not None else config["defaultPrompt"]
    embedding = np.asarray(config["embeddings"][key], dtype=np.float32)
    colorize = TorchColorizer(model)
    rows = []
    for image in images:
        thermal = np.asarray(Image.open(image).convert("L"))
        reference = colorize(thermal, embedding).astype(np.int16)
        engine = engine_colorize(thermocolor, bundle, image, prompt).astype(np.int16)
        if engine.shape != reference.shape:
            raise RuntimeError(f"{image}: engine wrote {engine.shape}, PyTorch made {reference.shape}")
        diff = np.abs(engine - reference)
        rows.append({"image": Path(image).name, "max": int(diff.max()), "mean": float(diff.mean()),
                     "over_2": float((diff > 2).mean())})
    return {"images": rows, "max": max(r["max"] for r in rows), "mean": float(np.mean([r["mean"] for r in rows])),
            "passes": max(r["max"] for r in rows) <= 2}


def cmd_parity(args):
    from .train import load_model
    model, _ = load_model(args.checkpoint)
    torch.set_num_threads(2)
    images = sorted(args.images)
    report = parity(model, args.bundle, images, find_thermocolor(args.thermocolor), args.prompt)
    for row in report["images"]:
        print(f"{row['image']}: max {row['max']}/255, mean {row['mean']:.3f}/255")
    print(f"parity: max {report['max']}/255 over {len(images)} images ({'pass' if report['passes'] else 'FAIL'}, limit 2/255)")
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1))
    if not report["passes"]:
        raise SystemExit(1)


def cmd_reference(args):
    """Reference pixels for the engine's Swift test: the sample clip's first
    frame after the Python AGC (identical to the engine's), and PyTorch's
    colour picture of it with the bundle's default prompt."""
    from .agc import AutomaticGainControl
    from .train import load_model
    model, _ = load_model(args.checkpoint)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        frame = Path(tmp) / "frame.png"
        subprocess.run(["ffmpeg", "-v", "error", "-i", str(args.video), "-frames:v", "1", "-pix_fmt", "gray16be",
                        str(frame)], check=True)
        counts = np.asarray(Image.open(frame)).astype(np.uint16)
    thermal = AutomaticGainControl("linear")(counts)
    Image.fromarray(thermal).save(out / "input.png")
    config = json.loads((Path(args.bundle) / "model.json").read_text())
    embedding = np.asarray(config["embeddings"][config["defaultPrompt"]], dtype=np.float32)
    Image.fromarray(TorchColorizer(model)(thermal, embedding)).save(out / "output.png")
    print(f"wrote {out / 'input.png'} and {out / 'output.png'} ({thermal.shape[1]}x{thermal.shape[0]})")


def register(sub):
    p = sub.add_parser("reference", help="write reference pixels (input.png, output.png) for the Swift test")
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--bundle", type=Path, required=True)
    p.add_argument("--video", type=Path, default=Path(__file__).resolve().parents[2] / "Samples" / "thermal-sample.mkv")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(run=cmd_reference)

    p = sub.add_parser("parity", help="compare the checkpoint with `thermocolor convert --model` at f32")
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--bundle", type=Path, required=True)
    p.add_argument("--thermocolor", help="the engine binary (default: .build/release/thermocolor, $THERMOCOLOR, PATH)")
    p.add_argument("--prompt")
    p.add_argument("--out", type=Path)
    p.add_argument("images", nargs="+", type=Path)
    p.set_defaults(run=cmd_parity)
