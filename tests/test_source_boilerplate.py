"""Each source's header and footer are learnt from its recent texts, and relearnt as it
publishes more, not on every poll."""

from __future__ import annotations

from collections.abc import Sequence

from aggregator.dedupe import SourceBoilerplates
from aggregator.dedupe.learning import BOILERPLATE_MIN_SAMPLE, BOILERPLATE_RELEARN_AFTER

FOOTER = "本新聞稿由市政府新聞局發布，歡迎轉載並註明出處。"


class RecentTexts:
    """What the store would read: `count` texts of one source, each with its footer."""

    def __init__(self, available: int) -> None:
        self.available = available
        self.reads = 0

    def __call__(self, count: int) -> Sequence[str]:
        self.reads += 1
        return [f"第{n}則新聞，內容為第{n}項市政措施。\n{FOOTER}"
                for n in range(min(count, self.available))]


def test_a_footer_on_every_recent_text_is_learnt() -> None:
    recent = RecentTexts(available=BOILERPLATE_MIN_SAMPLE)
    assert SourceBoilerplates().of("city", 1, recent)


def test_too_few_texts_teach_nothing() -> None:
    recent = RecentTexts(available=BOILERPLATE_MIN_SAMPLE - 1)
    assert SourceBoilerplates().of("city", 1, recent) == frozenset()


def test_it_is_relearnt_only_after_enough_new_reports() -> None:
    recent = RecentTexts(available=BOILERPLATE_MIN_SAMPLE)
    learnt = SourceBoilerplates()
    learnt.of("city", BOILERPLATE_RELEARN_AFTER - 1, recent)
    learnt.of("city", 1, recent)
    assert recent.reads == 1
    learnt.of("city", 1, recent)
    assert recent.reads == 2
