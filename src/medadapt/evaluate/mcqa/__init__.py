"""Multiple-choice evaluation: benchmarks, prompts, log-likelihood and generative scoring, contamination check,
translate pipelines and lm-eval results, run by :func:`medadapt.evaluate.mcqa.run.run_mcqa` for the stage and
``medadapt eval mcqa`` alike."""
