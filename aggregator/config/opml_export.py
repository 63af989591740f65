"""OPML 2.0 export of the configured sources, one outline per category: a pure function."""

from __future__ import annotations

from xml.etree import ElementTree

from aggregator.models import Config, Source

OPML_TITLE = "Feed aggregator sources"


def export_opml(config: Config) -> str:
    """The sources of `config` as an OPML 2.0 document, grouped under their categories.

    A source in several categories appears under each of them, as feed readers expect.
    """
    opml = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(opml, "head")
    ElementTree.SubElement(head, "title").text = OPML_TITLE
    body = ElementTree.SubElement(opml, "body")
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
    ElementTree.indent(opml)
    document: str = ElementTree.tostring(opml, encoding="unicode", xml_declaration=False)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + document + "\n"


def _source_outline(source: Source) -> ElementTree.Element:
    name = source.title or source.id
    return ElementTree.Element("outline", type="rss", text=name, title=name, xmlUrl=source.url)
