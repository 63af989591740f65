"""Ingest benchmark: `aggregator poll --all` against the `reader` library, same feeds.

Run by hand (needs the `bench` extra: `pip install -e '.[bench]'`):

    python bench/ingest.py            # N = 100 and 1000
    python bench/ingest.py --sizes 100

Generates N synthetic feeds (RSS and Atom, 20-100 entries each, Traditional Chinese and
English HTML), serves them from 127.0.0.1 in a separate process, and measures for each
tool, each in its own process: a first poll, a re-poll where every source answers 304,
and a re-poll where every source answers 200 with an unchanged body. Prints feeds/s,
entries/s, peak memory (max RSS of the polling process) and the ratios.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.feedhttp import Served, feed_server

# Common characters of municipal news; random words drawn from them make every entry a
# different story, as real feeds are (repeated stock phrases would all merge as duplicates).
HANZI = (
    "市府政局長區里民議會交通捷運輕軌公園道路工程施工颱風豪雨停班課災害應變中心開設"
    "經濟發展招商產業園觀光活動文化藝術展覽教育學校醫療衛生環保空氣品質垃圾回收警察消防"
    "社會福利長者兒童青年就業補助預算計畫推動宣布表示指出今日上午下午記者報導高雄臺北台中"
    "桃園台南新北市長副秘書處科員主任委員會議決通過審查民眾參加舉辦啟用完成改善提升服務"
)
ENGLISH = ["city", "council", "metro", "budget", "typhoon", "festival", "park", "school",
           "hospital", "recycling", "bridge", "harbour", "library", "housing", "market"]


def sentence(rng: random.Random) -> str:
    words = ["".join(rng.choices(HANZI, k=rng.randint(2, 4))) for _ in range(rng.randint(6, 12))]
    if rng.random() < 0.3:
        words.insert(rng.randrange(len(words)), " ".join(rng.choices(ENGLISH, k=3)))
    return "".join(words) + "。"


def make_feed(index: int, rng: random.Random) -> tuple[str, bytes]:
    count = rng.randint(20, 100)
    now = datetime(2025, 3, 22, 12, tzinfo=UTC)
    items = []
    for n in range(count):
        text = "".join(f"<p>{sentence(rng)}{sentence(rng)}</p>" for _ in range(6))
        stamp = now - timedelta(minutes=17 * n + index)
        items.append(
            (
                f"feed{index}-item{n}",
                sentence(rng)[:24],
                f"https://news{index % 50}.example.tw/a/{index}/{n}",
                text,
                stamp,
            )
        )
    if index % 2:
        entries = "".join(
            f"<entry><id>urn:x:{guid}</id><title>{title}</title><link href='{link}'/>"
            f"<updated>{stamp.isoformat()}</updated><content type='html'><![CDATA[{text}]]>"
            f"</content></entry>"
            for guid, title, link, text, stamp in items
        )
        body = (
            f"<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
            f"<id>urn:feed:{index}</id><title>來源 {index}</title>"
            f"<updated>{now.isoformat()}</updated>{entries}</feed>"
        )
        return "application/atom+xml; charset=utf-8", body.encode()
    rss_items = "".join(
        f"<item><guid isPermaLink='false'>{guid}</guid><title>{title}</title><link>{link}</link>"
        f"<pubDate>{stamp.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
        f"<description><![CDATA[{text}]]></description></item>"
        for guid, title, link, text, stamp in items
    )
    body = (
        f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>來源 {index}</title><link>https://news{index}.example.tw/</link>"
        f"<description>bench</description>{rss_items}</channel></rss>"
    )
    return "application/rss+xml; charset=utf-8", body.encode()


def serve(feeds: dict[str, tuple[str, bytes]], mode: Any, port: Any) -> None:
    """Serves the feeds; `mode` (a shared value) is 0: 200 always, 1: honour ETags (304)."""
    etags = {path: '"' + hashlib.sha1(body).hexdigest() + '"' for path, (_, body) in feeds.items()}

    def lookup(path: str) -> Served | None:
        found = feeds.get(path)
        if found is None:
            return None
        content_type, body = found
        return Served(body, content_type, etags[path] if mode.value == 1 else None)

    server = feed_server("127.0.0.1", 0, lookup)
    port.value = server.server_port
    server.serve_forever()


READER_SCRIPT = """
import sys, json, resource, time
from reader import make_reader
reader = make_reader(sys.argv[1])
urls = json.loads(sys.argv[2])
for url in urls:
    reader.add_feed(url, exist_ok=True, allow_invalid_url=False)
