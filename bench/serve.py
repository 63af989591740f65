"""Serving benchmark: the web app under the Procfile's server against nginx on the same bytes.

Run by hand (not in CI); needs `wrk` and `nginx` on the PATH:

    python bench/serve.py                  # 100,000 entries, 3 runs of 5 s per target
    python bench/serve.py --entries 20000 --runs 1 --duration 3

It fills a SQLite store in a temporary directory with synthetic Traditional Chinese entries
(through `apply_poll`, the store's bulk write path), runs the Procfile's `web` line as it
stands (its default number of workers) and nginx with a configuration of its own, measures
each target with wrk on 127.0.0.1, prints medians and each target's ratio to nginx serving
the same bytes (a 304 to nginx's 304), and stops everything it started.

Every target is a repeat request, so this measures what serving costs between store
changes (answers replayed from the in-process caches); a first render after a change
costs the queries and templating on top (about 10 ms for the reader view at 100,000).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import urllib3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aggregator.config.load import load_config
from aggregator.models import Report
from aggregator.store import Store, make_engine
from aggregator.store.migrate import upgrade
from bench.exact_links import fingerprints_without_band_keys
from tests.procfile import free_port, web_process
from tests.storedata import T0, outcome, report

BATCH = 10_000
CITIES = {
    "kaohsiung": ("高雄", "kcg-news", "kcg-info"),
    "taipei": ("臺北", "taipei-news"),
    "tainan": ("臺南", "tainan-news"),
}
TOPICS = (
    "颱風防災",
    "捷運工程",
    "社會福利",
    "觀光活動",
    "道路施工",
    "環境保護",
    "教育政策",
    "醫療衛生",
)
PARAGRAPH = "市府今日召開記者會，說明{topic}的最新進度，並呼籲市民多加留意相關公告與措施。"


@dataclass(frozen=True, slots=True)
class Measurement:
    requests_per_second: float
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    url: str
    headers: tuple[str, ...] = ()
    baseline: str | None = None  # the nginx target serving the same answer


def write_config(directory: Path, port: int) -> Path:
    lines = ["settings:", f"  base_url: http://127.0.0.1:{port}", "categories:"]
    for slug, (city, *_) in CITIES.items():
        lines += [f"  {slug}:", f"    title: {city}市政新聞"]
    lines.append("sources:")
    for slug, (city, *source_ids) in CITIES.items():
        for source_id in source_ids:
            lines += [
                f"  - id: {source_id}",
                f"    url: https://{source_id}.example.gov.tw/rss.xml",
                f"    title: {city}市政府 {source_id}",
                f"    categories: [{slug}]",
            ]
    path = directory / "feeds.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def synthetic_reports(source_id: str, city: str, count: int, start: int) -> list[Report]:
    made = []
    for number in range(start, start + count):
        topic = TOPICS[number % len(TOPICS)]
        title = f"{city}市{topic}第 {number} 號公告"
        body = "".join(f"<p>{PARAGRAPH.format(topic=topic)}</p>" for _ in range(3))
        published = T0 - timedelta(minutes=number)
        made.append(report(source_id, f"n{number}", title=title, content=body, published=published))
    return made


def fill_store(url: str, config_path: Path, entries: int) -> None:
    upgrade(url)
    store = Store(url, make_engine(url))
    try:
        config = load_config(config_path)
        store.sync_sources(config.sources, T0)
        source_ids = [(source.id, CITIES[source.categories[0]][0]) for source in config.sources]
        started = time.perf_counter()
        for batch, start in enumerate(range(0, entries, BATCH)):
            source_id, city = source_ids[batch % len(source_ids)]
            size = min(BATCH, entries - start)
            # Exact-link merging only: the synthetic entries share their wording, so
            # near-duplicate merging would fold them together (and spend its time comparing
            # them); serving is what is measured here.
            store.apply_poll(outcome(source_id, synthetic_reports(source_id, city, size, start),
                                     fingerprint=fingerprints_without_band_keys))
            print(f"  {start + size:,} entries ({time.perf_counter() - started:.0f} s)", flush=True)
    finally:
        store.close()


def wait_until_up(url: str, timeout: float = 30.0) -> None:
    http = urllib3.PoolManager()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if http.request("GET", url, retries=False, timeout=2.0).status < 500:
                return
        except urllib3.exceptions.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


@contextmanager
def running(command: Sequence[str], env: dict[str, str], log: Path) -> Iterator[None]:
    """Runs `command` for the duration of the block; stops it (and only it) afterwards."""
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def nginx_command(directory: Path, port: int, root: Path) -> list[str]:
    temp = directory / "nginx-temp"
    temp.mkdir()
    config = directory / "nginx.conf"
    config.write_text(
        f"""
