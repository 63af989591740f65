"""The text model: sanitised HTML → text (`markup_text`), and a report's clean text
(`story_text`), which merging, search and watches all read."""

from __future__ import annotations

import pytest

from aggregator.text.markup import inline_text, markup_text
from aggregator.text.story import entry_text, story_text

# --- HTML → text ---------------------------------------------------------------------


def test_blocks_become_lines_and_entities_are_unescaped() -> None:
    text = markup_text("<p>高雄 &amp; 臺南</p>\n<p>颱風&nbsp;假\t公告</p><ul><li>一</li><li>二")

    assert text == "高雄 & 臺南\n颱風 假 公告\n一\n二"


def test_a_line_break_tag_ends_a_line() -> None:
    assert markup_text("第一行<br>第二行<br/>第三行") == "第一行\n第二行\n第三行"


def test_a_tag_between_latin_words_separates_them() -> None:
    assert markup_text("<b>GTC</b>2025 <i>Kaohsiung</i>MRT") == "GTC 2025 Kaohsiung MRT"


def test_a_tag_inside_chinese_text_adds_no_space() -> None:
    assert markup_text("<b>高雄</b>市<a href='https://a.example/'>政府</a>") == "高雄市政府"


def test_a_lone_less_than_sign_is_text() -> None:
    assert markup_text("溫度 &lt; 10 度") == "溫度 < 10 度"


def test_inline_text_puts_every_block_on_one_line() -> None:
    assert inline_text("<p>高雄</p><p>颱風 假</p>") == "高雄 颱風 假"


# --- a report's clean text -----------------------------------------------------------

STORY = "高雄市政府今(22)日表示，將擴大登革熱防治。"


@pytest.mark.parametrize(
    "with_byline",
    [
        f"<p>新聞視界時報 記者 李翌淳 整理報導</p><p>{STORY}</p>",
        f"<p>【記者王小明／高雄報導】{STORY}</p>",
        f"<p>（中央社記者林宏杰高雄22日電）{STORY}</p>",
        f"<p>{STORY}（編輯：張均懋）1140722</p>",
        f"<p>記者 張雅婷／台北報導</p><p>{STORY}</p><p>圖／高雄市政府提供</p>",
    ],
)
def test_bylines_and_credits_are_removed(with_byline: str) -> None:
    assert story_text(with_byline) == STORY


@pytest.mark.parametrize(
    "heading", ["相關新聞", "延伸閱讀", "更多新聞", "【延伸閱讀】", "▲相關報導"]
)
def test_related_stories_block_and_all_after_it_are_removed(heading: str) -> None:
    html = f"<p>{STORY}</p><h3>{heading}</h3><ul><li>北市YouBike新增60站</li>"
    html += "<li>高雄燈會登場</li></ul><p>本網站版權所有</p>"
    assert story_text(html) == STORY


def test_inline_related_list_is_cut_where_it_starts() -> None:
    assert story_text(f"<p>{STORY}延伸閱讀：高雄燈會登場</p>") == STORY


@pytest.mark.parametrize(
    "prompt", ["分享到 Facebook", "加入LINE好友，新聞不漏接", "▲按讚追蹤我們的粉絲專頁"]
)
def test_share_prompts_are_removed(prompt: str) -> None:
    assert story_text(f"<p>{STORY}</p><p>{prompt}</p>") == STORY


def test_a_long_line_that_mentions_sharing_is_story() -> None:
    line = "市府表示，市民可將活動照片分享到社群平台，參加抽獎，獎品包括一卡通及高雄特產禮盒。"
    assert story_text(f"<p>{line}</p>") == line


@pytest.mark.parametrize(
    "contact",
    [
        "<p>新聞聯絡人：衛生局 王小明</p><p>聯絡電話：07-7134000</p>",
        "<p>新聞聯絡人 王小明 0912-345678</p>",
        "<p>聯絡人：王小明　連絡電話：(07)3368333分機123</p>",
    ],
)
def test_contact_lines_of_a_press_release_are_removed(contact: str) -> None:
    assert story_text(f"<p>{STORY}</p>{contact}") == STORY


def test_a_contact_line_in_the_storys_last_paragraph_is_cut_there() -> None:
    assert story_text(f"<p>{STORY}新聞聯絡人：王小明，聯絡電話：07-3368333</p>") == STORY


def test_the_story_keeps_its_paragraphs_as_lines() -> None:
    assert story_text("<p>第一段。</p><p>第二段。</p>") == "第一段。\n第二段。"


# --- an entry's text -----------------------------------------------------------------


def test_an_entry_holds_every_reports_words_each_line_once() -> None:
    shown = f"<p>{STORY}</p><p>相關新聞</p><p>颱風來襲</p>"
    rewrite = f"<p>{STORY}</p><p>衛生局長黃志中呼籲市民清除積水。</p>"

    assert entry_text([shown, rewrite]) == f"{STORY}\n衛生局長黃志中呼籲市民清除積水。"
