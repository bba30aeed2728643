"""The reference colouriser and the fuser: tensor contract, export, losses,
reference choice, a smoke training each, and parity with the engine."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from test_training import generated_pairs, hashed_encode
from thermocolor_training import fusion_prompts
from thermocolor_training.data import Pair
from thermocolor_training.fuser_model import TextFuser
from thermocolor_training.fusion_losses import FusionLoss, PatchNCE, ReferenceLoss
from thermocolor_training.reference_model import ReferenceColorizer, StopGradientAttention
from thermocolor_training.seed_evaluate import parity, reference_pairing
from thermocolor_training.seed_export import export_seed_bundle
from thermocolor_training.seed_train import ReferencePicker, load_seed_model, train_fuser, train_reference


def tiny_reference():
    torch.manual_seed(0)
    return ReferenceColorizer(size=(64, 48), width=4, attention_dim=8).eval()


def tiny_fuser():
    torch.manual_seed(0)
    return TextFuser(size=(64, 48), width=4, heads=2).eval()


def randomise_heads(model):
    """The heads start at zero (a neutral output); give them weights so tests see the whole network."""
    torch.manual_seed(1)
    with torch.no_grad():
        model.head.weight.normal_(0, 0.05)
        model.head.bias.normal_(0, 0.05)
        if hasattr(model, "text_controls"):
            model.text_controls.weight.normal_(0, 0.05)
    return model


def test_reference_colorizer_keeps_the_thermal_resolution_and_batch():
    model = randomise_heads(tiny_reference())
    thermal, reference = torch.rand(3, 1, 61, 83), torch.rand(3, 3, 40, 50)
    with torch.no_grad():
        rgb = model(thermal, reference)
    assert rgb.shape == (3, 3, 61, 83)
    assert float(rgb.min()) >= 0 and float(rgb.max()) <= 1


def test_the_reference_changes_the_colours():
    model = randomise_heads(tiny_reference())
    thermal = torch.rand(1, 1, 48, 64)
    red, blue = torch.zeros(1, 3, 48, 64), torch.zeros(1, 3, 48, 64)
    red[:, 0], blue[:, 2] = 0.9, 0.9
    with torch.no_grad():
        assert float((model(thermal, red) - model(thermal, blue)).abs().mean()) > 1e-3


def test_attention_keys_carry_no_gradient():
    attention = StopGradientAttention(4, 4, 8)
    thermal = torch.randn(1, 4, 3, 4, requires_grad=True)
    reference = torch.randn(1, 4, 3, 4, requires_grad=True)
    values = torch.randn(1, 2, 3, 4)
    moved, confidence = attention(thermal, reference, values)
    (moved.sum() + confidence.sum()).backward()
    assert reference.grad is None or float(reference.grad.abs().max()) == 0
    assert float(thermal.grad.abs().max()) > 0
    assert moved.shape == (1, 2, 3, 4) and confidence.shape == (1, 1, 3, 4)


def test_fuser_output_and_controls():
    model = randomise_heads(tiny_fuser())
    thermal, visible = torch.rand(2, 1, 50, 70), torch.rand(2, 3, 50, 70)
    text = torch.from_numpy(hashed_encode(["a"]))
    with torch.no_grad():
        rgb, y, controls = model.fuse(thermal, visible, text)
    assert rgb.shape == (2, 3, 50, 70) and y.shape == (2, 1, 50, 70) and controls.shape == (2, 4, 50, 70)
    weight = controls[:, 0]
    assert float(weight.min()) >= 0 and float(weight.max()) <= 1


def test_untrained_fuser_is_an_even_mix_with_the_visible_colours():
    model = tiny_fuser()   # zero head: weight 1/2, detail gains 1, chroma gain 1
    thermal, visible = torch.rand(1, 1, 48, 64), torch.rand(1, 3, 48, 64) * 0.5 + 0.25
    with torch.no_grad():
        _, y, _ = model.fuse(thermal, visible, torch.from_numpy(hashed_encode([""])))
    from thermocolor_training.fuser_model import keep_contrast, luma
    mix = 0.5 * thermal + 0.5 * luma(visible)
    assert torch.allclose(y, keep_contrast(mix, thermal, luma(visible)).clamp(0, 1), atol=1e-5)


def test_keep_contrast_restores_the_more_contrasted_cameras_spread():
    from thermocolor_training.fuser_model import keep_contrast, spread
    torch.manual_seed(1)
    thermal, visible = torch.rand(2, 1, 30, 40), torch.rand(2, 1, 30, 40) * 0.4 + 0.3
    flat = 0.8 * thermal + 0.1          # flatter than the thermal image
    stretched = keep_contrast(flat, thermal, visible)
    assert torch.allclose(spread(stretched), spread(thermal), rtol=1e-4)
    assert torch.allclose(stretched.mean(dim=(2, 3)), flat.mean(dim=(2, 3)), atol=1e-6)
    # Never compresses a picture that already has more contrast than both.
    steep = (thermal - 0.5) * 1.2 + 0.5
    assert torch.allclose(keep_contrast(steep, thermal, visible), steep, atol=1e-6)


def test_fusion_loss_balance_moves_the_target():
    loss = FusionLoss()
    # Two unrelated pictures of the same statistics: neither wins the plain terms.
    torch.manual_seed(0)
    thermal = torch.rand(2, 1, 40, 40)
    visible = torch.rand(2, 1, 40, 40).repeat(1, 3, 1, 1)
    from thermocolor_training.fuser_model import luma, ycbcr_to_rgb, chroma
    cb, cr = chroma(visible)

    def total(y, balance):
        value, _ = loss(y, ycbcr_to_rgb(y, cb, cr), thermal, visible, torch.full((2,), balance))
        return float(value)
    like_thermal, like_visible = thermal, luma(visible)
    assert total(like_thermal, 1.0) < total(like_visible, 1.0)
    assert total(like_visible, -1.0) < total(like_thermal, -1.0)


def test_patch_nce_prefers_matching_places():
    torch.manual_seed(0)
    nce = PatchNCE([8], dim=16, patches=16)
    features = torch.randn(2, 8, 6, 6)
    same = float(nce([features], [features]))
    shuffled = float(nce([features], [features.flip(-1).flip(-2)]))
    assert same < shuffled


def test_chroma_deficit_is_weighed_per_crop():
    """Crops with an arbitrary reference get a fraction of the chroma pressure."""
    loss = ReferenceLoss({"perceptual": 0.0, "nce": 0.0, "adversarial": 0.0})
    target = torch.zeros(2, 3, 8, 8)
    target[:, 0], target[:, 1] = 50, 40                       # a saturated visible image
    grey = torch.zeros(2, 3, 8, 8)
    grey[:, 0] = 50                                           # an output with no chroma
    rgb, rgb_target = torch.full((2, 3, 8, 8), 0.5), torch.full((2, 3, 8, 8), 0.5)
    _, every = loss(grey, rgb, target, rgb_target)
    _, first_only = loss(grey, rgb, target, rgb_target, chroma_scale=torch.tensor([1.0, 0.0]))
    assert every["chroma"] > 0
    assert first_only["chroma"] == pytest.approx(every["chroma"] / 2, rel=1e-4)


def test_prompts_hold_out_the_documented_ones():
    seen = [text for text, _ in fusion_prompts.training_prompts()]
    assert fusion_prompts.HELD_OUT_THERMAL not in seen and fusion_prompts.HELD_OUT_VISIBLE not in seen
    for prompt in (fusion_prompts.HELD_OUT_THERMAL, fusion_prompts.HELD_OUT_VISIBLE, fusion_prompts.DEFAULT_PROMPT, ""):
        assert prompt in fusion_prompts.BAKED_PROMPTS


def test_references_come_from_other_pairs_or_a_distorted_self():
    pairs = generated_pairs(count=5)
    picker = ReferencePicker(pairs, (48, 36), seed=0)
    kinds = set()
    for _ in range(40):
        reference, kind = picker(pairs[0])
        kinds.add(kind)
        assert reference.shape == (3, 36, 48)
        assert float(reference.min()) >= 0 and float(reference.max()) <= 1
    assert kinds == {"nearest", "random", "self"}
    assert 0 not in picker.near[0]
    # The validation pairing never gives a scene its own picture.
    assert all(j != i for i, j in enumerate(reference_pairing(list(range(34)))))
    from thermocolor_training.seed_evaluate import similar_pairing
    assert all(j != i for i, j in enumerate(similar_pairing(pairs)))


def _onnx_inputs(path):
    import onnx
    model = onnx.load(str(path))
    shapes = {}
    for value in model.graph.input:
        dims = value.type.tensor_type.shape.dim
        shapes[value.name] = [d.dim_param or d.dim_value for d in dims]
    return shapes, [o.name for o in model.graph.output]


def _openvino(path, inputs):
    import openvino as ov
    compiled = ov.Core().compile_model(str(path), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    return compiled(inputs)[compiled.output(0)]


def test_reference_bundle_follows_the_contract(tmp_path):
    model = randomise_heads(tiny_reference())
    bundle = export_seed_bundle(model, "reference-colorizer", tmp_path / "bundle")
    config = json.loads((bundle / "model.json").read_text())
    assert config["kind"] == "reference-colorizer" and config["output"] == "rgb" and config["size"] == "dynamic"
    assert config["tensors"] == {"thermal": "thermal", "reference": "reference", "output": "rgb"}
    shapes, outputs = _onnx_inputs(bundle / "model.onnx")
    assert outputs == ["rgb"]
    assert shapes["thermal"][1] == 1 and shapes["reference"][1] == 3
    assert all(isinstance(d, str) for i in (0, 2, 3) for d in (shapes["thermal"][i], shapes["reference"][i]))
    thermal, reference = torch.rand(3, 1, 72, 100), torch.rand(3, 3, 72, 100)
    with torch.no_grad():
        want = model(thermal, reference).numpy()
    got = _openvino(bundle / "model.onnx", {"thermal": thermal.numpy(), "reference": reference.numpy()})
    assert np.abs(got - want).max() < 1e-3


def test_fuser_bundle_follows_the_contract(tmp_path):
    model = randomise_heads(tiny_fuser())
    bundle = export_seed_bundle(model, "fuser", tmp_path / "bundle", encode=hashed_encode)
    config = json.loads((bundle / "model.json").read_text())
    assert config["kind"] == "fuser" and config["output"] == "rgb"
    assert config["tensors"] == {"thermal": "thermal", "visible": "visible", "text": "text", "output": "rgb"}
    assert config["textSpace"] == "all-minilm-l6-v2" and config["textDimension"] == 384
    assert config["defaultPrompt"] in config["embeddings"]
    assert all(len(v) == 384 for v in config["embeddings"].values())
    shapes, _ = _onnx_inputs(bundle / "model.onnx")
    assert shapes["text"] == [1, 384] and shapes["visible"][1] == 3
    thermal, visible = torch.rand(2, 1, 64, 90), torch.rand(2, 3, 64, 90)
    text = torch.from_numpy(np.asarray([config["embeddings"][config["defaultPrompt"]]], dtype=np.float32))
    with torch.no_grad():
        want = model(thermal, visible, text).numpy()
    got = _openvino(bundle / "model.onnx", {"thermal": thermal.numpy(), "visible": visible.numpy(), "text": text.numpy()})
    assert np.abs(got - want).max() < 1e-3


def _early_late(history):
    totals = [h["total"] for h in history]
    return np.mean(totals[:5]), np.mean(totals[-5:])


def test_smoke_reference_training_lowers_the_loss(tmp_path):
    result = train_reference(generated_pairs(), tmp_path, steps=40, size=(64, 48), crop=(96, 72), batch=4, lr=3e-3,
                             weights={"perceptual": 0.0, "nce": 0.0, "adversarial": 0.02},
                             model_kwargs={"width": 4, "attention_dim": 8}, threads=2, log=lambda _: None)
    first, last = _early_late(result["history"])
    assert last < 0.8 * first, f"loss {first:.4f} -> {last:.4f}"
    model, saved = load_seed_model(tmp_path / "model.pt")
    assert isinstance(model, ReferenceColorizer) and saved["step"] == 40


def test_smoke_fuser_training_lowers_the_loss(tmp_path):
    result = train_fuser(generated_pairs(), tmp_path, steps=40, size=(64, 48), crop=(96, 72), batch=4, lr=3e-3,
                         encode=hashed_encode, model_kwargs={"width": 4, "heads": 2}, threads=2, log=lambda _: None)
    first, last = _early_late(result["history"])
    assert last < 0.9 * first, f"loss {first:.4f} -> {last:.4f}"
    model, _ = load_seed_model(tmp_path / "model.pt")
    assert isinstance(model, TextFuser)


def _picture_pair(tmp_path, name, colour):
    rng = np.random.default_rng(len(name))
    yy, xx = np.mgrid[0:60, 0:80]
    thermal = (128 + 100 * np.sin(xx / 7.0) * np.cos(yy / 9.0) + rng.normal(0, 5, (60, 80))).clip(0, 255).astype(np.uint8)
    side = np.zeros((60, 80, 3), np.uint8)
    side[...] = colour
    side[20:40, 30:60] = (255 - np.array(colour))
    Image.fromarray(thermal).save(tmp_path / f"{name}-ir.png")
    Image.fromarray(side).save(tmp_path / f"{name}-side.png")
    return tmp_path / f"{name}-ir.png", tmp_path / f"{name}-side.png"


@pytest.mark.parametrize("kind", ["reference-colorizer", "fuser"])
def test_engine_matches_pytorch(tmp_path, thermocolor, kind):
    model = randomise_heads(tiny_reference() if kind == "reference-colorizer" else tiny_fuser())
    bundle = export_seed_bundle(model, kind, tmp_path / "bundle", encode=hashed_encode)
    cases = [_picture_pair(tmp_path, "a", (200, 120, 40)), _picture_pair(tmp_path, "b", (40, 90, 200))]
    report = parity(model, kind, bundle, cases, thermocolor)
    assert report["passes"], report
