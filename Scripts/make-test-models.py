#!/usr/bin/env python3
"""Builds the tiny model bundles under Tests/InferenceTests/Fixtures.

Each model is a few hand-wired ONNX nodes (1x1 convolutions, a Gemm for the
text vector, a sigmoid/tanh/clip) so the Swift tests can compute the same
math as a reference and compare OpenVINO's output with it. The weights here
are repeated as constants in Tests/InferenceTests/FixtureModels.swift: change
both together.

Usage: Scripts/setup.sh && .deps/py/bin/python Scripts/make-test-models.py
The bundles are committed, so tests need neither Python nor this script.
"""
import json
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "InferenceTests", "Fixtures")
OPSET = 17
WIDTH, HEIGHT, TEXT = 32, 24, 4

# --- weights (mirrored in FixtureModels.swift) ------------------------------
RGB_CONV_W = [2.0, -1.5, 0.5]
RGB_CONV_B = [-1.0, 0.8, 0.1]
RGB_TEXT_M = [[0.5, -0.25, 0.1], [0.2, 0.3, -0.4], [-0.3, 0.1, 0.25], [0.05, -0.2, 0.35]]
RGB_TEXT_B = [0.1, -0.1, 0.05]

AB_CONV_W = [1.2, -0.8]
AB_CONV_B = [-0.3, 0.4]
AB_TEXT_M = [[0.3, -0.2], [0.1, 0.25], [-0.15, 0.05], [0.2, 0.1]]
AB_TEXT_B = [0.0, -0.05]
AB_SCALE = 100.0

REF_CONV_W = [[0.6, 0.9, 0.0, 0.0], [0.4, 0.0, 0.9, 0.0], [0.5, 0.0, 0.0, 0.9]]
REF_CONV_B = [-0.7, -0.6, -0.65]

FUSE_CONV_W = [[0.5, 0.5, 0.0, 0.0], [0.5, 0.0, 0.5, 0.0], [0.5, 0.0, 0.0, 0.5]]
FUSE_CONV_B = [0.0, 0.0, 0.0]
FUSE_TEXT_M = [[0.1, 0.0, -0.1], [0.0, 0.2, 0.0], [-0.1, 0.0, 0.1], [0.05, 0.05, 0.05]]
FUSE_TEXT_B = [0.0, 0.0, 0.0]

EMBEDDINGS = {"warm": [0.5, 0.2, -0.3, 0.1], "cold": [-0.4, 0.3, 0.6, -0.2]}

# A colouriser whose text input lives in all-MiniLM-L6-v2's space (384-d), for
# the text-space checks: unbaked prompts go to the minilm encoder.
MINILM_TEXT = 384
MINILM_TEXT_M = (0.05 * np.stack([np.sin(np.arange(MINILM_TEXT)), np.cos(np.arange(MINILM_TEXT)),
                                   np.sin(2 * np.arange(MINILM_TEXT))], axis=1)).round(6).tolist()
_warm = np.cos(np.arange(MINILM_TEXT) * 0.37)
MINILM_EMBEDDINGS = {"warm": (_warm / np.linalg.norm(_warm)).round(7).tolist()}


def const(name, values, shape=None):
    array = np.asarray(values, dtype=np.float32)
    if shape is not None:
        array = array.reshape(shape)
    return numpy_helper.from_array(array, name)


def shape_const(name, values):
    return numpy_helper.from_array(np.asarray(values, dtype=np.int64), name)


def image_input(name, batch, channels, height=HEIGHT, width=WIDTH):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [batch, channels, height, width])


def text_term(text_name, matrix, bias, channels, prefix):
    """Gemm(text, M) + b reshaped to [N or 1, C, 1, 1] so it broadcasts."""
    nodes = [
        helper.make_node("Gemm", [text_name, f"{prefix}_m", f"{prefix}_b"], [f"{prefix}_gemm"]),
        helper.make_node("Reshape", [f"{prefix}_gemm", f"{prefix}_shape"], [f"{prefix}_term"]),
    ]
    inits = [
        const(f"{prefix}_m", matrix),
        const(f"{prefix}_b", bias),
        shape_const(f"{prefix}_shape", [-1, channels, 1, 1]),
    ]
    return nodes, inits, f"{prefix}_term"


def save_model(folder, graph):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="thermocolor-fixtures")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    os.makedirs(folder, exist_ok=True)
    onnx.save(model, os.path.join(folder, "model.onnx"))


