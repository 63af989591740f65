"""OPML 2.0 documents, pure functions of the configuration: the sources it polls, one
outline per category (for staff), and this service's own category feeds (for readers)."""

from __future__ import annotations

from urllib.parse import urlencode
from xml.etree import ElementTree

from aggregator.models import Config, Source

OPML_TITLE = "匯流的來源（Sources this aggregator polls）"
FEEDS_OPML_TITLE = "各分類新聞 feed（This site's category feeds）"


def export_opml(config: Config) -> str:
    """The sources of `config` as an OPML 2.0 document, grouped under their categories.

    A source in several categories appears under each of them, as feed readers expect.
    """
    opml, body = _document(OPML_TITLE)
    for slug, category in config.categories.items():
        members = [source for source in config.sources if slug in source.categories]
        if not members:
            continue
        group = ElementTree.SubElement(body, "outline", text=category.title, title=category.title)
        for source in members:
            group.append(_source_outline(source))
    for source in config.sources:
        if not source.categories:
            body.append(_source_outline(source))
    return _serialised(opml)


def export_feeds_opml(config: Config, base_url: str) -> str:
    """This service's merged feed of each category (Atom), served at `base_url`: one
    import subscribes a reader to every category."""
    opml, body = _document(FEEDS_OPML_TITLE)
    for slug, category in config.categories.items():
        ElementTree.SubElement(
            body,
            "outline",
            type="rss",
            text=category.title,
            title=category.title,
            xmlUrl=f"{base_url}/feeds/{slug}.atom",
            htmlUrl=f"{base_url}/?{urlencode({'category': slug})}",
        )
    return _serialised(opml)


def _document(title: str) -> tuple[ElementTree.Element, ElementTree.Element]:
    opml = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(opml, "head")
    ElementTree.SubElement(head, "title").text = title
    return opml, ElementTree.SubElement(opml, "body")


def _serialised(opml: ElementTree.Element) -> str:
    ElementTree.indent(opml)
    document: str = ElementTree.tostring(opml, encoding="unicode", xml_declaration=False)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + document + "\n"


def _source_outline(source: Source) -> ElementTree.Element:
    name = source.title or source.id
    return ElementTree.Element("outline", type="rss", text=name, title=name, xmlUrl=source.url)
