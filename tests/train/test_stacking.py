"""``between_stages: stack``: stage 2 trains a second adapter on top of the frozen stage-1 adapter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from rich.console import Console
from safetensors.torch import load_file

from helpers import run_train, train_recipe, write_data
from medadapt.errors import RecipeError
from medadapt.recipe import Recipe, load_recipe
from medadapt.train import cli
from medadapt.train.dryrun import plan

IDS = torch.tensor([list(range(5, 60))])


def stacked_recipe(model_dir: Path) -> dict:
    return train_recipe(model_dir, stage1={}, stage2={"save_steps": 2, "padding_free": True}, between_stages="stack")


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


@pytest.fixture(scope="module")
def stacked_run(tiny_model_dir, tmp_path_factory):
    """A stage 1 + stacked stage 2 run, with the stage-1 adapter folder's bytes as stage 2 found it."""
    import medadapt.train.stacking as stacking

    seen = {}
    stacked_model = stacking.stacked_model

    def recording_stacked_model(model, stage1_adapter, stage2_config):
        seen["stage1"] = folder_bytes(stage1_adapter)
        return stacked_model(model, stage1_adapter, stage2_config)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stacking, "stacked_model", recording_stacked_model)
        out = run_train(tmp_path_factory.mktemp("stacked"), stacked_recipe(tiny_model_dir))
    return out, seen["stage1"]


def lora_deltas(adapter: Path) -> dict[str, torch.Tensor]:
    """Each adapted weight's update, scaling · B @ A, by the base model's parameter name (no PEFT involved)."""
    config = json.loads((adapter / "adapter_config.json").read_text())
    tensors = load_file(adapter / "adapter_model.safetensors")
    scaling = config["lora_alpha"] / config["r"]
    return {name.removeprefix("base_model.model.").replace(".lora_A.weight", ".weight"):
            scaling * tensors[name.replace("lora_A", "lora_B")] @ tensors[name]
            for name in tensors if name.endswith("lora_A.weight")}


def logits_with_deltas(model_dir: Path, *adapters: Path) -> torch.Tensor:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir)
    parameters = dict(model.named_parameters())
    with torch.no_grad():
        for adapter in adapters:
            for name, delta in lora_deltas(adapter).items():
                parameters[name] += delta
        return model(IDS).logits


def test_stage2_trains_only_its_own_adapter(stacked_run):
    out, stage1_before = stacked_run
    assert folder_bytes(out / "stage1/adapter") == stage1_before  # stage 2 left the stage-1 files alone
    assert json.loads((out / "adapter/adapter_stack.json").read_text()) == ["default", "stage1"]
    stage1 = load_file(out / "stage1/adapter/adapter_model.safetensors")
    frozen_copy = load_file(out / "adapter/stage1/adapter_model.safetensors")  # saved with stage 2, after training
    assert frozen_copy.keys() == stage1.keys() and all(torch.equal(frozen_copy[k], stage1[k]) for k in stage1)
    stage2 = load_file(out / "adapter/adapter_model.safetensors")
    trained_b = [t for name, t in stage2.items() if "lora_B" in name]
    assert trained_b and all(t.abs().max() > 0 for t in trained_b)  # B starts at zero: every one was trained
    summary = json.loads((out / "summary.json").read_text())
    assert summary["trainable_parameters"] == sum(t.numel() for t in stage2.values())
    assert summary["steps"] == 4 and summary["merged"] == "merged"


def test_loaded_and_merged_models_apply_both_adapters(stacked_run, tiny_model_dir, tmp_path):
    from transformers import AutoModelForCausalLM

    from medadapt.models.loading import load_for_inference
    from medadapt.serve.export import save_merged
    from medadapt.runs.outputs import trained_model

    out, _ = stacked_run
    reference, adapter = trained_model(out, str(tiny_model_dir))
    assert (reference, adapter) == (str(out / "merged"), None)  # merge: true wrote the complete model
    model, _ = load_for_inference(str(tiny_model_dir), out / "adapter")  # what merge: false would load
    with torch.no_grad():
        loaded = model(IDS).logits
        merged = AutoModelForCausalLM.from_pretrained(out / "merged")(IDS).logits
        save_merged(str(tiny_model_dir), out / "adapter", tmp_path / "exported")  # export without train/merged
        exported = AutoModelForCausalLM.from_pretrained(tmp_path / "exported")(IDS).logits
    by_hand = logits_with_deltas(tiny_model_dir, out / "stage1/adapter", out / "adapter")
    assert (by_hand - logits_with_deltas(tiny_model_dir, out / "adapter")).abs().max() > 1e-3  # stage 1 matters
    assert torch.allclose(loaded, by_hand, atol=1e-5)
    assert torch.allclose(merged, loaded, atol=1e-4) and torch.allclose(exported, loaded, atol=1e-4)


def test_resume_keeps_stage1_active(stacked_run, tiny_model_dir, tmp_path, monkeypatch):
    """transformers' checkpoint loader keeps only the first active adapter; the resumed run must still stack."""
    from medadapt.train.callbacks import JsonlLogCallback

    class Interrupted(Exception):
        pass

    def interrupt_stage2(self, args, state, control, **kwargs):
        if Path(args.output_dir).name == "stage2":
            raise Interrupted

    with monkeypatch.context() as patch:
        patch.setattr(JsonlLogCallback, "on_save", interrupt_stage2, raising=False)
        with pytest.raises(Interrupted):
            run_train(tmp_path, stacked_recipe(tiny_model_dir))
    out = run_train(tmp_path, stacked_recipe(tiny_model_dir), resume=True)
    assert json.loads((out / "summary.json").read_text())["resumed_from_step"] == 2

    def losses(train_dir):
        rows = map(json.loads, (train_dir / "log.jsonl").read_text().splitlines())
        return [row["loss"] for row in rows if "loss" in row]

    assert losses(out) == pytest.approx(losses(stacked_run[0]), abs=1e-4)


