"""The service as the container runs it: gunicorn with the image's config module on a free
loopback port (``serve``), and its resident memory (``Server.rss_mib``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.loopback import HOST
from bench.targets import Target

VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str

    def rss_mib(self) -> tuple[float, list[float]]:
        """Resident size of the master plus workers, and of each worker, in MiB."""
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            children = []
        workers = [_rss_mib(int(c)) for c in children]
        return _rss_mib(pid) + sum(workers), workers


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@contextmanager
def serve(target: Target, log: Path) -> Iterator[Server]:
    """gunicorn exactly as the image runs it (same config module), on a free loopback port."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": target.url,
        "PORT": str(port),
        "MIGRATE_ON_START": "0",
        # One benchmark key would exceed any per-key limit at once; measured without it.
        "RATE_LIMIT_PER_MINUTE": "0",
    }
    cmd = [
        str(VENV_BIN / "gunicorn"),
        "--config",
        "python:ecommerce_analytics.gunicorn_conf",
        "--bind",
        f"{HOST}:{port}",
        "ecommerce_analytics:create_app()",
    ]
    with log.open("ab") as err:
        process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
    server = Server(process, f"http://{HOST}:{port}")
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}; see {log}")
            try:
                with urllib.request.urlopen(server.base + "/readyz", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not become ready; see {log}")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
