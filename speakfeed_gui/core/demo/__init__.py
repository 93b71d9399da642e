"""The built-in demo: a synthetic prosody-styled speech corpus and the default model trained on it.

Nothing here is imported at GUI start-up except through functions; the generator needs the
espeak-ng program, the bootstrap needs scikit-learn through the trainer.
"""
