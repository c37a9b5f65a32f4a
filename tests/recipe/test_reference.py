"""The recipe reference is generated from the schema: every key documented, docs/recipe.md never stale."""

from pathlib import Path

from typer.testing import CliRunner

from medadapt.cli.main import app
from medadapt.recipe.reference import reference_markdown, schema_keys

DOCS = Path(__file__).resolve().parents[2] / "docs" / "recipe.md"


def test_every_schema_key_has_a_description():
    missing = [key.path for key in schema_keys() if not (key.description or "").strip()]
    assert missing == [], f"add Field(description=...) to: {', '.join(missing)}"


def test_docs_recipe_md_is_up_to_date():
    assert DOCS.read_text(encoding="utf-8") == reference_markdown(), (
        "docs/recipe.md is stale: run `medadapt recipe schema --out docs/recipe.md`")


def test_the_walk_reaches_lists_of_models_unions_and_nested_sections():
    paths = {key.path for key in schema_keys()}
    assert {"chat_template", "data.sources[].format", "curate.steps[step=length].min_words",
            "generate.tasks[task=translate].cycle.min_bleu", "train.stage2.lora.r",
            "evaluate.freeform.judge.backend.price.input_per_mtok"} <= paths


def test_recipe_schema_command_prints_and_writes_the_reference(tmp_path):
    printed = CliRunner().invoke(app, ["recipe", "schema"])
    assert printed.exit_code == 0 and printed.output == reference_markdown()
    out = tmp_path / "docs" / "recipe.md"
    written = CliRunner().invoke(app, ["recipe", "schema", "--out", str(out)])
    assert written.exit_code == 0 and out.read_text(encoding="utf-8") == reference_markdown()


def test_shipped_recipes_give_data_sources_one_way():
    """Users copy keys from the shipped recipes: they all use data.sources (the data.qa shorthand in one of them
    and {format: …} items in another made two forms to copy)."""
    import yaml

    recipes = sorted((DOCS.parents[1] / "recipes").glob("*.yaml"))
    assert recipes
    for path in recipes:
        data = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("data") or {}
        assert "qa" not in data, f"{path.name}: use data.sources with format: qa"
