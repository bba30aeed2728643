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


def test_partial_captions_name_only_some_true_properties():
    image = scene((110, 160, 230), (50, 120, 40))
    props = captions.measure(image)
    times = [phrase for phrases in captions.VOCABULARY["time"].values() for phrase in phrases]
    texts = captions.partial_captions_for(image, count=8, seed=1)
    assert len(set(texts)) == 8
    assert any(not any(t in text for t in times) for text in texts), "some must leave out the time of day"
    for text in texts:
        assert any(text.startswith(subject) for subject in captions.VOCABULARY["subject"])
        assert "grey overcast sky" not in text and "brown" not in text, "only the measured properties"
    bare = captions.describe(props, __import__("random").Random(0), frozenset(captions.PROPERTIES))
    assert bare in captions.VOCABULARY["subject"]


def test_short_prompts_name_one_true_property_each():
    from types import SimpleNamespace
    from thermocolor_training.evaluate import SHORT_PROMPT_NAMES, short_descriptions
    image = scene((110, 160, 230), (50, 120, 40))
    props = captions.measure(image)
    texts = short_descriptions([SimpleNamespace(name="x", visible=image)])["x"]
    assert len(texts) == len(SHORT_PROMPT_NAMES)
    by_property = dict(zip(SHORT_PROMPT_NAMES, texts))
    assert any(phrase in by_property["time"] for phrase in captions.VOCABULARY["time"][props.time])
    assert "blue" in by_property["sky"] and "green" not in by_property["sky"]
    assert "green" in by_property["vegetation"] and "blue" not in by_property["vegetation"]
    assert by_property[None] in captions.VOCABULARY["subject"]
