"""The parse stage, pure: a fetched body → `ParsedFeed` (`feed.parse_feed`). One module per
format (`xml_feed`, `json_feed`, `opendata`, `html_list`, `cap`), plus charsets, dates and
HTML sanitising."""
