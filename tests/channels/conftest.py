"""Fixtures of the channel tests: Redis db 11 (flushed), fake WeChat and Telegram APIs on 127.0.0.1."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlparse, urlunparse

import aiohttp
import pytest
import redis
from wechatpy import parse_message

from bot.settings import load
from fakes.servers import aiohttp_server
from fakes.telegram import FakeTelegramApi
from fakes.wechat import FakeWeChatApi, WeChatPusher

WECHAT_API_PORT = 24001  # fixed ports below Linux's ephemeral range (32768-60999)
TELEGRAM_API_PORT = 24002
CHANNEL_PORT = 24010
TELEGRAM_TOKEN = "123456:TEST-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat generates
OPENID = "oUser_wechat_1"
CONVERSATION = f"wechat:{OPENID}"  # the conversation id the server derives from the openid (channels.identity)


def oa_pusher(settings, aes: bool = False) -> WeChatPusher:
    """Pushes to the Official Account webhook, as WeChat sends them (safe mode when `aes`)."""
    url = f"http://127.0.0.1:{CHANNEL_PORT}/webhooks/wechat/webhook"
    return WeChatPusher(url, settings.wechat_token, settings.wechat_appid, AES_KEY if aes else "")


def reply_text(body: str) -> str:
    """The text of a plaintext passive reply."""
    return parse_message(body).content


@pytest.fixture
def channel_redis_url(redis_url):
    """Redis db 11, flushed before and after each test."""
    parts = urlparse(redis_url)
    url = urlunparse(parts._replace(path="/11"))
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
async def wechat_api():
    fake = FakeWeChatApi()
    async with aiohttp_server(fake.app, WECHAT_API_PORT) as url:
        fake.url = url
        yield fake


@pytest.fixture
async def telegram_api():
    fake = FakeTelegramApi(TELEGRAM_TOKEN)
    async with aiohttp_server(fake.app, TELEGRAM_API_PORT) as url:
        fake.url = url
        yield fake


@pytest.fixture
def settings(channel_redis_url):
    """Settings of all three connectors pointing at the fakes."""
    api = f"http://127.0.0.1:{WECHAT_API_PORT}"
    return dataclasses.replace(
        load(),
        redis_url=channel_redis_url,
        wechat_token="oa-token",
        wechat_appid="wx_oa_app",
        wechat_secret="oa-secret",
        wechat_api_url=api,
        miniprogram_token="mp-token",
        miniprogram_appid="wx_mp_app",
        miniprogram_secret="mp-secret",
        miniprogram_api_url=api,
        telegram_token=TELEGRAM_TOKEN,
        telegram_secret="tg-secret",
        telegram_api_url=f"http://127.0.0.1:{TELEGRAM_API_PORT}/bot",
    )


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session
