"""``runtime: openai`` in model.yaml: a served config loads; each misuse of ``endpoint``
is one line naming file, line and key (no server is asked when a config is loaded)."""

from __future__ import annotations

import pytest

from bias_gate.config.validated import load_gate_config
from bias_gate.errors import ConfigError
from tests.unit.config.test_config import VALID, write

ENDPOINT = '{{url: "http://127.0.0.1:8000/v1", model: dense}}'
SERVED = (
    VALID.replace(
        "  file: SmolLM2-135M-Instruct.Q4_1.gguf\n",
        f"  file: SmolLM2-135M-Instruct.Q4_1.gguf\n  runtime: openai\n  endpoint: {ENDPOINT}\n",
    )
    .replace(
        "  - name: wanda-50\n    method: wanda\n    sparsity: 0.5\n",
        "  - name: wanda-50\n    method: dense\n"
        '    endpoint: {{url: "http://127.0.0.1:8001/v1/", model: q4}}\n',
    )
    .replace("    method: magnitude\n", "    method: magnitude\n    runtime: torch\n")
)


def test_a_served_config_loads(tmp_path, bbq_dir, wikitext_dir):
    spec = load_gate_config(write(tmp_path, SERVED, bbq_dir, wikitext_dir)).spec
    assert spec.model.endpoint is not None and spec.model.endpoint.model == "dense"
    served = spec.compression("wanda-50").endpoint
    assert served is not None and served.url == "http://127.0.0.1:8001/v1"  # no trailing /
    assert (served.concurrency, served.retries, served.api_key_env) == (4, 5, None)
    assert spec.runtime_of("wanda-50") == "openai"


# (description, edit of SERVED (old, new), expected line, key, message part)
BAD = [
    (
        "the dense model needs an endpoint",
        (f"  endpoint: {ENDPOINT}\n", ""),
        1,
        "model",
        "runtime openai answers through a server: give endpoint (url, model)",
    ),
    (
        "a served config needs its own endpoint",
        ('    endpoint: {{url: "http://127.0.0.1:8001/v1/", model: q4}}\n', ""),
        11,
        "compressions[0]",
        "config 'wanda-50' answers through a server (runtime openai): give it an endpoint",
    ),
    (
        "an endpoint on a config run in process",
        ("    method: dense\n", "    method: dense\n    runtime: torch\n"),
        14,
        "compressions[0].endpoint",
        "config 'wanda-50' has an endpoint but runs in torch",
    ),
    (
        "the key itself where its variable's name belongs",
        ("model: dense}}", "model: dense, api_key_env: sk-abc.123}}"),
        5,
        "model.endpoint.api_key_env",
        "never the key itself",
    ),
    (
        "a URL without its scheme",
        ('url: "http://127.0.0.1:8000/v1"', 'url: "127.0.0.1:8000"'),
        5,
        "model.endpoint.url",
        "must start with http:// or https://",
    ),
]


@pytest.mark.parametrize(
    ("edit", "line", "key", "part"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_a_bad_endpoint_is_one_clear_line(tmp_path, bbq_dir, wikitext_dir, edit, line, key, part):
    old, new = edit
    assert old in SERVED
    path = write(tmp_path, SERVED.replace(old, new, 1), bbq_dir, wikitext_dir)
    with pytest.raises(ConfigError) as info:
        load_gate_config(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:{line}: {key}: "), message
    assert part in message


def test_generate_mode_is_answered_through_a_server(tmp_path, bbq_dir, wikitext_dir):
    path = write(tmp_path, SERVED.replace("mode: permuted", "mode: generate", 1), bbq_dir,
                 wikitext_dir)  # fmt: skip
    assert load_gate_config(path).spec.scoring.mode == "generate"
