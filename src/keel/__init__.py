"""Keel: an order management system for trading desks."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("keel-oms")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
