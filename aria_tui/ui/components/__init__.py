"""Widgets the step screens are built from, one module each."""
