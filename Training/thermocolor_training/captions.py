"""Scene descriptions measured from a visible image, in varied wording.

RoadScene has no captions, so each training pair's description is derived
from what its visible image shows. The vocabulary (one phrase family per
property, see VOCABULARY) is what a prompt can steer at inference:

- time of day / brightness, from the mean lightness L*:
  night (< 22), dusk (< 38), overcast or dim day (< 52), bright day
- sky, from the top fifth of the frame: clear blue sky (b* < -8, L* > 45),
  grey overcast sky (chroma < 8, L* > 45), no sky in view
- vegetation, the share of pixels that are green (a* < -4, b* > 2; over 4 %) or dry
  brown (a* > 3, b* > 14, L* 25-70): lush green trees / dry brown grass / none
- road surface, from the bottom third's lightness: dark asphalt, grey
  pavement, light concrete
- dominant colours: the hues of the most common saturated pixels (chroma
  > 20), named red, orange, yellow, green, teal, blue, purple, pink
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from .color import rgb_to_lab


@dataclass(frozen=True)
class SceneProperties:
    time: str          # night | dusk | dim | day
    sky: str           # blue | grey | none
    vegetation: str    # green | brown | none
    road: str          # dark | grey | light
    colours: tuple[str, ...]


VOCABULARY = {
    "time": {
        "night": ["at night", "a night scene", "after dark", "a dark night"],
        "dusk": ["at dusk", "in the evening twilight", "at dawn", "in low evening light"],
        "dim": ["on an overcast day", "on a dull day", "in soft daylight", "on a cloudy day"],
        "day": ["on a bright sunny day", "in daylight", "on a sunny afternoon", "in bright daylight"],
    },
    "sky": {
        "blue": ["under a clear blue sky", "with a blue sky", "beneath a bright blue sky"],
        "grey": ["under a grey overcast sky", "with a white cloudy sky", "beneath a pale grey sky"],
        "none": ["", "with no sky in view", ""],
    },
    "vegetation": {
        "green": ["with lush green trees", "lined with green trees", "with green vegetation", "beside green grass"],
        "brown": ["with dry brown grass", "with bare brown trees", "beside dry brown vegetation"],
        "none": ["", "", "with no trees"],
    },
    "road": {
        "dark": ["dark asphalt", "a black asphalt road", "dark tarmac"],
        "grey": ["grey pavement", "a grey road", "grey asphalt"],
        "light": ["light concrete", "a pale concrete road", "a sunlit light road"],
    },
    "subject": ["a road", "a city street", "a street", "a road scene", "a highway", "an urban road"],
}

HUES = [("red", 0), ("orange", 45), ("yellow", 80), ("green", 140), ("teal", 190),
        ("blue", 250), ("purple", 300), ("pink", 340)]


def measure(visible: np.ndarray) -> SceneProperties:
    """Properties of an 8-bit RGB image [H, W, 3]."""
    lab = rgb_to_lab(visible.astype(np.float64) / 255)
    lightness, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    chroma = np.hypot(a, b)
    mean_l = float(lightness.mean())
    time = "night" if mean_l < 22 else "dusk" if mean_l < 38 else "dim" if mean_l < 52 else "day"

    height = visible.shape[0]
    top = slice(0, max(1, height // 5))
    sky_l, sky_b, sky_c = lightness[top], b[top], chroma[top]
    bright = sky_l > 45
    if bright.mean() < 0.3:
        sky = "none"
    elif np.median(sky_b[bright]) < -8:
        sky = "blue"
    elif np.median(sky_c[bright]) < 8:
        sky = "grey"
    else:
        sky = "none"

    green = ((a < -4) & (b > 2)).mean()
    brown = ((a > 3) & (b > 14) & (lightness > 25) & (lightness < 70)).mean()
    vegetation = "green" if green > 0.04 and green >= brown else "brown" if brown > 0.06 else "none"

    bottom_l = float(np.median(lightness[2 * height // 3:]))
    road = "dark" if bottom_l < 35 else "grey" if bottom_l < 60 else "light"

    saturated = chroma > 20
    colours: tuple[str, ...] = ()
    if saturated.mean() > 0.01:
        hue = (np.degrees(np.arctan2(b[saturated], a[saturated])) + 360) % 360
        # Lab hue angles of the named colours (roughly): nearest wins.
        centres = np.array([h for _, h in HUES], dtype=np.float64)
        distance = np.abs(((hue[:, None] - centres[None]) + 180) % 360 - 180)
        counts = np.bincount(distance.argmin(1), minlength=len(HUES))
        order = np.argsort(-counts)
        colours = tuple(HUES[i][0] for i in order[:2] if counts[i] > 0.15 * saturated.sum())
    return SceneProperties(time, sky, vegetation, road, colours)


def describe(props: SceneProperties, rng: random.Random, omit: frozenset[str] = frozenset()) -> str:
    """One description of `props` in randomly chosen wording, without the
    properties named in `omit` ("time", "road", "sky", "vegetation", "colours")."""
    pick = lambda options: rng.choice(options)
    parts = [pick(VOCABULARY["subject"])]
    if "time" not in omit:
        parts.append(pick(VOCABULARY["time"][props.time]))
    lead = len(parts)
    if "road" not in omit:
        road = pick(VOCABULARY["road"][props.road])
        parts.append(f"on {road}" if not road.startswith("a ") else f"along {road}")
    for key in ("sky", "vegetation"):
        if key in omit:
            continue
        phrase = pick(VOCABULARY[key][getattr(props, key)])
        if phrase:
            parts.append(phrase)
    if props.colours and "colours" not in omit and rng.random() < 0.7:
        parts.append("with " + " and ".join(props.colours) + " colours")
    order = parts[lead:]
    rng.shuffle(order)
    return " ".join(parts[:lead] + order)


def captions_for(visible: np.ndarray, count: int = 8, seed: int = 0) -> list[str]:
    """`count` distinct-where-possible descriptions of one image."""
    props = measure(visible)
    rng = random.Random(seed)
    seen: list[str] = []
    for _ in range(count * 4):
        text = describe(props, rng)
        if text not in seen:
            seen.append(text)
        if len(seen) == count:
            break
    return seen


PROPERTIES = ("time", "road", "sky", "vegetation", "colours")


def partial_captions_for(visible: np.ndarray, count: int = 8, seed: int = 0) -> list[str]:
    """`count` descriptions of one image that each leave out some properties
    (each one with probability one half), down to the bare subject.

    Users type short prompts ("a road with lush green trees", "a city
    street"). A network trained only on full descriptions reads a missing
    time of day as something else, a dark picture; trained on these too, it
    learns that an unnamed property is whatever the thermal frame suggests.
    """
    props = measure(visible)
    rng = random.Random(seed ^ 0x5EED)
    seen: list[str] = []
    for _ in range(count * 4):
        omit = frozenset(key for key in PROPERTIES if rng.random() < 0.5)
        text = describe(props, rng, omit)
        if text not in seen:
            seen.append(text)
        if len(seen) == count:
            break
    return seen


# The prompts baked into a bundle: the empty prompt (caption dropout), the
# default, and prompts that move one property each.
EMPTY_PROMPT = ""
DEFAULT_PROMPT = "a road in daylight"
BAKED_PROMPTS = [
    EMPTY_PROMPT,
    DEFAULT_PROMPT,
    "a road on a bright sunny day under a clear blue sky with lush green trees",
    "a road on an overcast day under a grey overcast sky",
    "a road on a bright sunny day under a clear blue sky",
    "a road under a grey overcast sky",
    "a road with lush green trees",
    "a road with dry brown grass",
    "a road with no trees",
    "a city street at night",
    "a city street at dusk",
    "a road on dark asphalt",
    "a highway on grey pavement in daylight",
    "a street with red and orange colours",
    "a street with blue colours",
]
