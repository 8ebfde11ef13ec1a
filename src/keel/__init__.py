"""Keel: an order management system."""
