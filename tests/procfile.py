"""The Procfile's web process, started as a platform starts it: its line run by a shell with
`$PORT` set. For the test that checks the line works and for `bench/serve.py`."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping
from pathlib import Path

PROCFILE = Path(__file__).resolve().parent.parent / "Procfile"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def web_process(port: int, environment: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """The command and environment of the Procfile's web process listening on `port`; the
    scripts of this interpreter's environment (its server) come first on the PATH."""
    lines = PROCFILE.read_text(encoding="utf-8").splitlines()
    web = next(line.removeprefix("web:").strip() for line in lines if line.startswith("web:"))
    scripts = str(Path(sys.executable).parent)
    # exec: stopping the shell stops the server.
    return ["sh", "-c", f"exec {web}"], {
        **environment,
        "PORT": str(port),
        "PATH": f"{scripts}{os.pathsep}{environment.get('PATH', '')}",
    }
