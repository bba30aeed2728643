"""thermocolor-train: train, evaluate, ceilings, export, caption, parity."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "roadscene"
DEFAULT_SPLIT = REPO / "Training" / "splits" / "roadscene-val.txt"


def size_arg(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, got {text!r}")
    return w, h


def load_split_pairs(data: Path, split: Path, which: str):
    from .data import load_pair, split_names
    train_names, val_names = split_names(data, split)
    names = train_names if which == "train" else val_names
    return [load_pair(data, n) for n in names]


def cmd_split(args):
    from .data import list_pairs, make_split
    names = make_split(list_pairs(args.data), args.fraction, args.seed)
    header = (f"# Validation split of {args.data.name}: {len(names)} pairs, never trained on.\n"
              f"# Made by: python -m thermocolor_training split --fraction {args.fraction} --seed {args.seed}\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(header + "\n".join(names) + "\n")
    print(f"{args.out}: {len(names)} validation pairs")


def cmd_train(args):
    from .train import train
    pairs = load_split_pairs(args.data, args.split, "train")
    print(f"training on {len(pairs)} pairs from {args.data} (validation split {args.split} held out)", flush=True)
    weights = json.loads(args.weights) if args.weights else None
    train(pairs, args.out, minutes=args.minutes, steps=args.steps, size=args.size, crop=args.crop,
          batch=args.batch, lr=args.lr, weights=weights, threads=args.threads, seed=args.seed,
          init=args.init, stop_after=args.stop_after, adversarial_from=args.adversarial_from,
          dropped_chroma=args.dropped_chroma, partial_captions=args.partial_captions,
          shift_consistency=args.shift_consistency, log=lambda line: print(line, flush=True))


def cmd_caption(args):
    from PIL import Image
    import numpy as np
    from . import captions
    for path in args.images:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        props = captions.measure(rgb)
        print(f"{path}: {props}")
        for text in captions.captions_for(rgb, args.count):
            print(f"  {text}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="thermocolor-train", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def data_args(p):
        p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with ir/ and vi/ (default: RoadScene)")
        p.add_argument("--split", type=Path, default=DEFAULT_SPLIT, help="validation split list")

    p = sub.add_parser("split", help="write a fixed, seeded validation split list")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--out", type=Path, default=DEFAULT_SPLIT)
    p.add_argument("--fraction", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=11)
    p.set_defaults(run=cmd_split)

    p = sub.add_parser("train", help="train a colouriser on the training pairs")
    data_args(p)
    p.add_argument("--out", type=Path, required=True, help="run folder (model.pt, config.json, captions.json)")
    budget = p.add_mutually_exclusive_group(required=True)
    budget.add_argument("--minutes", type=float, help="wall-clock budget; the schedule fits it")
    budget.add_argument("--steps", type=int)
    p.add_argument("--size", type=size_arg, default=(256, 192), help="network working size WxH")
    p.add_argument("--crop", type=size_arg, default=(320, 240), help="training crop WxH (full-resolution side)")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--weights", help='loss weights as JSON, e.g. \'{"perceptual": 0}\' for an ablation')
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--init", type=Path, help="start from this checkpoint (a second phase)")
    p.add_argument("--stop-after", type=float, help="stop after this many minutes, the schedule planned over --minutes")
    p.add_argument("--adversarial-from", type=float, default=0.2, help="fraction of the run before the PatchGAN term starts")
    p.add_argument("--dropped-chroma", type=float, default=1.0,
                   help="chroma-deficit weight of crops whose caption was dropped, as a share of the others'")
    p.add_argument("--partial-captions", type=float, default=0.0,
                   help="share of kept captions that leave out some of the scene's properties (short prompts)")
    p.add_argument("--shift-consistency", type=float, default=0.0,
                   help="weight of the term that keeps colour still when the frame moves a few pixels")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=cmd_train)

    p = sub.add_parser("caption", help="print the measured properties and captions of visible images")
    p.add_argument("images", nargs="+", type=Path)
    p.add_argument("--count", type=int, default=4)
    p.set_defaults(run=cmd_caption)

    from . import ceilings, evaluate, export, parity, seeds
    ceilings.register(sub)
    evaluate.register(sub)
    export.register(sub)
    parity.register(sub)
    seeds.register(sub)

    args = parser.parse_args(argv)
    try:
        args.run(args)
    except (FileNotFoundError, ValueError, RuntimeError) as error:
        print(f"thermocolor-train: {error}", file=sys.stderr)
        sys.exit(1)
