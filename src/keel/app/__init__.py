"""Application layer: use cases orchestrating the domain (may import keel.domain only)."""
