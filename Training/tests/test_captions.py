import numpy as np

from thermocolor_training import captions


def scene(sky, ground, lower=(70, 70, 70)):
    image = np.zeros((100, 150, 3), np.uint8)
    image[:30] = sky
    image[30:70] = ground
    image[70:] = lower
    return image


def test_measures_sky_vegetation_time_and_road():
    blue_green = captions.measure(scene((110, 160, 230), (50, 120, 40)))
    assert blue_green.sky == "blue" and blue_green.vegetation == "green"
    grey = captions.measure(scene((200, 200, 205), (120, 120, 120), (200, 200, 200)))
    assert grey.sky == "grey" and grey.vegetation == "none" and grey.road == "light"
    night = captions.measure(np.full((100, 150, 3), 20, np.uint8))
    assert night.time == "night" and night.sky == "none" and night.road == "dark"
    brown = captions.measure(scene((200, 200, 205), (150, 110, 50)))
    assert brown.vegetation == "brown"


def test_wording_varies_but_keeps_the_measured_words():
    texts = captions.captions_for(scene((110, 160, 230), (50, 120, 40)), count=6, seed=1)
    assert len(set(texts)) == 6
    for text in texts:
        assert "blue" in text and ("green" in text)


def test_baked_prompts_hold_the_empty_and_default_prompt():
    assert captions.EMPTY_PROMPT in captions.BAKED_PROMPTS
    assert captions.DEFAULT_PROMPT in captions.BAKED_PROMPTS
