"""A short real training on generated pairs: the loss must come down."""
import numpy as np
import torch

from thermocolor_training.data import Pair
from thermocolor_training.train import train


def generated_pairs(count=6, seed=0):
    """Thermal blobs on a ramp; the visible image colours hot things red and the
    cold top blue, so colour is learnable from the thermal frame alone."""
    rng = np.random.default_rng(seed)
    pairs = []
    yy, xx = np.mgrid[0:72, 0:96] / np.array([72.0, 96.0])[:, None, None]
    for index in range(count):
        thermal = 0.3 + 0.3 * yy
        for _ in range(3):
            cy, cx = rng.random(2)
            thermal = thermal + 0.5 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 0.01)
        thermal = np.clip(thermal, 0, 1)
        hot = np.clip((thermal - 0.6) * 3, 0, 1)
        sky = (yy < 0.3).astype(float)
        visible = np.stack([0.3 + 0.6 * hot, 0.4 - 0.2 * hot + 0.1 * sky, 0.3 + 0.5 * sky - 0.2 * hot], -1)
        pairs.append(Pair(f"g{index}", (thermal * 255).astype(np.uint8), (np.clip(visible, 0, 1) * 255).astype(np.uint8)))
    return pairs


def hashed_encode(texts):
    """A stand-in text space (unit vectors from a hash) so the smoke test needs no text model."""
    out = []
    for text in texts:
        rng = np.random.default_rng(abs(hash(text)) % (2 ** 32))
        v = rng.normal(size=384)
        out.append(v / np.linalg.norm(v))
    return np.asarray(out, dtype=np.float32)


def test_smoke_training_lowers_the_loss(tmp_path):
    torch.manual_seed(0)
    result = train(generated_pairs(), tmp_path, steps=50, size=(64, 48), crop=(96, 72), batch=4, lr=3e-3,
                   weights={"perceptual": 0.0, "adversarial": 0.02}, encode=hashed_encode,
                   model_kwargs={"width": 8, "dim": 32, "depth": 1, "heads": 2}, threads=2, log=lambda _: None)
    totals = [h["total"] for h in result["history"]]
    first, last = np.mean(totals[:5]), np.mean(totals[-5:])
    assert last < 0.8 * first, f"loss {first:.4f} -> {last:.4f}"
    assert (tmp_path / "model.pt").exists() and (tmp_path / "config.json").exists()


def test_caption_table_keeps_short_descriptions_apart():
    from thermocolor_training.train import caption_table
    pairs = generated_pairs(2)
    texts, full, short, uninformative = caption_table(pairs, 4, hashed_encode, partial=True)
    for pair in pairs:
        assert full[pair.name].shape == (4, 384)
        assert short[pair.name].shape[0] == len(texts[pair.name]) - 4
        assert torch.allclose(short[pair.name][0], torch.from_numpy(hashed_encode([texts[pair.name][4]])[0]))
    assert uninformative.shape == (2, 384)
    _, _, none, _ = caption_table(pairs, 4, hashed_encode)
    assert none == {}


def test_shift_consistency_sees_colour_that_moves_with_the_frame_edges():
    import random
    from thermocolor_training.train import shift_consistency_term

    class PerPixel:  # colour a fixed function of each pixel: moving the frame moves nothing else
        def lab(self, thermal, text):
            return torch.cat([thermal * 100, thermal * 40 - 20, 10 - thermal * 30], 1)

    class FrameMean(PerPixel):  # colour also set by the whole frame's mean, as a global context does
        def lab(self, thermal, text):
            return super().lab(thermal, text) + thermal.mean(dim=(2, 3), keepdim=True) * 50

    thermal = torch.from_numpy(np.stack([p.thermal for p in generated_pairs(3)])[:, None] / 255.0).float()
    text = torch.zeros(3, 384)
    for model, moves in ((PerPixel(), False), (FrameMean(), True)):
        term = shift_consistency_term(model, thermal, text, model.lab(thermal, text), random.Random(0))
        assert (float(term) > 1e-3) == moves, float(term)
