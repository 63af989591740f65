"""Regenerate the fixture feeds whose bytes cannot be written by hand in a UTF-8 editor.

Run from anywhere: `python tests/data/feeds/make_encoded.py`. The outputs are committed.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent


def rss(declared_encoding: str, title: str, items: list[tuple[str, str]]) -> str:
    body = "".join(
        f"    <item>\n      <title>{item_title}</title>\n"
        f"      <link>https://www.example.gov.tw/news/{number}</link>\n"
        f"      <description>{description}</description>\n"
        f"      <pubDate>Sat, 22 Mar 2025 10:00:00 +0800</pubDate>\n    </item>\n"
        for number, (item_title, description) in enumerate(items, start=1)
    )
    return (
        f'<?xml version="1.0" encoding="{declared_encoding}"?>\n<rss version="2.0">\n  <channel>\n'
        f"    <title>{title}</title>\n    <link>https://www.example.gov.tw/</link>\n"
        f"    <description>{title}</description>\n{body}  </channel>\n</rss>\n"
    )


BIG5_ITEMS = [("高雄市政府舉辦城市博覽會", "博覽會於駁二藝術特區舉行，歡迎市民參加。")]
# 碁 銹 裏 and € exist in cp950 but not in Python's strict big5 codec.
CP950_ITEMS = [("圍碁比賽在裏港舉行", "防銹工程經費 €100 萬，由市府編列。")]
CONTROL_CHARS_ITEMS = [
    ("市府\x00公告\x08事項\x1f", "內容\x0b含有\x0c控制字元\ufffe與非字元\uffff。"),
]
MIXED_UP_ITEMS = [("左營萬年季開幕", "蓮池潭畔舉行萬年季活動。")]

FIXTURES: dict[str, bytes] = {
    "big5.xml": rss("big5", "高雄市政府 新聞", BIG5_ITEMS).encode("big5"),
    "cp950_declared_big5.xml": rss("big5", "高雄市政府 新聞", CP950_ITEMS).encode("cp950"),
    "utf8_bom.xml": b"\xef\xbb\xbf" + rss("utf-8", "高雄市政府 新聞", BIG5_ITEMS).encode(),
    # The XML declaration disagrees with the bytes; the tests send a header that agrees.
    "utf8_declared_big5.xml": rss("big5", "高雄市政府 新聞", MIXED_UP_ITEMS).encode("utf-8"),
    "big5_declared_utf8.xml": rss("utf-8", "高雄市政府 新聞", MIXED_UP_ITEMS).encode("big5"),
    # Control characters are not allowed in XML at all: feedparser falls back to
    # its lenient parser and we must strip them from every field.
    "control_chars.xml": rss("utf-8", "控制\x01字元測試", CONTROL_CHARS_ITEMS).encode(),
}


def main() -> None:
    for name, content in FIXTURES.items():
        (HERE / name).write_bytes(content)
        print(f"wrote {name} ({len(content)} bytes)")


if __name__ == "__main__":
    main()
