"""Run every benchmark suite, or those named: `python -m bench [envelope ...]`."""

import importlib
import os
import platform
import sys

SUITES = ["envelope", "log"]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def main(argv: list[str]) -> int:
    chosen = argv or SUITES
    print(f"machine: {machine()}")
    for name in chosen:
        module = importlib.import_module(f"bench.{name}")
        for line in module.run():
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
