"""The fixity flow (scheduled): re-hash every original, archival package and public object
against what was recorded, in batches a later run resumes (service.fixity).

    fixity_check() -> {"checked": n, "failed": {id: [problems]}, "resumed": bool}

Each result is an audit row; a failure is also a `gongkai.document.fixity_failed` event and
shows in `gongkai status`.
"""

from __future__ import annotations

from typing import Any

from prefect import flow

from gongkai.flows import runtime, service


@flow(name="fixity", flow_run_name="fixity check of the archive")
def fixity_check() -> dict[str, Any]:
    with runtime.flow_context() as ctx:
        report = service.fixity(ctx)
    return {"checked": report.checked, "resumed": report.resumed,
            "failed": {str(k): v for k, v in report.failed.items()}}  # fmt: skip
