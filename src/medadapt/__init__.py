"""medadapt: from the open web and a small open LLM to an evaluated, private medical assistant."""

__version__ = "0.1.0"
