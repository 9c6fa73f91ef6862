"""llama.cpp through llama-cpp-python (the optional ``pytest-bias-gate[llama]`` extra): its
quantizer, and a runtime that scores BBQ items and perplexity in llama.cpp."""
