"""Running the pipeline: when a source is due (`due`), one pass over due sources (`poll`),
the long-running worker (`worker`) and its periodic duties (`retention`)."""
