"""Data: BBQ items with their official bias targets, and text corpora."""
