"""The config stage: reads feeds.yaml into a `Config`, or refuses it with every problem in it.

Values are built from `yaml.compose` nodes rather than `yaml.safe_load`, so that every
problem can name the line of the node at fault, and so that all problems are reported at
once instead of one per run.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from datetime import timedelta
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from aggregator.models import (
    SOURCE_KINDS,
    Category,
    Config,
    ListSelectors,
    OpenDataFields,
    Settings,
    Source,
    SourceFormat,
    SourceKind,
    Watch,
)
from aggregator.parse.html_list import selector_problem
from aggregator.search.query import QueryError, parse_query

SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
MIN_INTERVAL = timedelta(seconds=30)
ALLOW_PRIVATE_VARIABLE = "AGGREGATOR_ALLOW_PRIVATE"

_TOP_KEYS = ("settings", "categories", "sources", "watches")
_SETTINGS_KEYS = (
    "interval",
    "timezone",
    "base_url",
    "trusted_proxies",
    "allow_private_addresses",
    "retention_days",
    "websub_hub",
)
_CATEGORY_KEYS = ("title", "description")
_SOURCE_KEYS = (
    "id",
    "url",
    "title",
    "categories",
    "interval",
    "enabled",
    "priority",
    "timezone",
    "kind",
    "fields",
    "selectors",
    "follow",
    "content",
    "areas",
)
# Each kind's own keys: any other kind's key on a source is a mistake worth naming.
_KIND_KEYS: Mapping[str, tuple[SourceKind, ...]] = {
    "fields": ("feed", "opendata"),
    "selectors": ("html",),
    "follow": ("html",),
    "content": ("html",),
    "areas": ("cap",),
}
_SELECTOR_KEYS = ("item", "title", "link", "date", "summary")
_FIELD_KEYS = tuple(field.name for field in dataclass_fields(OpenDataFields))
_WATCH_KEYS = ("name", "query", "categories", "webhook")

_TAG = "tag:yaml.org,2002:"
_KINDS = {
    _TAG + "str": "text",
    _TAG + "int": "a whole number",
    _TAG + "float": "a number",
    _TAG + "bool": "true or false",
    _TAG + "null": "empty",
    _TAG + "timestamp": "a date",
    _TAG + "binary": "binary data",
}
_INTERVAL = re.compile(r"(?:(?P<hours>\d+)h)?(?:(?P<minutes>\d+)m)?(?:(?P<seconds>\d+)s)?")
_SLUG_RULE = "use lowercase letters a-z, digits and hyphens, starting with a letter or digit"

T = TypeVar("T")
_Read = Callable[[Node, str], T | None]


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    file: str
    line: int  # 1-based
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


class ConfigError(Exception):
    """The configuration cannot be used; `problems` lists everything wrong with it."""

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def parse_interval(text: str) -> timedelta:
    """Reads "90s", "15m", "2h" or a combination in that order such as "1h30m"."""
    match = _INTERVAL.fullmatch(text.strip())
    if not text.strip() or match is None:
        raise ValueError(
            f"{text!r} is not an interval: write a number with a unit s, m or h,"
            " such as 90s, 15m, 2h or 1h30m"
        )
    try:
        return timedelta(
            hours=int(match["hours"] or 0),
            minutes=int(match["minutes"] or 0),
            seconds=int(match["seconds"] or 0),
        )
    except OverflowError:
        raise ValueError(f"interval {text!r} is too long") from None


def load_config(path: str | os.PathLike[str], *, environ: Mapping[str, str] = os.environ) -> Config:
    """Reads and validates the configuration file; raises ConfigError listing every problem."""
    file = os.fspath(path)
    try:
        raw = Path(file).read_bytes()
    except FileNotFoundError:
        raise ConfigError([ConfigProblem(file, 1, "the file does not exist")]) from None
    except IsADirectoryError:
        raise ConfigError([ConfigProblem(file, 1, "this is a directory, not a file")]) from None
    except OSError as error:
        reason = f"the file cannot be read: {error.strerror}"
        raise ConfigError([ConfigProblem(file, 1, reason)]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        reason = "the file is not UTF-8 text: save it as UTF-8 (Big5 and others are not read)"
        raise ConfigError([ConfigProblem(file, line, reason)]) from None
    return config_from_text(text, file, environ=environ)


def config_from_text(text: str, file: str, *, environ: Mapping[str, str] = os.environ) -> Config:
    """Validates configuration text as if read from `file` (named in the problems)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        raise ConfigError([_syntax_problem(error, text, file)]) from None
    except RecursionError:  # PyYAML composes recursively: thousands of nested brackets
        raise ConfigError([ConfigProblem(file, 1, "invalid YAML: nested too deeply")]) from None
    reader = _ConfigReader(file)
    config = reader.read(root, environ)
    if reader.problems or config is None:
        raise ConfigError(sorted(reader.problems, key=lambda problem: problem.line))
    return config


