import numpy as np
import torch

from thermocolor_training.color import lab_to_rgb, lab_to_rgb_packed, rgb_to_lab, rgb_to_lab_torch
from thermocolor_training.losses import colourfulness_torch, ssim_loss
from thermocolor_training.metrics import colourfulness, gradient, psnr, ssim


def test_lab_round_trip_and_known_values():
    rgb = np.random.default_rng(0).random((50, 3))
    assert np.abs(lab_to_rgb(rgb_to_lab(rgb)) - rgb).max() < 1e-6
    assert np.allclose(rgb_to_lab(np.array([1.0, 1, 1])), [100, 0, 0], atol=1e-2)
    # scikit-image's rgb2lab of pure red.
    assert np.allclose(rgb_to_lab(np.array([1.0, 0, 0])), [53.2408, 80.0925, 67.2032], atol=1e-3)


def test_torch_conversions_match_numpy():
    rgb = np.random.default_rng(1).random((2, 3, 8, 9))
    lab = rgb_to_lab_torch(torch.tensor(rgb)).numpy()
    assert np.abs(lab - rgb_to_lab(rgb.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)).max() < 1e-6
    back = lab_to_rgb_packed(torch.tensor(lab)).numpy()
    # The sRGB curve is a polynomial fit in the exported network (color.py).
    assert np.abs(back - rgb).max() < 0.03 / 255


def test_the_fitted_srgb_curve_stays_within_three_hundredths_of_a_level():
    linear = torch.linspace(0, 1, 200001, dtype=torch.float64)
    exact = torch.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    lab = rgb_to_lab_torch(torch.stack([exact] * 3)[None, :, :, None])
    assert (lab_to_rgb_packed(lab) - exact[None, None, :, None]).abs().max() < 0.03 / 255


def test_guided_lab_applies_resized_local_models_to_the_full_frame():
    from thermocolor_training.model import guided_lab
    rng = torch.Generator().manual_seed(3)
    coefficients = torch.randn(2, 6, 5, 7, generator=rng) * 10
    prior = torch.randn(3, 6, generator=rng)
    thermal = torch.rand(2, 1, 40, 56, generator=rng)
    got = guided_lab(coefficients, prior, thermal)
    # The same arithmetic spelled out: each channel's gain and offset resized
    # on its own, the whole polynomial evaluated term by term.
    resize = lambda x: torch.nn.functional.interpolate(x, size=(40, 56), mode="bilinear", align_corners=False)
    gain, offset = resize(coefficients[:, 0::2]), resize(coefficients[:, 1::2])
    powers = torch.cat([thermal ** k for k in range(6)], 1)
    want = torch.einsum("ck,nkhw->nchw", prior, powers) + gain * thermal + offset
    want = torch.cat([want[:, :1].clamp(0, 100), want[:, 1:]], 1)
    assert (got - want).abs().max() < 1e-3


def test_metrics_agree_with_the_loss_and_with_definitions():
    rng = np.random.default_rng(2)
    a = rng.integers(0, 256, (40, 50, 3)).astype(np.uint8)
    b = np.clip(a + rng.normal(0, 15, a.shape), 0, 255).astype(np.uint8)
    as_tensor = lambda x: torch.tensor(x).permute(2, 0, 1)[None].double() / 255
    assert abs(ssim(a, b) - (1 - float(ssim_loss(as_tensor(a), as_tensor(b))))) < 1e-6
    assert ssim(a, a) > 0.9999 and psnr(a, a) > 90
    grey = np.repeat(a[..., :1], 3, 2)
    assert colourfulness(grey) == 0
    assert abs(float(colourfulness_torch(as_tensor(b))[0]) - colourfulness(b)) < 1e-3 * colourfulness(b) + 1e-6
    assert gradient(np.zeros((10, 10, 3), np.uint8)) == 0


def test_ceilings_rank_oracles_by_what_they_know():
    from test_training import generated_pairs
    from thermocolor_training.ceilings import ceilings
    from thermocolor_training.evaluate import evaluate, fit_constant
    pairs = generated_pairs(count=6, seed=3)
    summary = ceilings(pairs[:4], pairs[4:], sigmas=(1.0, 4.0))
    # Less blur keeps more of the answer.
    assert summary["visible_blurred_1px"]["psnr"] > summary["visible_blurred_4px"]["psnr"]
    assert summary["visible_blurred_1px"]["ssim"] > summary["visible_blurred_4px"]["ssim"]
    # Each image's own mean colour is the best constant picture: no worse than the training mean.
    constant = evaluate(lambda thermal, embedding: np.broadcast_to(
        np.clip(np.floor(fit_constant(pairs[:4]) + 0.5), 0, 255).astype(np.uint8), thermal.shape + (3,)),
        pairs[:4], pairs[4:], np.zeros(4))["summary"]["constant"]
    assert summary["true_mean_colour"]["psnr"] >= constant["psnr"] - 1e-9


def test_flicker_against_the_input_is_one_for_a_fixed_mapping_and_flags_colour_that_moves_alone():
    from test_training import generated_pairs
    from thermocolor_training.evaluate import fit_lookup_table, flicker, synthetic_clip, to_uint8
    pairs = generated_pairs(4)
    table = fit_lookup_table(pairs)
    lookup = lambda thermal, embedding: to_uint8(table[thermal])
    result = flicker(lookup, pairs, None, table, frames=4, step=2)
    steady = result["against_input"]
    assert abs(steady["synthetic"] - 1) < 1e-9 and abs(steady["validation_max"] - 1) < 1e-9
    # A per-pixel mapping colours a moved frame exactly as the moved output.
    assert abs(result["against_motion"]["validation_max"] - 1) < 1e-9
    # The same mapping with a random colour cast per frame: colour that
    # changes while the input does not.
    rng = np.random.default_rng(4)
    cast = lambda thermal, embedding: np.clip(lookup(thermal, None) + rng.normal(0, 8, 3), 0, 255).astype(np.uint8)
    cast_result = flicker(cast, pairs, None, table, frames=4, step=2)
    assert cast_result["against_input"]["synthetic"] > 1.5
    assert cast_result["against_motion"]["validation_mean"] > 1.5
    clip = synthetic_clip(96, 72, frames=5)
    assert len(clip) == 5 and clip[0].shape == (72, 96) and clip[0].dtype == np.uint8
    assert not np.array_equal(clip[0], clip[-1])


def test_average_scene_is_the_unit_mean_of_the_training_captions_and_gets_its_own_row():
    from test_training import generated_pairs
    from thermocolor_training.captions import captions_for
    from thermocolor_training.data import stable_seed
    from thermocolor_training.evaluate import average_scene_embedding, evaluate
    pairs = generated_pairs(count=5, seed=5)
    features = lambda texts: np.array([[len(t), t.count(" "), 1.0] for t in texts])
    vector = average_scene_embedding(pairs[:3], features, per_image=2)
    # The captions train draws: each training image's full descriptions, each counted.
    drawn = [t for p in pairs[:3] for t in captions_for(p.visible, 2, seed=stable_seed(p.name))]
    assert len(drawn) == 6
    mean = features(drawn).mean(0)
    assert np.allclose(vector, mean / np.linalg.norm(mean), atol=1e-6)
    told = []
    def colorize(thermal, embedding):
        told.append(embedding)
        return np.repeat(thermal[..., None], 3, 2)
    summary = evaluate(colorize, pairs[:3], pairs[3:], np.zeros(3), average=vector)["summary"]
    assert summary["model_average_scene"]["images"] == 2
    assert sum(e is vector for e in told) == 2
