"""The text model, pure: how search, watches and merging see a report's text: HTML → text
(`markup`), a report's clean text (`story`), folding (`fold`, `normalize`)."""
