"""Truthful status (issue 16, item 2): opening a batch says the bank was told only when it
could be; the notifications page names the notice, the bank and why it has not arrived."""

from urllib.parse import urlencode

from tests.bank_gateway.batches.test_opening import open_batch_with
from tests.bank_gateway.conftest import Desk
from tests.bank_gateway.console.test_pages import csrf_of, signed_in

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def open_in_console(desk: Desk, batch_id: str) -> str:
    """bob opens the approved batch on its page; the message he is shown."""
    async with signed_in(desk, "bob") as bob:
        page = await bob.get(f"/console/batches/{batch_id}")
        opened = await bob.post(
            f"/console/batches/{batch_id}/opening",
            content=urlencode({"_csrf": csrf_of(page)}),
            headers=FORM,
        )
        return (await bob.get(opened.headers["location"])).text


async def test_opening_tells_the_truth_about_the_banks_notice(desk: Desk) -> None:
    admin = desk.tokens.header(desk.tokens.admin())
    silent = await desk.gateway.post(
        "/v1/banks", json={"code": "tnohook", "name": "无回调测试银行"}, headers=admin
    )
    assert silent.status_code == 201, silent.text
    batch = await open_batch_with(
        desk, "tnohook", await desk.eligible_applications(1), open_it=False
    )
    said = await open_in_console(desk, batch["id"])
    assert "尚未登记回调地址，开放通知未能发出" in said and "已通知银行" not in said
    await desk.deliver()

    heard = await desk.register_bank("有回调测试银行")
    batch = await open_batch_with(desk, heard, await desk.eligible_applications(1), open_it=False)
    assert "开放通知已发往银行" in await open_in_console(desk, batch["id"])

    async with signed_in(desk, "alice") as alice:
        pending = await alice.get("/console/deliveries?status=pending")
        row = next(r for r in pending.text.split("<tr>") if "无回调测试银行" in r)
        assert "批次开放通知" in row and "该银行没有登记回调地址" in row
        assert "batch.opened" not in pending.text and "tnohook" not in pending.text
        # The inbox counts it too: not failed for good, but not arrived either.
        inbox = await alice.get("/console/")
        card = inbox.text.split('id="dead"')[1].split("</section>")[0]
        assert "重试中" in card and "批次开放通知 → 无回调测试银行" in card
        assert "该银行没有登记回调地址" in card
