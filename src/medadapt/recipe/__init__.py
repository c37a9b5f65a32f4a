"""Recipe schema (pydantic) and loader."""

from medadapt.recipe.loader import load_recipe, load_recipe_for, load_run_recipe, recipe_hash
from medadapt.recipe.schema import Recipe

__all__ = ["Recipe", "load_recipe", "load_recipe_for", "load_run_recipe", "recipe_hash"]
