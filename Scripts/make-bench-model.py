#!/usr/bin/env python3
"""Builds a colouriser bundle the size of a real one, for benchmarks only.

The network has random weights; only its shape and cost are realistic:
a ViT-style encoder (16x16 patches of the thermal frame, transformer
blocks with self-attention and cross-attention to a text vector), a small
convolutional pyramid of the thermal frame for skip connections, and a
U-Net-like decoder back to full working resolution that emits Lab chroma.
About 3.4 M parameters, 320x256 working size, dynamic batch, `ab` output.

Usage: Scripts/setup.sh --bench && .deps/py/bin/python Scripts/make-bench-model.py [OUT]
OUT defaults to .deps/bench-model (git-ignored; never committed).
"""
import json
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WIDTH, HEIGHT = 320, 256
PATCH = 16
DIM = 192          # token width
HEADS = 6
BLOCKS = 4
TEXT = 512         # CLIP ViT-B text embedding size
TEXT_TOKENS = 8    # the text vector is spread over a few tokens to attend to
GRID_W, GRID_H = WIDTH // PATCH, HEIGHT // PATCH
TOKENS = GRID_W * GRID_H

rng = np.random.default_rng(2024)
nodes, inits = [], []
params = 0


def weight(name, shape, fan_in=None):
    global params
    fan_in = fan_in or shape[0]
    array = (rng.standard_normal(shape) / math.sqrt(fan_in)).astype(np.float32)
    inits.append(numpy_helper.from_array(array, name))
    params += array.size
    return name


def zeros(name, shape, value=0.0):
    global params
    array = np.full(shape, value, dtype=np.float32)
    inits.append(numpy_helper.from_array(array, name))
    params += array.size
    return name


def ints(name, values):
    inits.append(numpy_helper.from_array(np.asarray(values, dtype=np.int64), name))
    return name


def floats(name, values):
    inits.append(numpy_helper.from_array(np.asarray(values, dtype=np.float32), name))
    return name


def op(kind, inputs, output, **attrs):
    nodes.append(helper.make_node(kind, inputs, [output], **attrs))
    return output


