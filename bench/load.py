"""The load-and-fault tests at full size: `python -m bench.load [--seconds 60] [--rows 50000]`.

Runs tests/test_load_and_faults.py with the sizes of issue 17 (8 clients on two hub processes
for 60 s; kill -9 during the import of a 50,000-row ledger; the database going away under load)
instead of the suite's short ones, and prints the figures the tests print. The mixed load and the
outage need PostgreSQL: set HUB_TEST_DATABASE_URL (its `<name>_ops` sibling is created and dropped).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60, help="how long the mixed load runs")
    parser.add_argument("--rows", type=int, default=50_000, help="rows of the ledger imported and killed")
    args = parser.parse_args()
    if not os.environ.get("HUB_TEST_DATABASE_URL"):
        print("HUB_TEST_DATABASE_URL is not set: the mixed load and the outage will be skipped (SQLite)", file=sys.stderr)
    env = {**os.environ, "HUB_LOAD_SECONDS": str(args.seconds), "HUB_KILL_LEDGER_ROWS": str(args.rows)}
    command = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "-o", "timeout=1800", "tests/test_load_and_faults.py"]
    sys.exit(subprocess.run(command, env=env, check=False).returncode)
