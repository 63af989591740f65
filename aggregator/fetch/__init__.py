"""Network I/O, under one address policy (`netpolicy`): feed fetches with conditional GET,
deadlines and size caps (`fetcher`), and the POSTs of webhooks and WebSub (`outbound`)."""
