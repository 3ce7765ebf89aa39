"""Bianmin: the hotline assistant's own Python code (CLI, settings, NLU components, KB, routing)."""
