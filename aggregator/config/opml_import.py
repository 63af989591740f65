"""`aggregator opml import FILE`: adds the feeds of an OPML file to feeds.yaml as sources.

The configuration is edited as text, never round-tripped through a YAML dumper, so the
person's comments, order and layout survive; the result is validated before it replaces
the file, so a failed import leaves the file as it was.

Categories: a feed takes its category from the text of the outline it is filed under.
When that text, slugged, is an existing category's slug, or is its title, the feed joins it;
otherwise a new category is added, titled with the text and slugged from it ("category",
"category-2", ... when the text has no Latin letters or digits, such as 農業). Feeds at
the top level of the OPML go to an "imported" category.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from xml.parsers import expat

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from aggregator.config.load import (
    ConfigError,
    config_from_text,
    is_http_url,
    load_config,
    url_identity,
)
from aggregator.models import Category

UNFILED_CATEGORY = "Imported"  # slugged, "imported"


class OpmlImportError(Exception):
    """The OPML cannot be read, or its sources cannot be added to the configuration."""


@dataclass(frozen=True, slots=True)
class ImportedSource:
    id: str  # a slug, unique within the OPML; append_sources renames it on a clash
    url: str
    title: str | None
    category: str | None  # the enclosing outline's text; None at the top level


# --- reading OPML -------------------------------------------------------------


class _RefusedXml(Exception):
    pass


@dataclass(frozen=True, slots=True)
class _FeedOutline:
    line: int
    attributes: dict[str, str]  # names lowercased
    folder: str | None  # the nearest enclosing folder outline's text


class _OutlineCollector:
    """Expat handlers that collect feed outlines with the text of their enclosing folder."""

    def __init__(self, parser: expat.XMLParserType) -> None:
        self.parser = parser
        self.root: str | None = None
        self.folders: list[str | None] = []  # one per open <outline>; None for a feed
        self.feeds: list[_FeedOutline] = []

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        if self.root is None:
            self.root = tag
        if tag != "outline":
            return
        # Exporters disagree on the case of xmlUrl; attribute names are matched loosely.
        attributes = {name.lower(): value for name, value in attributes.items()}
        if "xmlurl" in attributes:
            folder = next((text for text in reversed(self.folders) if text is not None), None)
            self.feeds.append(_FeedOutline(self.parser.CurrentLineNumber, attributes, folder))
            self.folders.append(None)
        else:
            self.folders.append(_clean(attributes.get("text") or attributes.get("title")))

    def end(self, tag: str) -> None:
        if tag == "outline":
            self.folders.pop()


def _refuse_doctype(*_: object) -> None:
    # Entity expansion (billion laughs) and external entities both need a DTD: refuse any.
    raise _RefusedXml("the OPML file has a DOCTYPE, which is not accepted")


def sources_from_opml(xml: bytes) -> list[ImportedSource]:
    """The feeds listed in an OPML document, in order, one per URL."""
    parser = expat.ParserCreate()
    collector = _OutlineCollector(parser)
    parser.StartElementHandler = collector.start
    parser.EndElementHandler = collector.end
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    try:
        parser.Parse(xml, True)
    except expat.ExpatError as error:
        reason = expat.ErrorString(error.code)
        raise OpmlImportError(
            f"the OPML file is not well-formed XML: {reason} (line {error.lineno})"
        ) from None
    except _RefusedXml as error:
        raise OpmlImportError(str(error)) from None
    if collector.root != "opml":
        raise OpmlImportError(f"this is not an OPML file: its root element is <{collector.root}>")
    return _imported_sources(collector.feeds)


def _imported_sources(feeds: Iterable[_FeedOutline]) -> list[ImportedSource]:
    sources: list[ImportedSource] = []
    seen_urls: set[str] = set()
    ids: set[str] = set()
    refused: list[str] = []
    for feed in feeds:
        url = feed.attributes["xmlurl"].strip()
        if not is_http_url(url):
            refused.append(f"line {feed.line}: feed URL {url!r} is not an http:// or https:// URL")
            continue
        if url_identity(url) in seen_urls:
            continue
        seen_urls.add(url_identity(url))
        title = _clean(feed.attributes.get("title") or feed.attributes.get("text"))
        source_id = _unique(_slug(title or "") or _host_slug(url), ids)
        ids.add(source_id)
        sources.append(ImportedSource(id=source_id, url=url, title=title, category=feed.folder))
    if refused:
        raise OpmlImportError(
            "the OPML file lists feeds that cannot be polled:\n" + "\n".join(refused)
        )
    return sources


def _clean(text: str | None) -> str | None:
    """Whitespace collapsed, as OPML exporters wrap and indent attribute text."""
    return (" ".join(text.split()) or None) if text else None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _host_slug(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return _slug(host.removeprefix("www.")) or "feed"


def _unique(slug: str, taken: Iterable[str]) -> str:
    taken = set(taken)
    candidate, number = slug, 2
    while candidate in taken:
        candidate, number = f"{slug}-{number}", number + 1
    return candidate


# --- writing the configuration ----------------------------------------------------


_Fields = dict[str, object]
_Entries = list[_Fields] | dict[str, _Fields]  # a sequence's items, or a mapping's entries


def append_sources(config_path: str | os.PathLike[str], sources: Iterable[ImportedSource]) -> int:
    """Adds the sources whose URL the configuration lacks; returns how many were added.

    Raises ConfigError when the configuration is invalid before the import, and
    OpmlImportError when the sources cannot be added to its layout.
    """
    path = Path(config_path)
    config = load_config(path)
    known_urls = {url_identity(source.url) for source in config.sources}
    new = [source for source in sources if url_identity(source.url) not in known_urls]
    if not new:
        return 0
    category_slugs, new_categories = _file_categories(new, config.categories)
    taken_ids = {source.id for source in config.sources}
    added: list[_Fields] = []
    for source in new:
        source_id = _unique(source.id, taken_ids)
        taken_ids.add(source_id)
        fields: _Fields = {"id": source_id, "url": source.url}
        if source.title:
            fields["title"] = source.title
        fields["categories"] = [category_slugs[source.category or UNFILED_CATEGORY]]
        added.append(fields)

    raw = path.read_bytes()
    bom = codecs.BOM_UTF8 if raw.startswith(codecs.BOM_UTF8) else b""
    text = raw.decode("utf-8-sig")
    newline = "\r\n" if "\r\n" in text else "\n"
    if new_categories:
        categories: dict[str, _Fields] = {
            slug: {"title": title} for slug, title in new_categories.items()
        }
        text = _append_to(text, "categories", categories, newline)
    text = _append_to(text, "sources", added, newline)
    _check_result(text, str(path), added)
    _replace_file(path, bom + text.encode("utf-8"))
    return len(added)


def _file_categories(
    sources: Iterable[ImportedSource], existing: Mapping[str, Category]
) -> tuple[dict[str, str], dict[str, str]]:
    """Maps each source's category text to a slug; also returns the new categories' titles."""
    by_title = {category.title.casefold(): slug for slug, category in existing.items()}
    slugs: dict[str, str] = {}
    new: dict[str, str] = {}
    for source in sources:
        text = source.category or UNFILED_CATEGORY
        if text in slugs:
            continue
        if _slug(text) in existing:
            slugs[text] = _slug(text)
        elif text.casefold() in by_title:
            slugs[text] = by_title[text.casefold()]
        else:
            slugs[text] = _unique(_slug(text) or "category", [*existing, *new])
            new[slugs[text]] = text
    return slugs, new


def _append_to(text: str, key: str, entries: _Entries, newline: str) -> str:
    """Adds entries under a top-level key of the configuration, keeping the rest as it was."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, MappingNode):
        raise OpmlImportError("the configuration is not a mapping of keys to values")
    found = [(k, v) for k, v in root.value if isinstance(k, ScalarNode) and k.value == key]
    if not found:
        text = _with_final_line_break(text, newline)
        return f"{text}{key}:{newline}{_block(entries, 2, newline)}"
    key_node, value = found[0]
    if isinstance(value, ScalarNode):
        # An empty value (`sources:` or `sources: ~`): the block goes below the key's line.
        start, end = value.start_mark.index, value.end_mark.index
        text = _with_final_line_break(text[:start] + text[end:], newline)
        after = _after_line(text, start)
        block = _block(entries, key_node.start_mark.column + 2, newline)
        return text[:after] + block + text[after:]
    if value.flow_style:
        closing = value.end_mark.index - 1  # the ] or }
        separator = ", " if value.value else ""
        return text[:closing] + separator + ", ".join(_flow_items(entries)) + text[closing:]
    text = _with_final_line_break(text, newline)
    after = _after_line(text, _content_end(value))
    return text[:after] + _block(entries, value.start_mark.column, newline) + text[after:]


