import numpy as np
import pytest
from PIL import Image

from thermocolor_training.data import Augmenter, list_pairs, load_pair, make_split, read_split, split_names


def make_folder(root, names, vi_scale=2.8, extra_ir=(), extra_vi=()):
    (root / "ir").mkdir(parents=True)
    (root / "vi").mkdir()
    rng = np.random.default_rng(0)
    for name in list(names) + list(extra_ir):
        Image.fromarray(rng.integers(0, 255, (40, 60), dtype=np.uint8)).save(root / "ir" / name)
    for name in list(names) + list(extra_vi):
        w, h = int(60 * vi_scale), int(40 * vi_scale * 1.1)  # a different scale per axis, like RoadScene
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(root / "vi" / name)


def test_reader_pairs_matching_names_and_resizes_visible_onto_the_thermal_grid(tmp_path):
    make_folder(tmp_path, ["a.png", "b.png"], extra_ir=["only-ir.png"], extra_vi=["only-vi.png"])
    assert list_pairs(tmp_path) == ["a.png", "b.png"]
    pair = load_pair(tmp_path, "a.png")
    assert pair.thermal.shape == (40, 60) and pair.thermal.dtype == np.uint8
    assert pair.visible.shape == (40, 60, 3) and pair.visible.dtype == np.uint8


def test_reader_reports_a_missing_folder(tmp_path):
    (tmp_path / "ir").mkdir()
    with pytest.raises(FileNotFoundError, match="no vi/ folder"):
        list_pairs(tmp_path)


def test_sixteen_bit_thermal_goes_through_the_engines_gain_control(tmp_path):
    make_folder(tmp_path, [])
    counts = (np.arange(40 * 60).reshape(40, 60) * 7 + 1000).astype(np.uint16)
    Image.fromarray(counts).save(tmp_path / "ir" / "deep.png")
    Image.fromarray(np.zeros((40, 60, 3), np.uint8)).save(tmp_path / "vi" / "deep.png")
    pair = load_pair(tmp_path, "deep.png")
    assert pair.thermal.dtype == np.uint8
    assert pair.thermal.min() == 0 and pair.thermal.max() == 255


def test_split_is_fixed_and_disjoint(tmp_path):
    names = [f"{i:03}.png" for i in range(50)]
    assert make_split(names) == make_split(list(reversed(names)))
    assert len(make_split(names)) == 10
    make_folder(tmp_path, names[:10])
    split = tmp_path / "val.txt"
    split.write_text("# comment\n001.png\n004.png\n")
    train, val = split_names(tmp_path, split)
    assert val == ["001.png", "004.png"] and not set(train) & set(val) and len(train) == 8


def test_committed_split_matches_the_seeded_choice(roadscene):
    from thermocolor_training.cli import DEFAULT_SPLIT
    committed = read_split(DEFAULT_SPLIT)
    assert committed == make_split(list_pairs(roadscene))
    assert len(committed) == 34


def test_augmentation_keeps_thermal_and_visible_aligned(tmp_path):
    # A vertical edge at the same place in both images must stay at the same place.
    (tmp_path / "ir").mkdir()
    (tmp_path / "vi").mkdir()
    ir = np.zeros((120, 160), np.uint8)
    ir[:, 80:] = 255
    vi = np.zeros((120, 160, 3), np.uint8)
    vi[:, 80:] = 255
    Image.fromarray(ir).save(tmp_path / "ir" / "e.png")
    Image.fromarray(vi).save(tmp_path / "vi" / "e.png")
    pair = load_pair(tmp_path, "e.png")
    augment = Augmenter(96, 64, gain=0, contrast=0, seed=3)
    for _ in range(5):
        thermal, visible = augment(pair)
        assert thermal.shape == (1, 64, 96) and visible.shape == (3, 64, 96)
        assert np.abs(thermal[0] - visible.mean(0)).mean() < 0.02
