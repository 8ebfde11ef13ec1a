"""Command-line interface (entry point: keel.cli.main:main)."""
