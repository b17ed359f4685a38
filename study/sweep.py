"""`study run`: the Ray Tune sweep over data size x mix ratio x seed plus baseline arms."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from analysis.metrics import lower_is_better
from study.config import StudyConfig, config_to_yaml
from study.data.sources import cache_dir, resolve_corpora
from study.errors import StudyError
from study.plan import TrialSpec, plan
from study.progress import TRIAL_TIMES_FILE, SweepConsole, read_trial_times
from study.results import run_trials
from study.run_dir import TRAIN_DIR, TUNE_DIR
from study.run_records import clear_interrupted, mark_interrupted, record_arms, write_json
from study.storage import Storage, check_writable, resolve_storage
from study.tracking import tracking_callbacks


@dataclass
class SweepOutcome:
    """Where a finished (or partly failed, or interrupted) sweep left its results."""

    run: str
    trials: int
    errored: int
    report: Path | None
    timings: dict[str, float]
    interrupted: int = 0  # trials an interrupt (Ctrl-C) left unfinished; they resume on a re-run


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


def prepare_artifacts(model: dict, train_dir: str, eval_dir: str, cache: str) -> list[str]:
    """Train the tiny tokenizer, cache its token ids of the training captions and frozen image
    features (run once, as a Ray task); returns what the tokenizer warned (the task's own output
    does not reach the driver)."""
    from trainers.config import ModelConfig
    from trainers.corpus import open_corpus
    from trainers.features import ensure_image_features
    from trainers.token_cache import ensure_token_ids
    from trainers.tokenizer import VocabularyWarning, corpus_tokenizer, load_tokenizer

    cfg = ModelConfig.model_validate(model)
    notes = []
    if cfg.text_tower.source == "tiny" and not cfg.init_from:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", VocabularyWarning)
            train = open_corpus(train_dir)
            tokenizer = load_tokenizer(corpus_tokenizer(train, cfg.text_tower.vocab_size, cache))
        # Tokenised once here rather than by each of the first trials at once.
        ensure_token_ids(tokenizer, train, cfg.max_text_length, cache)
        notes = [str(w.message) for w in caught if issubclass(w.category, VocabularyWarning)]
    if cfg.frozen_image_tower:
        for corpus_dir in (train_dir, eval_dir):
            if open_corpus(corpus_dir).has_images:
                ensure_image_features(cfg, corpus_dir, cache)
    return notes


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
    cache = str(cache_dir(cfg).resolve())
    for note in ray.get(task.remote(model, str(train_dir), str(eval_dir), cache)):
        print(f"warning: {note}", file=sys.stderr)


def make_tuner(
    cfg: StudyConfig,
    trials: list[TrialSpec],
    storage: Storage,
    job: dict,
    *,
    driver: dict,
    fresh: bool,
    callbacks: list,
    verbose: bool = False,
):
    """A new Tuner for the grid, or the restored one when the study already ran here."""
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.basic_variant import BasicVariantGenerator

    from study.trial import run_trial, runs_in_trial

    res = cfg.resources
    launch = {
        "storage_path": storage.ray_join(cfg.name, TRAIN_DIR),
        "num_workers": res.workers_per_trial,
        "use_gpu": res.gpus_per_worker > 0,
        "resources_per_worker": {"CPU": res.cpus_per_worker, "GPU": res.gpus_per_worker},
        "max_failures": res.max_failures,
    }
    # A trial that trains in its own process holds its worker's CPU; a Ray Train driver holds none.
    trial_resources = {"CPU": res.cpus_per_worker} if runs_in_trial(launch) else driver
    trainable = tune.with_resources(
        tune.with_parameters(run_trial, base_job=job, launch=launch), trial_resources
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
            mode="min" if lower_is_better(s.metric) else "max",
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
            # A new trial process pays Python, torch and transformers imports again; trials that
            # train in their own process all ask for the same resources and can take turns.
            reuse_actors=runs_in_trial(launch),
            trial_name_creator=lambda trial: TrialSpec(**trial.config).label,
            trial_dirname_creator=lambda trial: (
                f"{TrialSpec(**trial.config).label}-{trial.trial_id}"
            ),
        ),
        run_config=tune.RunConfig(
            name=TUNE_DIR,
            storage_path=storage.ray_join(cfg.name),
            failure_config=tune.FailureConfig(max_failures=res.max_failures),
            checkpoint_config=tune.CheckpointConfig(num_to_keep=2),
            callbacks=callbacks,
            # Ray's periodic status table only on request: the console prints a line per trial.
            verbose=1 if verbose else 0,
        ),
    )


@contextmanager
def _tune_console(verbose: bool):
    """Silence Ray Tune's own console (its experiment box and status tables) unless verbose."""
    if verbose:
        yield
        return
    # Tune's newer output prints its experiment box even at verbose=0; the classic one does not.
    before = os.environ.get("RAY_AIR_NEW_OUTPUT")
    os.environ["RAY_AIR_NEW_OUTPUT"] = "0"
    tune_log = logging.getLogger("ray.tune")
    level = tune_log.level
    tune_log.setLevel(logging.WARNING)  # "Wrote the latest version of all result files ..."
    try:
        yield
    finally:
        tune_log.setLevel(level)
        if before is None:
            del os.environ["RAY_AIR_NEW_OUTPUT"]
        else:
            os.environ["RAY_AIR_NEW_OUTPUT"] = before


