"""The study config: pydantic models loaded from YAML, with `--set key=value` overrides."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from study.config_messages import describe_override, override_for, plain_message
from study.data.emoji.settings import EmojiSettings
from study.errors import StudyError
from trainers.arms import get_arm
from trainers.config import EvalConfig, ModelConfig, TrainConfig
from trainers.metric_names import check_metric_name

# A metric name of docs/metrics.md (an unknown one fails with the closest names).
MetricName = Annotated[str, AfterValidator(check_metric_name)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class SyntheticConfig(_Strict):
    """The embedded corpus: generated on first use and cached."""

    items: int = Field(2000, ge=10)
    eval_items: int = Field(300, ge=10)
    seed: int = 0


class DataConfig(_Strict):
    """Training and evaluation corpora (canonical corpus dirs, or a generated corpus)."""

    train: str = Field("synthetic", description="canonical corpus dir, 'synthetic' or 'emoji'")
    eval: str = Field(
        "synthetic", description="canonical corpus dir, 'synthetic' or 'emoji' (its eval split)"
    )
    synthetic: SyntheticConfig = SyntheticConfig()
    emoji: EmojiSettings = EmojiSettings()
    languages: list[str] | None = Field(None, description="training languages; default: all")
    subset_seed: int = 0
    cache_dir: str = Field("~/.cache/hybrid-scaling", description="generated corpora, features")


class SchedulerConfig(_Strict):
    """Trial scheduler: a fair grid (fifo) or ASHA early stopping (biases the grid)."""

    type: Literal["fifo", "asha"] = "fifo"
    metric: MetricName = "cross.t2t.r1"
    grace_period: int = Field(1, ge=1, description="evaluations before ASHA may stop a trial")
    reduction_factor: int = Field(3, ge=2)


class SweepConfig(_Strict):
    """The grid: data sizes x mix ratios x seeds for hybrid, baselines over sizes x seeds."""

    data_sizes: list[int] = Field(..., min_length=1)
    mix_ratios: list[float] = Field([0.0, 0.5, 1.0])
    arms: list[str] = Field(["hybrid", "clip"], description="registered arms (trainers.arms)")
    seeds: list[int] = Field([0], min_length=1)
    pretrained_from: str | None = Field(None, description="model dir for the 'pretrained' arm")
    scheduler: SchedulerConfig = SchedulerConfig()

    @field_validator("data_sizes")
    @classmethod
    def _positive_sizes(cls, sizes: list[int]) -> list[int]:
        for n in sizes:
            if n < 1:
                raise ValueError(f"data size {n} must be a positive item count")
        return sorted(set(sizes))

    @field_validator("mix_ratios")
    @classmethod
    def _alpha_range(cls, alphas: list[float]) -> list[float]:
        for a in alphas:
            if not 0.0 <= a <= 1.0:
                raise ValueError(f"alpha {a} is outside [0, 1]; use values between 0 and 1")
        return sorted(set(alphas))

    @field_validator("arms")
    @classmethod
    def _known_arms(cls, arms: list[str]) -> list[str]:
        for arm in arms:
            get_arm(arm)
        return list(dict.fromkeys(arms))

    @model_validator(mode="after")
    def _non_empty(self) -> SweepConfig:
        if not self.arms:
            raise ValueError("the grid is empty: list at least one arm (hybrid, clip, ...)")
        for arm in map(get_arm, self.arms):
            if arm.sweeps_alpha and not self.mix_ratios:
                raise ValueError(
                    f"the grid is empty: the {arm.name} arm needs at least one mix ratio"
                )
            if not arm.trains and not self.pretrained_from:
                raise ValueError(
                    f"arm '{arm.name}' needs sweep.pretrained_from: an exported model dir"
                )
        return self


class ResourcesConfig(_Strict):
    """Per-trial Ray Train resources, concurrency and storage."""

    workers_per_trial: int = Field(1, ge=1)
    cpus_per_worker: float = Field(1, gt=0)
    gpus_per_worker: float = Field(0, ge=0)
    max_concurrent_trials: int | None = Field(None, ge=1, description="default: from resources")
    storage: str = Field("runs", description="local path, NFS path, or s3:// / gs:// / file:// URI")
    max_failures: int = Field(1, ge=0, description="Train- and Tune-level retries per trial")


class AnalysisConfig(_Strict):
    """What the report plots and fits."""

    headline: tuple[MetricName, MetricName] = Field(
        ("mono.t2i.r1", "cross.t2t.r1"),
        description="the monolingual and cross-lingual metric the answer and the console quote",
    )
    tradeoff: list[tuple[MetricName, MetricName]] = [
        ("mono.t2t.map", "cross.t2t.map"),
        ("mono.t2i.r1", "cross.t2t.r1"),
    ]
    metrics: list[MetricName] = [
        "mono.t2i.r1",
        "mono.t2t.map",
        "cross.t2t.r1",
        "cross.t2t.map",
        "multi.t2t.map",
    ]
    fit: str = Field("saturating", description="a registered scaling law (analysis.laws)")
    bootstrap: int = Field(200, ge=0)

    @field_validator("fit")
    @classmethod
    def _known_law(cls, name: str) -> str:
        from analysis.laws import get_law

        return get_law(name).name


class TrackingConfig(_Strict):
    """Experiment tracking beyond the TensorBoard event files every trial writes."""

    backend: Literal["none", "mlflow"] = Field("none", description="'mlflow': one run per trial")
    uri: str | None = Field(
        None, description="MLflow tracking URI; default: file store <run>/mlruns"
    )
    experiment: str | None = Field(None, description="MLflow experiment; default: the study name")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # `tracking: mlflow` is short for `tracking: {backend: mlflow}`.
        return {"backend": value} if isinstance(value, str) else value


class StudyConfig(_Strict):
    """A whole scaling study."""

    name: str = Field(..., pattern=r"^[A-Za-z0-9_.-]+$")
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()
    sweep: SweepConfig
    resources: ResourcesConfig = ResourcesConfig()
    eval: EvalConfig = EvalConfig()
    analysis: AnalysisConfig = AnalysisConfig()
    tracking: TrackingConfig = TrackingConfig()
    _source: tuple[str, str] | None = PrivateAttr(None)  # (file, text) for error locations
    _overrides: dict[tuple[str, ...], str] = PrivateAttr(default_factory=dict)  # from --set

    @model_validator(mode="after")
    def _batch_fits(self) -> StudyConfig:
        smallest = min(self.sweep.data_sizes)
        if self.train.batch_size > smallest:
            raise ValueError(
                f"train.batch_size: {self.train.batch_size} is larger than the smallest data size "
                f"{smallest}; lower the batch size or drop that size"
            )
        if self.train.batch_size % self.resources.workers_per_trial:
            raise ValueError(
                f"train.batch_size: {self.train.batch_size} is not divisible by "
                f"resources.workers_per_trial {self.resources.workers_per_trial}"
            )
        return self

    def place(self, key: str) -> str:
        """`file:line` of a dotted config key in the file this config came from (else the key),
        or `--set key=value` where a flag set it."""
        flag = override_for(self._overrides, tuple(key.split(".")))
        if flag:
            return f"--set {flag}"
        if self._source is None:
            return key
        where, text = self._source
        line = _key_line(text, tuple(int(p) if p.isdigit() else p for p in key.split(".")))
        return f"{where}:{line}" if line else where


def _key_line(text: str, loc: tuple) -> int | None:
    """Line (1-based) of the deepest YAML node on the path `loc`, if it can be found."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((kv for kv in node.value if kv[0].value == str(part)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The pydantic model that owns the parent of `loc` (for key suggestions)."""
    model: Any = StudyConfig
    for part in loc[:-1]:
        field = model.model_fields.get(str(part)) if isinstance(model, type) else None
        if field is None:
            return None
        ann = field.annotation
        model = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
        if model is None:
            return None
    return model


