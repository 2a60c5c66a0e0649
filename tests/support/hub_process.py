"""A hub as its own process (`hub serve` on 127.0.0.1), for the tests that need a real process: logs, load, kill -9."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from hub.web.background_server import free_port


@dataclass
class HubProcess:
    url: str
    process: subprocess.Popen
    log_path: Path

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")


def hub_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    # GraphiQL's assets where the tests keep them (tests/conftest.py), not in each hub's own data folder.
    assets = os.environ.get("HUB_ASSETS_DIR") or str(Path("var/assets").resolve())
    env.update(HUB_DATABASE_URL=database_url, HUB_DATA_DIR=str(data_dir), HUB_ASSETS_DIR=assets, **extra)
    return env


def hub_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "hub.cli", *args]


@contextlib.contextmanager
def hub_process(
    database_url: str, data_dir: Path, log_path: Path, startup_timeout: float = 60.0, serve_args: tuple[str, ...] = (), **env: str
) -> Iterator[HubProcess]:
    """Serve until the block ends (`serve_args` added to `hub serve`); stdout and stderr go to `log_path`."""
    port = free_port()
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            hub_command("serve", "--host", "127.0.0.1", "--port", str(port), *serve_args),
            env=hub_env(database_url, data_dir, **env), stdout=log_file, stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parents[2],
        )
    hub = HubProcess(f"http://127.0.0.1:{port}", process, log_path)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the hub exited with {process.returncode}:\n" + "\n".join(hub.log_lines()[-30:]))
            try:
                if httpx.get(f"{hub.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the hub did not start:\n" + "\n".join(hub.log_lines()[-30:]))
            time.sleep(0.1)
        yield hub
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
