"""Source silence is judged against each source's own cadence, and shown to staff with a
chart of its last 30 days."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from aggregator.alerts.activity import WINDOW, daily_counts
from aggregator.alerts.run import silence_webhooks
from aggregator.alerts.silence import judge_silence
from aggregator.config.load import config_from_text, load_config
from aggregator.models import Arrival, Silence, SourceActivity
from aggregator.store import Store
from aggregator.store.alerts import AlertStore
from aggregator.web import create_app
from tests.storedata import outcome, report

NOW = datetime.now(UTC).replace(microsecond=0)
HTML_ERROR = (
    "the URL returned an HTML page, not a feed (is it the site's home page? look for its RSS link)"
)
FEEDS_YAML = """\
categories:
  kaohsiung: {title: 高雄市政新聞}
sources:
  - {id: busy, url: "https://busy.example.gov.tw/rss.xml", title: 忙碌市府, categories: [kaohsiung]}
  - {id: hourly, url: "https://hourly.example.gov.tw/rss.xml", categories: [kaohsiung]}
  - {id: moved, url: "https://moved.example.gov.tw/rss.xml", categories: [kaohsiung]}
"""


def _activity(arrivals: list[datetime], **fields: object) -> SourceActivity:
    values: dict[str, object] = {
        "source_id": "s",
        "arrivals": tuple(Arrival(at, 1) for at in arrivals),
        "last_arrival": max(arrivals, default=None),
        "last_success": NOW,
        "last_error": None,
    }
    return SourceActivity(**(values | fields))  # type: ignore[arg-type]


def _every(gap: timedelta, count: int, last: datetime) -> list[datetime]:
    return [last - gap * n for n in reversed(range(count))]


def test_a_source_silent_far_beyond_its_cadence_is_quiet() -> None:
    hourly = _every(timedelta(hours=1), 48, NOW - timedelta(hours=20))

    silence = judge_silence(_activity(hourly), NOW)

    assert (silence.reason, silence.since, silence.usual_gap) == (
        "quiet",
        NOW - timedelta(hours=20),
        timedelta(hours=1),
    )


def test_a_slow_source_is_not_flagged_within_its_usual_gap() -> None:
    twice_a_week = _every(timedelta(days=3), 10, NOW - timedelta(days=4))

    assert not judge_silence(_activity(twice_a_week), NOW).silent


def test_a_short_quiet_spell_of_a_busy_source_is_not_flagged() -> None:
    every_ten_minutes = _every(timedelta(minutes=10), 100, NOW - timedelta(hours=2))

    assert not judge_silence(_activity(every_ten_minutes), NOW).silent


def test_a_source_answering_with_nothing_new_for_a_week_is_flagged_without_history() -> None:
    once = [NOW - timedelta(days=8)]

    assert judge_silence(_activity(once), NOW).reason == "no_new"


def test_a_source_returning_html_is_flagged() -> None:
    silence = judge_silence(_activity([NOW], last_error=HTML_ERROR), NOW)

    assert silence == Silence("html", NOW, None)


def test_a_failing_source_is_not_called_silent() -> None:
    silence = judge_silence(_activity([NOW], last_error="connection refused"), NOW)

    assert not silence.silent


def test_daily_counts_put_today_last() -> None:
    arrivals = [Arrival(NOW, 3), Arrival(NOW - timedelta(days=1), 2), Arrival(NOW, 1)]

    counts = daily_counts(arrivals, NOW, UTC, days=3)

    assert counts == [0, 2, 4]


# --- from the store, on the staff views ------------------------------------------------


def _history(store: Store, config_path: Path) -> None:
    """`busy` reported every hour for two days, then nothing for a day; `hourly` still
    reports every hour; `moved` now answers with an HTML page."""
    store.sync_sources(load_config(config_path).sources, NOW - timedelta(days=30))
    for source_id, last in (("busy", NOW - timedelta(days=1)), ("hourly", NOW)):
        for hour, polled in enumerate(_every(timedelta(hours=1), 48, last)):
            story = report(source_id, f"h{hour}")
            store.apply_poll(outcome(source_id, [story], attempted_at=polled))
    store.apply_poll(outcome("moved", [report("moved", "a")], attempted_at=NOW - timedelta(days=2)))
    store.apply_poll(outcome("moved", status="failed", error=HTML_ERROR, attempted_at=NOW))


@pytest.fixture
def client(store: Store, db_url: str, tmp_path: Path) -> FlaskClient:
    config_path = tmp_path / "feeds.yaml"
    config_path.write_text(FEEDS_YAML, encoding="utf-8")
    _history(store, config_path)
    app = create_app({"DATABASE_URL": db_url, "AGGREGATOR_CONFIG": str(config_path)})
    return app.test_client()


def test_the_api_flags_the_silent_and_the_html_sources(client: FlaskClient) -> None:
    listed = client.get("/api/sources").get_json()["sources"]

    silence = {source["id"]: source["silence"] for source in listed}
    assert silence["busy"]["silent"] is True
    assert silence["busy"]["reason"] == "quiet"
    assert silence["busy"]["usual_gap_hours"] == 1.0
    assert silence["hourly"]["silent"] is False
    assert silence["moved"]["reason"] == "html"


def test_the_sources_page_charts_each_source_as_inline_svg(client: FlaskClient) -> None:
    page = client.get("/sources").get_data(as_text=True)

    charts = re.findall(r'<svg class="sparkline" role="img" aria-label="([^"]*)"', page)
    assert len(charts) == 3
    assert any(label.startswith("忙碌市府") and "48" in label for label in charts)
    assert "<script" not in page


def test_the_sources_page_says_which_source_is_silent(client: FlaskClient) -> None:
    page = client.get("/sources?lang=en").get_data(as_text=True)

    assert "Unusually silent" in page
    assert "Returns a web page instead of a feed" in page


def test_a_silence_episode_notifies_once(store: Store, client: FlaskClient) -> None:
    alerts = AlertStore(store)
    verdicts = {sid: judge_silence(a, NOW) for sid, a in alerts.activities(NOW - WINDOW).items()}

    hooks = {source_id: ("https://hooks.example.org/silence",) for source_id in verdicts}

    first = alerts.record_silences(verdicts, hooks, NOW)
    again = alerts.record_silences(verdicts, hooks, NOW)

    assert sorted(first) == ["busy", "moved"]
    assert again == []
    queued = alerts.claim_outbox(NOW, timedelta(minutes=1), 10)
    assert len(queued) == 2


def test_silence_is_announced_to_the_watches_covering_the_source() -> None:
    config = config_from_text(
        "categories:\n  kaohsiung:\n    title: 高雄\n  taipei:\n    title: 臺北\n"
        "sources:\n"
        "  - id: kcg\n    url: https://kcg.example.tw/rss\n    categories: [kaohsiung]\n"
        "  - id: tpe\n    url: https://tpe.example.tw/rss\n    categories: [taipei]\n"
        "watches:\n"
        "  - name: typhoon\n    query: 颱風\n    webhook: https://hooks.example.org/all\n"
        "  - name: kaohsiung\n    query: 高雄\n    categories: [kaohsiung]\n"
        "    webhook: https://hooks.example.org/kh\n"
        "  - name: quiet\n    query: 市長\n",
        "feeds.yaml",
    )
    assert silence_webhooks(config) == {
        "kcg": ("https://hooks.example.org/all", "https://hooks.example.org/kh"),
        "tpe": ("https://hooks.example.org/all",),
    }