# Cross-field checks name the key they blame at the start of their message: "train.batch_size: ..."
_BLAMED_KEY = re.compile(r"^([a-z_]+(?:\.[a-z_]+)+): ")


def _describe(err: dict, where: str, text: str, overrides: dict[tuple[str, ...], str]) -> str:
    loc = tuple(err["loc"])
    msg = plain_message(err)
    blamed = _BLAMED_KEY.match(msg) if not loc else None
    if blamed:
        loc, msg = tuple(blamed.group(1).split(".")), msg[blamed.end() :]
    key = ".".join(str(p) for p in loc) or "(top level)"
    line = _key_line(text, loc) if text else None
    place = f"{where}:{line}" if line else where
    flag = override_for(overrides, loc)
    if err["type"] == "extra_forbidden":
        owner = _model_at(loc)
        allowed = list(owner.model_fields) if owner else []
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; allowed: {', '.join(allowed)}"
        return f"{f'--set {flag}' if flag else place}: unknown config key '{key}'{hint}"
    if err["type"] == "missing":
        return f"{place}: missing required config key '{key}'"
    if flag:
        return describe_override(flag, key, err, msg)
    return f"{place}: config key '{key}': {msg}"


def _apply_override(raw: dict, assignment: str) -> tuple[str, ...]:
    """Set the key of `key=value` in `raw` to the YAML value; return the key's path."""
    if "=" not in assignment:
        raise StudyError(
            f"--set {assignment!r}: expected key=value, e.g. --set train.batch_size=32"
        )
    key, value = assignment.split("=", 1)
    node = raw
    parts = key.strip().split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise StudyError(f"--set {key}: '{part}' is not a section")
    try:
        node[parts[-1]] = yaml.safe_load(value)
    except yaml.YAMLError as exc:
        raise StudyError(
            f"--set {key}: value {value!r} is not valid YAML ({exc.problem})"
        ) from None
    return tuple(parts)


def parse_config(
    raw: Any,
    where: str = "<config>",
    text: str = "",
    overrides: dict[tuple[str, ...], str] | None = None,
) -> StudyConfig:
    """Validate a config mapping; errors become one-line StudyErrors naming file:line and key,
    or the `--set` flag (`overrides`: key path -> its `key=value`) that set the key."""
    overrides = overrides or {}
    if not isinstance(raw, dict):
        raise StudyError(f"{where}: expected a mapping of config keys at the top level")
    try:
        cfg = StudyConfig.model_validate(raw)
    except ValidationError as exc:
        # An unknown key often explains a "missing" one (a typo): report it first.
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        raise StudyError(_describe(errors[0], where, text, overrides)) from None
    cfg._source = (where, text)
    cfg._overrides = overrides
    return cfg


def load_config(path: str | Path, overrides: list[str] | None = None) -> StudyConfig:
    """Load a study config from YAML, apply `key=value` overrides and validate it."""
    path = Path(path)
    if not path.is_file():
        raise StudyError(f"{path}: config file not found")
    if path.suffix not in (".yaml", ".yml"):
        raise StudyError(f"{path}: expected a YAML config (.yaml or .yml)")
    text = path.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise StudyError(f"{path}{line}: malformed YAML: {problem}") from None
    raw = raw if raw is not None else {}
    applied = {}
    for assignment in overrides or []:
        if isinstance(raw, dict):
            applied[_apply_override(raw, assignment)] = assignment.strip()
    return parse_config(raw, str(path), text, applied)


def config_to_yaml(cfg: StudyConfig) -> str:
    """The resolved config as YAML (written beside each run for provenance)."""
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)
