"""The credentials file loads every channel the way `rasa run` does, at the documented URLs."""

from __future__ import annotations

import dataclasses
import uuid

import yaml
from rasa.core.channels.channel import register
from rasa.core.run import _create_single_channel
from sanic import Sanic

from bot.settings import to_env
from channels.registry import credentials_for_env


def test_registry_enables_a_channel_only_when_its_credentials_are_set(settings):
    bare = dataclasses.replace(settings, wechat_secret="", miniprogram_token="", telegram_secret="")
    assert set(credentials_for_env(bare)) == {
        "channels.rest.TokenRestInput",
        "channels.socketio.WebChatSocketInput",
        "channels.webchat_files.WebChatFiles",
    }
    assert {
        "channels.wechat.WeChatInput",
        "channels.miniprogram.MiniProgramInput",
        "channels.telegram.TelegramInput",
    } <= set(credentials_for_env(settings))
    assert credentials_for_env(settings)["channels.socketio.WebChatSocketInput"]["redis_manager"] is True
    assert "rest" not in credentials_for_env(settings)  # Rasa's own REST channel (anyone, any sender) is off


def test_rasa_loads_every_channel_from_the_environment(settings, monkeypatch):
    for name, value in to_env(settings).items():
        monkeypatch.setenv(name, value)
    credentials = yaml.safe_load(yaml.safe_dump(credentials_for_env(), allow_unicode=True))
    channels = [_create_single_channel(name, value) for name, value in credentials.items()]
    by_name = {channel.name(): channel for channel in channels}
    assert set(by_name) == {"rest", "socketio", "webchat", "wechat", "miniprogram", "telegram"}
    assert by_name["wechat"].account.appid == settings.wechat_appid  # secrets come from the environment

    Sanic.test_mode = True
    app = Sanic(f"bianmin_registry_{uuid.uuid4().hex[:8]}")
    register(channels, app, route="/webhooks/")
    paths = {route.path for route in app.router.routes}
    for path in [
        "webhooks/webchat",
        "webhooks/webchat/widget.js",
        "webhooks/webchat/demo",
        "webhooks/wechat/webhook",
        "webhooks/miniprogram/webhook",
        "webhooks/telegram/webhook",
        "socket.io",
    ]:
        assert any(p.strip("/") == path for p in paths), (path, paths)
