"""Export a checkpoint into an engine bundle (docs/MODELS.md).

    BUNDLE/model.onnx   thermal f32[N,1,H,W] (any size) + text f32[1,384] -> rgb f32[N,3,H,W]
    BUNDLE/model.json   "size": "dynamic", "output": "rgb", textSpace, baked embeddings, defaultPrompt

The network resizes each frame to its working size itself and applies its
colour model to the frame at the frame's own resolution (guided
upsampling), so the engine feeds it video-size frames ("size": "dynamic")
and its output needs no resizing.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from . import captions as captioning
from .text import TEXT_DIMENSION, TEXT_SPACE


class _Exportable(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, thermal, text):
        return self.model(thermal, text)


def export_onnx(model, path: Path, example_size=(320, 256)) -> None:
    model = model.eval()
    w, h = example_size
    thermal = torch.rand(2, 1, h, w)
    text = torch.randn(1, TEXT_DIMENSION)
    text = text / text.norm()
    wrapper = _Exportable(model).eval()
    torch.onnx.export(
        wrapper, (thermal, text), str(path), input_names=["thermal", "text"], output_names=["rgb"],
        dynamic_axes={"thermal": {0: "N", 2: "H", 3: "W"}, "rgb": {0: "N", 2: "H", 3: "W"}},
        opset_version=17, dynamo=False, do_constant_folding=True)
    # The exporter puts modules back into the mode it found them in; the
    # wrapper is in eval mode, but make sure the caller's model is too.
    model.eval()


def bundle_json(prompts: list[str], vectors: np.ndarray, default_prompt: str, extra: dict | None = None) -> dict:
    if default_prompt not in prompts:
        raise ValueError(f"default prompt {default_prompt!r} is not among the baked prompts")
    embeddings = {p: [round(float(x), 7) for x in v] for p, v in zip(prompts, vectors)}
    return {
        "kind": "colorizer",
        "size": "dynamic",
        "sizeMultiple": 1,
        "tensors": {"thermal": "thermal", "text": "text", "output": "rgb"},
        "output": "rgb",
        "textSpace": TEXT_SPACE,
        "textDimension": TEXT_DIMENSION,
        "defaultPrompt": default_prompt,
        "embeddings": embeddings,
        **(extra or {}),
    }


def export_bundle(model, folder: Path, prompts=None, default_prompt=captioning.DEFAULT_PROMPT, encode=None) -> Path:
    if encode is None:
        from .text import encode
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    prompts = list(prompts or captioning.BAKED_PROMPTS)
    export_onnx(model, folder / "model.onnx")
    config = bundle_json(prompts, encode(prompts), default_prompt)
    (folder / "model.json").write_text(json.dumps(config, indent=1) + "\n")
    return folder


def cmd_export(args):
    from .train import load_model
    model, _ = load_model(args.checkpoint)
    folder = export_bundle(model, args.bundle, default_prompt=args.default_prompt)
    size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    print(f"wrote {folder}: model.onnx + model.json, {size / 1e6:.1f} MB")


def register(sub):
    p = sub.add_parser("export", help="export a checkpoint into an engine bundle folder")
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--bundle", type=Path, required=True)
    p.add_argument("--default-prompt", default=captioning.DEFAULT_PROMPT)
    p.set_defaults(run=cmd_export)
