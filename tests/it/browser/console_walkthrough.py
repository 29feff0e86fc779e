"""The console in a real browser: Debian's chromium, headless, driven by Playwright.

Run by tests/it/console_browser.rs against a real `shoal serve` on a private swarm. Logs in,
sees the environments and their stacks' health, dispatches with a form (a wrong input is
refused with the field's message), watches the run's log grow live, cancels it, reads the
runs list and a run without JavaScript, on a phone's width in dark mode as a viewer, and
logs out. Writes a screenshot of each page to $SCREENSHOTS. Exits non-zero at the first
expectation that fails, saying which.
"""

import http.server
import os
import re
import sys
import threading

from playwright.sync_api import expect, sync_playwright

URL = os.environ["SHOAL_URL"]
OPERATOR_TOKEN = os.environ["OPERATOR_TOKEN"]
VIEWER_TOKEN = os.environ["VIEWER_TOKEN"]
GATE_PORT = int(os.environ["GATE_PORT"])
STACK = os.environ["STACK"]
SCREENSHOTS = os.environ["SCREENSHOTS"]
TIMEOUT_MS = 90_000


class Gate(http.server.BaseHTTPRequestHandler):
    """What the run's `wait` steps probe: a path answers 200 once the script opens it."""

    opened = set()

    def do_GET(self):
        status = 200 if self.path in Gate.opened else 503
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def shot(page, name):
    page.screenshot(path=os.path.join(SCREENSHOTS, name), full_page=True)
    print(f"screenshot {name}", flush=True)


def log_in(page, token):
    page.goto(URL + "/")
    expect(page).to_have_url(URL + "/login")
    page.fill("#token", token)
    page.click("section.login button[type=submit]")