def local_run_dir(cfg: StudyConfig, storage: Storage) -> Path:
    """Where the driver writes the run's results and report: the run itself, or a local stage."""
    return Path(storage.join(cfg.name)) if storage.is_local else cache_dir(cfg) / "runs" / cfg.name


def run_study(
    cfg: StudyConfig, *, fresh: bool = False, address: str | None = None, verbose: bool = False
) -> SweepOutcome:
    """Validate, prepare data, run (or resume) the sweep, then write results and the report.

    An interrupt (Ctrl-C) stops the sweep as Tune does (state saved, trials stopped); the
    trials it left running are recorded as interrupted and the results tables written, without
    the report. The outcome's `timings` (seconds per phase, and per trial: start-up, training,
    evaluation) also go to `<run>/timings.json`. `verbose` adds Ray Tune's periodic status table.
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
    trackers = tracking_callbacks(cfg, storage)
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
    local = local_run_dir(cfg, storage)
    local.mkdir(parents=True, exist_ok=True)
    times_file = local / TRIAL_TIMES_FILE
    console = SweepConsole(len(trials), tuple(cfg.analysis.headline), str(times_file))
    print(f"{storage.ray_join(cfg.name)}: {len(trials)} trials", flush=True)
    record_arms(cfg, storage)
    clear_interrupted(cfg, storage)
    tuner = make_tuner(
        cfg,
        trials,
        storage,
        job,
        driver=driver,
        fresh=fresh,
        callbacks=[console, *trackers],
        verbose=verbose,
    )
    try:
        with _tune_console(verbose):
            tuner.fit()
    except KeyboardInterrupt:  # a second Ctrl-C: Tune stops without its final state
        mark_interrupted(cfg, storage)
        raise
    per_trial = read_trial_times(times_file)  # before a remote run's local stage is cleared
    phase("trials")
    # Tune returns normally on a first Ctrl-C, leaving the trials it stopped RUNNING (and those
    # it had not started PENDING, or not yet created); a finished sweep has none of them.
    mark_interrupted(cfg, storage)
    records = run_trials(storage, cfg.name)
    total = max(len(trials), len(records))
    errored = sum(r.status == "ERROR" for r in records)
    interrupted = total - errored - sum(r.status == "TERMINATED" for r in records)
    report = finish_study(cfg, storage, train_dir, eval_dir, report=not interrupted)
    phase("analysis")
    write_json(storage, {**timings, "per_trial": per_trial}, cfg.name, "timings.json")
    run = storage.ray_join(cfg.name)
    return SweepOutcome(run, total, errored, report, timings, interrupted)


def finish_study(
    cfg: StudyConfig, storage: Storage, train_dir: Path, eval_dir: Path, *, report: bool = True
) -> Path | None:
    """Write the results tables and (with `report`) the report into the run (via a local
    staging dir if remote); returns the report's path."""
    from study.results import collect_results

    local = local_run_dir(cfg, storage)
    results = collect_results(storage, cfg.name, local, train_dir, eval_dir)
    if results is None:
        return None
    path = None
    if report:
        from analysis import analyze

        path = analyze(
            local,
            out=local / "report",
            metrics=cfg.analysis.metrics,
            tradeoff_pairs=[tuple(p) for p in cfg.analysis.tradeoff],
            fit_form=cfg.analysis.fit,
            bootstrap=cfg.analysis.bootstrap,
            headline=tuple(cfg.analysis.headline),
        )
    if not storage.is_local:
        for part in ("results", "report") if report else ("results",):
            storage.upload(local / part, cfg.name, part)
        shutil.rmtree(local, ignore_errors=True)
    return path


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
