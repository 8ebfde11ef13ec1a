"""API layer: external interface (must not import keel.adapters directly)."""
