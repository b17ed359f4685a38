"""The `study` command line: a thin layer over the Python API, one module per command group."""

from __future__ import annotations

import argparse
import difflib
import importlib
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import NoReturn

from analysis.errors import InputError as AnalysisInputError
from study.errors import StudyError
from trainers.errors import InputError as TrainersInputError

# Each module under study/commands/ has `register(subparsers)`; heavy imports stay in handlers.
COMMAND_MODULES = (
    "plan",
    "run",
    "status",
    "best",
    "analyze",
    "data",
    "inspect_batches",
    "eval_embeddings",
    "eval",
    "search",
)

USER_ERRORS = (StudyError, TrainersInputError, AnalysisInputError)


class OneLineErrorParser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one `error:` line naming the command."""

    commands: argparse._SubParsersAction | None = None  # its subcommands, if it has any

    def error(self, message: str):
        """Print `error: <command>: <message> (see <command> --help)` and exit with 2."""
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")

    def _check_value(self, action: argparse.Action, value) -> None:
        # A misspelt subcommand or choice gets the closest one: `did you mean 'status'?`.
        if action.choices is not None and value not in action.choices:
            close = difflib.get_close_matches(str(value), [str(c) for c in action.choices], n=1)
            if close:
                raise argparse.ArgumentError(
                    action, f"invalid choice: '{value}'; did you mean '{close[0]}'?"
                )
        super()._check_value(action, value)


def no_subcommand(parser: OneLineErrorParser, what: str) -> NoReturn:
    """The one-line error of a command group called without its subcommand."""
    choices = ", ".join(parser.commands.choices)
    raise StudyError(f"{parser.prog}: choose {what}: {choices} (see {parser.prog} --help)")


class _VersionAction(argparse.Action):
    """`--version`: the package metadata is read only when asked for."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(f"study {package_version()}")
        parser.exit()


def package_version() -> str:
    """The installed version of this package (its metadata), or 'unknown' when not installed."""
    try:
        return version("hybrid-scaling-study")
    except PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every available subcommand registered."""
    parser = OneLineErrorParser(
        prog="study",
        description="Scaling studies of hybrid-batch multilingual contrastive training (XM3600).",
        epilog="Example: study plan configs/demo.yaml",
    )
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineErrorParser)
    parser.commands = sub
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"study.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"study.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


def add_command(
    sub: argparse._SubParsersAction, name: str, help: str, example: str
) -> argparse.ArgumentParser:
    """Add a subcommand whose --help ends with a usage example."""
    return sub.add_parser(
        name,
        help=help,
        description=help,
        epilog=f"Example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def metric_arg(text: str) -> str:
    """An argparse type: a metric name of docs/metrics.md, else the closest names."""
    from trainers.metric_names import check_metric_name

    try:
        return check_metric_name(text)
    except TrainersInputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def describe_os_error(exc: OSError, output: str | None = None) -> str:
    """One line for an I/O failure: the path (else the command's output), the reason, the fix."""
    where = exc.filename or output or "storage"
    reason = exc.strerror or str(exc).splitlines()[0]
    return (
        f"{where}: {reason}; free space or fix the path (or choose another output or "
        "resources.storage), then run the command again: finished work is kept"
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `study` console script."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors (2), --help and --version (0): a code, not an exit
        return exc.code if isinstance(exc.code, int) else 2
    try:
        if not getattr(args, "func", None):
            no_subcommand(parser, "a command")
        return int(args.func(args) or 0)
    except USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        sys.stderr.close()  # output piped into `head`: not an error
        return 0
    except OSError as exc:  # storage that fills up, vanishes or turns read-only mid-command
        output = getattr(args, "out", None) or getattr(args, "export", None)
        print(f"error: {describe_os_error(exc, output and str(output))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
