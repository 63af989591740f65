"""Near-duplicate merging through the real store: each republication of the labelled set
joins its original's entry when ingested by `apply_poll`, each hard negative stays apart,
the shown report follows priority, and staff splits and forced merges outlast re-polls.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest

from aggregator.cli import main
from aggregator.models import EntryQuery, StoredEntry
from aggregator.store import Store, StoreError, open_store
from aggregator.store.migrate import upgrade
from tests.dedup_corpus import (
    ARRIVAL_ORDERS,
    Item,
    hard_negatives,
    ingest_polls,
    load_items,
    transformations,
)
from tests.storedata import T0, outcome, report, source

TRANSFORMATIONS = transformations(load_items())
HARD_NEGATIVES = hard_negatives(load_items())
NEAR_DUPLICATE_RULES = {"same-text", "contained-text", "rewrite", "near-identical"}
NOW = datetime(2025, 12, 1, tzinfo=UTC)

# A long enough story for the fingerprint to compare text, and a reworded copy of it.
STORY = (
    "高雄市政府今日宣布，為因應颱風來襲，全市各級學校明日停課一天，市民應避免外出。"
    "市長表示，各區公所已完成防災整備，災害應變中心將持續監控雨量與風速變化。"
    "工務局也派員巡查抽水站與低窪地區，確保排水功能正常運作。"
)


@cache
def corpus() -> dict[str, Item]:
    return load_items()


def ingest(store: Store, items: list[Item]) -> dict[str, str]:
    """Each item as its own poll of its source, in publication order; item id → entry uid."""
    return ingest_polls(store, ARRIVAL_ORDERS["publication"](items))


def every_entry(store: Store) -> list[StoredEntry]:
    return list(store.entries(EntryQuery(limit=1000)).entries)


@pytest.mark.parametrize("kind", TRANSFORMATIONS)
def test_republication_joins_its_original_through_the_store(store: Store, kind: str) -> None:
    items = [item for item in corpus().values() if item.kind == kind]
    originals = [corpus()[item.of or ""] for item in items]

    entry_of = ingest(store, items + originals)

    apart = [item.id for item in items if entry_of[item.id] != entry_of[item.of or ""]]
    assert apart == []


@pytest.mark.parametrize("kind", HARD_NEGATIVES)
def test_hard_negative_stays_apart_through_the_store(store: Store, kind: str) -> None:
    items = [item for item in corpus().values() if item.kind == kind]
    against = {name for item in items for name in item.against}
    everything = items + [corpus()[name] for name in sorted(against)]

    entry_of = ingest(store, everything)

    wrongly_merged = [
        (first.id, second.id)
        for first in items
        for second in everything
        if first.story != second.story and entry_of[first.id] == entry_of[second.id]
    ]
    assert wrongly_merged == []


def stories(entry_of: dict[str, str]) -> set[frozenset[str]]:
    """The grouping: which items share an entry, whatever the entries are called."""
    groups: dict[str, set[str]] = {}
    for item_id, entry_id in entry_of.items():
        groups.setdefault(entry_id, set()).add(item_id)
    return {frozenset(group) for group in groups.values()}


@pytest.fixture(scope="module")
def grouping_in_publication_order(tmp_path_factory: pytest.TempPathFactory) -> set[frozenset[str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('publication-order') / 'store.db'}"
    upgrade(url)
    reference = open_store(url)
    try:
        return stories(ingest(reference, list(corpus().values())))
    finally:
        reference.close()


@pytest.mark.parametrize("order", [name for name in ARRIVAL_ORDERS if name != "publication"])
def test_the_grouping_does_not_depend_on_the_order_reports_arrive_in(
    store: Store, order: str, grouping_in_publication_order: set[frozenset[str]]
) -> None:
    polls = ARRIVAL_ORDERS[order](list(corpus().values()))

    entry_of = ingest_polls(store, polls)

    assert stories(entry_of) == grouping_in_publication_order


def test_a_report_matching_two_entries_joins_them_and_the_younger_id_still_resolves(
    store: Store,
) -> None:
    store.sync_sources([source("kcg"), source("nv"), source("cna")], T0)
    first_half, second_half = STORY[:60], STORY[60:]
    store.apply_poll(outcome("nv", new=[report("nv", "b", content=f"<p>{first_half}</p>")]))
    store.apply_poll(outcome("cna", new=[report("cna", "c", content=f"<p>{second_half}</p>")]))
    older, younger = sorted(every_entry(store), key=lambda entry: entry.reports[0].source_id)[::-1]

    store.apply_poll(outcome("kcg", new=[report("kcg", "a", content=f"<p>{STORY}</p>")]))

    [joined] = every_entry(store)
    assert joined.id == older.id
    assert {r.source_id for r in joined.reports} == {"kcg", "nv", "cna"}
    found = store.entry(younger.id)
    assert found is not None and found.id == older.id


def test_the_merge_rule_and_score_are_kept_for_each_report(store: Store) -> None:
    store.sync_sources([source("kcg"), source("nv")], T0)
    store.apply_poll(outcome("kcg", new=[report("kcg", "a", content=f"<p>{STORY}</p>")]))
    copy = report("nv", "b", title="颱風來襲 高雄停課", content=f"<p>【記者／高雄報導】{STORY}</p>")
    counts = store.apply_poll(outcome("nv", new=[copy]))

    [entry] = every_entry(store)
    staff = store.staff_entry(entry.id)
    assert counts.merged == 1
    assert staff is not None
    rules = {r.source_id: (r.merge_rule, r.merge_score) for r in staff.reports}
    assert rules["kcg"] == ("first", None)
    assert rules["nv"][0] in NEAR_DUPLICATE_RULES
    assert (rules["nv"][1] or 0) > 0.7


def test_a_higher_priority_copy_arriving_later_is_shown_and_the_id_stays(store: Store) -> None:
    store.sync_sources([source("kcg", priority=10), source("nv")], T0)
    store.apply_poll(outcome("nv", new=[report("nv", "b", title="新聞網版本", content=STORY)]))
    [before] = every_entry(store)
    official = report(
        "kcg", "a", title="市府新聞稿", content=STORY, published=T0 + timedelta(hours=3)
    )
    store.apply_poll(outcome("kcg", new=[official]))

    [after] = every_entry(store)
    assert after.id == before.id
    assert after.title == "市府新聞稿"
    assert [r.source_id for r in after.reports] == ["kcg", "nv"]


def test_a_copy_outside_the_candidate_window_starts_a_new_entry(store: Store) -> None:
    store.sync_sources([source("kcg"), source("nv")], T0)
    store.apply_poll(outcome("kcg", new=[report("kcg", "a", content=STORY)]))
    late = report("nv", "b", content=STORY, published=T0 + timedelta(days=40))
    store.apply_poll(outcome("nv", new=[late]))

    assert len(every_entry(store)) == 2


def merged_pair(store: Store) -> str:
    store.sync_sources([source("kcg"), source("nv"), source("cna")], T0)
    store.apply_poll(outcome("kcg", new=[report("kcg", "a", content=STORY)]))
    store.apply_poll(outcome("nv", new=[report("nv", "b", content=STORY)]))
    [entry] = every_entry(store)
    return entry.id


def test_a_split_report_gets_its_own_entry_and_the_old_id_stays(store: Store) -> None:
    entry_uid = merged_pair(store)

    new_uid = store.split_report(entry_uid, "nv", "王小明", NOW)

    kept, split = store.entry(entry_uid), store.entry(new_uid)
    assert kept is not None and split is not None
    assert [r.source_id for r in kept.reports] == ["kcg"]
    assert [r.source_id for r in split.reports] == ["nv"]


def test_a_split_survives_a_re_poll_that_changes_the_report(store: Store) -> None:
    entry_uid = merged_pair(store)
    new_uid = store.split_report(entry_uid, "nv", "王小明", NOW)

    edited = report("nv", "b", content=STORY + "（更新）", title="更新")
    store.apply_poll(outcome("nv", changed=[edited], attempted_at=NOW))

    assert len(every_entry(store)) == 2
    split = store.entry(new_uid)
    assert split is not None and split.title == "更新"


def test_a_third_copy_joins_one_side_of_a_split_only(store: Store) -> None:
    entry_uid = merged_pair(store)
    store.split_report(entry_uid, "nv", "王小明", NOW)

    # It matches both sides: joining them would undo the split.
    store.apply_poll(outcome("cna", new=[report("cna", "c", content=STORY)]))

    groups = [{r.source_id for r in entry.reports} for entry in every_entry(store)]
    assert not any({"kcg", "nv"} <= group for group in groups)
    assert sorted(len(group) for group in groups) == [1, 2]


def test_a_forced_merge_attaches_the_other_entrys_reports(store: Store) -> None:
    store.sync_sources([source("kcg"), source("nv")], T0)
    store.apply_poll(outcome("kcg", new=[report("kcg", "a", content="<p>颱風停課</p>")]))
    store.apply_poll(outcome("nv", new=[report("nv", "b", content="<p>明日停班停課</p>")]))
    first, second = sorted(every_entry(store), key=lambda entry: entry.reports[0].source_id)

    store.force_merge(first.id, second.id, "王小明", NOW)

    [merged] = every_entry(store)
    assert merged.id == first.id
    assert {r.source_id for r in merged.reports} == {"kcg", "nv"}
    # A link to the merged-away entry, in a feed reader or a bookmark, finds the story.
    by_old_id = store.entry(second.id)
    assert by_old_id is not None and by_old_id.id == first.id


def test_a_forced_merge_survives_a_re_poll_that_changes_the_report(store: Store) -> None:
    store.sync_sources([source("kcg"), source("nv")], T0)
    store.apply_poll(outcome("kcg", new=[report("kcg", "a", content="<p>颱風停課</p>")]))
    nv = report("nv", "b", content="<p>明日停班停課</p>")
    store.apply_poll(outcome("nv", new=[nv]))
    first, second = sorted(every_entry(store), key=lambda entry: entry.reports[0].source_id)
    store.force_merge(first.id, second.id, "王小明", NOW)

    store.apply_poll(outcome("nv", changed=[replace(nv, title="更新")], attempted_at=NOW))

    [merged] = every_entry(store)
    staff = store.staff_entry(merged.id)
    assert staff is not None
    assert {r.source_id: r.merge_rule for r in staff.reports} == {"kcg": "first", "nv": "forced"}


def test_a_forced_merge_of_two_reports_of_one_source_is_refused(store: Store) -> None:
    store.sync_sources([source("kcg")], T0)
    store.apply_poll(outcome("kcg", new=[report("kcg", "a"), report("kcg", "b")]))
    first, second = every_entry(store)

    with pytest.raises(StoreError, match="two stories"):
        store.force_merge(first.id, second.id, "王小明", NOW)


def test_splitting_an_entry_of_one_report_is_refused(store: Store) -> None:
    store.sync_sources([source("kcg")], T0)
    store.apply_poll(outcome("kcg", new=[report("kcg", "a")]))
    [entry] = every_entry(store)

    with pytest.raises(StoreError, match="nothing to split"):
        store.split_report(entry.id, "kcg", "王小明", NOW)


def explain(db_url: str, first: str, second: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["merge", "explain", first, second, "--db", db_url]) == 0
    return capsys.readouterr().out


def test_explain_says_which_rule_merged_two_reports_named_by_entry_or_link(
    store: Store, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store.sync_sources([source("kcg"), source("nv")], T0)
    store.apply_poll(outcome("kcg", new=[report("kcg", "a", content=f"<p>{STORY}</p>")]))
    copy = report("nv", "b", content=f"<p>【記者／高雄報導】{STORY}</p>")
    store.apply_poll(outcome("nv", new=[copy]))
    [entry] = every_entry(store)

    printed = explain(db_url, entry.id, copy.link or "", capsys)

    assert "same entry now: yes" in printed
    assert "decision: merged by same-text" in printed
    assert "conflicting numbers or dates: none" in printed


def test_explain_names_the_veto_that_kept_two_template_releases_apart(
    store: Store, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # One day's notice from the bureau, the next day's as the portal republished it.
    first, second = corpus()["air-0114"], corpus()["air-0115-portal"]
    ingest(store, [first, second])

    printed = explain(db_url, first.link, second.link, capsys)

    assert "same entry now: no" in printed
    assert "decision: kept apart by the veto: several numbers or dates conflict" in printed
    assert "rule: facts-conflict" in printed
    assert "≠" in printed.split("conflicting numbers or dates:")[1]


def test_explain_says_staff_split_two_reports_apart(
    store: Store, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    entry_uid = merged_pair(store)
    new_uid = store.split_report(entry_uid, "nv", "王小明", NOW)

    printed = explain(db_url, entry_uid, new_uid, capsys)

    assert "same entry now: no" in printed
    assert "staff: split apart, which wins over the decision" in printed


def test_staff_actions_are_logged_with_who_and_what(store: Store) -> None:
    entry_uid = merged_pair(store)

    new_uid = store.split_report(entry_uid, "nv", "王小明", NOW)

    staff = store.staff_entry(entry_uid)
    assert staff is not None
    [action] = staff.actions
    assert (action.actor, action.action, action.at) == ("王小明", "split", NOW)
    assert action.detail == {"source": "nv", "new_entry": new_uid}
