"""Adapters: persistence, messaging and other I/O implementations of app ports."""