def _content_end(node: Node) -> int:
    """Where a node's text ends; a block collection's own end mark runs on past comments."""
    if isinstance(node, MappingNode) and not node.flow_style:
        return _content_end(node.value[-1][1])
    if isinstance(node, SequenceNode) and not node.flow_style:
        return _content_end(node.value[-1])
    return int(node.end_mark.index)


def _after_line(text: str, index: int) -> int:
    """The start of the line after the one that holds text[index - 1]."""
    line_break = text.find("\n", max(index - 1, 0))
    return len(text) if line_break == -1 else line_break + 1


def _with_final_line_break(text: str, newline: str) -> str:
    return text if not text or text.endswith("\n") else text + newline


def _block(entries: _Entries, indent: int, newline: str) -> str:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(entries, dict):
        for slug, fields in entries.items():
            lines.append(f"{pad}{slug}:")
            lines.extend(f"{pad}  {name}: {_block_value(value)}" for name, value in fields.items())
    else:
        for fields in entries:
            for number, (name, value) in enumerate(fields.items()):
                lead = "- " if number == 0 else "  "
                lines.append(f"{pad}{lead}{name}: {_block_value(value)}")
    return "".join(line + newline for line in lines)


def _flow_items(entries: _Entries) -> list[str]:
    def flow(fields: _Fields) -> str:
        return "{" + ", ".join(f"{name}: {_quoted(value)}" for name, value in fields.items()) + "}"

    if isinstance(entries, dict):
        return [f"{slug}: {flow(fields)}" for slug, fields in entries.items()]
    return [flow(fields) for fields in entries]