def _syntax_problem(error: yaml.YAMLError, text: str, file: str) -> ConfigProblem:
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        context = ""
        if error.context and error.context_mark is not None:
            context = f" ({error.context} that starts on line {error.context_mark.line + 1})"
        elif error.context:
            context = f" ({error.context})"
        reason = f"invalid YAML: {error.problem}{context}"
        return ConfigProblem(file, error.problem_mark.line + 1, reason)
    if isinstance(error, yaml.reader.ReaderError):
        line = text[: error.position].count("\n") + 1
        # Composing text (not bytes), ReaderError.character is the offending code point.
        reason = f"invalid YAML: control character U+{error.character:04X} is not allowed"
        return ConfigProblem(file, line, reason)
    return ConfigProblem(file, 1, f"invalid YAML: {error}")


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return _KINDS.get(node.tag, f"a value tagged {node.tag!r}")


def _or(value: T | None, default: T) -> T:
    return default if value is None else value


def _shown(node: Node) -> str:
    """The offending value as a person would spot it in the file."""
    if isinstance(node, ScalarNode) and node.tag == _TAG + "str":
        return repr(node.value)
    if isinstance(node, ScalarNode) and node.tag in _KINDS and node.tag != _TAG + "null":
        return str(node.value)
    return _kind(node)


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _TAG + "null"


