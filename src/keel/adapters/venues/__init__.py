"""Venues Keel can trade with; ``sim`` is the simulated venue used by the demo and by tests."""
