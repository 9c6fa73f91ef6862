"""The dense model: loading it from a Hugging Face id, a directory, a GGUF file or an
installed package (:mod:`.loading`), the runtime that answers a config
(:mod:`.runtimes`), and perplexity over a text (:mod:`.perplexity`).
"""