def _suggestion(word: str, choices: Collection[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    if not choices:
        return ""
    return f" (expected one of: {', '.join(sorted(choices))})"


def _unknown_category(slug: str, categories: Collection[str]) -> str:
    close = difflib.get_close_matches(slug, categories, n=1)
    if close:
        return f"unknown category {slug!r} (did you mean {close[0]!r}?)"
    defined = f" (defined: {', '.join(sorted(categories))})" if categories else ""
    return f"unknown category {slug!r}: add it under 'categories:'{defined}"


def is_http_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
    except ValueError:  # such as an unclosed IPv6 bracket
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def url_identity(url: str) -> str:
    """Scheme and host are case-insensitive: two spellings of one feed are one source."""
    parts = urlsplit(url)
    return parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()).geturl()


def _key_node(mapping: Node, key: str) -> Node:
    """The node of `key` in a mapping already read (so it is there): problems with a key
    point at the key's own line."""
    return next(k for k, _ in mapping.value if isinstance(k, ScalarNode) and k.value == key)


def _zone_problem(name: str) -> str | None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        close = difflib.get_close_matches(name, available_timezones(), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else " (use a name such as Asia/Taipei)"
        return f"unknown time zone {name!r}{hint}"
    return None


class _ConfigReader:
    """Walks the composed document, building values and collecting every problem."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[ConfigProblem] = []
        self._constructor = SafeConstructor()

    def problem(self, node: Node, reason: str) -> None:
        self.problems.append(ConfigProblem(self.file, _line(node), reason))

    # --- sections -------------------------------------------------------------

    def read(self, root: Node | None, environ: Mapping[str, str]) -> Config | None:
        if root is None:
            self.problems.append(
                ConfigProblem(
                    self.file, 1, "the file is empty: it needs 'categories:' and 'sources:'"
                )
            )
            return None
        top = self.fields(root, _TOP_KEYS, "the configuration")
        if top is None:
            return None
        settings = self.settings(top.get("settings"), environ)
        categories = self.categories(top.get("categories"))
        sources = self.sources(top.get("sources"), settings, categories)
        watches = self.watches(top.get("watches"), categories)
        return Config(
            path=self.file,
            settings=settings,
            categories=categories,
            sources=sources,
            watches=watches,
        )

    def settings(self, node: Node | None, environ: Mapping[str, str]) -> Settings:
        fields = {} if node is None else self.fields(node, _SETTINGS_KEYS, "'settings'") or {}
        default = Settings()
        base_url = self.optional(fields, "base_url", self.http_url)
        websub_hub = self.optional(fields, "websub_hub", self.http_url)
        if websub_hub is not None and base_url is None:
            # The hub is told the feeds' URLs outside any request: they must be known.
            self.problem(
                fields["websub_hub"], "'websub_hub' needs 'base_url', the feeds' public URL"
            )
        allow_private = self.optional(fields, "allow_private_addresses", self.flag)
        if environ.get(ALLOW_PRIVATE_VARIABLE) == "1":
            allow_private = True
        return Settings(
            interval=_or(self.optional(fields, "interval", self.interval), default.interval),
            timezone=_or(self.optional(fields, "timezone", self.timezone), default.timezone),
            # Output feeds join paths onto it: one spelling, without the trailing slash.
            base_url=None if base_url is None else base_url.rstrip("/"),
            trusted_proxies=_or(
                self.optional(fields, "trusted_proxies", self.count), default.trusted_proxies
            ),
            allow_private_addresses=_or(allow_private, default.allow_private_addresses),
            retention_days=_or(
                self.optional(fields, "retention_days", self.positive_number),
                default.retention_days,
            ),
            websub_hub=websub_hub,
        )

    def categories(self, node: Node | None) -> dict[str, Category]:
        categories: dict[str, Category] = {}
        if node is None:
            return categories
        for slug, key_node, value_node in self.entries(node, "'categories'"):
            if not SLUG.fullmatch(slug):
                self.problem(key_node, f"category {slug!r} is not a slug: {_SLUG_RULE}")
                continue
            fields = self.fields(value_node, _CATEGORY_KEYS, f"category {slug!r}")
            if fields is None:
                continue
            title = self.required(fields, "title", value_node, f"category {slug!r}", self.text)
            description = self.optional(fields, "description", self.text)
            if title is not None:
                categories[slug] = Category(slug=slug, title=title, description=description)
        return categories

    def sources(
        self, node: Node | None, settings: Settings, categories: Mapping[str, Category]
    ) -> tuple[Source, ...]:
        sources: list[Source] = []
        id_lines: dict[str, int] = {}
        url_owners: dict[str, tuple[str, int]] = {}
        for item in self.items(node, "'sources'"):
            fields = self.fields(item, _SOURCE_KEYS, "each source")
            if fields is None:
                continue
            source_id = self.required(fields, "id", item, "a source", self.slug)
            url = self.required(fields, "url", item, "a source", self.http_url)
            refs = self.required(
                fields, "categories", item, "a source", lambda n, name: self.refs(n, categories)
            )
            if refs == ():
                self.problem(fields["categories"], "a source needs at least one category")
            if source_id is not None:
                if source_id in id_lines:
                    first = id_lines[source_id]
                    reason = f"duplicate source id {source_id!r} (first on line {first})"
                    self.problem(fields["id"], reason)
                else:
                    id_lines[source_id] = _line(fields["id"])
            if url is not None:
                if url_identity(url) in url_owners:
                    owner, first = url_owners[url_identity(url)]
                    reason = f"duplicate source URL {url!r} (source {owner!r} on line {first})"
                    self.problem(fields["url"], reason)
                else:
                    url_owners[url_identity(url)] = (str(source_id), _line(fields["url"]))
            title = self.optional(fields, "title", self.text)
            interval = self.optional(fields, "interval", self.interval)
            enabled = self.optional(fields, "enabled", self.flag)
            priority = self.optional(fields, "priority", self.whole_number)
            timezone = self.optional(fields, "timezone", self.timezone)
            source_format = self.source_format(item, fields, categories)
            if source_id is None or url is None or not refs or source_format is None:
                continue
            sources.append(
                Source(
                    id=source_id,
                    url=url,
                    categories=refs,
                    interval=interval or settings.interval,
                    timezone=timezone or settings.timezone,
                    title=title,
                    enabled=True if enabled is None else enabled,
                    priority=priority or 0,
                    format=source_format,
                )
            )
        return tuple(sources)

    def source_format(
        self, item: Node, fields: Mapping[str, Node], categories: Mapping[str, Category]
    ) -> SourceFormat | None:
        """The source's kind and that kind's keys; None after reporting a problem."""
        named_kind: SourceKind | None = self.optional(fields, "kind", self.kind)
        if "kind" in fields and named_kind is None:
            return None
        kind: SourceKind = "feed" if named_kind is None else named_kind
        valid = True
        for key, kinds in _KIND_KEYS.items():
            if key in fields and kind not in kinds:
                only = " or ".join(kinds)
                self.problem(
                    _key_node(item, key),
                    f"{key!r} is only for sources of kind {only}, and this one is kind {kind}",
                )
                valid = False
        if not valid:
            return None
        if kind == "html" and "selectors" not in fields:
            self.problem(item, "a source of kind html is missing 'selectors' (item, title, link)")
            return None
        selectors = self.optional(fields, "selectors", self.selectors)
        follow = self.optional(fields, "follow", self.flag)
        content = self.optional(fields, "content", self.selector)
        if follow and "content" not in fields:
            self.problem(
                fields["follow"],
                "'follow: true' needs 'content': the selector of the full text on an item's page",
            )
            return None
        opendata_fields = self.optional(fields, "fields", self.opendata_fields)
        areas = self.optional(fields, "areas", lambda n, _: self.areas(n, categories))
        if (
            (kind == "html" and selectors is None)
            or ("follow" in fields and follow is None)
            or ("content" in fields and content is None)
            or ("fields" in fields and opendata_fields is None)
            or ("areas" in fields and areas is None)
        ):
            return None
        return SourceFormat(
            kind=kind,
            fields=opendata_fields or OpenDataFields(),
            selectors=selectors,
            follow=bool(follow),
            content=content,
            areas=areas or (),
        )

    def watches(self, node: Node | None, categories: Mapping[str, Category]) -> tuple[Watch, ...]:
        watches: list[Watch] = []
        name_lines: dict[str, int] = {}
        for item in self.items(node, "'watches'"):
            fields = self.fields(item, _WATCH_KEYS, "each watch")
            if fields is None:
                continue
            name = self.required(fields, "name", item, "a watch", self.slug)
            query = self.required(fields, "query", item, "a watch", self.text)
            if query is not None and not query.strip():
                self.problem(fields["query"], f"watch {name!r} has an empty query")
                query = None
            elif query is not None:
                query = self.watch_query(fields["query"], name, query.strip())
            refs = self.optional(fields, "categories", lambda n, _: self.refs(n, categories))
            webhook = self.optional(fields, "webhook", self.http_url)
            if name is not None:
                if name in name_lines:
                    first = name_lines[name]
                    self.problem(
                        fields["name"], f"duplicate watch name {name!r} (first on line {first})"
                    )
                else:
                    name_lines[name] = _line(fields["name"])
            if name is not None and query is not None:
                watches.append(
                    Watch(name=name, query=query, categories=refs or (), webhook=webhook)
                )
        return tuple(watches)

    def watch_query(self, node: Node, name: str | None, query: str) -> str | None:
        """The query as the worker will run it: what the search parser refuses here would
        stop the worker at start."""
        try:
            parse_query(query)
        except QueryError as error:
            self.problem(node, f"watch {name!r}: {error}")
            return None
        return query

    # --- structure --------------------------------------------------------------

    def entries(self, node: Node, where: str) -> list[tuple[str, ScalarNode, Node]]:
        """A mapping's (key, key node, value node) triples; refuses non-text and repeated keys."""
        if not isinstance(node, MappingNode):
            self.problem(node, f"{where} must be a mapping of keys to values, not {_kind(node)}")
            return []
        found: list[tuple[str, ScalarNode, Node]] = []
        key_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not (isinstance(key_node, ScalarNode) and key_node.tag == _TAG + "str"):
                self.problem(key_node, f"keys in {where} must be text, not {_kind(key_node)}")
                continue
            key = str(key_node.value)
            if key in key_lines:
                self.problem(key_node, f"duplicate key {key!r} (first on line {key_lines[key]})")
                continue
            key_lines[key] = _line(key_node)
            found.append((key, key_node, value_node))
        return found

    def fields(self, node: Node, allowed: tuple[str, ...], where: str) -> dict[str, Node] | None:
        """A mapping's known keys to their value nodes; a key with an empty value is absent."""
        if not isinstance(node, MappingNode):
            self.problem(node, f"{where} must be a mapping of keys to values, not {_kind(node)}")
            return None
        fields: dict[str, Node] = {}
        for key, key_node, value_node in self.entries(node, where):
            if key not in allowed:
                self.problem(key_node, f"unknown key {key!r}{_suggestion(key, allowed)}")
            elif not _is_null(value_node):
                fields[key] = value_node
        return fields

    def items(self, node: Node | None, where: str) -> list[Node]:
        if node is None or _is_null(node):
            return []
        if not isinstance(node, SequenceNode):
            self.problem(
                node, f"{where} must be a list (items starting with '- '), not {_kind(node)}"
            )
            return []
        return list(node.value)

    def required(
        self, fields: Mapping[str, Node], name: str, owner: Node, what: str, read: _Read[T]
    ) -> T | None:
        if name not in fields:
            self.problem(owner, f"{what} is missing {name!r}")
            return None
        return read(fields[name], name)

    def optional(self, fields: Mapping[str, Node], name: str, read: _Read[T]) -> T | None:
        return read(fields[name], name) if name in fields else None

    # --- values: each returns None after reporting a problem --------------------

    def scalar(self, node: Node, name: str, tag: str, wanted: str) -> object | None:
        if not (isinstance(node, ScalarNode) and node.tag == _TAG + tag):
            self.problem(node, f"{name!r} must be {wanted}, not {_shown(node)}")
            return None
        try:
            value: object = self._constructor.construct_object(node)
        except (yaml.YAMLError, ValueError):
            self.problem(node, f"{name!r} must be {wanted}, not {node.value!r}")
            return None
        return value

    def text(self, node: Node, name: str) -> str | None:
        value = self.scalar(node, name, "str", "text")
        return value if isinstance(value, str) else None

    def flag(self, node: Node, name: str) -> bool | None:
        value = self.scalar(node, name, "bool", "true or false")
        return value if isinstance(value, bool) else None

    def whole_number(self, node: Node, name: str) -> int | None:
        value = self.scalar(node, name, "int", "a whole number")
        return value if isinstance(value, int) else None

    def count(self, node: Node, name: str) -> int | None:
        value = self.whole_number(node, name)
        if value is not None and value < 0:
            self.problem(node, f"{name!r} must be 0 or more, not {value}")
            return None
        return value

    def positive_number(self, node: Node, name: str) -> int | None:
        value = self.whole_number(node, name)
        if value is not None and value <= 0:
            self.problem(node, f"{name!r} must be a positive whole number, not {value}")
            return None
        return value

    def slug(self, node: Node, name: str) -> str | None:
        value = self.text(node, name)
        if value is not None and not SLUG.fullmatch(value):
            self.problem(node, f"{name!r} must be a slug ({_SLUG_RULE}), not {value!r}")
            return None
        return value

    def http_url(self, node: Node, name: str) -> str | None:
        value = self.text(node, name)
        if value is not None and not is_http_url(value):
            self.problem(node, f"{name!r} must be an http:// or https:// URL, not {value!r}")
            return None
        return value

    def interval(self, node: Node, name: str) -> timedelta | None:
        if isinstance(node, ScalarNode) and node.tag == _TAG + "int":
            self.problem(node, f"interval {node.value} has no unit: write it as 90s, 15m or 2h")
            return None
        text = self.text(node, name)
        if text is None:
            return None
        try:
            interval = parse_interval(text)
        except ValueError as error:
            self.problem(node, str(error))
            return None
        if interval < MIN_INTERVAL:
            self.problem(node, f"interval {text!r} is too short: the minimum is 30s")
            return None
        return interval

    def timezone(self, node: Node, name: str) -> str | None:
        value = self.text(node, name)
        problem = _zone_problem(value) if value is not None else None
        if problem is not None:
            self.problem(node, problem)
            return None
        return value

    def kind(self, node: Node, name: str) -> SourceKind | None:
        value = self.text(node, name)
        if value is None:
            return None
        for kind in SOURCE_KINDS:
            if value == kind:
                return kind
        self.problem(node, f"unknown kind {value!r}{_suggestion(value, SOURCE_KINDS)}")
        return None

    def selector(self, node: Node, name: str) -> str | None:
        value = self.text(node, name)
        problem = selector_problem(value) if value is not None else None
        if problem is not None:
            self.problem(node, f"{name!r}: {problem}")
            return None
        return value

    def selectors(self, node: Node, name: str) -> ListSelectors | None:
        fields = self.fields(node, _SELECTOR_KEYS, "'selectors'")
        if fields is None:
            return None
        where = "'selectors'"
        item = self.required(fields, "item", node, where, self.selector)
        title = self.required(fields, "title", node, where, self.selector)
        link = self.required(fields, "link", node, where, self.selector)
        date = self.optional(fields, "date", self.selector)
        summary = self.optional(fields, "summary", self.selector)
        if item is None or title is None or link is None:
            return None
        if ("date" in fields and date is None) or ("summary" in fields and summary is None):
            return None
        return ListSelectors(item=item, title=title, link=link, date=date, summary=summary)

    def opendata_fields(self, node: Node, name: str) -> OpenDataFields | None:
        fields = self.fields(node, _FIELD_KEYS, "'fields'")
        if fields is None:
            return None
        keys = {field: self.text(value, field) for field, value in fields.items()}
        if None in keys.values():
            return None
        return OpenDataFields(**keys)

    def areas(
        self, node: Node, categories: Mapping[str, Category]
    ) -> tuple[tuple[str, str], ...] | None:
        """Alert area names or geocodes → defined category slugs."""
        areas: list[tuple[str, str]] = []
        valid = True
        for area, _, value_node in self.entries(node, "'areas'"):
            slug = self.text(value_node, area)
            if slug is not None and slug not in categories:
                self.problem(value_node, _unknown_category(slug, categories))
                slug = None
            if slug is None:
                valid = False
            else:
                areas.append((area, slug))
        return tuple(areas) if valid and isinstance(node, MappingNode) else None

    def refs(self, node: Node, categories: Mapping[str, Category]) -> tuple[str, ...] | None:
        """A list of category slugs, each one defined under 'categories:'."""
        if not isinstance(node, SequenceNode):
            self.problem(
                node, f"'categories' must be a list such as [kaohsiung], not {_kind(node)}"
            )
            return None
        refs: list[str] = []
        valid = True
        for item in node.value:
            slug = self.text(item, "each category")
            if slug is not None and slug not in categories:
                self.problem(item, _unknown_category(slug, categories))
            if slug is None or slug not in categories:
                valid = False
            elif slug not in refs:
                refs.append(slug)
        return tuple(refs) if valid else None
