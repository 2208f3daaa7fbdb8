"""Smoke test of the embedded default behind `make run`: SQLite, no Redis, dev settings."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_sqlite_default_migrates_loads_demo_and_serves(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="helpdesk.settings.dev",
        HELPDESK_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'smoke.sqlite3'}",
    )
    for args in (["migrate", "--noinput"], ["load_demo"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
    assert "http://officernd.localhost:8000/" in done.stdout

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        body = ""
        for _ in range(100):
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/", headers={"Host": f"officernd.localhost:{port}"}
                )
                with urllib.request.urlopen(request, timeout=5) as response:
                    body = response.read().decode()
                break
            except OSError:
                time.sleep(0.2)
        assert "OfficeRnD" in body
    finally:
        server.terminate()
        server.wait(timeout=10)
