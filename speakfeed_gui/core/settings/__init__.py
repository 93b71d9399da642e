"""Workspace settings: the `config/models.yaml` schema and loader, and where a workspace lives."""
