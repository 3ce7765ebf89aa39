"""The embeddable widget on its demo page, in headless Chromium, against the real stack."""

from __future__ import annotations

PHONE = {"width": 375, "height": 740}


async def test_chat_click_a_button_reload_and_go_on(stack, browser):
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    try:
        await page.goto(f"{stack.rasa_url}/webhooks/webchat/demo")
        await page.click(".bm-launcher")
        await page.fill(".bm-input", "你好")
        await page.press(".bm-input", "Enter")
        await page.wait_for_selector("text=请问有什么可以帮您", timeout=30000)

        await page.click(".bm-choice >> text=查询工单")  # a button from the greeting
        await page.wait_for_selector("text=请告诉我您的工单号", timeout=30000)

        await page.reload()  # the conversation is still there, in the same session
        await page.click(".bm-launcher")
        await page.wait_for_selector("text=请告诉我您的工单号")
        await page.fill(".bm-input", "算了")
        await page.press(".bm-input", "Enter")
        await page.wait_for_selector("text=好的，不查了", timeout=30000)  # the server kept the form too
    finally:
        await context.close()
