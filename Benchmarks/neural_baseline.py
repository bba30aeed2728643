#!/usr/bin/env python3
"""The baseline for Benchmarks/neural.sh: the same bundle and the same work
per frame as NeuralColorizer (bilinear resize to the working size, infer,
then for `ab` networks upsample the Lab chroma, join it with the thermal
lightness and convert Lab -> 8-bit sRGB, for `rgb` networks resize the
picture and round it), written as a plain Python loop over OpenVINO's
Python API and numpy. Like the engine, it compiles the network with its
input shapes fixed, once per batch size.

    neural_baseline.py BUNDLE [--batches 1,8] [--frames 64] [--size 640x512] [--precision f32]
                       [--compare RGB]   (check against neural-bench --dump; use f32 for both)

Prints `fps python <batch> <value>` per batch size.
"""
import argparse
import json
import os
import time

import numpy as np
import openvino as ov

M = np.array([[3.2404813432, -1.5371515163, -0.4985363262],
              [-0.96925495, 1.8759900015, 0.0415559266],
              [0.0556466391, -0.2040413384, 1.0573110696]], dtype=np.float32)
WHITE = np.array([0.95047, 1.0, 1.08883], dtype=np.float32)


def taps(source, destination):
    position = np.maximum(0, (np.arange(destination) + 0.5) * source / destination - 0.5)
    low = np.minimum(position.astype(np.int64), source - 1)
    high = np.minimum(low + 1, source - 1)
    weight = np.where(low < source - 1, position - low, 0).astype(np.float32)
    return low, high, weight


def resize(planes, width, height):
    """Bilinear, half-pixel centres, over the last two axes."""
    y0, y1, wy = taps(planes.shape[-2], height)
    x0, x1, wx = taps(planes.shape[-1], width)
    top, bottom = planes[..., y0, :], planes[..., y1, :]
    rows = top + (bottom - top) * wy[:, None]
    return rows[..., x0] + (rows[..., x1] - rows[..., x0]) * wx


def lab_to_rgb8(lightness, a, b):
    fy = (lightness + 16) / 116
    f = np.stack([fy + a / 500, fy, fy - b / 200], axis=-1)
    xyz = np.where(f > 6 / 29, f ** 3, (f - 16 / 116) * (3 * (6 / 29) ** 2)) * WHITE
    linear = np.clip(xyz @ M.T, 0, 1)
    encoded = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * np.power(linear, 1 / 2.4) - 0.055)
    return (encoded * 255 + 0.5).astype(np.uint8)


def synthetic_frames(count, width, height):
    y, x = np.mgrid[0:height, 0:width]
    frames = []
    for index in range(count):
        bx, by = (index * 37) % width, (index * 23) % height
        blob = np.maximum(0, 120 - ((x - bx) ** 2 + (y - by) ** 2) // 40)
        frames.append(np.minimum(255, (x + y) * 100 // (width + height) + (x * y + index) % 17 + blob).astype(np.uint8))
    return frames


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bundle")
    parser.add_argument("--batches", default="1,8")
    parser.add_argument("--frames", type=int, default=64)
    parser.add_argument("--size", default="640x512")
    parser.add_argument("--precision")
    parser.add_argument("--compare", help="raw RGB of the first frame from neural-bench --dump")
    args = parser.parse_args()
    width, height = map(int, args.size.split("x"))

    with open(os.path.join(args.bundle, "model.json")) as manifest:
        bundle = json.load(manifest)
    if bundle["size"] == "dynamic":
        multiple = bundle.get("sizeMultiple", 1)
        work_w, work_h = max(multiple, width // multiple * multiple), max(multiple, height // multiple * multiple)
    else:
        work_w, work_h = bundle["size"]
    names = bundle["tensors"]
    scale = bundle.get("abScale", 1.0)
    text = np.asarray(bundle["embeddings"][bundle["defaultPrompt"]], dtype=np.float32)[None, :]

    core = ov.Core()
    config = {"INFERENCE_PRECISION_HINT": args.precision} if args.precision else {}
    networks = {}

    def network(rows):
        if rows not in networks:
            model = core.read_model(os.path.join(args.bundle, "model.onnx"))
            model.reshape({names["thermal"]: [rows, 1, work_h, work_w], names["text"]: list(text.shape)})
            compiled = core.compile_model(model, "CPU", config)
            networks[rows] = (compiled, compiled.output(names["output"]))
        return networks[rows]

    pool = synthetic_frames(16, width, height)
    frames = [pool[i % len(pool)] for i in range(args.frames)]

    def colorize(batch):
        thermal = np.stack(batch).astype(np.float32)[:, None] / 255
        compiled, output = network(len(batch))
        small = thermal if (work_w, work_h) == (width, height) else resize(thermal, work_w, work_h)
        result = compiled({names["thermal"]: small, names["text"]: text})[output]
        if bundle.get("output", "ab") == "rgb":
            if result.shape[-2:] != (height, width):
                result = resize(result, width, height)
            return [(np.clip(image, 0, 1).transpose(1, 2, 0) * 255 + 0.5).astype(np.uint8) for image in result]
        ab = resize(result * scale, width, height)
        return [lab_to_rgb8(frame.astype(np.float32) * (100 / 255), ab[i, 0], ab[i, 1])
                for i, frame in enumerate(batch)]

    if args.compare:
        ours = np.fromfile(args.compare, dtype=np.uint8).reshape(height, width, 3).astype(int)
        difference = np.abs(ours - colorize(frames[:1])[0].astype(int))
        print(f"compare: max difference {difference.max()}, mean {difference.mean():.4f} (8-bit)", flush=True)

    for batch in [int(b) for b in args.batches.split(",")]:
        colorize(frames[:batch])  # warm-up
        start = time.perf_counter()
        done = 0
        for first in range(0, len(frames), batch):
            done += len(colorize(frames[first:first + batch]))
        print(f"fps python {batch} {done / (time.perf_counter() - start):.2f}", flush=True)


if __name__ == "__main__":
    main()
