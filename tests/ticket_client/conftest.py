"""Fixtures of the ticket client's tests (bot/ticket_client.py and the actions' outbox): the client talks to
the real reference backend, so the backend's fixtures are the same ones."""

from __future__ import annotations

from tests.ticket_backend.conftest import (  # noqa: F401  (fixtures, found by pytest by name)
    backend,
    complaint,
    database_url,
    dead_url,
    fake_rasa,
    postgres_problem,
    serve_app,
    settings,
)
