"""Files on disk: atomic writes, cross-process locks, safe skops model files, content hashes, versions."""
