"""Red-flag detection for the safety layer (:mod:`medadapt.serve.safety`): the rules and context masks the
language packs carry, the semantic layer trained on the project's exemplars, the detector that runs them
(:mod:`.detector` says how), the emergency numbers per country, and ``medadapt safety eval``."""
