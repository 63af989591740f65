"""The text model, pure: how search, watches and merging see a report's text (`fold`,
`normalize`)."""
