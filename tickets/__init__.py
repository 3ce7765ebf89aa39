"""Reference ticket (工单) backend: aiohttp + SQLAlchemy 1.4 (`python -m tickets`)."""
