"""Run directory, manifest, stage contract and the runner that skips unchanged stages."""

from medadapt.runs.manifest import Manifest
from medadapt.runs.runner import PlannedStage, RunResult, plan_stages, run_stages
from medadapt.runs.stage import RunDir, Stage, StageContext

__all__ = ["Manifest", "PlannedStage", "RunDir", "RunResult", "Stage", "StageContext", "plan_stages", "run_stages"]
