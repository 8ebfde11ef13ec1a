"""Keel's pure domain model.

Nothing in this package performs I/O, reads a clock or makes random identifiers: time and
ids are arguments. It imports only the standard library and itself.
"""
