"""analysis package: results tables, scaling-law fits, figures and the report of a study.

`analyze` is imported lazily so that `import analysis.errors` (done by the CLI) stays light.
"""

from __future__ import annotations

from typing import Any

__all__ = ["analyze"]


def __getattr__(name: str) -> Any:
    if name == "analyze":
        from analysis.api import analyze

        return analyze
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")
