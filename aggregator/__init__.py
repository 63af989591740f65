"""Feed aggregator: polls news sources, merges their entries, serves merged feeds."""

__version__ = "0.1.0"
