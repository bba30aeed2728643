#!/usr/bin/env python3
"""Checks ThermoColor's CLIP text embeddings against PyTorch.

For each prompt it compares
  - token ids: `thermocolor tokenize TEXT` (cut to 77 as CLIP does) against
    CLIP's reference tokenizer, which must agree exactly;
  - embeddings: `thermocolor embed --clip BUNDLE --out FILE PROMPTS...`
    against torch's encode_text, L2-normalised; cosine must be >= 0.9999.

The torch side is either the model itself, loaded as for export
(--arch/--pretrained, --hf, --random-init with the same --seed), or, with
--reference, the reference-embeddings.json that Scripts/export-clip.py
wrote into the bundle (no torch needed then).

    .deps/py-torch/bin/python Scripts/clip-parity.py --bundle bundles/clip-vit-b-32 --arch ViT-B-32 --pretrained openai
    .deps/py/bin/python Scripts/clip-parity.py --bundle /tmp/clip-random --reference
"""
import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import numpy as np

root = pathlib.Path(__file__).resolve().parent.parent
CONTEXT = 77
EOT = 49407
THRESHOLD = 0.9999


def find_thermocolor(explicit):
    candidates = [explicit] if explicit else [
        root / ".build" / "release" / "thermocolor", root / ".build" / "debug" / "thermocolor",
        shutil.which("thermocolor"),
    ]
    for candidate in candidates:
        if candidate and pathlib.Path(candidate).exists():
            return str(candidate)
    sys.exit("clip-parity: no thermocolor binary; build it (swift build -c release) or pass --thermocolor")


def engine_ids(thermocolor, prompt):
    output = subprocess.run([thermocolor, "tokenize", prompt], check=True, capture_output=True, text=True).stdout
    ids = json.loads(output)
    if len(ids) > CONTEXT:
        ids = ids[:CONTEXT]
        ids[-1] = EOT
    return ids + [0] * (CONTEXT - len(ids))


def engine_embeddings(thermocolor, bundle, prompts, merges):
    with tempfile.TemporaryDirectory() as folder:
        out = pathlib.Path(folder) / "embeddings.json"
        command = [thermocolor, "embed", "--clip", str(bundle), "--out", str(out)]
        if merges:
            command += ["--merges", merges]
        subprocess.run(command + ["--"] + prompts, check=True)
        return json.loads(out.read_text(encoding="utf-8"))


def torch_reference(args, prompts):
    sys.path.insert(0, str(root / "Scripts"))
    import importlib.util
    import torch
    spec = importlib.util.spec_from_file_location("export_clip", root / "Scripts" / "export-clip.py")
    export = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(export)
    torch.manual_seed(args.seed)
    tower, name, _ = export.load_open_clip(args) if args.arch else export.load_hf(args)
    ids = export.reference_ids(prompts)
    with torch.no_grad():
        embeds = tower(ids).float().numpy().astype(np.float64)
    unit = embeds / np.linalg.norm(embeds, axis=-1, keepdims=True)
    return name, [{"text": p, "ids": row, "embedding": e.tolist()} for p, row, e in zip(prompts, ids.tolist(), unit)]


def main():
    parser = argparse.ArgumentParser(description="Compare ThermoColor's CLIP embeddings with PyTorch.")
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--thermocolor", help="the thermocolor binary (default: .build/release, .build/debug, PATH)")
    parser.add_argument("--merges", help="merges file to pass to thermocolor embed")
    parser.add_argument("--reference", action="store_true", help="use the bundle's reference-embeddings.json")
    parser.add_argument("--arch")
    parser.add_argument("--hf")
    parser.add_argument("--pretrained")
    parser.add_argument("--random-init", action="store_true")
    parser.add_argument("--hf-config", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prompt", action="append", help="extra prompts (the export's parity prompts are always used)")
    args = parser.parse_args()
    bundle = pathlib.Path(args.bundle)
    stored = json.loads((bundle / "reference-embeddings.json").read_text(encoding="utf-8"))
    prompts = [case["text"] for case in stored["cases"]] + (args.prompt or [])

    if args.reference:
        if args.prompt:
            sys.exit("clip-parity: --prompt needs torch; drop --reference")
        name, reference = "bundle reference-embeddings.json", stored["cases"]
    elif args.arch or args.hf:
        name, reference = torch_reference(args, prompts)
    else:
        sys.exit("clip-parity: give --reference, or the model as for export (--arch/--hf ...)")

    thermocolor = find_thermocolor(args.thermocolor)
    engine = engine_embeddings(thermocolor, bundle, prompts, args.merges)
    worst, failures = 1.0, 0
    print(f"reference: {name}")
    for case in reference:
        text = case["text"]
        ids_match = engine_ids(thermocolor, text) == case["ids"]
        mine = np.asarray(engine[text], dtype=np.float64)
        theirs = np.asarray(case["embedding"], dtype=np.float64)
        cosine = float(mine @ theirs / (np.linalg.norm(mine) * np.linalg.norm(theirs)))
        max_err = float(np.abs(mine / np.linalg.norm(mine) - theirs).max())
        ok = ids_match and cosine >= THRESHOLD
        failures += not ok
        worst = min(worst, cosine)
        label = text if len(text) <= 48 else text[:45] + "..."
        print(f"{'ok  ' if ok else 'FAIL'} cos={cosine:.7f} maxerr={max_err:.2e} ids={'same' if ids_match else 'DIFFER'}  {label!r}")
    print(f"{len(reference) - failures} passed, {failures} failed (worst cosine {worst:.7f}, threshold {THRESHOLD})")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
