"""Fake upstream servers and clients that speak the real wire formats, for tests/ and bench/: the WeChat
API and WeChat's signed pushes (`fakes.wechat`), the Telegram Bot API and its updates (`fakes.telegram`),
a fake Rasa bot (`fakes.bot`) and a Sanic app that mounts input channels as `rasa run` does
(`fakes.servers`). Nothing here imports the project."""
