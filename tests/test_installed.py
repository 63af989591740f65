"""The package as a deployment gets it: a wheel built from the checkout, installed in a new
virtualenv outside it, started with the Procfile's lines.

The wheel is installed without its dependencies; the new virtualenv sees the test run's
own (a .pth file lists this interpreter's site-packages) and gets a command for each of
their console scripts, so the Procfile's web server runs inside it whichever server that
line names. The package itself comes only from the wheel: a .pth line puts a folder on
sys.path after the virtualenv's own site-packages without reading the .pth files in it,
so the editable install of this checkout does not reach the new virtualenv.
Building needs the build requirements from the package index; `-m "not installed"` skips it.
"""

from __future__ import annotations

import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from importlib.metadata import distributions
from pathlib import Path

import pytest

from tests.feedserver import FeedServer
from tests.newsfarm import city_feed, wait_until
from tests.serviceprocess import ServiceProcess, api_entry_titles, free_port, get

pytestmark = pytest.mark.installed

CHECKOUT = Path(__file__).resolve().parents[1]
DISTRIBUTION = "feed-aggregator"
TITLE = "高雄港擴建計畫今日動工"
PAGES = [
    "/",
    "/sources",
    "/feeds/news.atom",
    "/feeds/news.rss",
    "/feeds/news.json",
    "/api/entries",
    "/api/sources",
    "/opml",
    "/embed/news",
    "/healthz",
    "/metrics",
    "/static/site.css",
]


def test_the_installed_wheel_polls_and_serves_every_page(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    wheel = build_wheel(tmp_path)
    assert shipped_files(wheel) >= checkout_files()
    venv = installed_venv(wheel, tmp_path / "venv")
    run = tmp_path / "run"  # the service's folder: nowhere near the checkout
    run.mkdir()
    feed_server.serve("/city.xml", city_feed(TITLE))
    (run / "feeds.yaml").write_text(
        "categories:\n  news:\n    title: 新聞\n"
        f"sources:\n  - id: city\n    url: {feed_server.url('/city.xml')}\n"
        "    categories: [news]\n",
        encoding="utf-8",
    )
    port = free_port()
    environment = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(run),
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "DATABASE_URL": f"sqlite:///{run / 'aggregator.db'}",
        "AGGREGATOR_CONFIG": str(run / "feeds.yaml"),
        "AGGREGATOR_ALLOW_PRIVATE": "1",  # the feed is on 127.0.0.1
    }
    imported_from = subprocess.run(
        ["python", "-c", "import aggregator.web; print(aggregator.web.__file__)"],
        env=environment, cwd=run, capture_output=True, text=True, check=True,
    ).stdout
    assert Path(imported_from.strip()).is_relative_to(venv)
    subprocess.run(
        procfile_line("release"), shell=True, env=environment, cwd=run, check=True, timeout=120
    )
    base = f"http://127.0.0.1:{port}"

    with (
        ServiceProcess(procfile_line("web"), log=tmp_path / "web.log", env=environment,
                       cwd=run) as web,
        ServiceProcess(procfile_line("worker"), log=tmp_path / "worker.log", env=environment,
                       cwd=run) as worker,
    ):
        assert web.wait_until_answers(f"{base}/healthz"), web.log_text()
        assert wait_until(lambda: TITLE in api_entry_titles(base), timeout=60), worker.log_text()
        statuses = {path: get(base + path)[0] for path in PAGES}
        reader_page = get(base + "/")[1].decode()

    assert statuses == dict.fromkeys(PAGES, 200)
    assert TITLE in reader_page


def build_wheel(directory: Path) -> Path:
    """A wheel built from a copy of the checkout's package sources, so that the build's
    own files land in `directory` and never in the checkout."""
    source = directory / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(CHECKOUT / name, source / name)
    for name in ("aggregator", "templates"):
        shutil.copytree(CHECKOUT / name, source / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    built = directory / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir",
         str(built), str(source)],
        check=True, timeout=300,
    )
    return next(built.glob("*.whl"))


def shipped_files(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return {name for name in archive.namelist() if name.startswith("aggregator/")}


def checkout_files() -> set[str]:
    """Every file of the package in the checkout, by where it lands in the wheel."""
    found = {
        path.relative_to(CHECKOUT).as_posix()
        for path in (CHECKOUT / "aggregator").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    found |= {
        "aggregator/templates/" + path.relative_to(CHECKOUT / "templates").as_posix()
        for path in (CHECKOUT / "templates").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    return found


def installed_venv(wheel: Path, venv: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    # The wheel first: with the test run's packages in view, pip would take this
    # checkout's editable install for the package already being installed.
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", str(wheel)],
        check=True, timeout=120,
    )
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"],
            *site.getsitepackages()}
    Path(purelib, "test-run-packages.pth").write_text("\n".join(sorted(ours)) + "\n")
    for dist in distributions():
        if dist.metadata["Name"] == DISTRIBUTION:
            continue
        for entry in dist.entry_points.select(group="console_scripts"):
            script = venv / "bin" / entry.name
            if not script.exists():
                # As pip writes it: `from module import name` imports a submodule too
                # (granian's entry point is `granian:cli.entrypoint`).
                module, _, call = entry.value.partition(":")
                script.write_text(
                    f"#!{python}\nimport sys\nfrom {module} import {call.split('.')[0]}\n"
                    f"sys.exit({call}())\n"
                )
                script.chmod(0o755)
    return venv


def procfile_line(process: str) -> str:
    for line in (CHECKOUT / "Procfile").read_text(encoding="utf-8").splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process:
            return command.strip()
    raise AssertionError(f"the Procfile has no {process} line")

