"""Plumbing every room may use; it imports nothing else of aevis."""
