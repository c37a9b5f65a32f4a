"""Run directory, manifest, stage contract and the runner that skips unchanged stages."""

from medadapt.runs.manifest import Manifest
from medadapt.runs.runner import RunResult, run_stages
from medadapt.runs.stage import RunDir, Stage, StageContext

__all__ = ["Manifest", "RunDir", "RunResult", "Stage", "StageContext", "run_stages"]
