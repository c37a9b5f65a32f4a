"""trust_remote_code: a model that ships its own code loads only when the recipe opts in (with a warning), and
without the opt-in fails with one line naming the key, wherever it is loaded."""

from __future__ import annotations

import pytest

from tiny import build_custom_code_model
from medadapt.errors import ModelError
from medadapt.models.chat import load_chat_model, load_chat_tokenizer
from medadapt.models.loading import custom_code, load_for_inference, remote_code

REFUSED = r"ships its own Python code \(auto_map in config.json\); set trust_remote_code: true in the recipe"


@pytest.fixture(scope="module")
def custom_model_dir(tmp_path_factory, tiny_model_dir):
    return build_custom_code_model(tmp_path_factory.mktemp("custom") / "model", tiny_model_dir)


def test_custom_code_is_found_in_the_config(custom_model_dir, tiny_model_dir):
    assert custom_code(str(custom_model_dir)) == "auto_map in config.json"
    assert custom_code(str(tiny_model_dir)) is None
    assert custom_code("someone/hub-model") is None  # nothing local to read
    assert remote_code(str(tiny_model_dir), False) == {"trust_remote_code": False}


def test_untrusted_custom_code_is_a_one_line_error_everywhere(custom_model_dir, tmp_path):
    from medadapt.models.merge import merge_to_dir

    loads = [lambda: load_for_inference(str(custom_model_dir)),
             lambda: load_chat_model(str(custom_model_dir)),
             lambda: load_chat_tokenizer(str(custom_model_dir), None),
             lambda: merge_to_dir(str(custom_model_dir), tmp_path, None, tmp_path / "merged", None)]
    for load in loads:
        with pytest.raises(ModelError, match=REFUSED) as refused:
            load()
        assert "\n" not in str(refused.value) and str(custom_model_dir) in str(refused.value)


def test_trusted_custom_code_runs_with_one_warning(custom_model_dir, capsys):
    model, tokenizer = load_for_inference(str(custom_model_dir), trust_remote_code=True)
    assert type(model).__name__ == "TinyCustomForCausalLM"  # the model's own class, from its own file
    load_chat_model(str(custom_model_dir), trust_remote_code=True)
    assert load_chat_tokenizer(str(custom_model_dir), None, trust_remote_code=True).chat_template
    warnings = [line for line in capsys.readouterr().err.splitlines() if "trust_remote_code: true" in line]
    assert len(warnings) == 1 and str(custom_model_dir) in warnings[0]
