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


def web_channels():
    return [WebChatSocketInput.from_credentials(credentials_for_env()["channels.socketio.WebChatSocketInput"]),
            WebChatFiles()]


async def test_page_widget_demo_and_socketio_client_are_served(http):
    async with rasa_like_server(web_channels(), FakeBot(), CHANNEL_PORT):
        for path, marker, kind in [("/webhooks/webchat/", 'src="widget.js" data-mode="page"', "text/html"),
                                   ("/webhooks/webchat/demo", "<script src=\"widget.js\"></script>", "text/html"),
                                   ("/webhooks/webchat/widget.js", "session_request", "javascript"),
                                   ("/webhooks/webchat/socket.io.min.js", "Released under the MIT License",
                                    "javascript")]:
            async with http.get(BASE + path) as response:
                assert response.status == 200, path
                assert kind in response.headers["Content-Type"]
                assert marker in await response.text()


async def test_socketio_keeps_agent_and_handoff_metadata():
    bot = FakeBot()
    channels = web_channels()
    async with rasa_like_server(channels, bot, CHANNEL_PORT):
        client, received = socketio.AsyncClient(), []
        sessions = asyncio.Queue()
        client.on("session_confirm", lambda session: sessions.put_nowait(session))
        client.on("bot_uttered", lambda message: received.append(message))
        # polling: python-engineio 4.15's websocket client needs a newer aiohttp than the 3.9.5 Rasa pins
        await client.connect(BASE, socketio_path="/socket.io", transports=["polling"])
        await client.emit("session_request", {"session_id": "web-session-1"})
        assert await asyncio.wait_for(sessions.get(), 5) == "web-session-1"
        await client.emit("user_uttered", {"message": "按钮", "session_id": "web-session-1"})
        assert await wait_until(lambda: received)
        output = channels[0].get_output_channel()  # what Rasa uses for output_channel=latest
        await output.send_response("web-session-1", {"text": "您好，我是客服小王。", "agent": "小王"})
        await output.send_response("web-session-1", {"custom": {"handoff": "taken"}})
        assert await wait_until(lambda: len(received) == 3)
        await client.eio.disconnect(abort=True)  # a graceful polling disconnect waits out the long poll (30 s)
    assert received[0]["quick_replies"][1] == {"content_type": "text", "title": "投诉建议", "payload": "/file_complaint"}
    assert received[1] == {"text": "您好，我是客服小王。", "metadata": {"agent": "小王"}}
    assert received[2] == {"custom": {"handoff": "taken"}}
    assert bot.received[0].sender_id == "web-session-1"


async def test_widget_in_a_phone_browser(browser):
    bot = FakeBot()
    channels = web_channels()
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


async def test_chat_page_fills_the_screen_and_shows_handoff_text(browser):
    bot = FakeBot()
    channels = web_channels()
    async with rasa_like_server(channels, bot, CHANNEL_PORT):
        page = await browser.new_page(viewport={"width": 375, "height": 700})
        await page.goto(f"{BASE}/webhooks/webchat/")
        assert await page.locator(".bm-launcher").count() == 0
        await page.fill(".bm-input", "你好")
        await page.press(".bm-input", "Enter")
        await page.wait_for_selector("text=收到：你好")
        session = await page.evaluate("JSON.parse(localStorage.getItem('bianmin.webchat.session'))")
        await channels[0].get_output_channel().send_response(session, {"text": "【人工客服】正在为您转接，请稍候。"})
        await page.wait_for_selector(".bm-handoff >> text=人工客服已接入")
        await page.close()
