"""`make bench`: run every benchmark in bench/ and print `name: value unit` lines.

Figures go to stdout, one per line; progress goes to stderr.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import bench


def main() -> None:
    for module in sorted(pkgutil.iter_modules([str(Path(bench.__file__).parent)]), key=lambda m: m.name):
        if module.name.startswith("_"):
            continue
        runner = importlib.import_module(f"bench.{module.name}")
        for name, value, unit in runner.run():
            print(f"{name}: {value:.3g} {unit}" if isinstance(value, float) else f"{name}: {value} {unit}", flush=True)


if __name__ == "__main__":
    main()
