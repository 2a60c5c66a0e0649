"""Run every benchmark: `python -m bench [--scale 300] [--rounds 10]`.

Each prints its ratio against a baseline measured in the same run, and a
`RESULT name ratio=…` line to grep for.
"""

from __future__ import annotations

import argparse

from bench import exports, live_board, nested_read, permissions, writes
from bench.common import run

BENCHMARKS = {
    "nested_read": nested_read.main, "permissions": permissions.main, "exports": exports.suite, "writes": writes.suite,
    # On a scratch SQLite database of its own (its --database-url empties the database it is given).
    "live_board": lambda scale, rounds: live_board.main(500, rounds, None),
}

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=300, help="demo scale of the benchmark database (kept in var/)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("only", nargs="*", choices=[*BENCHMARKS, []], help="benchmarks to run (default: all)")
    args = parser.parse_args()
    for name in args.only or BENCHMARKS:
        run(BENCHMARKS[name](args.scale, args.rounds))
