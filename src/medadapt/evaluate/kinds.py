"""What every kind of evaluation (multiple choice, free-form, perplexity) is given and must offer, so
that the stage runs them one after the other in the same way and a new kind is one more entry in its list.

Every kind scores the same contestants: the base model, the trained one and each translate pipeline, in that
order, under the labels the tables show (``base``, ``trained``, ``pipeline:<name>``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from medadapt.evaluate.config import EvaluateSection, PipelineConfig
    from medadapt.evaluate.translator import Translator
    from medadapt.recipe import Recipe
    from medadapt.runs.stage import StageContext


@dataclass(frozen=True)
class Contestant:
    """A model under evaluation: its label, the model reference and adapter, the translate pipeline in
    front of it (None: asked directly), and whether its shipped code may run (the recipe's trust_remote_code)."""

    label: str
    reference: str
    adapter: Path | None = None
    pipeline: PipelineConfig | None = None
    trust_remote_code: bool = False


#: Opens a pipeline's translator (the caller decides where its request cache lives); close it when done.
OpenTranslator = Callable[["PipelineConfig"], "Translator"]


class Kind(Protocol):
    """One kind of evaluation as the evaluate stage runs it."""

    name: str
    #: whether it runs in every process of a multi-process launch, each scoring a share and the main one
    #: writing (multiple choice, perplexity); else the main process runs it alone and the others wait
    every_process: bool

    def configured(self, section: EvaluateSection) -> bool:
        """Whether the recipe's ``evaluate:`` section asks for this kind."""
        ...

    def inputs(self, recipe: Recipe) -> dict[str, str]:
        """The files it reads, as recipe references keyed by a stable name (the stage resolves them)."""
        ...

    def run(self, ctx: StageContext, contestants: list[Contestant], translator: OpenTranslator) -> dict[str, Any]:
        """Evaluate every contestant, write the kind's outputs under ``ctx.out``, return the manifest summary."""
        ...
