"""The web app in real headless Chromium (Debian's /usr/bin/chromium driven by Playwright):
log in, resolve an exception by correcting a field, upload a redaction, decide a review,
search the archive, open a public record page, and fail to reach a staff page without
logging in. Screenshots of each page go to the test's tmp_path."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import in_ci
from web_server import PASSWORDS, Site, running_site

playwright_sync = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip

pytestmark = pytest.mark.slow


@pytest.fixture
def site(gongkai_env) -> Iterator[Site]:
    with running_site() as running:
        yield running


@pytest.fixture
def page(tmp_path: Path) -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        if in_ci():  # in CI a missing browser is a failure, never a silent skip
            pytest.fail(f"{CHROMIUM} is required in CI (.ci/run installs chromium)")
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def shot(page, tmp_path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)


def log_in(page, site: Site, name: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{site.url}/staff/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORDS[name])
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/staff/")


def log_out(page) -> None:  # type: ignore[no-untyped-def]
    page.click("header button[type=submit]")
    page.wait_for_url("**/staff/login")


def test_staff_work_and_the_public_portal_in_chromium(site: Site, page, tmp_path: Path) -> None:
    expect = playwright_sync.expect
    ids = site.ids

    # No staff page without logging in: the login page instead.
    page.goto(f"{site.url}/staff/documents/{ids['exception']}")
    assert "/staff/login" in page.url
    expect(page.locator("h1")).to_have_text("工作人员登录")
    page.fill("input[name=name]", "张文书")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("用户名或密码不正确")
    shot(page, tmp_path, "01-login-refused")

    # The clerk logs in: 待办 lists the exception with its reason, linked.
    log_in(page, site, "张文书")
    expect(page.locator("h1")).to_contain_text("待办")
    expect(page.locator(".who")).to_contain_text("张文书（文书）")
    shot(page, tmp_path, "02-todo")
    page.click(f"a[href='/staff/documents/{ids['exception']}']")
    expect(page.locator("#resolve")).to_be_visible()
    shot(page, tmp_path, "03-exception-document")

    # Resolve the exception, correcting its title and giving the attribute.
    page.fill("#resolve input[name=title]", "鸿山镇人民政府关于更正后标题的通知")
    page.select_option("#resolve select[name=disclosure]", "active")
    page.fill("#resolve input[name=reason]", "核对纸质原件，属主动公开")
    page.click("#resolve button[type=submit]")
    expect(page.locator(".ok")).to_contain_text("已处理例外")
    expect(page.locator("p strong.state")).to_have_text("已发布")
    expect(page.locator("h1")).to_have_text("鸿山镇人民政府关于更正后标题的通知")
    shot(page, tmp_path, "04-exception-resolved")
    record = site.ctx.catalog.get(ids["exception"])
    assert record.state == "published" and record.title == "鸿山镇人民政府关于更正后标题的通知"
    kinds = {(e.kind, e.actor) for e in site.ctx.catalog.history(ids["exception"])}
    assert {("corrected", "张文书"), ("resolved", "张文书")} <= kinds

    # Upload the redacted version of the document waiting for one.
    redacted = tmp_path / "删减版.txt"
    redacted.write_text("鸿山镇人民政府关于做好第3批政务公开标准化工作的通知\n"
                        "各村（居）委会：\n现就第3批事项通知如下（个人信息已删除）。\n", "utf-8")
    page.goto(f"{site.url}/staff/documents/{ids['partial']}")
    page.set_input_files("#redact input[type=file]", str(redacted))
    shot(page, tmp_path, "05-redaction-form")
    page.click("#redact button[type=submit]")
    # The version lacks the original's 文号: refused until the clerk says why that is right.
    expect(page.locator(".error")).to_contain_text("删减稿与原件不符")
    shot(page, tmp_path, "06-redaction-differs")
    page.set_input_files("#redact input[type=file]", str(redacted))
    page.fill("#redact input[name=confirm_difference]", "删减稿只录正文，文号见原件")
    page.click("#redact button[type=submit]")
    expect(page.locator(".ok")).to_contain_text("已上传删减版本并发布")
    shot(page, tmp_path, "06b-redaction-published")
    assert site.ctx.catalog.get(ids["partial"]).state == "published"
    expect(page.locator(".beside")).to_contain_text("个人信息已删除")  # beside the original

    # Search the archive by 文号 in another spelling.
    page.goto(f"{site.url}/staff/search")
    page.fill("input[name=file_number]", "鸿政[2021]2号")
    page.click("form.search button[type=submit]")
    expect(page.locator("#total")).to_contain_text("共 1 份")
    expect(page.locator("table tbody tr")).to_have_count(1)
    shot(page, tmp_path, "07-archive-search")
    log_out(page)

    # The reviewer releases the withheld document.
    log_in(page, site, "李审核")
    page.goto(f"{site.url}/staff/documents/{ids['withheld']}")
    expect(page.locator("#resolve")).to_have_count(0)  # not a reviewer's action
    page.select_option("#review select[name=decision]", "release")
    page.fill("#review input[name=reason]", "情况变化，可以公开")
    page.click("#review button[type=submit]")
    expect(page.locator(".ok")).to_contain_text("已作出审核决定")
    shot(page, tmp_path, "08-review-released")
    decisions = site.ctx.catalog.review_decisions(ids["withheld"])
    assert [(d["decision"], d["reviewer"]) for d in decisions] == [("release", "李审核")]
    log_out(page)

    # The public portal: no login; the released document's record page.
    page.goto(f"{site.url}/")
    expect(page.locator("#total")).to_contain_text("共 4 条")
    shot(page, tmp_path, "09-portal")
    page.click(f"a[href='/records/{ids['withheld']}']")
    labels = page.locator("table.record-meta th").all_inner_texts()
    assert labels == ["索引号", "发布机构", "公文生成日期", "标题", "文号", "发布日期"]
    body = page.locator(".body").inner_text()
    assert "此件不予公开" not in body and "鸿山镇人民政府文件" not in body
    assert "鸿政〔2021〕2号" not in body  # 版头's 文号 is a field, not body text
    signature = page.locator(".body p.signature")
    assert signature.evaluate("e => getComputedStyle(e).textAlign") == "right"
    assert page.locator(".body p.date").evaluate("e => getComputedStyle(e).textAlign") == "right"
    shot(page, tmp_path, "10-public-record")

    # A document that is not public does not exist for the public.
    response = page.goto(f"{site.url}/staff/")
    assert "/staff/login" in page.url and response is not None
    assert page.goto(f"{site.url}/records/999").status == 404
