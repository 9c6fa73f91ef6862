"""model.yaml: its schema (:mod:`.schema`), a YAML loader that remembers each key's line
(:mod:`.yaml_source`), validation errors as one usage line (:mod:`.validation`), and the
gate's config loaded and validated once, with its typed parts (:mod:`.validated`).
Imports no torch.
"""