worker_processes 2;
daemon off;
pid {directory}/nginx.pid;
error_log {directory}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    types {{ application/atom+xml atom; }}
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        etag on;
    }}
}}
""",
        encoding="utf-8",
    )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    return [
        nginx,
        "-p",
        str(directory),
        "-e",
        str(directory / "nginx-error.log"),
        "-c",
        str(config),
    ]


_LATENCY = re.compile(r"^\s*(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def measure(target: Target, duration: int, connections: int) -> Measurement:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency"]
    for header in target.headers:
        command += ["-H", header]
    result = subprocess.run(
        [*command, target.url], capture_output=True, text=True, check=True, timeout=duration + 30
    )
    rate = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    latencies = {
        pct: float(value) * _UNIT_MS[unit] for pct, value, unit in _LATENCY.findall(result.stdout)
    }
    if rate is None or set(latencies) != {"50", "99"}:
        raise RuntimeError(f"unexpected wrk output for {target.name}:\n{result.stdout}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", result.stdout)
    if non_2xx:
        print(f"  warning: {target.name}: {non_2xx.group(1)} error responses", flush=True)
    return Measurement(float(rate.group(1)), latencies["50"], latencies["99"])


def _header(line: str) -> tuple[str, str]:
    name, _, value = line.partition(":")
    return name.strip(), value.strip()


def median_of(runs: Sequence[Measurement]) -> Measurement:
    return Measurement(
        statistics.median(run.requests_per_second for run in runs),
        statistics.median(run.p50_ms for run in runs),
        statistics.median(run.p99_ms for run in runs),
    )


def print_table(results: dict[str, Measurement], targets: Sequence[Target]) -> None:
    print(f"\n{'target':<28}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'vs nginx':>10}")
    for target in targets:
        result = results.get(target.name)
        if result is None:
            continue
        ratio = ""
        if target.baseline is not None and target.baseline in results:
            reference = results[target.baseline].requests_per_second
            ratio = f"{result.requests_per_second / reference:.3f}"
        print(
            f"{target.name:<28}{result.requests_per_second:>10.0f}{result.p50_ms:>10.2f}"
            f"{result.p99_ms:>10.2f}{ratio:>10}"
        )


def run(arguments: argparse.Namespace, directory: Path) -> None:
    app_port, nginx_port = free_port(), free_port()
    config_path = write_config(directory, app_port)
    database_url = f"sqlite:///{directory / 'bench.db'}"
    print(f"filling the store with {arguments.entries:,} entries", flush=True)
    fill_store(database_url, config_path, arguments.entries)
    app = f"http://127.0.0.1:{app_port}"
    env = {**os.environ, "DATABASE_URL": database_url, "AGGREGATOR_CONFIG": str(config_path)}
    static = directory / "static"
    static.mkdir()
    command, web_env = web_process(app_port, env)
    with running(command, web_env, directory / "web.log"):
        wait_until_up(f"{app}/healthz")
        atom = urllib3.request("GET", f"{app}/feeds/all.atom")
        (static / "all.atom").write_bytes(atom.data)
        with running(nginx_command(directory, nginx_port, static), env, directory / "nginx.log"):
            nginx = f"http://127.0.0.1:{nginx_port}/all.atom"
            wait_until_up(nginx)
            nginx_etag = urllib3.request("GET", nginx).headers["ETag"]
            targets = [
                Target("nginx static all.atom", nginx),
                Target("nginx static all.atom 304", nginx, (f"If-None-Match: {nginx_etag}",)),
                Target("/feeds/all.atom", f"{app}/feeds/all.atom", (), "nginx static all.atom"),
                Target("/feeds/kaohsiung.atom", f"{app}/feeds/kaohsiung.atom"),
                Target(
                    "/feeds/all.atom 304",
                    f"{app}/feeds/all.atom",
                    (f"If-None-Match: {atom.headers['ETag']}",),
                    "nginx static all.atom 304",
                ),
                Target("/api/entries", f"{app}/api/entries"),
                Target("/ (reader view)", f"{app}/"),
            ]
            results = {}
            for target in targets:
                warm_up = urllib3.request(
                    "GET", target.url, headers=dict(map(_header, target.headers))
                )
                if warm_up.status == 404:
                    print(f"  skipping {target.name}: not served yet", flush=True)
                    continue
                if warm_up.status not in (200, 304):
                    raise RuntimeError(f"{target.url} answered {warm_up.status}")
                runs = [
                    measure(target, arguments.duration, arguments.connections)
                    for _ in range(arguments.runs)
                ]
                results[target.name] = median_of(runs)
                print(f"  measured {target.name}", flush=True)
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"\nall.atom: {len(atom.data):,} bytes; load average after the runs: {load}")
    print_table(results, targets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="wrk runs per target; medians shown")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    arguments = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            sys.exit(f"{tool} is not installed (Debian: apt-get install {tool})")
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as directory:
        # nginx's workers run as an unprivileged user: they must be able to read the file.
        Path(directory).chmod(0o755)
        run(arguments, Path(directory))


if __name__ == "__main__":
    main()
