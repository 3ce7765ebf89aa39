"""Custom Rasa NLU components for Chinese hotline messages."""
