"""The node: configuration, start-up wiring, the HTTP API and its pages; no business logic."""
