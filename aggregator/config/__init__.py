"""Configuration: `feeds.yaml` → `Config` (`load`), and OPML in (`opml_import`) and out
(`opml_export`). Every problem is reported as `FILE:LINE: reason`."""