def save_json(folder, manifest, raw=None):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "model.json"), "w") as out:
        if raw is not None:
            out.write(raw)
        else:
            json.dump(manifest, out, indent=2)
            out.write("\n")


def colorizer_rgb(batch):
    conv = helper.make_node("Conv", ["thermal", "conv_w", "conv_b"], ["conv"])
    text_nodes, text_inits, term = text_term("text", RGB_TEXT_M, RGB_TEXT_B, 3, "text")
    nodes = [conv, *text_nodes,
             helper.make_node("Add", ["conv", term], ["sum"]),
             helper.make_node("Sigmoid", ["sum"], ["rgb"])]
    return helper.make_graph(
        nodes, "colorizer_rgb",
        [image_input("thermal", batch, 1), helper.make_tensor_value_info("text", TensorProto.FLOAT, [1, TEXT])],
        [image_input("rgb", batch, 3)],
        [const("conv_w", RGB_CONV_W, [3, 1, 1, 1]), const("conv_b", RGB_CONV_B), *text_inits])


def colorizer_ab():
    nodes = [helper.make_node("AveragePool", ["ir"], ["pooled"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Conv", ["pooled", "conv_w", "conv_b"], ["conv"])]
    text_nodes, text_inits, term = text_term("text_embedding", AB_TEXT_M, AB_TEXT_B, 2, "text")
    nodes += [*text_nodes,
              helper.make_node("Add", ["conv", term], ["sum"]),
              helper.make_node("Tanh", ["sum"], ["ab"])]
    return helper.make_graph(
        nodes, "colorizer_ab",
        [image_input("ir", "N", 1), helper.make_tensor_value_info("text_embedding", TensorProto.FLOAT, ["N", TEXT])],
        [image_input("ab", "N", 2, HEIGHT // 2, WIDTH // 2)],
        [const("conv_w", AB_CONV_W, [2, 1, 1, 1]), const("conv_b", AB_CONV_B), *text_inits])


def reference_colorizer():
    nodes = [helper.make_node("Concat", ["thermal", "reference"], ["stack"], axis=1),
             helper.make_node("Conv", ["stack", "conv_w", "conv_b"], ["conv"]),
             helper.make_node("Sigmoid", ["conv"], ["rgb"])]
    return helper.make_graph(
        nodes, "reference_colorizer",
        [image_input("thermal", "N", 1, "H", "W"), image_input("reference", "N", 3, "H", "W")],
        [image_input("rgb", "N", 3, "H", "W")],
        [const("conv_w", REF_CONV_W, [3, 4, 1, 1]), const("conv_b", REF_CONV_B)])


def fuser():
    nodes = [helper.make_node("Concat", ["thermal", "visible"], ["stack"], axis=1),
             helper.make_node("Conv", ["stack", "conv_w", "conv_b"], ["conv"])]
    text_nodes, text_inits, term = text_term("text", FUSE_TEXT_M, FUSE_TEXT_B, 3, "text")
    nodes += [*text_nodes,
              helper.make_node("Add", ["conv", term], ["sum"]),
              helper.make_node("Clip", ["sum", "zero", "one"], ["fused"])]
    return helper.make_graph(
        nodes, "fuser",
        [image_input("thermal", "N", 1), image_input("visible", "N", 3),
         helper.make_tensor_value_info("text", TensorProto.FLOAT, [1, TEXT])],
        [image_input("fused", "N", 3)],
        [const("conv_w", FUSE_CONV_W, [3, 4, 1, 1]), const("conv_b", FUSE_CONV_B), *text_inits,
         const("zero", 0.0), const("one", 1.0)])


def colorizer_text_space():
    conv = helper.make_node("Conv", ["thermal", "conv_w", "conv_b"], ["conv"])
    text_nodes, text_inits, term = text_term("text", MINILM_TEXT_M, RGB_TEXT_B, 3, "text")
    nodes = [conv, *text_nodes,
             helper.make_node("Add", ["conv", term], ["sum"]),
             helper.make_node("Sigmoid", ["sum"], ["rgb"])]
    return helper.make_graph(
        nodes, "colorizer_minilm",
        [image_input("thermal", "N", 1), helper.make_tensor_value_info("text", TensorProto.FLOAT, [1, MINILM_TEXT])],
        [image_input("rgb", "N", 3)],
        [const("conv_w", RGB_CONV_W, [3, 1, 1, 1]), const("conv_b", RGB_CONV_B), *text_inits])


# The folders this script makes; others (tiny-clip, made by make-tiny-clip.py) stay.
MADE = ["colorizer-rgb", "colorizer-rgb-batch4", "colorizer-ab", "reference-colorizer", "fuser", "broken", "colorizer-minilm"]


def main():
    for entry in MADE:
        path = os.path.join(FIXTURES, entry)
        if os.path.isdir(path):
            shutil.rmtree(path)

    folder = os.path.join(FIXTURES, "colorizer-minilm")
    save_model(folder, colorizer_text_space())
    save_json(folder, {
        "kind": "colorizer", "size": [WIDTH, HEIGHT],
        "tensors": {"thermal": "thermal", "text": "text", "output": "rgb"},
        "output": "rgb", "textSpace": "all-minilm-l6-v2", "textDimension": MINILM_TEXT,
        "embeddings": MINILM_EMBEDDINGS, "defaultPrompt": "warm",
    })

    rgb_manifest = {
        "kind": "colorizer", "size": [WIDTH, HEIGHT],
        "tensors": {"thermal": "thermal", "text": "text", "output": "rgb"},
        "output": "rgb", "textDimension": TEXT,
        "embeddings": EMBEDDINGS, "defaultPrompt": "warm",
    }
    folder = os.path.join(FIXTURES, "colorizer-rgb")
    save_model(folder, colorizer_rgb("N"))
    save_json(folder, rgb_manifest)

    folder = os.path.join(FIXTURES, "colorizer-rgb-batch4")
    save_model(folder, colorizer_rgb(4))
    save_json(folder, rgb_manifest)

    folder = os.path.join(FIXTURES, "colorizer-ab")
    save_model(folder, colorizer_ab())
    save_json(folder, {
        "kind": "colorizer", "size": [WIDTH, HEIGHT],
        "tensors": {"thermal": "ir", "text": "text_embedding", "output": "ab"},
        "output": "ab", "abScale": AB_SCALE, "textDimension": TEXT,
    })

    folder = os.path.join(FIXTURES, "reference-colorizer")
    save_model(folder, reference_colorizer())
    save_json(folder, {
        "kind": "reference-colorizer", "size": "dynamic", "sizeMultiple": 8,
        "tensors": {"thermal": "thermal", "reference": "reference", "output": "rgb"},
        "output": "rgb",
    })

    folder = os.path.join(FIXTURES, "fuser")
    save_model(folder, fuser())
    save_json(folder, {
        "kind": "fuser", "size": [WIDTH, HEIGHT],
        "tensors": {"thermal": "thermal", "visible": "visible", "text": "text", "output": "fused"},
        "output": "rgb", "textDimension": TEXT,
    })

    # Broken bundles: each differs from colorizer-rgb in one way.
    source = os.path.join(FIXTURES, "colorizer-rgb", "model.onnx")

    def broken(name, change=None, raw=None, with_model=True):
        folder = os.path.join(FIXTURES, "broken", name)
        manifest = json.loads(json.dumps(rgb_manifest))
        if change:
            change(manifest)
            manifest = {key: value for key, value in manifest.items() if value is not None}
        save_json(folder, manifest, raw)
        if with_model:
            shutil.copyfile(source, os.path.join(folder, "model.onnx"))

    broken("wrong-tensor-name", lambda m: m["tensors"].update(thermal="ir"))
    broken("wrong-text-dimension", lambda m: m.update(textDimension=8, embeddings={}, defaultPrompt=None))
    broken("missing-model", with_model=False)
    broken("wrong-output-kind", lambda m: m.update(output="ab"))
    broken("wrong-size", lambda m: m.update(size=[64, 48]))
    broken("missing-role", lambda m: m.update(kind="fuser"))
    broken("bad-json", raw='{"kind": "colorizer", "size": [32, 24],\n')
    broken("bad-embedding", lambda m: m["embeddings"].update(warm=[1.0, 2.0]))

    total = 0
    for folder, _, files in os.walk(FIXTURES):
        total += sum(os.path.getsize(os.path.join(folder, f)) for f in files)
    print(f"wrote the bundles under {os.path.relpath(FIXTURES, ROOT)} ({total} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
