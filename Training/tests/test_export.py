"""The bundle contract (docs/MODELS.md): files, model.json keys, tensor names
and shapes, OpenVINO agreeing with PyTorch, and the engine running it."""
import json

import numpy as np
import onnx
import pytest
import torch
from PIL import Image

from thermocolor_training import captions
from thermocolor_training.export import export_bundle
from thermocolor_training.model import Colorizer
from thermocolor_training.parity import parity
from test_training import hashed_encode


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    torch.manual_seed(0)
    model = Colorizer(size=(64, 48), width=8, dim=32, depth=1, heads=2).eval()
    # Random weights in the head too, so the output has colour to compare.
    torch.nn.init.normal_(model.head.weight, std=0.05)
    folder = export_bundle(model, tmp_path_factory.mktemp("bundle") / "tiny", encode=hashed_encode)
    return model, folder


def test_bundle_files_and_model_json(bundle):
    _, folder = bundle
    config = json.loads((folder / "model.json").read_text())
    assert (folder / "model.onnx").exists()
    assert config["kind"] == "colorizer" and config["output"] == "rgb" and config["size"] == "dynamic"
    assert config["tensors"] == {"thermal": "thermal", "text": "text", "output": "rgb"}
    assert config["textSpace"] == "all-minilm-l6-v2" and config["textDimension"] == 384
    assert config["defaultPrompt"] in config["embeddings"]
    assert captions.EMPTY_PROMPT in config["embeddings"]
    assert set(config["embeddings"]) == set(captions.BAKED_PROMPTS)
    assert all(len(v) == 384 for v in config["embeddings"].values())


def test_onnx_tensors_are_dynamic_in_batch_and_size(bundle):
    _, folder = bundle
    graph = onnx.load(str(folder / "model.onnx")).graph
    dims = lambda value: [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]
    inputs = {i.name: dims(i) for i in graph.input}
    assert inputs["thermal"] == ["N", 1, "H", "W"] and inputs["text"] == [1, 384]
    assert [dims(o) for o in graph.output] == [["N", 3, "H", "W"]] and graph.output[0].name == "rgb"


@pytest.mark.parametrize("size", [(96, 72), (101, 67)])
def test_openvino_matches_pytorch_at_f32(bundle, size):
    import openvino as ov
    model, folder = bundle
    core = ov.Core()
    compiled = core.compile_model(str(folder / "model.onnx"), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    thermal = torch.rand(2, 1, size[1], size[0])
    text = torch.from_numpy(hashed_encode(["a road"]))
    got = compiled({"thermal": thermal.numpy(), "text": text.numpy()})[0]
    with torch.no_grad():
        want = model(thermal, text).numpy()
    assert got.shape == (2, 3, size[1], size[0])
    assert np.abs(got - want).max() < 1e-4


def test_engine_runs_the_bundle_within_two_levels(bundle, thermocolor, tmp_path):
    model, folder = bundle
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:90, 0:120]
    images = []
    for index in range(2):
        grey = (128 + 80 * np.sin(xx / (7 + index)) * np.cos(yy / 11) + rng.normal(0, 8, xx.shape)).clip(0, 255)
        path = tmp_path / f"t{index}.png"
        Image.fromarray(grey.astype(np.uint8)).save(path)
        images.append(path)
    report = parity(model, folder, images, thermocolor)
    assert report["passes"], report
