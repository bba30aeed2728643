"""The Python gain control against the engine's, on the same 16-bit frames.

The engine's output goes through its white-hot palette, a 256-entry table
that is measured first on a ramp, so the comparison is exact.
"""
import subprocess

import numpy as np
import pytest
from PIL import Image

from thermocolor_training.agc import AutomaticGainControl, ContrastStretch


def frames(count=1, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:96, 0:128]
    for index in range(count):
        # A scene whose level and contrast drift, with noise and a dead and a hot pixel.
        scene = 8000 + 400 * index + (3000 + 300 * index) * np.sin(xx / 9) + 2000 * yy / 96
        counts = (scene + rng.normal(0, 200, scene.shape)).clip(0, 65535).astype(np.uint16)
        counts[5, 5], counts[6, 6] = 65535, 0
        yield counts


def palette(thermocolor, tmp_path, video=False):
    """The engine's white-hot table, through the still-image or the video path."""
    ramp = np.arange(256, dtype=np.uint8).reshape(16, 16)
    (tmp_path / "ramp").mkdir(exist_ok=True)
    Image.fromarray(ramp).save(tmp_path / "ramp" / "00000.png")
    if video:
        out = tmp_path / "ramp.mkv"
        subprocess.run([thermocolor, "convert", str(tmp_path / "ramp" / "%05d.png"), str(out), "--palette", "white-hot",
                        "--codec", "png"], check=True, capture_output=True)
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(out), str(tmp_path / "ramp-out.png")], check=True)
    else:
        subprocess.run([thermocolor, "convert", str(tmp_path / "ramp" / "00000.png"), str(tmp_path / "ramp-out.png"),
                        "--palette", "white-hot"], check=True, capture_output=True)
    return np.asarray(Image.open(tmp_path / "ramp-out.png").convert("RGB")).reshape(256, 3)


@pytest.mark.parametrize("mode", ["linear", "plateau", "none"])
def test_single_frame_matches_the_engine(thermocolor, tmp_path, mode):
    table = palette(thermocolor, tmp_path)
    counts = next(frames())
    Image.fromarray(counts).save(tmp_path / "in.png")
    subprocess.run([thermocolor, "convert", str(tmp_path / "in.png"), str(tmp_path / "out.png"),
                    "--palette", "white-hot", "--agc", mode], check=True, capture_output=True)
    engine = np.asarray(Image.open(tmp_path / "out.png").convert("RGB"))
    ours = table[AutomaticGainControl(mode)(counts)]
    assert np.array_equal(engine, ours)


@pytest.mark.parametrize("mode", ["linear", "plateau"])
def test_smoothing_over_a_sequence_matches_the_engine(thermocolor, tmp_path, mode):
    table = palette(thermocolor, tmp_path, video=True)
    clip = list(frames(6, seed=1))
    (tmp_path / "seq").mkdir()
    for index, counts in enumerate(clip):
        Image.fromarray(counts).save(tmp_path / "seq" / f"{index:05}.png")
    out = tmp_path / "out.mkv"
    subprocess.run([thermocolor, "convert", str(tmp_path / "seq" / "%05d.png"), str(out), "--palette", "white-hot",
                    "--agc", mode, "--codec", "png"], check=True, capture_output=True)
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(out), str(tmp_path / "f%03d.png")], check=True)
    agc = AutomaticGainControl(mode)
    for index, counts in enumerate(clip):
        engine = np.asarray(Image.open(tmp_path / f"f{index + 1:03}.png").convert("RGB"))
        assert np.array_equal(engine, table[agc(counts)]), f"frame {index}"


def test_eight_bit_passes_through_and_stretch_matches(thermocolor, tmp_path):
    table = palette(thermocolor, tmp_path)
    gray = (next(frames()) >> 7).astype(np.uint8)
    Image.fromarray(gray).save(tmp_path / "g.png")
    for extra, expected in (([], gray), (["--stretch"], ContrastStretch()(gray))):
        subprocess.run([thermocolor, "convert", str(tmp_path / "g.png"), str(tmp_path / "o.png"),
                        "--palette", "white-hot", *extra], check=True, capture_output=True)
        assert np.array_equal(np.asarray(Image.open(tmp_path / "o.png").convert("RGB")), table[expected])


def test_parameters_are_checked():
    with pytest.raises(ValueError):
        AutomaticGainControl("gamma")
    with pytest.raises(ValueError):
        AutomaticGainControl(significant_bits=20)
