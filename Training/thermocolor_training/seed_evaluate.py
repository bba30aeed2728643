"""Validation of the reference colouriser and the fuser, beside their baselines,
and the PyTorch-vs-engine parity check of both bundles.

Reference colouriser, on the validation split: each thermal image is
coloured with *another* validation scene's visible picture as the
reference (pair i takes pair i + len/2's, a fixed pairing; no validation
image is ever trained on). Scored like the colouriser (metrics.py) beside
the classic Lab transfer given the same references (`thermocolor convert IR
OUT --reference REF`), the constant colour and the grey->RGB lookup table.

Fuser: fused through the engine (`thermocolor convert IR OUT --visible VI
--model BUNDLE --precision f32`) and scored by `thermocolor eval` (VIFB's
conventions) on the validation split and on VIFB's 21 pairs, beside the
classic pyramid fusion through the same commands.
"""
from __future__ import annotations

import csv
import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .evaluate import fit_constant, fit_lookup_table, to_uint8
from .metrics import score, summarise

FUSION_METRICS = ["Entropy", "Variance", "Spatial_frequency", "Mutinf", "Qabf", "Ssim"]
SHORT = {"Entropy": "EN", "Variance": "SD", "Spatial_frequency": "SF", "Mutinf": "MI", "Qabf": "Qabf", "Ssim": "SSIM"}
# CDDFuse (Zhao et al., CVPR 2023), its README's RoadScene table.
CDDFUSE_ROADSCENE = {"EN": 7.44, "SD": 54.67, "SF": 16.36, "MI": 2.3, "Qabf": 0.52}


def run_engine(thermocolor: str, arguments: list[str]) -> None:
    command = [thermocolor, *arguments]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stderr.strip()}")


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(rgb.astype(np.float32) / 255).permute(2, 0, 1)[None]


def engine_resize(rgb: np.ndarray, width: int, height: int) -> torch.Tensor:
    """What the engine feeds a network for an RGB side input: bilinear, half-pixel, no antialias, 0-1."""
    t = to_tensor(rgb)
    if t.shape[-2:] != (height, width):
        t = F.interpolate(t, size=(height, width), mode="bilinear", align_corners=False)
    return t


def as_uint8(rgb: torch.Tensor) -> np.ndarray:
    return np.clip(np.floor(rgb[0].permute(1, 2, 0).numpy() * 255 + 0.5), 0, 255).astype(np.uint8)


@torch.no_grad()
def colorize_with_reference(model, thermal: np.ndarray, reference: np.ndarray) -> np.ndarray:
    h, w = thermal.shape
    t = torch.from_numpy(thermal.astype(np.float32) / 255)[None, None]
    return as_uint8(model(t, engine_resize(reference, w, h)))


@torch.no_grad()
def fuse(model, thermal: np.ndarray, visible: np.ndarray, embedding: np.ndarray, controls: bool = False):
    h, w = thermal.shape
    t = torch.from_numpy(thermal.astype(np.float32) / 255)[None, None]
    e = torch.from_numpy(np.asarray(embedding, dtype=np.float32))[None]
    rgb, y, c = model.fuse(t, engine_resize(visible, w, h), e)
    return (as_uint8(rgb), y[0, 0].numpy(), c[0].numpy()) if controls else as_uint8(rgb)


