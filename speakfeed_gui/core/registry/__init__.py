"""The model registry: its file format, the on-disk store, the public API, artifacts, bundles, clean-up."""
