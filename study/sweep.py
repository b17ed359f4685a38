"""`study run`: the Ray Tune sweep over data size x mix ratio x seed plus baseline arms."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from study.config import StudyConfig, config_to_yaml
from study.data.sources import cache_dir, resolve_corpora
from study.errors import StudyError
from study.plan import TrialSpec, plan
from study.run_dir import TRAIN_DIR, TUNE_DIR
from study.storage import Storage, check_writable, resolve_storage


@dataclass
class SweepOutcome:
    """Where a finished (or partly failed) sweep left its results."""

    run: str
    trials: int
    errored: int
    report: Path | None
    timings: dict[str, float]


def start_ray(address: str | None) -> dict[str, float]:
    """Join a cluster (or start a local one) and return the resources a trial driver reserves."""
    import ray

    # `ray job submit` sets RAY_ADDRESS: join that cluster instead of starting one.
    address = address or os.environ.get("RAY_ADDRESS")
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            # Trial drivers only wait on their workers: a zero-CPU custom resource keeps a
            # 2-core machine from deadlocking with drivers holding the cores.
            ray.init(resources={"TRAIN_DRIVER": 1000}, include_dashboard=False, log_to_driver=False)
    if ray.cluster_resources().get("TRAIN_DRIVER", 0) >= 1:
        return {"CPU": 0, "TRAIN_DRIVER": 1}
    return {"CPU": 0}


def default_concurrency(cfg: StudyConfig) -> int:
    """Trials that fit on the cluster at once, from per-trial worker resources."""
    import ray

    res = cfg.resources
    total = ray.cluster_resources()
    fits = [total.get("CPU", 1) // (res.workers_per_trial * res.cpus_per_worker)]
    if res.gpus_per_worker:
        fits.append(total.get("GPU", 0) // (res.workers_per_trial * res.gpus_per_worker))
    return max(1, int(min(fits)))


def base_job(cfg: StudyConfig, train_dir: Path, eval_dir: Path) -> dict:
    """The TrainJob fields shared by every trial of the study."""
    model = cfg.model
    if model.init_from:
        model = model.model_copy(
            update={"init_from": str(Path(model.init_from).expanduser().resolve())}
        )
    return {
        "model": model.model_dump(mode="json"),
        "train": cfg.train.model_dump(mode="json"),
        "eval": cfg.eval.model_dump(mode="json"),
        "train_corpus": str(train_dir),
        "eval_corpus": str(eval_dir),
        "cache_dir": str(cache_dir(cfg).resolve()),
        "subset_seed": cfg.data.subset_seed,
        "languages": cfg.data.languages,
        "pretrained_from": cfg.sweep.pretrained_from,
    }


def prepare_artifacts(model: dict, train_dir: str, eval_dir: str, cache: str) -> None:
    """Train the tiny tokenizer and cache frozen image features (run once, as a Ray task)."""
    from trainers.config import ModelConfig
    from trainers.corpus import open_corpus
    from trainers.features import ensure_image_features
    from trainers.tokenizer import corpus_tokenizer

    cfg = ModelConfig.model_validate(model)
    if cfg.text_tower.source == "tiny" and not cfg.init_from:
        corpus_tokenizer(open_corpus(train_dir), cfg.text_tower.vocab_size, cache)
    if cfg.frozen_image_tower:
        for corpus_dir in (train_dir, eval_dir):
            if open_corpus(corpus_dir).has_images:
                ensure_image_features(cfg, corpus_dir, cache)


def prepare_shared_artifacts(cfg: StudyConfig, train_dir: Path, eval_dir: Path) -> None:
    """Tokenizer and frozen image features, once per study before any trial: the features of
    large corpora by a Ray Data actor pool over the cluster's GPUs, the rest in one Ray task (on
    a GPU if any)."""
    import ray

    from trainers.corpus import open_corpus
    from trainers.features import ensure_image_features
    from trainers.ray_data import RAY_DATA_MIN_ITEMS

    if cfg.model.frozen_image_tower:
        for corpus_dir in (train_dir, eval_dir):
            corpus = open_corpus(corpus_dir)
            if corpus.has_images and corpus.num_items >= RAY_DATA_MIN_ITEMS:
                ensure_image_features(cfg.model, corpus_dir, cache_dir(cfg).resolve(), use_ray=True)
    gpus = 1 if cfg.resources.gpus_per_worker and ray.cluster_resources().get("GPU") else 0
    task = ray.remote(num_cpus=1, num_gpus=gpus)(prepare_artifacts)
    model = cfg.model.model_dump(mode="json")
    ray.get(task.remote(model, str(train_dir), str(eval_dir), str(cache_dir(cfg).resolve())))


def make_tuner(
    cfg: StudyConfig,
    trials: list[TrialSpec],
    storage: Storage,
    job: dict,
    *,
    driver: dict,
    fresh: bool,
):
    """A new Tuner for the grid, or the restored one when the study already ran here."""
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.basic_variant import BasicVariantGenerator

    from study.trial import run_trial

    res = cfg.resources
    launch = {
        "storage_path": storage.ray_join(cfg.name, TRAIN_DIR),
        "num_workers": res.workers_per_trial,
        "use_gpu": res.gpus_per_worker > 0,
        "resources_per_worker": {"CPU": res.cpus_per_worker, "GPU": res.gpus_per_worker},
        "max_failures": res.max_failures,
    }
    trainable = tune.with_resources(
        tune.with_parameters(run_trial, base_job=job, launch=launch), driver
    )
    exp_path = storage.ray_join(cfg.name, TUNE_DIR)
    if not fresh and tune.Tuner.can_restore(exp_path):
        print(f"resuming {exp_path}: finished trials are kept, the rest resume", file=sys.stderr)
        return tune.Tuner.restore(exp_path, trainable, resume_unfinished=True, resume_errored=True)
    scheduler = None
    if cfg.sweep.scheduler.type == "asha":
        s = cfg.sweep.scheduler
        scheduler = ASHAScheduler(
            metric=s.metric,
            mode="max",
            grace_period=s.grace_period,
            reduction_factor=s.reduction_factor,
        )
    points = [t.as_params() for t in trials]
    return tune.Tuner(
        trainable,
        param_space=dict.fromkeys(points[0]),
        tune_config=tune.TuneConfig(
            num_samples=len(points),
            # The generator limits concurrency itself (Tune ignores max_concurrent_trials for it).
            search_alg=BasicVariantGenerator(
                points_to_evaluate=points,
                max_concurrent=res.max_concurrent_trials or default_concurrency(cfg),
            ),
            scheduler=scheduler,
            trial_dirname_creator=lambda trial: (
                f"{TrialSpec(**trial.config).label}-{trial.trial_id}"
            ),
        ),
        run_config=tune.RunConfig(
            name=TUNE_DIR,
            storage_path=storage.ray_join(cfg.name),
            failure_config=tune.FailureConfig(max_failures=res.max_failures),
            verbose=1,
        ),
    )


def run_study(cfg: StudyConfig, *, fresh: bool = False, address: str | None = None) -> SweepOutcome:
    """Validate, prepare data, run (or resume) the sweep, then write results and the report.

    The outcome's `timings` (seconds per phase) also go to `<run>/timings.json`.
    """
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def phase(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = timings.get(name, 0.0) + now - clock
        clock = now

    trials = plan(cfg)
    storage = resolve_storage(cfg.resources.storage)
    check_writable(storage, cfg.resources.storage)
    if fresh and storage.exists(cfg.name):
        storage.fs.delete_dir(storage.join(cfg.name))
    train_dir, eval_dir = resolve_corpora(cfg)
    phase("data")
    driver = start_ray(address)
    phase("ray_start")
    storage.fs.create_dir(storage.join(cfg.name), recursive=True)
    with storage.fs.open_output_stream(storage.join(cfg.name, "study.yaml")) as out:
        out.write(config_to_yaml(cfg).encode())
    prepare_shared_artifacts(cfg, train_dir, eval_dir)
    phase("feature_cache")
    job = base_job(cfg, train_dir, eval_dir)
    tuner = make_tuner(cfg, trials, storage, job, driver=driver, fresh=fresh)
    grid = tuner.fit()
    errored = sum(r.error is not None for r in grid)
    phase("trials")
    report = finish_study(cfg, storage, train_dir)
    phase("analysis")
    with storage.fs.open_output_stream(storage.join(cfg.name, "timings.json")) as out:
        out.write(json.dumps(timings, indent=2).encode())
    return SweepOutcome(storage.ray_join(cfg.name), len(grid), errored, report, timings)


def finish_study(cfg: StudyConfig, storage: Storage, train_dir: Path) -> Path | None:
    """Write the results tables and the report into the run (via a local staging dir if remote)."""
    from study.results import collect_results

    local = Path(storage.join(cfg.name)) if storage.is_local else cache_dir(cfg) / "runs" / cfg.name
    results = collect_results(storage, cfg.name, local, train_dir)
    if results is None:
        return None
    from analysis import analyze

    report = analyze(
        local,
        out=local / "report",
        metrics=cfg.analysis.metrics,
        tradeoff_pairs=[tuple(p) for p in cfg.analysis.tradeoff],
        fit_form=cfg.analysis.fit,
        bootstrap=cfg.analysis.bootstrap,
    )
    if not storage.is_local:
        for part in ("results", "report"):
            storage.upload(local / part, cfg.name, part)
        shutil.rmtree(local, ignore_errors=True)
    return report


def check_fresh_allowed(storage_spec: str, name: str, yes: bool) -> None:
    """`--fresh` deletes a run: ask first unless `--yes` (never silently in a pipe)."""
    storage = resolve_storage(storage_spec)
    if not storage.exists(name) or yes:
        return
    if not sys.stdin.isatty():
        raise StudyError(f"--fresh would delete {storage.ray_join(name)}; add --yes to confirm")
    answer = input(f"delete {storage.ray_join(name)} and start over? [y/N] ")
    if answer.strip().lower() not in ("y", "yes"):
        raise StudyError("--fresh cancelled; nothing was deleted")
