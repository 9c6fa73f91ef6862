"""Compression methods: a registry of compressors, each doing exactly what its config says."""