def _block_value(value: object) -> str:
    """Plain when YAML reads it back unchanged (most URLs and titles), else double-quoted."""
    if isinstance(value, list):
        # Slugs: plain in a flow sequence unless YAML would read them as another type.
        return "[" + ", ".join(_block_value(item) for item in value) + "]"
    if isinstance(value, str):
        try:
            if "\n" not in value and yaml.safe_load(value) == value:
                return value
        except yaml.YAMLError:
            pass
    return _quoted(value)


def _quoted(value: object) -> str:
    # JSON strings and lists of them are valid YAML flow scalars and sequences, escapes included.
    return json.dumps(value, ensure_ascii=False)


def _check_result(text: str, file: str, added: list[_Fields]) -> None:
    """The edited text must load and hold exactly the added sources, or nothing is written."""
    try:
        config = config_from_text(text, file)
    except ConfigError as error:
        raise OpmlImportError(
            f"{file}: adding the sources would break the file, so it was left unchanged:\n{error}"
        ) from None
    loaded = {source.id: {"url": source.url, "title": source.title} for source in config.sources}
    for entry in added:
        if loaded.get(str(entry["id"])) != {"url": entry["url"], "title": entry.get("title")}:
            raise OpmlImportError(
                f"{file}: its layout is one the importer cannot extend, so it was left"
                " unchanged: add the sources by hand"
            )


def _replace_file(path: Path, content: bytes) -> None:
    """Writes beside the file, then renames: a reader never sees half a configuration."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
