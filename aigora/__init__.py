"""Aigora: user-owned AI whose answers anyone can check."""

__version__ = "0.1.0"
