"""Training: datasets, fingerprints and splits, estimators, evaluation, the trainer and the first-run demo.

The trainer saves into and registers with `core.registry`; nothing in the registry imports training.
"""
