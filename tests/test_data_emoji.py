"""The emoji corpus: CLDR XML parsing, the fallback, captions, the split, determinism, the config
source. Fixtures under tests/fixtures/cldr are excerpts of CLDR 41's XML in its exact format."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from babel.lists import format_list
from test_data_synthetic import captions, scenes, tree_bytes

from study.cli import main
from study.config import parse_config
from study.data.emoji import XM3600_LANGUAGES, EmojiSettings
from study.data.emoji import cldr as cldr_xml
from study.data.emoji.captions import Captioner, babel_locale
from study.data.emoji.names import NameSource, find_source
from study.data.emoji.scenes import eval_scenes, train_scenes, zipf_weights
from study.data.emoji.writer import build_emoji, ensure_emoji
from study.data.sources import resolve_corpora
from study.errors import StudyError
from trainers.corpus import MANIFEST, open_corpus

CLDR = Path(__file__).resolve().parent / "fixtures" / "cldr"
ROOT = CLDR / "common"
CAT, APPLE, GUITAR, FLAG, SUN = "🐱", "🍎", "🎸", "🇯🇵", "☀\ufe0f"
SMALL = {"objects": 6, "scenes": 14, "eval_scenes": 6, "image_size": 24}


@pytest.fixture(scope="module")
def fixture_corpus(tmp_path_factory):
    """A corpus built from the CLDR fixture through the CLI."""
    out = tmp_path_factory.mktemp("emoji") / "corpus"
    assert main(emoji_argv(out)) == 0
    return out


# ---------------------------------------------------------------- CLDR XML


def test_parser_reads_names_keywords_and_the_derived_file():
    en = cldr_xml.read_locale(ROOT, "en")
    assert en.names[CAT] == "cat face" and en.keywords[CAT] == ("cat", "face", "pet")
    assert en.names["☀"] == "sun"  # cp values in the XML carry no U+FE0F
    assert en.names[FLAG] == "flag: Japan" and en.keywords[FLAG] == ("flag",)  # annotationsDerived
    assert cldr_xml.cldr_version(ROOT) == "41"


def test_inheritance_marker_takes_the_parent_value_and_is_never_a_name():
    cache: dict = {}
    de_ch = cldr_xml.read_locale(ROOT, "de_CH", cache)
    assert de_ch.names[CAT] == "Katzengesicht"  # ↑↑↑ in de_CH: inherited from de
    assert de_ch.keywords[CAT] == ("Gesicht", "Katze", "Katzengesicht", "Tier")
    assert de_ch.names[APPLE] == "Apfel"  # its own value wins
    qu = cldr_xml.read_locale(ROOT, "qu", cache)
    assert GUITAR not in qu.names and qu.keywords[GUITAR] == ("guitarra",)  # root names nothing
    values = [v for a in cache.values() for v in (*a.names.values(), *a.keywords.values())]
    assert values and all("↑↑↑" not in str(v) for v in values)
    assert cldr_xml.parent_locale("pt_PT") == "pt" and cldr_xml.parent_locale("pt") == "root"


def test_xm3600_codes_map_to_cldr_locale_files(tmp_path):
    assert cldr_xml.locale_file(ROOT, "quz") == "qu"
    assert cldr_xml.locale_file(ROOT, "de-CH") == "de_CH"
    assert cldr_xml.locale_file(ROOT, "sw") is None
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "nb.xml").write_text("<ldml/>")
    assert cldr_xml.locale_file(tmp_path, "no") == "nb"  # older CLDR: Norwegian as nb
    source = find_source(str(CLDR))  # the release dir or its common/ both work
    assert source.root == ROOT and source.version == "CLDR 41"
    assert source.default_languages() == ("de", "en", "ja", "quz")


def test_lexicon_keeps_whole_emoji_only_fully_qualified():
    lexicon = NameSource(ROOT).load(("en", "quz"))
    en = lexicon.names["en"]
    assert set(en) == {"🐶", CAT, "🌳", APPLE, "🚗", SUN, "⚽", GUITAR, FLAG}  # no "{", no 👍🏽
    assert lexicon.keywords["en"][SUN] == ("bright", "rays", "sun", "sunny")
    assert GUITAR not in lexicon.names["quz"] and FLAG not in lexicon.names["quz"]


@pytest.mark.skipif(not cldr_xml.DEBIAN_CLDR.is_dir(), reason="unicode-cldr-core not installed")
def test_the_installed_cldr_names_emoji_in_34_or_more_xm3600_languages(tmp_path):
    source = find_source(None)
    assert len(source.default_languages()) >= 34
    corpus = build_emoji(tmp_path / "c", EmojiSettings(objects=40, scenes=20, eval_scenes=4))
    languages = open_corpus(corpus.eval).languages
    assert len(languages) >= 34 and {"quz", "no", "fil", "he", "zh", "mi"} <= set(languages)
    objects = json.loads((corpus.root / "emoji.json").read_text())["objects"]
    for lang in languages:
        names = [o["names"][lang] for o in objects]
        assert len(set(names)) == len(names) and "↑↑↑" not in names


# ---------------------------------------------------------------- captions


def test_list_patterns_follow_each_language():
    lexicon = NameSource(ROOT).load(("en", "de", "ja"))
    captioner = Captioner(lexicon, [CAT, APPLE, "🚗"], ("en", "de", "ja"))
    first = {lang: text for lang, idx, text in captioner.captions((0, 1), np.random.default_rng(0))
             if idx == 0}  # fmt: skip
    assert first == {
        "en": "cat face and red apple",
        "de": "Katzengesicht und roter Apfel",
        "ja": "ネコの顔、赤リンゴ",  # no spaces
    }
    for code in XM3600_LANGUAGES:  # every XM3600 language has CLDR list patterns in Babel
        three = format_list(["A", "B", "C"], locale=babel_locale(code))
        assert all(x in three for x in "ABC") and three != "ABC"


def test_caption_1_paraphrases_with_keywords_other_than_the_names():
    langs = ("en", "de", "ja", "quz")
    lexicon = NameSource(ROOT).load(langs)
    vocabulary = [CAT, APPLE, "🌳", SUN, "⚽", "🐶"]
    captioner = Captioner(lexicon, vocabulary, langs)
    rng = np.random.default_rng(1)
    seen_words = set()
    for objects in [(0, 1), (2, 3, 4), (5,), (1, 4)]:
        got = {(lang, idx): text for lang, idx, text in captioner.captions(objects, rng)}
        for lang in langs:
            first, second = got[(lang, 0)], got[(lang, 1)]
            assert first != second
            words = [lexicon.keywords[lang][vocabulary[o]] for o in objects]
            names = [lexicon.names[lang][vocabulary[o]] for o in objects]
            # caption 1 is one keyword per object that is not the name, same list pattern
            assert any(
                second == format_list(list(choice), locale=babel_locale(lang))
                for choice in _products(words)
            )
            seen_words.update(second.split(", "))
            assert not any(second == n for n in names)
    assert len(seen_words) > 8  # the seed varies the keywords


def _products(options: list[tuple[str, ...]]):
    if not options:
        yield ()
        return
    for first in options[0]:
        for rest in _products(options[1:]):
            yield (first, *rest)


def test_partial_language_is_captioned_only_where_all_objects_are_named():
    lexicon = NameSource(ROOT).load(("en", "quz"))
    captioner = Captioner(lexicon, [CAT, GUITAR], ("en",), partial=("quz",))
    rng = np.random.default_rng(0)
    assert {lang for lang, _, _ in captioner.captions((0,), rng)} == {"en", "quz"}
    assert {lang for lang, _, _ in captioner.captions((0, 1), rng)} == {"en"}


# ---------------------------------------------------------------- fallback


def test_fallback_names_14_languages_without_keywords(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cldr_xml, "DEBIAN_CLDR", tmp_path / "no-cldr-here")
    source = find_source(None)
    assert source.root is None and len(source.default_languages()) == 14
    lexicon = source.load(("de", "ja"))
    assert lexicon.names["de"][CAT] == "katzengesicht" and not lexicon.keywords["de"]
    assert not any("\U0001f3fb" <= c <= "\U0001f3ff" for e in lexicon.names["ja"] for c in e)
    out = tmp_path / "fb"
    # A study written for CLDR (Hindi, Maori partly) still runs: the fallback leaves those out.
    argv = ["data", "emoji", "--out", str(out), "--languages", "en", "ja", "hi", "--objects", "40"]
    argv += ["--partial-languages", "mi"]
    assert main([*argv, "--scenes", "30", "--eval-scenes", "5", "--image-size", "16"]) == 0
    printed = capsys.readouterr().out
    assert "emoji package's 14-language fallback" in printed
    assert "left out, not in it: hi mi" in printed
    table = captions(out / "train")
    manifest = open_corpus(out / "train").manifest
    assert manifest["languages"] == ["en", "ja"] and manifest["provenance"]["left_out"] == [
        "hi",
        "mi",
    ]
    assert manifest["provenance"]["names"].startswith("emoji ")
    assert "right to left" in manifest["provenance"]["caption_1"]
    shown = {r["item_id"]: r["objects"] for r in scenes(out)["train"]}
    for (item, lang), group in table.groupby(["item_id", "lang"]):
        texts = dict(zip(group["idx"], group["text"], strict=True))
        assert (1 in texts) == (len(shown[item]) > 1)  # a lone name has no re-ordering
        if lang == "en" and 1 in texts:
            assert texts[1] != texts[0]
    with pytest.raises(StudyError, match=r"no emoji names in language 'sw' .*fallback has ar de"):
        build_emoji(tmp_path / "x", EmojiSettings(languages=("sw", "mi")))
    assert not (tmp_path / "x").exists()


# ---------------------------------------------------------------- scenes and split


def test_train_objects_are_long_tailed_and_eval_objects_even_in_unseen_combinations():
    rng = np.random.default_rng(0)
    weights = zipf_weights(rng, 150, 1.0)
    train = train_scenes(rng, weights, 1500, 3, 32)
    evals = eval_scenes(rng, train, 200, 3, 32)
    train_counts = np.bincount(np.concatenate([s.objects for s in train]), minlength=150)
    top = np.sort(train_counts)[::-1]
    assert top[:15].sum() > 0.4 * top.sum() and top[-40:].sum() < 0.06 * top.sum()
    assert np.corrcoef(train_counts, weights)[0, 1] > 0.95
    eval_counts = Counter(o for s in evals for o in s.objects)
    assert set(eval_counts) <= set(np.flatnonzero(train_counts))  # every eval object is seen
    assert max(eval_counts.values()) - min(eval_counts.values()) <= 2  # evenly drawn
    combos = {s.combination() for s in train}
    assert not any(s.combination() in combos for s in evals)
    assert len({s.combination() for s in evals}) == len(evals)
    for scene in [*train[:200], *evals]:
        assert 1 <= len(scene.objects) <= 3 and len(set(scene.objects)) == len(scene.objects)
        xs = [x for x, _, _ in scene.boxes]
        assert xs == sorted(xs)  # objects are listed left to right
        for i, (x, y, side) in enumerate(scene.boxes):
            assert 0 <= x <= 32 - side and 0 <= y <= 32 - side
            for bx, by, _ in scene.boxes[i + 1 :]:
                assert abs(bx - x) >= side + 1 or abs(by - y) >= side + 1  # no overlap


def test_one_object_per_scene_gives_single_emoji_items():
    rng = np.random.default_rng(0)
    train = train_scenes(rng, zipf_weights(rng, 30, 0.8), 200, 1, 32)
    evals = eval_scenes(rng, train, 60, 1, 32)
    assert {len(s.objects) for s in [*train, *evals]} == {1}
    assert Counter(s.objects[0] for s in evals).most_common(1)[0][1] <= 60 // 30 + 1


def test_the_built_corpus_keeps_the_split_and_records_its_provenance(fixture_corpus, capsys):
    split = scenes(fixture_corpus)
    train_combos = {frozenset(r["objects"]) for r in split["train"]}
    train_objects = {o for r in split["train"] for o in r["objects"]}
    assert not any(frozenset(r["objects"]) in train_combos for r in split["eval"])
    assert {o for r in split["eval"] for o in r["objects"]} <= train_objects
    train, evald = open_corpus(fixture_corpus / "train"), open_corpus(fixture_corpus / "eval")
    assert (train.num_items, evald.num_items) == (14, 6)
    assert train.languages == ("de", "en", "ja", "quz")
    assert train.images(np.arange(3)).shape == (3, 24, 24, 3)
    prov = train.manifest["provenance"]
    assert prov["names"] == "CLDR 41" and prov["font"].startswith("OpenMoji")
    assert prov["licences"] == {"names": "Unicode-DFS-2016", "glyphs": "CC-BY-SA-4.0 (OpenMoji)"}
    assert "Unicode, Inc." in prov["notice"] and "OpenMoji" in prov["notice"]
    assert "Unicode-DFS-2016" in train.manifest["licence"]
    meta = json.loads((fixture_corpus / "emoji.json").read_text())
    assert len(meta["objects"]) == 8 and meta["partial_languages"] == ["quz"]
    lacking = {o["emoji"] for o in meta["objects"] if o["names"]["quz"] is None}
    assert lacking and lacking <= {GUITAR, FLAG}  # quz names neither
    table = pd.concat([captions(fixture_corpus / "train"), captions(fixture_corpus / "eval")])
    assert set(table["idx"]) == {0, 1} and table["text"].str.len().min() > 0
    shown = {r["item_id"]: set(r["objects"]) for rows in split.values() for r in rows}
    with_quz = set(table.loc[table["lang"] == "quz", "item_id"])
    assert with_quz == {item for item, objs in shown.items() if not objs & lacking}
    assert set(table.loc[table["lang"] == "en", "item_id"]) == set(shown)


def emoji_argv(out: Path, seed: int = 3) -> list[str]:
    """`study data emoji` on the CLDR fixture: 8 objects, quz partly covered."""
    options = [f"--{k.replace('_', '-')}={v}" for k, v in SMALL.items()]
    languages = ["--languages", "en", "de", "ja", "--partial-languages", "quz", "--objects=8"]
    return [
        "data",
        "emoji",
        "--cldr",
        str(CLDR),
        "--out",
        str(out),
        f"--seed={seed}",
        *options,
        *languages,
    ]


def test_same_inputs_and_seed_give_identical_bytes(fixture_corpus, tmp_path):
    assert main(emoji_argv(tmp_path / "again")) == 0
    assert main(emoji_argv(tmp_path / "other", seed=4)) == 0
    first, again = tree_bytes(fixture_corpus), tree_bytes(tmp_path / "again")
    assert first.keys() == again.keys() and [n for n in first if first[n] != again[n]] == []
    other = tree_bytes(tmp_path / "other")
    images = [n for n in first if n.startswith("train/images/")]
    assert images and any(other.get(n) != first[n] for n in images)


# ---------------------------------------------------------------- config source


def emoji_config(tmp_path: Path, **emoji) -> dict:
    settings = {"cldr": str(CLDR), **SMALL, **emoji}
    return {
        "name": "e",
        "data": {"train": "emoji", "eval": "emoji", "cache_dir": str(tmp_path), "emoji": settings},
        "train": {"batch_size": 4},
        "sweep": {"data_sizes": [7, 14]},
    }


def test_plan_validates_an_emoji_study_without_building_it(tmp_path, capsys):
    raw = emoji_config(tmp_path / "cache", languages=["en", "quz"])
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(raw))
    assert main(["plan", str(path)]) == 0
    assert "8 trials" in capsys.readouterr().out
    assert not (tmp_path / "cache").exists()
    raw["sweep"]["data_sizes"] = [7, 15]
    path.write_text(yaml.safe_dump(raw))
    assert main(["plan", str(path)]) == 2
    assert "15 is larger than the training corpus (14 items, data.emoji)" in capsys.readouterr().err
    raw = emoji_config(tmp_path, languages=["en"], partial_languages=["quz"])
    raw["data"]["languages"] = ["en", "de"]
    with pytest.raises(StudyError, match=r"data.languages.*'de' \(the corpus has en, quz\)"):
        from study.plan import plan

        plan(parse_config(raw))


def test_config_source_builds_once_into_the_cache(tmp_path):
    cfg = parse_config(emoji_config(tmp_path))
    train, evald = resolve_corpora(cfg)
    assert train.parent == evald.parent and train.parent.parent == tmp_path
    stamp = (train / MANIFEST).stat().st_mtime_ns
    assert resolve_corpora(cfg) == (train, evald)
    assert (train / MANIFEST).stat().st_mtime_ns == stamp
    other = ensure_emoji(tmp_path, cfg.data.emoji.model_copy(update={"zipf": 1.2}))
    assert other.train != train and open_corpus(other.eval).num_items == 6


def test_a_model_trains_on_the_emoji_corpus(fixture_corpus, tiny_job, tmp_path):
    from trainers.loop import run_training

    job = tiny_job(
        budget={"steps": 3},
        train_corpus=str(fixture_corpus / "train"),
        eval_corpus=str(fixture_corpus / "eval"),
        data_size=14,
        train={"batch_size": 4},
    )
    final = run_training(job)
    assert final["steps"] == 3 and np.isfinite(final["loss"])
    assert 0 <= final["cross.t2t.r1"] <= 1 and 0 <= final["mono.t2t.map"] <= 1


def test_unknown_settings_fail_up_front():
    with pytest.raises(StudyError, match=r"--per-scene 4: .*less than or equal to 3"):
        from study.data.emoji.settings import settings_from_options

        settings_from_options(per_scene=4)
    with pytest.raises(StudyError, match=r"data.emoji.per_scene"):
        parse_config(
            {"name": "x", "data": {"emoji": {"per_scene": 0}}, "sweep": {"data_sizes": [5]}}
        )
