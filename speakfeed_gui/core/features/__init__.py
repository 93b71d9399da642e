"""Acoustic features: the extractor shared by training and live use, and the parallel cached batch runner."""
