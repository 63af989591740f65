"""The parse stage, pure: a fetched body → `ParsedFeed` (`feed.parse_feed`). One module per
format (`xml_feed`, `json_feed`), plus charsets, dates and HTML sanitising."""