def conv(name, x, cin, cout, k=3, stride=1, relu=True):
    w = weight(f"{name}_w", [cout, cin, k, k], fan_in=cin * k * k)
    b = zeros(f"{name}_b", [cout])
    y = op("Conv", [x, w, b], f"{name}_y", kernel_shape=[k, k], strides=[stride, stride], pads=[k // 2] * 4)
    return op("Relu", [y], f"{name}_relu") if relu else y


def layer_norm(name, x):
    scale = zeros(f"{name}_scale", [DIM], 1.0)
    bias = zeros(f"{name}_bias", [DIM])
    return op("LayerNormalization", [x, scale, bias], f"{name}_y", axis=-1, epsilon=1e-5)


def linear(name, x, cin, cout):
    y = op("MatMul", [x, weight(f"{name}_w", [cin, cout])], f"{name}_mm")
    return op("Add", [y, zeros(f"{name}_b", [cout])], f"{name}_y")


def heads(name, x, keys=False):
    """[B,T,C] -> [B,H,T,d], or [B,H,d,T] for keys."""
    split = op("Reshape", [x, ints(f"{name}_shape", [0, 0, HEADS, DIM // HEADS])], f"{name}_split")
    return op("Transpose", [split], f"{name}_heads", perm=[0, 2, 3, 1] if keys else [0, 2, 1, 3])


def attention(name, x, context):
    h = layer_norm(f"{name}_ln", x)
    q = heads(f"{name}_q", linear(f"{name}_q", h, DIM, DIM))
    source = h if context is None else context
    k = heads(f"{name}_k", linear(f"{name}_k", source, DIM, DIM), keys=True)
    v = heads(f"{name}_v", linear(f"{name}_v", source, DIM, DIM))
    scores = op("MatMul", [q, k], f"{name}_scores")
    scaled = op("Mul", [scores, floats(f"{name}_scale", 1 / math.sqrt(DIM // HEADS))], f"{name}_scaled")
    weights = op("Softmax", [scaled], f"{name}_softmax", axis=-1)
    mixed = op("MatMul", [weights, v], f"{name}_mixed")
    merged = op("Transpose", [mixed], f"{name}_merged", perm=[0, 2, 1, 3])
    flat = op("Reshape", [merged, ints(f"{name}_flat_shape", [0, 0, DIM])], f"{name}_flat")
    return op("Add", [x, linear(f"{name}_out", flat, DIM, DIM)], f"{name}_residual")


def mlp(name, x):
    h = linear(f"{name}_up", layer_norm(f"{name}_ln", x), DIM, 4 * DIM)
    gate = op("Sigmoid", [op("Mul", [h, floats(f"{name}_k", 1.702)], f"{name}_hk")], f"{name}_gate")
    act = op("Mul", [h, gate], f"{name}_gelu")
    return op("Add", [x, linear(f"{name}_down", act, 4 * DIM, DIM)], f"{name}_residual")


def upsample(name, x, factor):
    return op("Resize", [x, "", floats(f"{name}_scales", [1, 1, factor, factor])], f"{name}_y",
              mode="linear", coordinate_transformation_mode="half_pixel")


def build():
    # Convolutional pyramid of the thermal frame, for the decoder's skips.
    e1 = conv("enc1", "thermal", 1, 8)                    # 320x256
    e2 = conv("enc2", e1, 8, 32, stride=2)                # 160x128
    e3 = conv("enc3", e2, 32, 64, stride=2)               # 80x64

    # Patch tokens with learned positions.
    patches = op("Conv", ["thermal", weight("patch_w", [DIM, 1, PATCH, PATCH], PATCH * PATCH),
                          zeros("patch_b", [DIM])], "patches", kernel_shape=[PATCH, PATCH], strides=[PATCH, PATCH])
    seq = op("Reshape", [patches, ints("seq_shape", [0, DIM, TOKENS])], "seq")
    tokens = op("Transpose", [seq], "tokens_t", perm=[0, 2, 1])
    x = op("Add", [tokens, weight("position", [1, TOKENS, DIM], DIM)], "tokens")

    # The text vector becomes a few context tokens shared by all blocks.
    text_proj = op("Gemm", ["text", weight("text_w", [TEXT, TEXT_TOKENS * DIM]),
                            zeros("text_b", [TEXT_TOKENS * DIM])], "text_proj")
    context = op("Reshape", [text_proj, ints("text_shape", [-1, TEXT_TOKENS, DIM])], "context")

    for block in range(BLOCKS):
        x = attention(f"b{block}_self", x, None)
        x = attention(f"b{block}_cross", x, context)
        x = mlp(f"b{block}_mlp", x)

    # Tokens back to a 20x16 map, then up through the pyramid.
    grid = op("Transpose", [x], "grid_t", perm=[0, 2, 1])
    grid = op("Reshape", [grid, ints("grid_shape", [0, DIM, GRID_H, GRID_W])], "grid")
    d = conv("dec0", grid, DIM, 64, k=1)
    d = upsample("up3", d, 4)                                            # 80x64
    d = conv("dec3", op("Concat", [d, e3], "cat3", axis=1), 128, 64)
    d = upsample("up2", d, 2)                                            # 160x128
    d = conv("dec2", op("Concat", [d, e2], "cat2", axis=1), 96, 32)
    d = upsample("up1", d, 2)                                            # 320x256
    d = conv("dec1", op("Concat", [d, e1], "cat1", axis=1), 40, 16)
    ab = conv("head", d, 16, 2, k=1, relu=False)
    op("Tanh", [ab], "ab")

    graph = helper.make_graph(
        nodes, "bench_colorizer",
        [helper.make_tensor_value_info("thermal", TensorProto.FLOAT, ["N", 1, HEIGHT, WIDTH]),
         helper.make_tensor_value_info("text", TensorProto.FLOAT, [1, TEXT])],
        [helper.make_tensor_value_info("ab", TensorProto.FLOAT, ["N", 2, HEIGHT, WIDTH])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="thermocolor-bench")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".deps", "bench-model")
    os.makedirs(out, exist_ok=True)
    model = build()
    onnx.save(model, os.path.join(out, "model.onnx"))
    prompt = "a city street at dusk"
    embedding = rng.standard_normal(TEXT).astype(np.float32)
    embedding /= np.linalg.norm(embedding)
    with open(os.path.join(out, "model.json"), "w") as manifest:
        json.dump({
            "kind": "colorizer", "size": [WIDTH, HEIGHT],
            "tensors": {"thermal": "thermal", "text": "text", "output": "ab"},
            "output": "ab", "abScale": 110, "textDimension": TEXT,
            "embeddings": {prompt: [round(float(v), 6) for v in embedding]},
            "defaultPrompt": prompt,
        }, manifest)
    print(f"wrote {out}: {params / 1e6:.2f} M parameters, {WIDTH}x{HEIGHT}, dynamic batch", file=sys.stderr)


if __name__ == "__main__":
    main()
