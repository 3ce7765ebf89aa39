"""The citizen's chat page and widget in headless Chromium, against a fake socket.io channel (no Rasa):
greeting and menu on open, handoff banner state, typing indicator, long answers, keyboard and screen
reader behaviour (issue 17)."""

from __future__ import annotations

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}
LONG_ANSWER = "\n".join(  # the 8-step heating answer: more than two phone screens
    f"第{i}步：请先检查户内暖气阀门是否全部打开、过滤网是否堵塞，暖气片上方的排气阀可以用螺丝刀缓慢拧开排气，"
    "听到嘶嘶声后等出水再拧紧；如果楼内多户都不热，请联系物业或供热单位上门检查管网和入户阀门。"
    for i in range(1, 9)
)


async def _page(browser, chat, path="/demo", viewport=PHONE):
    context = await browser.new_context(viewport=viewport, locale="zh-CN")
    page = await context.new_page()
    await page.goto(chat.url + path)
    return context, page


async def _connected(page, chat):
    await page.wait_for_function("() => window.io && document.querySelector('.bm-panel')")
    for _ in range(100):
        if chat.sids:
            return
        await page.wait_for_timeout(50)
    raise AssertionError("the widget did not connect")


async def test_widget_opens_with_the_greeting_and_menu(browser, chat):
    context, page = await _page(browser, chat)
    try:
        await page.click(".bm-launcher")
        await page.wait_for_selector(f"text={chat.answers['/greet'][0]['text'][:10]}", timeout=5000)
        assert await page.locator(".bm-choice").all_inner_texts() == ["咨询问题", "查询工单"]
        assert chat.received == ["/greet"]
        assert await page.locator(".bm-row.bm-user").count() == 0  # the silent /greet is not shown as said
        await page.reload()  # a returning citizen gets their history, not a second greeting
        await page.click(".bm-launcher")
        await page.wait_for_timeout(300)
        assert chat.received == ["/greet"]
    finally:
        await context.close()


async def test_chat_page_opens_with_the_greeting(browser, chat):
    context, page = await _page(browser, chat, "/")
    try:
        await page.wait_for_selector(".bm-choice >> text=查询工单", timeout=5000)
    finally:
        await context.close()


async def test_banner_follows_the_handoff_and_survives_no_reload(browser, chat):
    context, page = await _page(browser, chat, "/")
    try:
        await _connected(page, chat)
        await chat.push("已为您转接人工客服，您前面还有2位，请稍候。")
        banner = page.locator(".bm-handoff")
        await banner.wait_for(state="visible")
        assert "转接" in await banner.inner_text()
        await chat.push("排队更新：下一位就是您，人工客服马上为您服务。", handoff="queued", ahead=0)
        await page.wait_for_function("() => document.querySelector('.bm-handoff').textContent.includes('下一位')")
        assert await page.locator(".bm-bubble", has_text="排队更新").count() == 0  # only the banner changes
        await chat.push("您好，我是人工客服小王，很高兴为您服务。", agent="小王", handoff="taken")
        await page.wait_for_function("() => document.querySelector('.bm-handoff').textContent.includes('已接入')")
        await chat.push("人工客服已结束服务，智能客服继续为您服务。", handoff="released")
        await banner.wait_for(state="hidden")
        await page.reload()
        await page.wait_for_timeout(300)
        assert not await banner.is_visible()
        # the agent's service ended without a notice (session expired): the bot speaking again ends it too
        await _connected(page, chat)
        await chat.push("您好，我是人工客服小王。", agent="小王", handoff="taken")
        await banner.wait_for(state="visible")
        await chat.push("还有什么可以帮您？")
        await banner.wait_for(state="hidden")
    finally:
        await context.close()


async def test_no_typing_indicator_while_waiting_for_an_agent(browser, chat):
    context, page = await _page(browser, chat, "/")
    try:
        await _connected(page, chat)
        await chat.push("已为您转接人工客服，您前面还有1位，请稍候。")
        await page.locator(".bm-handoff").wait_for(state="visible")
        await page.fill(".bm-input", "还要等多久？")
        await page.press(".bm-input", "Enter")
        await page.wait_for_timeout(200)
        assert not await page.locator(".bm-typing").is_visible()
    finally:
        await context.close()


