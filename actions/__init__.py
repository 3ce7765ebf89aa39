"""Rasa custom actions of the hotline assistant (served by `python -m actions`)."""
