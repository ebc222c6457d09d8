"""`make bench`: run every benchmark in bench/ and print `name: value unit` lines.

Figures go to stdout, one per line; progress goes to stderr. What the service
itself writes to stdout while measured (JSON logs, EMF metrics) goes to
/dev/null: it is still produced, so its cost is in the figures.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pkgutil
import sys
from pathlib import Path

import bench


def main() -> None:
    figures_out = sys.stdout
    modules = sorted(pkgutil.iter_modules([str(Path(bench.__file__).parent)]), key=lambda m: m.name)
    for module in modules:
        if module.name.startswith("_"):
            continue
        with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
            figures = importlib.import_module(f"bench.{module.name}").run()
        for name, value, unit in figures:
            shown = f"{value:.3g}" if isinstance(value, float) and abs(value) < 100 else f"{value:.0f}"
            print(f"{name}: {shown} {unit}", file=figures_out, flush=True)


if __name__ == "__main__":
    main()
