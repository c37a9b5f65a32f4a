"""A recipe's `generate.prompts` folder reaches the tasks: its file is what the model is sent, and the output
names that prompt's hash; a language without a file there uses the shipped prompts."""

from __future__ import annotations

import yaml
from generate_helpers import API_KEY, qa_rows, read_jsonl, run_generate, write_recipe, write_records

from medadapt.llm.prompts import load_prompts


def test_recipe_prompts_folder_overrides_the_shipped_file(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("MEDADAPT_TEST_KEY", API_KEY)
    folder = tmp_path / "prompts"
    folder.mkdir()
    (folder / "fr.yaml").write_text(
        "expand:\n  system: Vous êtes un médecin.\n  user: \"CONSIGNE MAISON\\nRéponse courte : {{ answer }}\"\n",
        encoding="utf-8")
    rows = [{**r, "id": f"{lang}{i}", "lang": lang} for lang in ("fr", "es") for i, r in enumerate(qa_rows(2))]
    data = write_records(tmp_path / "qa.jsonl", rows)
    recipe = write_recipe(tmp_path, fake.url, [{"task": "expand", "input": str(data)}])
    spec = yaml.safe_load(recipe.read_text(encoding="utf-8"))
    spec["generate"]["prompts"] = str(folder)
    recipe.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    assert run_generate(recipe, tmp_path / "runs") == 0

    sent = fake.prompts()
    assert sum(p.startswith("CONSIGNE MAISON") for p in sent) == 2
    shipped_es = load_prompts("es")["expand"]
    assert sum(p.startswith(shipped_es.user.split("\n")[0]) for p in sent) == 2
    hashes = {r["id"]: r["generation"]["prompts"]["expand"]
              for r in read_jsonl(tmp_path / "runs" / "gen" / "generate" / "expand.jsonl")}
    assert hashes["fr0-expanded"] == load_prompts("fr", folder)["expand"].hash != load_prompts("fr")["expand"].hash
    assert hashes["es0-expanded"] == shipped_es.hash
