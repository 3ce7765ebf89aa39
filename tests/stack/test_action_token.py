"""Issue 15: only Rasa may call the action server. Calls without settings.actions_token are refused (403);
Rasa's own calls, configured by endpoints.yml, carry it and are served; the health check stays open."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import aiohttp
from rasa.core.utils import AvailableEndpoints

from bot.settings import ROOT, load, to_env
from tests.conftest import running_action_server


def action_call(action: str) -> dict:
    tracker = {"sender_id": "rest:c1", "slots": {}, "latest_message": {"text": "你好", "intent": {}}, "events": []}
    return {"next_action": action, "sender_id": "rest:c1", "tracker": tracker, "domain": {}, "version": "3.6.0"}


async def test_only_calls_with_the_token_reach_the_actions(monkeypatch, tmp_path, redis_url):
    settings = load()
    with running_action_server(tmp_path, redis_url) as rasas_url:  # `python -m actions`, its token as Rasa sends it
        address = urlsplit(rasas_url)
        token, port = parse_qs(address.query)["token"][0], address.port
        webhook = f"http://127.0.0.1:{port}/webhook"
        async with aiohttp.ClientSession() as session:
            for method, url, headers in [
                ("POST", webhook, {}),
                ("POST", f"{webhook}?token=guess", {}),
                ("POST", webhook, {"Authorization": "Bearer guess"}),
                ("GET", f"http://127.0.0.1:{port}/actions", {}),
            ]:
                async with session.request(
                    method, url, headers=headers, json=action_call("action_out_of_scope")
                ) as answer:
                    assert answer.status == 403, url
            async with session.get(f"http://127.0.0.1:{port}/health") as answer:
                assert answer.status == 200  # the balancer's and the supervisor's probe needs no token

        # Rasa's side, exactly as `rasa run --endpoints endpoints.yml` reads it in the stack and the cluster
        for name, value in {**to_env(settings), "BIANMIN_ACTIONS_URL": webhook, "BIANMIN_ACTIONS_TOKEN": token}.items():
            monkeypatch.setenv(name, value)
        endpoint = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml")).action
        assert endpoint is not None
        answer = await endpoint.request(json=action_call("action_out_of_scope"), method="post")
        assert answer["responses"]
