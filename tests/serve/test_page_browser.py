"""The chat page in a real headless browser (Debian's Chromium through selenium and chromedriver), against
``medadapt serve``'s app on a loopback port: a Persian question streams its answer into a right-to-left
bubble, a red-flag message shows the emergency guidance first and apart from the answer, reset starts
afresh, and a server with a key asks for it. A screenshot is kept (tmp dir and /tmp/medadapt-chat-page.png)."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
from serve_helpers import PacedGenerator, running

from medadapt.serve.planner import ServeConfig
from medadapt.serve.safety import SafetyLayer
from medadapt.serve.server import create_app

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SCREENSHOT = Path("/tmp/medadapt-chat-page.png")
QUESTION_FA = "سرم درد می‌کند. چه کار کنم؟"
ANSWER_FA = ("برای سردرد خفیف، در جای آرام استراحت کنید، آب کافی بنوشید و از نور شدید دوری کنید. "
             "اگر سردرد ناگهانی و بسیار شدید بود یا با تب و سفتی گردن همراه شد، فوراً به پزشک مراجعه کنید.")
ANSWER_EN = "Sit down, stay calm and do not drive yourself; wait for help to arrive."
RED_FLAG = "I have crushing chest pain and I am short of breath"
STYLE = "return getComputedStyle(arguments[0])[arguments[1]]"


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package (pip install -e '.[test]')"
    absent = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if absent:
        return f"{' and '.join(absent)} (apt-get install chromium chromium-driver; `make test` does it as root)"
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    missing = _missing()
    if missing:
        pytest.skip(f"the chat page's browser test needs {missing}")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    # offline machine: without these Chromium waits on connections it cannot make
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1000,1100", "--lang=en-US",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver, condition, what: str, timeout: float = 20.0):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.02).until(lambda d: condition(d), message=what)


def bubbles(driver, role: str = "assistant"):
    return driver.find_elements("css selector", f"#log .message.{role}")


def parts(bubble) -> dict[str, object]:
    return {p.get_attribute("class").split()[1]: p for p in bubble.find_elements("css selector", ".part")}


def send(driver, text: str) -> None:
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element("id", "input")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def finished(driver, count: int):
    """The ``count``-th assistant bubble once its reply has ended."""
    return wait(driver, lambda d: len(bubbles(d)) >= count and "streaming" not in bubbles(d)[count - 1]
                .get_attribute("class") and bubbles(d)[count - 1], f"reply {count} to finish")


def test_persian_streams_right_to_left_and_red_flag_guidance_comes_first(browser, tmp_path):
    generator = PacedGenerator(ANSWER_FA, ANSWER_EN, delay=0.04)
    layer = SafetyLayer(languages=("fa", "en"))
    with running(create_app(generator, ServeConfig(model_id="paced-demo"), layer)) as base:
        browser.get(f"{base}/")
        wait(browser, lambda d: d.find_element("id", "model").text == "paced-demo", "the model name from /v1/models")
        assert not browser.find_element("id", "auth").is_displayed()  # no key needed, no key field

        send(browser, QUESTION_FA)
        # streamed: the answer is seen part-way, while the bubble is still receiving
        partial = wait(browser, lambda d: bubbles(d) and "answer" in parts(bubbles(d)[0])
                       and "streaming" in bubbles(d)[0].get_attribute("class")
                       and 0 < len(parts(bubbles(d)[0])["answer"].text) < len(ANSWER_FA)
                       and parts(bubbles(d)[0])["answer"].text, "a part-way answer")
        assert ANSWER_FA.startswith(partial)
        first = finished(browser, 1)
        answer, disclaimer = parts(first)["answer"], parts(first)["disclaimer"]
        assert answer.text == ANSWER_FA and "guidance" not in parts(first)
        assert answer.get_attribute("dir") == "rtl" and browser.execute_script(STYLE, answer, "direction") == "rtl"
        assert browser.execute_script(STYLE, first, "text-align") in ("right", "start")
        user = bubbles(browser, "user")[0]
        assert user.text == QUESTION_FA and browser.execute_script(STYLE, user, "direction") == "rtl"
        assert disclaimer.get_attribute("dir") == "rtl" and browser.execute_script(STYLE, disclaimer, "font-style") == "italic"
        # the same reply as the server's whole (non-streamed) one: answer, then the disclaimer apart
        whole = httpx.post(f"{base}/v1/chat/completions", timeout=30, json={
            "model": "paced-demo", "messages": [{"role": "user", "content": QUESTION_FA}]}).json()
        assert whole["choices"][0]["message"]["content"] == f"{ANSWER_FA}\n\n{disclaimer.text}"

        send(browser, RED_FLAG)
        second = finished(browser, 2)
        shown = second.find_elements("css selector", ".part")
        classes = [p.get_attribute("class") for p in shown]
        assert classes[:2] == ["part guidance", "part answer"], classes  # guidance first, then the answer
        guidance = shown[0]
        assert guidance.text.startswith(layer.packs["en"].emergency_header)
        assert guidance.get_attribute("role") == "alert" and guidance.get_attribute("dir") == "ltr"
        assert (browser.execute_script(STYLE, guidance, "background-color")
                != browser.execute_script(STYLE, shown[1], "background-color"))
        assert shown[1].text == ANSWER_EN and "disclaimer" not in parts(second)  # disclaimer: first reply only
        # the history sent back holds the model's answer, not the safety layer's additions
        assert generator.calls[-1][-2] == {"role": "assistant", "content": ANSWER_FA}

        browser.save_screenshot(str(tmp_path / "chat-page.png"))
        shutil.copyfile(tmp_path / "chat-page.png", SCREENSHOT)

        browser.find_element("id", "reset").click()
        wait(browser, lambda d: not d.find_elements("css selector", "#log .message"), "the log cleared")
        send(browser, "What is a normal body temperature?")
        again = finished(browser, 1)
        assert [m["role"] for m in generator.calls[-1]] == ["user"]  # a new conversation
        assert parts(again)["disclaimer"].get_attribute("dir") == "ltr"  # a first reply again: the disclaimer


def test_a_server_with_a_key_asks_for_it(browser):
    generator = PacedGenerator(ANSWER_FA, ANSWER_EN, delay=0.0)
    config = ServeConfig(model_id="keyed", api_key="s3cret")
    with running(create_app(generator, config, SafetyLayer(disclaimer="off"))) as base:
        browser.get(f"{base}/")  # a new port, a new origin: no key kept from before
        auth = wait(browser, lambda d: d.find_element("id", "auth").is_displayed() and d.find_element("id", "auth"),
                    "the key field")
        assert "requires an API key" in auth.text and not generator.calls

        send(browser, "Hello?")  # without the key: the server's 401 is shown, the text kept to send again
        refused = finished(browser, 1)
        assert "invalid or missing API key" in parts(refused)["error"].text
        assert browser.find_element("id", "input").get_attribute("value") == "Hello?"

        key = browser.find_element("id", "key")
        key.send_keys("wrong")
        browser.find_element("id", "use-key").click()
        wait(browser, lambda d: "refused this key" in d.find_element("id", "auth-message").text, "a refused key")
        key.clear()
        key.send_keys("s3cret")
        browser.find_element("id", "use-key").click()
        wait(browser, lambda d: d.find_element("id", "auth-message").text == "Key accepted.", "the key accepted")
        assert browser.find_element("id", "model").text == "keyed"

        browser.find_element("id", "send").click()
        answered = finished(browser, 2)
        assert parts(answered)["answer"].text == ANSWER_EN


def test_the_page_streams_a_real_tiny_model(browser, tiny_generator):
    """Through the transformers streamer itself: an answer of some tokens (random ones, sampled: greedy
    decoding of the random model gives only newlines), then the disclaimer."""
    config = ServeConfig(model_id="tiny", default_max_tokens=12, temperature=1.0, repetition_penalty=1.3)
    with running(create_app(tiny_generator, config, SafetyLayer(language_guard=False))) as base:
        browser.get(f"{base}/")
        wait(browser, lambda d: d.find_element("id", "model").text == "tiny", "the model name")
        send(browser, "What is a normal body temperature?")
        reply = finished(browser, 1)
        assert "error" not in parts(reply)
        assert parts(reply)["answer"].text.strip() and parts(reply)["disclaimer"].text