DORA = {"r": 4, "lora_alpha": 8, "target_modules": "all-linear", "use_dora": True, "lora_dropout": 0.5}


def scale_magnitudes(model, adapter: str) -> None:
    """DoRA starts with magnitude = weight norm (a factor of 1); make the rescaling really do something."""
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if f"lora_magnitude_vector.{adapter}" in name:
                parameter.mul_(1.5)


@pytest.fixture
def dora_stage1(tiny_model_dir, tmp_path):
    """A saved stage-1 DoRA adapter with random weights (and dropout, which stacking must switch off)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    stage1 = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model_dir),
                            LoraConfig(**DORA, init_lora_weights=False))
    scale_magnitudes(stage1, "default")
    stage1.save_pretrained(tmp_path / "stage1")
    with torch.no_grad():
        return tmp_path / "stage1", stage1.eval()(IDS).logits


def test_stacked_dora_starts_from_the_stage1_model_in_training_mode(tiny_model_dir, dora_stage1):
    """The frozen adapter runs without its dropout, so stage 2 (zero-initialised) starts from stage 1 exactly."""
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM

    from medadapt.train.stacking import stacked_model

    folder, stage1_logits = dora_stage1
    model = stacked_model(AutoModelForCausalLM.from_pretrained(tiny_model_dir), folder, LoraConfig(**DORA))
    with torch.no_grad():
        assert torch.allclose(model.train()(IDS).logits, stage1_logits, atol=1e-5)
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(".default" in name for name in trainable)


def test_saved_dora_stack_merges_as_it_ran_stacked(tiny_model_dir, dora_stage1, tmp_path):
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM

    from medadapt.models.merge import merged_model
    from medadapt.train.stacking import save_stack, stacked_model

    folder, stage1_logits = dora_stage1
    model = stacked_model(AutoModelForCausalLM.from_pretrained(tiny_model_dir), folder,
                          LoraConfig(**DORA, init_lora_weights=False))
    scale_magnitudes(model, "default")
    model.save_pretrained(tmp_path / "adapter")
    save_stack(tmp_path / "adapter")
    with torch.no_grad():
        stacked = model.eval()(IDS).logits
        merged = merged_model(str(tiny_model_dir), tmp_path / "adapter", torch.float32)(IDS).logits
    assert (stacked - stage1_logits).abs().max() > 1e-2  # the random stage-2 adapter matters …
    assert torch.allclose(merged, stacked, atol=1e-4)  # … and the merge applies both exactly as they ran


@pytest.mark.parametrize(("train", "problem"), [
    ({"between_stages": "stacked"}, "train.between_stages: Input should be 'merge' or 'stack'"),
    ({"between_stages": "stack", "stage1": None}, "train: between_stages: stack needs stage1 and stage2"),
    ({"between_stages": "stack", "stage2": {"method": "full"}}, "train: between_stages: stack needs an adapter"),
    ({"between_stages": "stack", "stage1": {"lora": {"target_parameters": ["mlp.experts.down_proj"], "dropout": 0}}},
     "train: between_stages: stack needs the same lora.target_parameters"),
    ({"merge": False}, "train: merge: false with stage1 and a stage-2 adapter leaves no complete model"),
])
def test_recipe_option_is_checked(tmp_path, train, problem):
    recipe = {"name": "x", "languages": ["en"], "model": "smollm2-135m",
              "train": {"stage1": {"input": "text.jsonl"}, "stage2": {"input": "chat.jsonl", "dev_input": None},
                        **train}}
    write_data(tmp_path)
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(recipe), encoding="utf-8")
    with pytest.raises(RecipeError) as error:
        load_recipe(tmp_path / "recipe.yaml")
    assert len(error.value.problems) == 1 and error.value.problems[0].startswith(problem)
    assert "\n" not in error.value.problems[0]


def test_dry_run_plans_the_stack(tmp_path, tiny_model_dir, monkeypatch):
    write_data(tmp_path)
    merged_plan = plan(Recipe.model_validate(train_recipe(tiny_model_dir, stage1={}, stage2={})), tmp_path, tmp_path)
    stacked_plan = plan(Recipe.model_validate(stacked_recipe(tiny_model_dir)), tmp_path, tmp_path)
    assert stacked_plan[1].trains_on.startswith("the base model + the frozen stage-1 adapter")
    assert merged_plan[1].trains_on == "the stage-1-merged model"
    assert stacked_plan[1].trainable == merged_plan[1].trainable  # only stage 2's adapter trains …
    assert stacked_plan[1].total == merged_plan[1].total + stacked_plan[0].trainable  # … on top of stage 1's
    console = Console(record=True, width=200)
    monkeypatch.setattr(cli, "console", console)
    cli.print_dry_run(Recipe.model_validate(stacked_recipe(tiny_model_dir)), tmp_path / "recipe.yaml",
                      tmp_path / "runs")
    assert "stage2 trains on the base model + the frozen stage-1 adapter (stacked" in console.export_text()
