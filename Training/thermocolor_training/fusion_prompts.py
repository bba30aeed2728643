"""What the fuser's prompts ask for: the balance between the two cameras.

Three intents, each trained from varied wordings:

- thermal emphasis (balance +1): warm things (people, animals, engines)
  stand out; the fused lightness leans towards the thermal image.
- natural daylight (balance -1): the picture stays close to what the colour
  camera saw, its lightness and colours; thermal adds detail only.
- balanced (balance 0, also the empty prompt): the brighter source and the
  stronger edges of each camera, the plain unsupervised fusion.

The two prompts that name the intents in the docs ("make warm pedestrians
and animals stand out", "keep the daylight colours natural") are held out
of training, so that the balance shift measured with them shows that the
text space generalises and not that the network learnt two strings.
"""
from __future__ import annotations

THERMAL = [
    "highlight the warm people and animals",
    "make hot objects stand out",
    "emphasise pedestrians and warm bodies",
    "show the heat clearly",
    "thermal detail first",
    "make people and animals pop out",
    "bring out everything that is warm",
    "make the pedestrians bright and easy to see",
    "stress the heat signatures of people and cars",
    "find the people and animals in the dark",
    "warm objects should be the brightest",
    "emphasise the infrared camera",
]
VISIBLE = [
    "natural colours like a normal camera",
    "keep the colours true to daylight",
    "preserve the visible scene as it looks",
    "mostly the colour camera",
    "a natural looking daytime picture",
    "keep the natural daylight look",
    "faithful colours of the visible image",
    "do not change the daylight colours",
    "the scene as the eye sees it in daylight",
    "keep the look of the colour camera",
    "natural daylight appearance with true colours",
    "emphasise the visible camera",
]
BALANCED = [
    "",
    "a balanced fusion of thermal and visible",
    "fuse both cameras evenly",
    "combine the infrared and colour images",
    "an even mix of heat and colour",
    "thermal and visible together",
]

HELD_OUT_THERMAL = "make warm pedestrians and animals stand out"
HELD_OUT_VISIBLE = "keep the daylight colours natural"
DEFAULT_PROMPT = "a balanced fusion of thermal and visible"

INTENTS = {"thermal": (THERMAL, 1.0), "visible": (VISIBLE, -1.0), "balanced": (BALANCED, 0.0)}

BAKED_PROMPTS = [
    "", DEFAULT_PROMPT, HELD_OUT_THERMAL, HELD_OUT_VISIBLE,
    "make hot objects stand out", "highlight the warm people and animals", "show the heat clearly",
    "natural colours like a normal camera", "keep the colours true to daylight", "mostly the colour camera",
    "fuse both cameras evenly",
]


def training_prompts() -> list[tuple[str, float]]:
    """(prompt, balance) pairs seen in training; the held-out prompts are not among them."""
    pairs = [(text, balance) for texts, balance in INTENTS.values() for text in texts]
    assert all(text not in (HELD_OUT_THERMAL, HELD_OUT_VISIBLE) for text, _ in pairs)
    return pairs
