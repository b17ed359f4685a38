"""Importers into the canonical corpus format and the embedded synthetic corpus."""
