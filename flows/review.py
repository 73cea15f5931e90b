"""The review flow (scheduled): withheld documents whose review is due.

    review_due() -> {"due": [ids], "brought_forward": [ids]}

Brings forward documents whose 保密期限 or stated reason has lapsed, then emits
`gongkai.review.due` for every due one (a reviewer decides with `gongkai review decide`).
"""

from __future__ import annotations

from typing import Any

from prefect import flow

from gongkai.flows import runtime, service


@flow(name="review", flow_run_name="review due withheld documents")
def review_due() -> dict[str, Any]:
    with runtime.flow_context() as ctx:
        report = service.review_due(ctx)
    return {"due": [r.id for r in report.due], "brought_forward": report.brought_forward}
