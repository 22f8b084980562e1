"""Run every benchmark suite, or those named: `python -m bench [envelope log api]`.

Every target is a ratio to a floor or ceiling measured in the same run, on this machine;
the figures are printed and written to docs/benchmarks.md with the machine's description.
"""

import importlib
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

SUITES = ["envelope", "log", "api", "notify", "witness", "reports"]
REPORT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{model or cpu}, {os.cpu_count()} CPUs, {memory:.0f} GiB, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def main(argv: list[str]) -> int:
    chosen = argv or SUITES
    lines = [f"machine: {machine()}", f"run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"]
    print("\n".join(lines), flush=True)
    for name in chosen:
        module = importlib.import_module(f"bench.{name}")
        for line in module.run():
            print(line, flush=True)
            lines.append(line)
    if chosen == SUITES:
        REPORT.write_text(
            "# Benchmarks\n\n"
            "Written by `make bench` (`python -m bench`); every target is a ratio to a floor or\n"
            "a ceiling measured in the same run on the same machine.\n\n"
            "```\n" + "\n".join(lines) + "\n```\n"
        )
        print(f"written to {REPORT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
