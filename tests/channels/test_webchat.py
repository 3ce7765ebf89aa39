"""Web chat page, widget script and the metadata-keeping socket.io channel; the widget in headless Chromium."""

from __future__ import annotations

import asyncio

import socketio

from channels.registry import credentials_for_env
from channels.socketio import WebChatSocketInput
from channels.webchat_files import WebChatFiles
from fakes.bot import FakeBot
from fakes.servers import rasa_like_server, wait_until
from tests.channels.conftest import CHANNEL_PORT

BASE = f"http://127.0.0.1:{CHANNEL_PORT}"


def web_channels(redis_url):
    credentials = credentials_for_env()["channels.socketio.WebChatSocketInput"]
    return [
        WebChatSocketInput(
            credentials["user_message_evt"],
            credentials["bot_message_evt"],
            redis_url=redis_url,
            redis_manager=credentials["redis_manager"],
        ),
        WebChatFiles(),
    ]


class WebClient:
    """A socket.io client as the widget is one: asks for a session, keeps what the server confirms."""

    def __init__(self) -> None:
        self.client, self.received, self.sessions = socketio.AsyncClient(), [], asyncio.Queue()
        self.client.on("session_confirm", lambda session: self.sessions.put_nowait(session))
        self.client.on("bot_uttered", lambda message: self.received.append(message))

    async def connect(self, session_id=None) -> str:
        # polling: python-engineio 4.15's websocket client needs a newer aiohttp than the 3.9.5 Rasa pins
        await self.client.connect(BASE, socketio_path="/socket.io", transports=["polling"])
        await self.client.emit("session_request", {"session_id": session_id})
        return await asyncio.wait_for(self.sessions.get(), 5)

    async def says(self, text: str, session_id=None) -> None:
        await self.client.emit("user_uttered", {"message": text, "session_id": session_id})

    async def close(self) -> None:
        await self.client.eio.disconnect(abort=True)  # a graceful polling disconnect waits out the long poll (30 s)


async def test_page_widget_demo_and_socketio_client_are_served(http, channel_redis_url):
    async with rasa_like_server(web_channels(channel_redis_url), FakeBot(), CHANNEL_PORT):
        for path, marker, kind in [
            ("/webhooks/webchat/", 'src="widget.js" data-mode="page"', "text/html"),
            ("/webhooks/webchat/demo", '<script src="widget.js"></script>', "text/html"),
            ("/webhooks/webchat/widget.js", "session_request", "javascript"),
            ("/webhooks/webchat/socket.io.min.js", "Released under the MIT License", "javascript"),
        ]:
            async with http.get(BASE + path) as response:
                assert response.status == 200, path
                assert kind in response.headers["Content-Type"]
                assert marker in await response.text()


async def test_socketio_keeps_agent_and_handoff_metadata(channel_redis_url):
    bot = FakeBot()
    channels = web_channels(channel_redis_url)
    async with rasa_like_server(channels, bot, CHANNEL_PORT):
        citizen = WebClient()
        token = await citizen.connect()
        await citizen.says("按钮")
        assert await wait_until(lambda: citizen.received)
        conversation = bot.received[0].sender_id
        output = channels[0].get_output_channel()  # what Rasa uses for output_channel=latest
        await output.send_response(conversation, {"text": "您好，我是客服小王。", "agent": "小王"})
        await output.send_response(conversation, {"custom": {"handoff": "taken"}})
        assert await wait_until(lambda: len(citizen.received) == 3)
        await citizen.close()
    received = citizen.received
    assert received[0]["quick_replies"][1] == {
        "content_type": "text",
        "title": "投诉建议",
        "payload": "/file_complaint",
    }
    assert received[1] == {"text": "您好，我是客服小王。", "metadata": {"agent": "小王"}}
    assert received[2] == {"custom": {"handoff": "taken"}}
    assert conversation == "web:" + token.split(".")[0]


