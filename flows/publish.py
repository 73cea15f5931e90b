"""The publish flow: render the public record of documents the policy allows, and the index.

    publish_documents(document_ids: list[int] | None = None, chunk_size: int = 100)
        -> {"documents", "published", "refused": {id: why}, "index": n[, "repaired": gaps]}

None publishes every document waiting in `received` whose routing sent it to publication, and
then checks the whole public store against the catalog, mending what is missing or left over
(service.repair_public: the scheduled run, `gongkai publish`; a pipeline run checks only what
it changed).
The policy is checked again for each document right before anything is written to the public
store (service.publication_basis). One task run per chunk, then one update of the public index
(the root files and the year lists of what was published).
"""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from gongkai.flows import runtime, service


def _publish_run_name() -> str:
    ids = flow_run.parameters.get("document_ids")
    if ids is None:
        return "publish waiting documents"
    return f"publish {len(ids)} document{'s' if len(ids) != 1 else ''}"


@task(name="publish documents", cache_policy=NO_CACHE,
      task_run_name="publish documents {first}-{last} of {total}")  # fmt: skip
def publish_chunk(document_ids: list[int], first: int, last: int, total: int) -> dict[str, Any]:
    with runtime.flow_context() as ctx, runtime.flow_workers(len(document_ids)) as pool:
        report = service.publish(ctx, document_ids, update_index=False, pool=pool)
    return {"published": [r.id for r in report.published],
            "refused": {str(k): v for k, v in report.refused.items()}}  # fmt: skip


@task(name="update public index", cache_policy=NO_CACHE)
def update_index(document_ids: list[int]) -> int:
    with runtime.flow_context() as ctx:
        return service.update_public_index(ctx, document_ids)


def publish_in_chunks(ids: list[int], chunk_size: int = 100) -> dict[str, Any]:
    """The publish tasks for `ids`, inside the calling flow run: one task run per chunk, then
    one update of the public index."""
    published: list[int] = []
    refused: dict[str, str] = {}
    for start in range(0, len(ids), max(1, chunk_size)):
        chunk = ids[start : start + chunk_size]
        result = publish_chunk(chunk, start + 1, start + len(chunk), len(ids))
        published += result["published"]
        refused.update(result["refused"])
    index = update_index(published) if published else None
    return {"documents": len(ids), "published": len(published), "refused": refused,
            "index": index}  # fmt: skip


@flow(name="publish", flow_run_name=_publish_run_name, validate_parameters=False)
def publish_documents(
    document_ids: list[int] | None = None, chunk_size: int = 100
) -> dict[str, Any]:
    with runtime.flow_context() as ctx, runtime.flow_workers(len(document_ids or ())):
        ids = (list(dict.fromkeys(int(i) for i in document_ids)) if document_ids is not None
               else service.publishable_ids(ctx))  # fmt: skip
        result = publish_in_chunks(ids, chunk_size)
        if document_ids is None:
            result["repaired"] = check_public_store()
        return result


@task(name="check the whole public store", cache_policy=NO_CACHE)
def check_public_store() -> dict[str, Any]:
    with runtime.flow_context() as ctx:
        return service.repair_public(ctx).to_json()
