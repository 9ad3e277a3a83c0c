"""Commands back to back: each run as a child process, the commands interleaved, N rounds.

    python bench/ab.py 5 "s::python -c 'import sqlalchemy, typer, rich.table'" \\
        "new::gradestore --db sqlite:///store.db report --section S --format json"

Each argument is LABEL::SHELL COMMAND. Prints, per command, the median and smallest wall time
and the median and smallest CPU seconds of the child (user + sys, from os.wait4), and the
median wall time as a ratio to the first command's. For comparing two versions of the code
under the same load (a shared machine): PYTHONPATH=... in the command picks the tree.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    rounds = int(argv[0])
    commands = [arg.split("::", 1) for arg in argv[1:]]
    samples: dict[str, list[tuple[float, float]]] = {label: [] for label, _ in commands}
    for _ in range(rounds):
        for label, command in commands:
            start = time.perf_counter()
            child = subprocess.Popen(
                command, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            _, status, usage = os.wait4(child.pid, 0)
            wall = time.perf_counter() - start
            if status:
                print(f"{label}: exit status {status}", file=sys.stderr)
            samples[label].append((wall, usage.ru_utime + usage.ru_stime))
    first: float | None = None
    for label, values in samples.items():
        walls = sorted(v[0] for v in values)
        cpus = sorted(v[1] for v in values)
        wall = statistics.median(walls)
        first = first or wall
        print(
            f"{label:28} wall median {wall:.3f} min {walls[0]:.3f} ({wall / first:.2f}x)"
            f"  cpu median {statistics.median(cpus):.3f} min {cpus[0]:.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
