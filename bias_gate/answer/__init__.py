"""The answer engine: turn (model, BBQ items) into per-item answers."""
