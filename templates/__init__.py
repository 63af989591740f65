"""The web app's Jinja templates. They ship in the wheel as the package `aggregator.templates`
(pyproject.toml maps this folder to it), so an installed service finds them with
importlib.resources wherever it runs from."""
