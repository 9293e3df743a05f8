"""The `aigora` command line: thin wiring over the packages, no business logic."""
