"""Rasa input channels of the hotline: web chat, WeChat (OA and mini-program), Telegram."""
