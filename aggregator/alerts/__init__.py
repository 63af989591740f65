"""Alerting on what the store holds: watches (`watch`), silent sources (`silence`,
`activity`), and their delivery (`webhook`, `websub`); `run` is one alerting pass."""
