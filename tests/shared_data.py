"""Where the CEO's shared data lies in every session and in CI: ../shared beside the repository."""

from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
