"""The datatrove pipeline step that runs one curate step on one shard (imported only with datatrove)."""

from __future__ import annotations

from typing import Any

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from medadapt.curate.shards import run_shard
from medadapt.curate.steps import StepEnv


class CurateShard(PipelineStep):
    name = "medadapt curate step"
    type = "curate"

    def __init__(self, spec: Any, env: StepEnv, work: str):
        super().__init__()
        self.spec, self.env, self.work = spec, env, work

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        run_shard(self.spec, self.env, self.work, rank)
        return iter(())
