"""Interface text of the staff desk, sign-in and error pages, in Traditional Chinese and
English (merged into `i18n.MESSAGES`)."""

from __future__ import annotations

from collections.abc import Mapping

STAFF_MESSAGES: Mapping[str, Mapping[str, str]] = {
    "zh-Hant": {
        "error.403": "沒有權限",
        "error.405": "不接受這種請求",
        "error.429": "嘗試次數過多",
        "error.500": "伺服器發生錯誤",
        "error.http.400": "這個請求無法處理。",
        "error.http.403": "您沒有權限做這件事。",
        "error.http.404": "這個網址沒有內容。",
        "error.http.405": "這個網址不接受這種請求方式。",
        "error.http.429": "嘗試次數過多，請稍後再試。",
        "error.http.500": "伺服器處理這個請求時出了錯，已經記錄下來，請稍後再試。",
        "error.http.503": "服務暫時無法使用，請稍後再試。",
        "error.bad_csrf": "表單已過期或無效（CSRF 權杖不符）：請重新載入頁面再試一次。",
        "error.sign_in_needed": "這個動作需要編輯登入。",
        "error.bad_account": "無法建立帳號：{reason}",
        "nav.sign_in": "登入",
        "nav.sign_out": "登出",
        "nav.signed_in": "編輯：{name}",
        "sign_in.heading": "編輯登入",
        "sign_in.first_account": (
            "目前還沒有編輯帳號。請輸入編輯密鑰，以及您的名稱和至少 12 個字元的密碼，"
            "建立第一個帳號。"
            "帳號建立後密鑰就不再有作用：之後以 aggregator staff add NAME 新增帳號。"
        ),
        "sign_in.name": "名稱",
        "sign_in.password": "密碼",
        "sign_in.secret": "編輯密鑰",
        "sign_in.submit": "登入",
        "sign_in.wrong": "名稱或密碼錯誤。",
        "sign_in.wrong_secret": "編輯密鑰錯誤。",
        "sign_in.too_many": "登入失敗次數過多：請在 {wait} 秒後再試。",
        "staff.heading": "合併情形",
        "staff.lead": "這則新聞合併了 {count} 篇報導。",
        "staff.why": "合併原因",
        "staff.why_now": "與顯示的報導相比",
        "staff.shown": "顯示中",
        "staff.story_page": "讀者看到的新聞頁",
        "staff.staff_page": "合併情形與編輯紀錄",
        "staff.desk": "編輯工具",
        "staff.split": "分出這篇報導",
        "staff.merge_heading": "把另一則新聞併入這則",
        "staff.merge_help": "搜尋要併入的新聞（語法與網站的搜尋相同），再從結果中選一則。",
        "staff.merge_label": "搜尋要併入的新聞",
        "staff.merge_search": "搜尋",
        "staff.merge_results": "符合「{query}」的其他新聞",
        "staff.merge_none": "沒有符合「{query}」的其他新聞。",
        "staff.merge_pick": "選這則",
        "staff.reports": "{count} 篇報導",
        "staff.actions": "編輯紀錄",
        "staff.actions_none": "還沒有編輯紀錄。",
        "staff.log.split": "{actor} 分出「{source}」的報導，成為另一則新聞：",
        "staff.log.new_entry": "打開",
        "staff.log.force-merge": "{actor} 把另一則新聞併入這則，它原來的編號是",
        "staff.confirm_split": "確認分出報導",
        "staff.confirm_split_text": (
            "「{source}」的報導「{title}」將成為一則獨立的新聞，之後抓取時也不會再併回這則新聞。"
            "這個動作會記在編輯紀錄中。"
        ),
        "staff.confirm_split_button": "確定分出",
        "staff.confirm_merge": "確認合併",
        "staff.confirm_merge_text": (
            "下面這則新聞的 {count} 篇報導將併入「{title}」。這則新聞保留原來的網址，"
            "另一則的網址將失效；之後抓取時兩者保持合併。這個動作會記在編輯紀錄中。"
        ),
        "staff.confirm_merge_button": "確定合併",
        "staff.merge_same": "這是同一則新聞，不能和自己合併。",
        "staff.merge_shared": (
            "兩則新聞都有{sources}的報導：同一來源的兩篇報導是兩則新聞，不能合併。"
        ),
        "staff.cancel": "取消",
        "staff.back": "回到這則新聞",
        "staff.done_split": "已分出「{source}」的報導，成為一則新的新聞。",
        "staff.done_split_link": "打開新的新聞",
        "staff.done_merge": "已把「{title}」併入這則新聞。",
        "staff.refused": "無法執行：{reason}",
    },
    "en": {
        "error.403": "Forbidden",
        "error.405": "Method not allowed",
        "error.429": "Too many attempts",
        "error.500": "Server error",
        "error.http.400": "This request cannot be handled.",
        "error.http.403": "You may not do this.",
        "error.http.404": "There is nothing at this address.",
        "error.http.405": "This address does not take this kind of request.",
        "error.http.429": "Too many attempts; try again later.",
        "error.http.500": (
            "Something went wrong on the server while handling this request. It has been"
            " logged; try again later."
        ),
        "error.http.503": "The service is unavailable right now; try again later.",
        "error.bad_csrf": (
            "The form's CSRF token is missing or stale: reload the page and try again."
        ),
        "error.sign_in_needed": "Staff sign-in is needed for this action.",
        "error.bad_account": "The account cannot be made: {reason}",
        "nav.sign_in": "Sign in",
        "nav.sign_out": "Sign out",
        "nav.signed_in": "Staff: {name}",
        "sign_in.heading": "Staff sign-in",
        "sign_in.first_account": (
            "There is no staff account yet. Give the staff secret to make the first one, with"
            " your name and a password of at least 12 characters. Once it exists the secret"
            " opens nothing: add more accounts with aggregator staff add NAME."
        ),
        "sign_in.name": "Name",
        "sign_in.password": "Password",
        "sign_in.secret": "Staff secret",
        "sign_in.submit": "Sign in",
        "sign_in.wrong": "Wrong name or password.",
        "sign_in.wrong_secret": "Wrong staff secret.",
        "sign_in.too_many": "Too many failed sign-ins: try again in {wait} s.",
        "staff.heading": "How this story was merged",
        "staff.lead": "{count} reports are merged into this story.",
        "staff.why": "Why merged",
        "staff.why_now": "Compared with the report shown",
        "staff.shown": "shown",
        "staff.story_page": "The story as readers see it",
        "staff.staff_page": "How it was merged, and the staff log",
        "staff.desk": "Staff tools",
        "staff.split": "Split this report off",
        "staff.merge_heading": "Merge another story into this one",
        "staff.merge_help": (
            "Search for the story to merge in (the site's search syntax), then pick it from"
            " the results."
        ),
        "staff.merge_label": "Find the story to merge in",
        "staff.merge_search": "Search",
        "staff.merge_results": "Other stories matching “{query}”",
        "staff.merge_none": "No other story matches “{query}”.",
        "staff.merge_pick": "Choose",
        "staff.reports": "{count} reports",
        "staff.actions": "Staff log",
        "staff.actions_none": "No staff action yet.",
        "staff.log.split": "{actor} split off the report of {source} as a story of its own:",
        "staff.log.new_entry": "open it",
        "staff.log.force-merge": "{actor} merged another story into this one; its id was",
        "staff.confirm_split": "Split this report off?",
        "staff.confirm_split_text": (
            "The report of {source}, “{title}”, becomes a story of its own, and later polls"
            " keep it apart from this story. The action is recorded in the staff log."
        ),
        "staff.confirm_split_button": "Split it off",
        "staff.confirm_merge": "Merge these stories?",
        "staff.confirm_merge_text": (
            "The {count} reports of the story below join “{title}”. This story keeps its"
            " address; the other one's stops working, and later polls keep them together."
            " The action is recorded in the staff log."
        ),
        "staff.confirm_merge_button": "Merge them",
        "staff.merge_same": "This is the same story: it cannot be merged with itself.",
        "staff.merge_shared": (
            "Both stories hold a report of {sources}: one source's two reports are two"
            " stories, so they cannot be merged."
        ),
        "staff.cancel": "Cancel",
        "staff.back": "Back to the story",
        "staff.done_split": "The report of {source} is now a story of its own.",
        "staff.done_split_link": "Open the new story",
        "staff.done_merge": "“{title}” is merged into this story.",
        "staff.refused": "Not done: {reason}",
    },
}