async def test_a_long_answer_is_shown_from_its_start_on_a_phone(browser, chat, screenshot):
    chat.answers["暖气不热"] = [{"text": LONG_ANSWER}]
    context, page = await _page(browser, chat, "/")
    try:
        await page.wait_for_selector(".bm-choice")
        await page.fill(".bm-input", "暖气不热")
        await page.press(".bm-input", "Enter")
        await page.wait_for_selector("text=第8步", state="attached")
        await screenshot(page, "widget-long-answer")
        top = await page.evaluate(
            """() => { const log = document.querySelector('.bm-log');
                       const rows = log.querySelectorAll('.bm-row.bm-bot');
                       const row = rows[rows.length - 1];
                       return row.getBoundingClientRect().top - log.getBoundingClientRect().top; }"""
        )
        assert 0 <= top < 40, top  # the first step is at the top of the visible log, not scrolled past
    finally:
        await context.close()


async def test_the_placeholder_fits_on_a_phone(browser, chat):
    context, page = await _page(browser, chat, "/")
    try:
        fits = await page.evaluate(
            """() => { const input = document.querySelector('.bm-input'); const style = getComputedStyle(input);
                       const ctx = document.createElement('canvas').getContext('2d');
                       ctx.font = style.fontSize + ' ' + style.fontFamily;
                       const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
                       return ctx.measureText(input.placeholder).width <= room; }"""
        )
        assert fits
    finally:
        await context.close()


async def test_keyboard_escape_focus_and_tab_order(browser, chat):
    context, page = await _page(browser, chat, "/demo", DESKTOP)
    try:
        launcher = page.locator(".bm-launcher")
        assert await launcher.get_attribute("aria-expanded") == "false"
        await launcher.focus()
        await page.keyboard.press("Enter")
        await page.wait_for_selector(".bm-choice")
        assert await launcher.get_attribute("aria-expanded") == "true"
        assert await page.evaluate("() => document.activeElement.classList.contains('bm-input')")
        # the input comes before the reply buttons in tab order
        assert await page.evaluate(
            """() => !!(document.querySelector('.bm-input').compareDocumentPosition(
                   document.querySelector('.bm-choice')) & Node.DOCUMENT_POSITION_FOLLOWING)"""
        )
        await page.click(".bm-choice >> text=查询工单")  # focus stays in the conversation
        assert await page.evaluate("() => document.activeElement.classList.contains('bm-input')")
        await page.keyboard.press("Escape")
        assert not await page.locator(".bm-panel").is_visible()
        assert await launcher.get_attribute("aria-expanded") == "false"
        assert await page.evaluate("() => document.activeElement.classList.contains('bm-launcher')")
    finally:
        await context.close()


async def test_new_message_is_in_the_launchers_name_and_status_bars_have_roles(browser, chat):
    context, page = await _page(browser, chat, "/demo", DESKTOP)
    try:
        await _connected(page, chat)
        await chat.push("您的工单已办结。")
        await page.wait_for_function("() => document.querySelector('.bm-launcher').textContent.includes('有新消息')")
        name = await page.evaluate(
            "() => { const b = document.querySelector('.bm-launcher'); return b.getAttribute('aria-label') || b.textContent; }"
        )
        assert "有新消息" in name
        assert await page.get_attribute(".bm-status", "role") == "status"
        assert await page.get_attribute(".bm-handoff", "role") == "status"
    finally:
        await context.close()


async def test_widget_and_chat_page_have_no_serious_accessibility_violations(browser, chat, axe, screenshot):
    context, page = await _page(browser, chat, "/demo", DESKTOP)
    try:
        await page.wait_for_selector(".bm-launcher")
        assert await axe(page) == [], "widget closed"
        await screenshot(page, "widget-closed")
        await page.click(".bm-launcher")
        await page.wait_for_selector(".bm-choice")
        await chat.push("您好，我是人工客服小王。", agent="小王", handoff="taken")
        await page.wait_for_selector(".bm-row.bm-agent")
        await page.fill(".bm-input", "谢谢")
        await page.press(".bm-input", "Enter")
        assert await axe(page) == [], "widget open"
        await screenshot(page, "widget-open")
        page2 = await context.new_page()
        await page2.set_viewport_size(PHONE)
        await page2.goto(chat.url + "/")
        await page2.wait_for_selector(".bm-row")
        assert await axe(page2) == [], "chat page"
        await screenshot(page2, "chat-page")
    finally:
        await context.close()
