"""A real service process (`aggregator web`, `run`, the Procfile's web line), reached over HTTP.

    port = free_port()
    with ServiceProcess(["aggregator", "web", "--port", str(port)], log=tmp_path / "web.log",
                        env=environment) as web:
        assert web.wait_until_answers(f"http://127.0.0.1:{port}/healthz"), web.log_text()
        status, body = web.get(f"http://127.0.0.1:{port}/")
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from tests.closing import ClosesOnExit
from tests.newsfarm import wait_until


def free_port() -> int:
    """A port nothing listens on just now (the OS picks it), for a service to bind."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def get(url: str, timeout: float = 30) -> tuple[int, bytes]:
    """The status and body of a GET, whatever the status."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def api_entry_titles(base_url: str) -> list[str]:
    """The titles `/api/entries` lists, newest first; none while the service does not answer."""
    try:
        status, body = get(base_url + "/api/entries", timeout=5)
    except OSError:
        return []
    return [entry["title"] for entry in json.loads(body)["entries"]] if status == 200 else []


class ServiceProcess(ClosesOnExit):
    """`command` in a session of its own (a shell line runs under `sh -c`); stdout and
    stderr go to `log`. Closing stops the whole session: a server's workers too."""

    def __init__(
        self,
        command: Sequence[str] | str,
        *,
        log: Path,
        env: Mapping[str, str],
        cwd: Path | None = None,
    ) -> None:
        self.log = log
        self._log_file: IO[bytes] = log.open("wb")
        arguments = ["sh", "-c", f"exec {command}"] if isinstance(command, str) else command
        self.process = subprocess.Popen(
            arguments,
            env=dict(env),
            cwd=cwd,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_until_answers(self, url: str, timeout: float = 60) -> bool:
        """Whether `url` answered 200 before the deadline (False at once if the process ended)."""

        def answers() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"the service ended early:\n{self.log_text()}")
            try:
                return get(url, timeout=5)[0] == 200
            except OSError:
                return False

        return wait_until(answers, timeout)

    def kill(self) -> None:
        """SIGKILL to the session: the service ends at once, mid-way through whatever it did."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def close(self) -> None:
        """SIGTERM to the session, as a deployment stops it; SIGKILL if it lingers."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log_file.close()
