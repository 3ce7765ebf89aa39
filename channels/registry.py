"""Which Rasa channels the server loads, from the environment (written to var/credentials.yml).

Secrets never go into the credentials file: each connector reads them from bot/settings.py. A channel
is listed only when its credentials are set.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from bot.settings import Settings, load

SOCKETIO = {
    "user_message_evt": "user_uttered",
    "bot_message_evt": "bot_uttered",
    "redis_manager": True,  # rooms shared by every Rasa server (agents' replies reach any server's sockets)
}


def credentials_for_env(settings: Optional[Settings] = None) -> Dict[str, Any]:
    """Rasa credentials: the token-protected REST channel, socket.io and the web chat page always; WeChat,
    mini-program and Telegram when their credentials are configured."""
    settings = settings or load()
    credentials: Dict[str, Any] = {
        "channels.rest.TokenRestInput": None,
        "channels.socketio.WebChatSocketInput": dict(SOCKETIO),
        "channels.webchat_files.WebChatFiles": None,
    }
    if settings.wechat_token and settings.wechat_appid and settings.wechat_secret:
        credentials["channels.wechat.WeChatInput"] = None
    if settings.miniprogram_token and settings.miniprogram_appid and settings.miniprogram_secret:
        credentials["channels.miniprogram.MiniProgramInput"] = None
    if settings.telegram_token and settings.telegram_secret:
        credentials["channels.telegram.TelegramInput"] = None
    return credentials