def reference_pairing(val_pairs) -> list[int]:
    """Pair i takes the visible picture of pair (i + n/2) mod n: always another scene."""
    n = len(val_pairs)
    return [(i + n // 2) % n for i in range(n)]


def similar_pairing(val_pairs) -> list[int]:
    """Pair i takes the visible picture of the most similar other validation
    scene (the training's 4x3-grid Lab descriptor): a user picking a daylight
    picture of a scene like theirs."""
    from .seed_train import nearest_table
    return [int(row[0]) for row in nearest_table(val_pairs, count=1)]


def _lab_transfer(thermocolor: str, thermal: np.ndarray, reference: np.ndarray, tmp: Path) -> np.ndarray:
    Image.fromarray(thermal).save(tmp / "ir.png")
    Image.fromarray(reference).save(tmp / "ref.png")
    run_engine(thermocolor, ["convert", str(tmp / "ir.png"), str(tmp / "out.png"), "--reference", str(tmp / "ref.png"),
                             "-q"])
    return np.asarray(Image.open(tmp / "out.png").convert("RGB"))


def evaluate_reference(model, train_pairs, val_pairs, thermocolor: str | None, out: Path) -> dict:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    constant, table = fit_constant(train_pairs), fit_lookup_table(train_pairs)
    pairing, similar = reference_pairing(val_pairs), similar_pairing(val_pairs)
    rows = {k: [] for k in ("constant", "lookup_table", "lab_transfer", "model", "lab_transfer_similar",
                            "model_similar", "model_own_visible")}
    outputs = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for i, p in enumerate(val_pairs):
            ref, near = val_pairs[pairing[i]].visible, val_pairs[similar[i]].visible
            o = {"constant": to_uint8(np.broadcast_to(constant, p.visible.shape)),
                 "lookup_table": to_uint8(table[p.thermal]),
                 "model": colorize_with_reference(model, p.thermal, ref),
                 "model_similar": colorize_with_reference(model, p.thermal, near),
                 "model_own_visible": colorize_with_reference(model, p.thermal, p.visible)}
            if thermocolor:
                o["lab_transfer"] = _lab_transfer(thermocolor, p.thermal, ref, tmp)
                o["lab_transfer_similar"] = _lab_transfer(thermocolor, p.thermal, near, tmp)
            for key, image in o.items():
                rows[key].append(score(image, p.visible))
            o["reference"] = ref
            outputs[p.name] = o
    summary = {k: summarise(v) for k, v in rows.items() if v}
    reference_contact_sheet(val_pairs, outputs, out / "contact-sheet.png")
    result = {"summary": summary, "pairing": {p.name: val_pairs[j].name for p, j in zip(val_pairs, pairing)},
              "similar_pairing": {p.name: val_pairs[j].name for p, j in zip(val_pairs, similar)},
              "per_image": rows}
    (out / "metrics.json").write_text(json.dumps(result, indent=1))
    (out / "metrics.md").write_text(reference_table(summary) + "\n")
    return result


REFERENCE_NAMES = {
    "constant": "constant colour (training mean RGB)",
    "lookup_table": "grey→RGB lookup table (256)",
    "lab_transfer": "classic Lab transfer (`--reference`), same references",
    "model": "reference-colorizer, another scene's picture as reference",
    "lab_transfer_similar": "classic Lab transfer, the most similar other scene's picture",
    "model_similar": "reference-colorizer, the most similar other scene's picture",
    "model_own_visible": "reference-colorizer, the pair's own visible image (upper bound, not a target)",
}


def reference_table(summary: dict) -> str:
    rows = ["| method | PSNR dB | SSIM | mean ΔE (CIE76) | colourfulness ÷ visible | gradient ÷ visible |",
            "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for key, name in REFERENCE_NAMES.items():
        if key in summary:
            s = summary[key]
            rows.append(f"| {name} | {s['psnr']:.2f} | {s['ssim']:.3f} | {s['delta_e']:.2f} | "
                        f"{s['colourfulness_ratio']:.2f} | {s['gradient_ratio']:.2f} |")
    return "\n".join(rows)


def reference_contact_sheet(val_pairs, outputs, path: Path, count: int = 6, tile_width: int = 200) -> None:
    from PIL import ImageDraw
    columns = [("thermal", None), ("reference (other scene)", "reference"), ("Lab transfer", "lab_transfer"),
               ("reference-colorizer", "model"), ("visible (truth)", None)]
    chosen = val_pairs[:: max(1, len(val_pairs) // count)][:count]
    tile_height, label = int(tile_width * 0.75), 18
    sheet = Image.new("RGB", (tile_width * len(columns), label + tile_height * len(chosen)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for i, (name, _) in enumerate(columns):
        draw.text((i * tile_width + 4, 3), name, fill=(0, 0, 0))
    for row, p in enumerate(chosen):
        o = outputs[p.name]
        tiles = [np.repeat(p.thermal[..., None], 3, 2), o["reference"], o.get("lab_transfer", o["constant"]),
                 o["model"], p.visible]
        for col, tile in enumerate(tiles):
            sheet.paste(Image.fromarray(tile).resize((tile_width, tile_height), Image.BILINEAR),
                        (col * tile_width, label + row * tile_height))
    sheet.save(path)


# --- fusion ---------------------------------------------------------------------


def write_pairs(pairs, folder: Path) -> tuple[Path, Path]:
    """ir/NAME.png and vi/NAME.png (the visible image on the thermal grid) for engine runs."""
    ir, vi = Path(folder) / "ir", Path(folder) / "vi"
    ir.mkdir(parents=True, exist_ok=True)
    vi.mkdir(parents=True, exist_ok=True)
    for p in pairs:
        stem = Path(p.name).stem
        Image.fromarray(p.thermal).save(ir / f"{stem}.png")
        Image.fromarray(p.visible).save(vi / f"{stem}.png")
    return ir, vi


def engine_fuse_folder(thermocolor: str, ir: Path, vi: Path, out: Path, bundle: Path | None,
                       prompt: str | None = None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    for thermal in sorted(ir.iterdir()):
        visible = next(p for p in vi.iterdir() if p.stem == thermal.stem)
        arguments = ["convert", str(thermal), str(out / f"{thermal.stem}.png"), "--visible", str(visible), "-q"]
        if bundle is not None:
            arguments += ["--model", str(bundle), "--precision", "f32"]
            if prompt is not None:
                arguments += ["--prompt", prompt]
        else:
            arguments += ["--fuse", "pyramid"]
        run_engine(thermocolor, arguments)
    return out


def engine_scores(thermocolor: str, fused: Path, ir: Path, vi: Path, method: str, csv_path: Path) -> dict:
    run_engine(thermocolor, ["eval", "--fused-dir", str(fused), "--ir-dir", str(ir), "--vi-dir", str(vi),
                             "--method", method, "--metrics", ",".join(FUSION_METRICS), "--csv", str(csv_path), "-q"])
    values: dict[str, list[float]] = {}
    with open(csv_path) as handle:
        for row in csv.DictReader(handle):
            values.setdefault(row["metric"], []).append(float(row["value"]))
    return {SHORT.get(k, k): float(np.mean(v)) for k, v in values.items()}


def fusion_table(columns: dict[str, dict], metrics: list[str]) -> str:
    rows = ["| method | " + " | ".join(metrics) + " |", "| --- |" + " ---: |" * len(metrics)]
    for name, values in columns.items():
        rows.append(f"| {name} | " + " | ".join(f"{values[m]:.3f}" if m in values else "—" for m in metrics) + " |")
    return "\n".join(rows)


def prompt_effect(model, val_pairs, encode, prompts: dict[str, str]) -> dict:
    """Per prompt, on the validation pairs: the mean thermal weight the
    network chose, and corr(fused luma, thermal) - corr(fused luma, visible
    luma), the thermal/visible balance of the picture itself."""
    vectors = dict(zip(prompts, encode(list(prompts.values()))))
    result = {}
    for key, vector in vectors.items():
        weights, balance = [], []
        for p in val_pairs:
            _, y, controls = fuse(model, p.thermal, p.visible, vector, controls=True)
            t = p.thermal.astype(np.float64).ravel()
            v = (p.visible.astype(np.float64) @ np.array([0.299, 0.587, 0.114])).ravel()
            f = y.astype(np.float64).ravel()
            balance.append(np.corrcoef(f, t)[0, 1] - np.corrcoef(f, v)[0, 1])
            weights.append(float(controls[0].mean()))
        result[key] = {"prompt": prompts[key], "thermal_weight": float(np.mean(weights)),
                       "correlation_balance": float(np.mean(balance))}
    return result


# --- parity ----------------------------------------------------------------------


def parity(model, kind: str, bundle: Path, cases: list[tuple[Path, Path]], thermocolor: str,
           prompt: str | None = None) -> dict:
    """Each (thermal image, reference or visible image) through PyTorch and
    through `thermocolor convert --model BUNDLE --precision f32`, compared on
    the final 8-bit RGB. Passes at a maximum difference of 2/255."""
    config = json.loads((Path(bundle) / "model.json").read_text())
    embedding = None
    if kind == "fuser":
        embedding = np.asarray(config["embeddings"][prompt if prompt is not None else config["defaultPrompt"]],
                               dtype=np.float32)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.png"
        for thermal_path, side_path in cases:
            thermal = np.asarray(Image.open(thermal_path).convert("L"))
            side = np.asarray(Image.open(side_path).convert("RGB"))
            arguments = ["convert", str(thermal_path), str(out), "--model", str(bundle), "--precision", "f32", "-q"]
            if kind == "fuser":
                mine = fuse(model, thermal, side, embedding)
                arguments += ["--visible", str(side_path)] + (["--prompt", prompt] if prompt is not None else [])
            else:
                mine = colorize_with_reference(model, thermal, side)
                arguments += ["--reference", str(side_path)]
            run_engine(thermocolor, arguments)
            engine = np.asarray(Image.open(out).convert("RGB"))
            if engine.shape != mine.shape:
                raise RuntimeError(f"{thermal_path}: engine wrote {engine.shape}, PyTorch made {mine.shape}")
            diff = np.abs(engine.astype(np.int16) - mine.astype(np.int16))
            rows.append({"image": Path(thermal_path).name, "side": Path(side_path).name, "max": int(diff.max()),
                         "mean": float(diff.mean()), "over_1": float((diff > 1).mean())})
    worst = max(r["max"] for r in rows)
    return {"images": rows, "max": worst, "mean": float(np.mean([r["mean"] for r in rows])), "passes": worst <= 2}
