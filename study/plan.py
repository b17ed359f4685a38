"""Grid expansion and up-front checks of a study against its data (no Ray needed)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from study.config import StudyConfig
from study.errors import StudyError
from trainers.arms import get_arm


@dataclass(frozen=True)
class TrialSpec:
    """One trial of the grid: the Tune parameters of docs/architecture.md."""

    arm: str
    alpha: float | None
    data_size: int | None  # None: the arm is evaluated once, without training data
    seed: int

    def as_params(self) -> dict:
        """The trial's Tune parameters."""
        return asdict(self)

    @property
    def label(self) -> str:
        """A short human-readable name, e.g. `hybrid-a0.5-N1000-s0` or `pretrained-s0`."""
        alpha = f"-a{self.alpha:g}" if self.alpha is not None else ""
        size = f"-N{self.data_size}" if self.data_size is not None else ""
        return f"{self.arm}{alpha}{size}-s{self.seed}"

    @property
    def title(self) -> str:
        """The trial as the console names it, e.g. `hybrid a=0.5 N=1000 s=0`."""
        parts = [self.arm]
        if self.alpha is not None:
            parts.append(f"a={self.alpha:g}")
        if self.data_size:
            parts.append(f"N={self.data_size}")
        return " ".join([*parts, f"s={self.seed}"])


@dataclass(frozen=True)
class CorpusSummary:
    """What the up-front checks need to know of the training corpus."""

    where: str
    num_items: int
    languages: tuple[str, ...]


def expand_grid(cfg: StudyConfig) -> list[TrialSpec]:
    """Per arm its grid (trainers.arms): sizes x alphas x seeds, sizes x seeds, or once."""
    sweep = cfg.sweep
    trials: list[TrialSpec] = []
    for arm in map(get_arm, sweep.arms):
        if not arm.sized:
            trials.append(TrialSpec(arm.name, None, None, sweep.seeds[0]))
            continue
        alphas = sweep.mix_ratios if arm.sweeps_alpha else [None]
        trials += [
            TrialSpec(arm.name, alpha, n, seed)
            for n in sweep.data_sizes
            for alpha in alphas
            for seed in sweep.seeds
        ]
    return trials


def summarize_train_corpus(cfg: StudyConfig) -> CorpusSummary | None:
    """Item count and languages of the training corpus without loading it; None if not there yet."""
    if cfg.data.train == "synthetic":
        from study.data.synthetic import LANGUAGES

        return CorpusSummary("data.synthetic", cfg.data.synthetic.items, tuple(LANGUAGES))
    if cfg.data.train == "emoji":  # its languages are known without building it
        from study.data.emoji.names import corpus_languages

        languages = corpus_languages(cfg.data.emoji)
        return CorpusSummary("data.emoji", cfg.data.emoji.scenes, languages)
    manifest = Path(cfg.data.train).expanduser() / "manifest.json"
    try:
        meta = json.loads(manifest.read_text(encoding="utf-8"))
        return CorpusSummary(str(manifest), int(meta["num_items"]), tuple(meta["languages"]))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as exc:
        raise StudyError(
            f"{manifest}: corrupt corpus manifest ({exc}); re-import the corpus"
        ) from None


def check_against_data(cfg: StudyConfig, corpus: CorpusSummary) -> None:
    """Fail early on sizes larger than the corpus and languages it lacks."""
    too_big = [n for n in cfg.sweep.data_sizes if n > corpus.num_items]
    if too_big:
        raise StudyError(
            f"{cfg.place('sweep.data_sizes')}: config key 'sweep.data_sizes': {too_big[0]} "
            f"is larger than the training corpus "
            f"({corpus.num_items} items, {corpus.where}); use sizes up to {corpus.num_items}"
        )
    unknown = [lang for lang in cfg.data.languages or [] if lang not in corpus.languages]
    if unknown:
        i = cfg.data.languages.index(unknown[0])
        raise StudyError(
            f"{cfg.place(f'data.languages.{i}')}: config key 'data.languages': unknown language "
            f"'{unknown[0]}' (the corpus has "
            f"{', '.join(corpus.languages)})"
        )
    languages = cfg.data.languages or corpus.languages
    for i, arm in enumerate(map(get_arm, cfg.sweep.arms)):
        if arm.language is not None and arm.language not in languages:
            raise StudyError(
                f"{cfg.place(f'sweep.arms.{i}')}: config key 'sweep.arms': '{arm.name}' needs "
                f"'{arm.language}' among the training languages ({', '.join(languages)})"
            )


def check_pretrained(cfg: StudyConfig) -> None:
    """An arm evaluated as is needs an exported model dir at sweep.pretrained_from."""
    if all(get_arm(arm).trains for arm in cfg.sweep.arms):
        return
    from trainers.model import CONFIG_FILE  # torch and transformers: only when needed

    model_json = Path(cfg.sweep.pretrained_from).expanduser() / CONFIG_FILE
    if not model_json.is_file():
        raise StudyError(
            f"{cfg.place('sweep.pretrained_from')}: config key 'sweep.pretrained_from': "
            f"{cfg.sweep.pretrained_from} is not an exported model dir (no {CONFIG_FILE}); "
            "export one with `study best RUN --export DIR`"
        )


def plan(cfg: StudyConfig, *, require_data: bool = True) -> list[TrialSpec]:
    """Validate a study against its data (if present, or required) and return its trial list."""
    check_pretrained(cfg)
    corpus = summarize_train_corpus(cfg)
    if corpus is not None:
        check_against_data(cfg, corpus)
    elif require_data:
        raise StudyError(
            f"{cfg.place('data.train')}: config key 'data.train': no canonical corpus at "
            f"{cfg.data.train} (manifest.json missing); import "
            "one with `study data ...` or use 'synthetic' or 'emoji'"
        )
    return expand_grid(cfg)
