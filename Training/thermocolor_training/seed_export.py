"""Export the reference colouriser and the fuser into engine bundles (docs/MODELS.md).

    reference-colorizer/model.onnx  thermal f32[N,1,H,W] + reference f32[N,3,H,W] -> rgb f32[N,3,H,W]
    text-fuser/model.onnx           thermal f32[N,1,H,W] + visible f32[N,3,H,W] + text f32[1,384] -> rgb

Both take frames at video size ("size": "dynamic"): each network resizes
to its working size itself and applies its colour or fusion model to the
frame at the frame's own resolution.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from .text import TEXT_DIMENSION, TEXT_SPACE


def export_reference_onnx(model, path: Path, example_size=(320, 256)) -> None:
    w, h = example_size
    torch.onnx.export(
        model.eval(), (torch.rand(2, 1, h, w), torch.rand(2, 3, h, w)), str(path),
        input_names=["thermal", "reference"], output_names=["rgb"],
        dynamic_axes={"thermal": {0: "N", 2: "H", 3: "W"}, "reference": {0: "N", 2: "H", 3: "W"},
                      "rgb": {0: "N", 2: "H", 3: "W"}},
        opset_version=17, dynamo=False, do_constant_folding=True)


def export_fuser_onnx(model, path: Path, example_size=(320, 256)) -> None:
    w, h = example_size
    text = torch.randn(1, TEXT_DIMENSION)
    torch.onnx.export(
        model.eval(), (torch.rand(2, 1, h, w), torch.rand(2, 3, h, w), text / text.norm()), str(path),
        input_names=["thermal", "visible", "text"], output_names=["rgb"],
        dynamic_axes={"thermal": {0: "N", 2: "H", 3: "W"}, "visible": {0: "N", 2: "H", 3: "W"},
                      "rgb": {0: "N", 2: "H", 3: "W"}},
        opset_version=17, dynamo=False, do_constant_folding=True)


def reference_json() -> dict:
    return {
        "kind": "reference-colorizer",
        "size": "dynamic",
        "sizeMultiple": 1,
        "tensors": {"thermal": "thermal", "reference": "reference", "output": "rgb"},
        "output": "rgb",
    }


def fuser_json(prompts: list[str], vectors: np.ndarray, default_prompt: str) -> dict:
    if default_prompt not in prompts:
        raise ValueError(f"default prompt {default_prompt!r} is not among the baked prompts")
    return {
        "kind": "fuser",
        "size": "dynamic",
        "sizeMultiple": 1,
        "tensors": {"thermal": "thermal", "visible": "visible", "text": "text", "output": "rgb"},
        "output": "rgb",
        "textSpace": TEXT_SPACE,
        "textDimension": TEXT_DIMENSION,
        "defaultPrompt": default_prompt,
        "embeddings": {p: [round(float(x), 7) for x in v] for p, v in zip(prompts, vectors)},
    }


def export_seed_bundle(model, kind: str, folder: Path, encode=None) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "reference-colorizer":
        export_reference_onnx(model, folder / "model.onnx")
        config = reference_json()
    elif kind == "fuser":
        from . import fusion_prompts
        if encode is None:
            from .text import encode
        export_fuser_onnx(model, folder / "model.onnx")
        prompts = list(fusion_prompts.BAKED_PROMPTS)
        config = fuser_json(prompts, encode(prompts), fusion_prompts.DEFAULT_PROMPT)
    else:
        raise ValueError(f"unknown model kind {kind!r}")
    (folder / "model.json").write_text(json.dumps(config, indent=1) + "\n")
    return folder