async def test_a_socket_only_joins_the_session_it_was_issued(channel_redis_url):
    """Issue 15, finding 1: a session_request with someone's session id received the agent's replies meant
    for them. Sessions are now issued and signed by the server."""
    bot = FakeBot()
    channels = web_channels(channel_redis_url)
    async with rasa_like_server(channels, bot, CHANNEL_PORT):
        victim, attacker = WebClient(), WebClient()
        token = await victim.connect()
        await victim.says("你好")
        assert await wait_until(lambda: victim.received)
        victims_conversation = bot.received[0].sender_id
        random_part = token.split(".")[0]
        # made-up ids, the victim's conversation id, its random part, a forged signature: all get a new session
        for claimed in ["web-session-1", victims_conversation, random_part, random_part + ".forged", None]:
            issued = (
                await attacker.connect(claimed) if claimed == "web-session-1" else await _rerequest(attacker, claimed)
            )
            assert issued != token and issued.count(".") == 1
        await attacker.says("我是谁", session_id=token)  # a message claiming the victim's session stays the attacker's
        assert await wait_until(lambda: len(bot.received) == 2)
        await channels[0].get_output_channel().send_response(victims_conversation, {"text": "只给本人的回复"})
        assert await wait_until(lambda: any(m.get("text") == "只给本人的回复" for m in victim.received))
        await asyncio.sleep(0.3)
        await attacker.close()

        again = WebClient()  # the victim reconnects (a reload) with the token it was given: same conversation
        assert await again.connect(token) == token
        await again.says("我回来了")
        assert await wait_until(lambda: len(bot.received) == 3)
        await again.close()
        await victim.close()
    assert bot.received[1].sender_id != victims_conversation
    assert bot.received[2].sender_id == victims_conversation
    assert not any(m.get("text") == "只给本人的回复" for m in attacker.received)


async def _rerequest(client: WebClient, claimed):
    await client.client.emit("session_request", {"session_id": claimed})
    return await asyncio.wait_for(client.sessions.get(), 5)


async def test_widget_in_a_phone_browser(browser, channel_redis_url):
    bot = FakeBot()
    channels = web_channels(channel_redis_url)
    async with rasa_like_server(channels, bot, CHANNEL_PORT):
        context = await browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
        page = await context.new_page()
        await page.goto(f"{BASE}/webhooks/webchat/demo")
        await page.click(".bm-launcher")
        panel = await page.locator(".bm-panel").bounding_box()
        assert panel["width"] <= 375 and panel["x"] >= 0  # fits the phone screen
        await page.fill(".bm-input", "路灯不亮")
        await page.click("text=发送")
        await page.wait_for_selector("text=收到：路灯不亮")
        await page.fill(".bm-input", "按钮")
        await page.press(".bm-input", "Enter")
        await page.click(".bm-choice >> text=投诉建议")  # shows the title, sends the payload
        await page.wait_for_selector("text=收到：/file_complaint")
        assert "投诉建议" in await page.locator(".bm-row.bm-user").last.inner_text()
        session = await page.evaluate("JSON.parse(localStorage.getItem('bianmin.webchat.session'))")
        session = "web:" + session.split(".")[0]  # the widget keeps the signed token; the conversation is its id
        assert bot.received[-1].sender_id == session and bot.texts()[-1] == "/file_complaint"

        await page.reload()  # the conversation is shown again, in the same session
        await page.click(".bm-launcher")
        await page.wait_for_selector("text=收到：路灯不亮")
        await page.wait_for_function("window.BianminChat !== undefined")
        await page.fill(".bm-input", "还在吗")
        await page.press(".bm-input", "Enter")
        await page.wait_for_selector("text=收到：还在吗")
        assert bot.received[-1].sender_id == session

        # an agent takes over from the console (output_channel=latest)
        await channels[0].get_output_channel().send_response(session, {"text": "您好，我是客服小王。", "agent": "小王"})
        await page.wait_for_selector("text=人工客服 · 小王")
        assert await page.locator(".bm-handoff").is_visible()
        await context.close()


async def test_chat_page_fills_the_screen_and_shows_handoff_text(browser, channel_redis_url):
    bot = FakeBot()
    channels = web_channels(channel_redis_url)
    async with rasa_like_server(channels, bot, CHANNEL_PORT):
        page = await browser.new_page(viewport={"width": 375, "height": 700})
        await page.goto(f"{BASE}/webhooks/webchat/")
        assert await page.locator(".bm-launcher").count() == 0
        await page.fill(".bm-input", "你好")
        await page.press(".bm-input", "Enter")
        await page.wait_for_selector("text=收到：你好")
        session = await page.evaluate("JSON.parse(localStorage.getItem('bianmin.webchat.session'))")
        session = "web:" + session.split(".")[0]
        await channels[0].get_output_channel().send_response(session, {"text": "【人工客服】正在为您转接，请稍候。"})
        await page.wait_for_selector(".bm-handoff >> text=人工客服已接入")
        await page.close()