def main():
    gate = http.server.ThreadingHTTPServer(("127.0.0.1", GATE_PORT), Gate)
    threading.Thread(target=gate.serve_forever, daemon=True).start()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)
        page = context.new_page()

        # Nothing without logging in; a wrong token is refused.
        log_in(page, "not-a-token")
        expect(page.locator("section.login .error")).to_have_text("That token is not known.")
        shot(page, "login.png")
        page.fill("#token", OPERATOR_TOKEN)
        page.click("section.login button[type=submit]")
        expect(page.locator("main h1")).to_have_text("Environments")
        expect(page.locator("header .who")).to_have_text("ana (operator)")

        # The environment, its workflows' last apply, and its stack's live health.
        local = page.locator("#env-local")
        expect(local.locator("tbody tr").filter(has_text="deploy")).to_contain_text("success")
        expect(local.locator("tbody tr").filter(has_text="deploy")).to_contain_text("second commit")
        expect(local.locator("ul.services li").filter(has_text=f"{STACK}_web")).to_contain_text("2/2")
        shot(page, "environments.png")

        # Roll back: only once the environment's name is typed; then a run applies the
        # commit before the current one.
        deploy = local.locator("tbody tr").filter(has_text="deploy")
        deploy.locator("form.rollback input[name=confirm]").fill("prod")
        deploy.locator("form.rollback button").click()
        expect(page.locator("main h1")).to_have_text("Rollback refused")
        expect(page.locator("main p").first).to_have_text(
            "Type `local` in the box beside Roll back to roll back deploy there."
        )
        shot(page, "rollback-refused.png")
        page.goto(URL + "/")
        deploy = page.locator("#env-local tbody tr").filter(has_text="deploy")
        deploy.locator("form.rollback input[name=confirm]").fill("local")
        deploy.locator("form.rollback button").click()
        expect(page).to_have_url(re.compile(re.escape(URL) + r"/runs/\d+$"))
        expect(page.locator("#run-status")).to_have_text("success")
        # The page made while the run was live is made again once it has ended (no
        # "following live" any more): only then is it left, or the two navigations race.
        expect(page.locator("#log-state")).to_have_count(0)
        expect(page.locator("dl.run")).to_contain_text("first commit")
        expect(page.locator("dl.run")).to_contain_text("by ana")
        shot(page, "rollback-run.png")
        page.goto(URL + "/")
        local = page.locator("#env-local")

        # The dispatch form, generated from the workflow's inputs: a wrong confirmation
        # is refused with the field's message, and the values typed are kept.
        local.locator("a.button[href^='/workflows/hold/dispatch']").click()
        expect(page.locator("main h1")).to_have_text("Run workflow hold")
        expect(page.locator("#input-mode option")).to_have_text(["fast", "careful"])
        expect(page.locator("#input-hold")).to_be_checked()
        page.fill("#input-confirm", "prod")
        page.click("#dispatch")
        expect(page.locator(".field.invalid .field-error")).to_have_text(
            "input `confirm` must be `local`, the name of the environment this run is for, "
            "typed out; it is `prod`"
        )
        expect(page.locator("#input-confirm")).to_have_value("prod")
        shot(page, "dispatch-refused.png")

        page.fill("#input-confirm", "local")
        page.select_option("#input-mode", "careful")
        page.click("#dispatch")
        expect(page).to_have_url(re.compile(re.escape(URL) + r"/runs/\d+$"))
        run_url = page.url

        # The log grows live on the page: the second wait starts only once the first
        # one's URL answers, which the script decides while it watches.
        log = page.locator("#log")
        expect(log).to_contain_text("==> first")
        if "==> second" in log.inner_text():
            sys.exit("the second step started before the first one's URL answered")
        Gate.opened.add("/first")
        expect(log).to_contain_text("<== first")
        expect(log).to_contain_text("==> second")
        shot(page, "run-live.png")

        # Cancel: the run stops at its next safe point, and the page says so live.
        page.click("#cancel")
        expect(page.locator(".notice")).to_contain_text("cancelling")
        expect(page.locator("#run-status")).to_have_text("cancelled")
        expect(log).to_contain_text("cancel requested by ana")
        expect(page.locator("#log-state")).to_have_count(0)
        # Once ended, the page is read again: its step table has every step's result.
        steps = page.locator("table.steps tbody tr")
        expect(steps.filter(has_text="second")).to_contain_text("cancelled")
        expect(steps.filter(has_text="first")).to_contain_text("success")
        expect(page.locator(".plan .create")).to_contain_text("+ create network")
        shot(page, "run-cancelled.png")

        # The history, filtered.
        page.goto(URL + "/runs?workflow=hold")
        rows = page.locator("table.runs tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("cancelled")
        expect(rows.first).to_contain_text("ana")
        page.goto(URL + "/runs?event=push&result=success")
        expect(page.locator("table.runs tbody tr").first).to_contain_text("deploy")
        shot(page, "runs.png")

        # Log out: the session is gone.
        page.click("header .logout button")
        expect(page).to_have_url(URL + "/login")
        page.goto(URL + "/runs")
        expect(page).to_have_url(URL + "/login")

        # A viewer on a phone, in dark mode, without JavaScript: reads, cannot act.
        phone = browser.new_context(
            viewport={"width": 390, "height": 844},
            color_scheme="dark",
            is_mobile=True,
            java_script_enabled=False,
        )
        phone.set_default_timeout(TIMEOUT_MS)
        small = phone.new_page()
        log_in(small, VIEWER_TOKEN)
        expect(small.locator("header .who")).to_have_text("bob (viewer)")
        expect(small.locator("a.button")).to_have_count(0)
        shot(small, "environments-phone-dark.png")
        small.goto(run_url)
        expect(small.locator("#run-status")).to_have_text("cancelled")
        expect(small.locator("#log")).to_contain_text("==> first")
        expect(small.locator("#cancel")).to_have_count(0)
        shot(small, "run-phone-dark.png")
        small.goto(URL + "/workflows/hold/dispatch")
        expect(small.locator("main h1")).to_have_text("Not found")
        small.click("header .logout button")
        expect(small).to_have_url(URL + "/login")

        browser.close()
    gate.shutdown()
    print("walkthrough done", flush=True)


if __name__ == "__main__":
    main()
