"""What the search index holds for an entry: its title's and clean text's index tokens.

Pure, so the poller computes the document of each new report in its parse processes (an
entry made of one report), off the writer thread, where tokenising was a quarter of the
time spent writing; the store computes the same documents for entries that merges and
edits changed. Tokens never hold a space, so a document is two space-separated strings:
cheap to send between processes, inserted into FTS5 as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aggregator.models import IndexDocument, Report
from aggregator.search.terms import token_texts
from aggregator.text.story import entry_text

# PostgreSQL keeps positions up to 16383: longer texts are cut on both backends, so that
# both find the same entries.
MAX_TITLE_TOKENS = 500
MAX_BODY_TOKENS = 15_000


def index_document(title: str, report_htmls: Iterable[str]) -> IndexDocument:
    """The document of an entry with this title whose content and reports say these:
    `aggregator.text.story.entry_text` of them, so a name only a rewrite mentions finds
    the story and a 相關新聞 list never does."""
    return IndexDocument(
        title=" ".join(token_texts(title)[:MAX_TITLE_TOKENS]),
        body=" ".join(token_texts(entry_text(report_htmls))[:MAX_BODY_TOKENS]),
    )


def report_documents(new: Sequence[Report]) -> tuple[IndexDocument, ...]:
    """For each report, the document of the entry it makes when it joins no other."""
    return tuple(entry_document(report) for report in new)


def entry_document(report: Report) -> IndexDocument:
    """An entry of this one report: its content is the report's, then the report's own."""
    return index_document(report.title, [report.content, report.content or report.summary])