start = time.perf_counter()
reader.update_feeds(scheduled=False, workers=16)
elapsed = time.perf_counter() - start
count = reader.get_entry_counts().total
print(json.dumps({"seconds": elapsed, "entries": count,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


OURS_SCRIPT = """
import sys, json, resource, time
from aggregator.cli import main
start = time.perf_counter()
status = main(sys.argv[1:])
elapsed = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": elapsed, "status": status, "maxrss_kb": usage}))
"""


def run_ours(config: Path, db: Path) -> tuple[float, int]:
    """Times the poll inside its process, as for reader, so interpreter start-up
    and imports count for neither. Peak memory is the polling process's own; the
    parse processes are bounded by the body cap."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            OURS_SCRIPT,
            "poll",
            "--all",
            "--config",
            str(config),
            "--db",
            f"sqlite:///{db}",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    data = json.loads(out.strip().splitlines()[-1])
    return float(data["seconds"]), int(data["maxrss_kb"])


def run_reader(db: Path, urls: list[str]) -> tuple[float, int]:
    out = subprocess.run(
        [sys.executable, "-c", READER_SCRIPT, str(db), json.dumps(urls)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    data = json.loads(out.strip().splitlines()[-1])
    return float(data["seconds"]), int(data["maxrss_kb"])


def bench_size(n: int, repeats: int) -> list[dict[str, Any]]:
    rng = random.Random(n)
    feeds = {f"/feed{i}.xml": make_feed(i, rng) for i in range(n)}
    entries = sum(body.count(b"<item>") + body.count(b"<entry>") for _, body in feeds.values())
    mode = multiprocessing.Value("i", 0)
    port = multiprocessing.Value("i", 0)
    server = multiprocessing.Process(target=serve, args=(feeds, mode, port), daemon=True)
    server.start()
    while not port.value:
        time.sleep(0.01)
    urls = [f"http://127.0.0.1:{port.value}{path}" for path in feeds]
    rows: list[dict[str, Any]] = []
    try:
        for scenario in ("first poll", "re-poll 304", "re-poll 200 unchanged"):
            for tool in ("aggregator", "reader"):
                times, rss = [], 0
                for _ in range(repeats):
                    with tempfile.TemporaryDirectory() as tmp:
                        times_one, rss_one = _scenario(tool, scenario, Path(tmp), urls, mode)
                    times.append(times_one)
                    rss = max(rss, rss_one)
                seconds = statistics.median(times)
                rows.append(
                    {
                        "n": n,
                        "scenario": scenario,
                        "tool": tool,
                        "seconds": seconds,
                        "feeds_s": n / seconds,
                        "entries_s": entries / seconds,
                        "peak_mb": rss / 1024,
                    }
                )
    finally:
        server.terminate()
    return rows


def _scenario(tool: str, scenario: str, tmp: Path, urls: list[str], mode: Any) -> tuple[float, int]:
    """Prime the store as the scenario needs, then time the measured pass."""
    mode.value = 1 if scenario == "re-poll 304" else 0
    db = tmp / "store.db"
    config = tmp / "feeds.yaml"
    config.write_text(
        "settings:\n  allow_private_addresses: true\ncategories:\n  bench:\n    title: bench\n"
        "sources:\n"
        + "".join(
            f"  - id: s{i}\n    url: {url}\n    categories: [bench]\n" for i, url in enumerate(urls)
        ),
        encoding="utf-8",
    )
    run = (lambda: run_ours(config, db)) if tool == "aggregator" else (lambda: run_reader(db, urls))
    if scenario != "first poll":
        run()  # the first poll fills the store and learns validators
    return run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeats", type=int, default=3, help="median of this many runs")
    args = parser.parse_args()
    rows = [row for n in args.sizes for row in bench_size(n, args.repeats)]
    print(
        f"{'N':>5} {'scenario':<22} {'tool':<11} {'s':>7} {'feeds/s':>9} {'entries/s':>10} "
        f"{'peak MB':>8}"
    )
    for row in rows:
        print(
            f"{row['n']:>5} {row['scenario']:<22} {row['tool']:<11} {row['seconds']:>7.2f} "
            f"{row['feeds_s']:>9.1f} {row['entries_s']:>10.0f} {row['peak_mb']:>8.0f}"
        )
    print("\nratios (aggregator vs reader entries/s; re-poll speed-up vs our first poll):")
    for n in args.sizes:
        by = {(r["scenario"], r["tool"]): r for r in rows if r["n"] == n}
        first = by[("first poll", "aggregator")]
        versus_reader = first["entries_s"] / by[("first poll", "reader")]["entries_s"]
        not_modified = first["seconds"] / by[("re-poll 304", "aggregator")]["seconds"]
        unchanged = first["seconds"] / by[("re-poll 200 unchanged", "aggregator")]["seconds"]
        print(f"N={n}: first poll {versus_reader:.1f}x reader; re-poll 304 {not_modified:.1f}x "
              f"faster; re-poll 200 unchanged {unchanged:.1f}x faster")


if __name__ == "__main__":
    main()
