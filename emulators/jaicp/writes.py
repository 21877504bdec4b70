"""The write endpoints: client blocking, labels, comments, experiments and report tasks.

They answer plausibly and change the dataset, so that a client that wrongly calls one is visible both
in the request log (a non-GET, non-filter request) and in the data. Empty answers are ``200`` with no body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from emulators._server import Response
from emulators.jaicp import render as R
from emulators.jaicp.data import mix64
from emulators.jaicp.errors import ApiError, bad_request
from emulators.jaicp.filters import compile_filters, validate

if TYPE_CHECKING:
    from emulators.jaicp.api import Ctx, JaicpApi

REPORT_TYPES = {"sessions": "SESSIONS", "messages": "MESSAGES", "clients": "CLIENTS", "telephony": "TELEPHONY",
                "daily": "DAILY", "client-list": "CLIENTS_LIST"}


def _empty() -> Response:
    return Response(200, raw=b"")


def _obj(ctx: Ctx, required: tuple[str, ...] = ()) -> dict[str, Any]:
    body = ctx.body()
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    missing = [name for name in required if body.get(name) is None]
    if missing:
        raise bad_request(f"the body requires {', '.join(missing)}", "reporter.validation.missing_field")
    return body


def _list(ctx: Ctx) -> list[dict[str, Any]]:
    body = ctx.body()
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        raise bad_request("the request body must be a JSON list of objects")
    return body


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"{what} must be an integer")
    return value


def _path_id(ctx: Ctx, catalog: dict[int, Any], what: str) -> int:
    raw = ctx.request.path_params.get("id", "")
    if not raw.isdigit() or int(raw) not in catalog:
        raise ApiError(404, f"reporter.{what}.not_found", f"{what.replace('_', ' ').capitalize()} {raw!r} not found")
    return int(raw)


def _client(ctx: Ctx) -> int:
    ds, bot, cid = ctx.ds, ctx.required("botId"), ctx.required("clientId")
    k = ds.c_key.get((ds.bots.index(bot), cid)) if bot in ds.bots else None
    if k is None:
        raise ApiError(404, "reporter.client.not_found", "Client not found")
    return k


def _session(ctx: Ctx) -> int:
    j = ctx.ds.find_session(ctx.required("sessionId"))
    if j is None:
        raise ApiError(404, "reporter.session.not_found", "Session not found")
    return j


def _message(ctx: Ctx, raw: str | None = None) -> int:
    i = ctx.ds.find_message(raw if raw is not None else ctx.required("questionId"))
    if i is None:
        raise ApiError(404, "reporter.message.not_found", "Message not found")
    return i


def _label(ctx: Ctx, catalog: dict[int, Any], body: dict[str, Any]) -> int:
    lid = _int(body.get("labelId"), "labelId")
    if lid not in catalog:
        raise ApiError(404, "reporter.label.not_found", f"Label {lid} not found")
    return lid


# -- clients -------------------------------------------------------------------------------------------
def block_client(ctx: Ctx) -> Response:
    k, body = _client(ctx), _obj(ctx, ("blockedBy",))
    reason = body.get("blockReason")
    if reason is not None and not isinstance(reason, str):
        raise bad_request("blockReason must be a string")
    ctx.ds.c_blocked[k] = (reason, _int(body["blockedBy"], "blockedBy"), ctx.ds.now_ms)
    ctx.ds.bump()
    return _empty()


def unblock_client(ctx: Ctx) -> Response:
    ctx.ds.c_blocked.pop(_client(ctx), None)
    ctx.ds.bump()
    return _empty()


# -- label catalogues ------------------------------------------------------------------------------------
def create_message_label(ctx: Ctx) -> dict[str, Any]:
    ds, body = ctx.ds, _obj(ctx, ("name", "groupId"))
    group = _int(body["groupId"], "groupId")
    if group not in ds.label_groups:
        raise ApiError(404, "reporter.label_group.not_found", f"Label group {group} not found")
    lid = max(ds.message_labels, default=0) + 1
    ds.message_labels[lid] = (str(body["name"]), _int(body.get("priority", lid), "priority"), group)
    ds.bump()
    return R.message_label(ds, lid)


def update_message_label(ctx: Ctx) -> Response:
    ds = ctx.ds
    lid, body = _path_id(ctx, ds.message_labels, "label"), _obj(ctx)
    name, prio, group = ds.message_labels[lid]
    ds.message_labels[lid] = (str(body.get("name", name)), _int(body.get("priority", prio), "priority"),
                              _int(body.get("groupId", group), "groupId"))
    ds.bump()
    return _empty()


def upsert_groups(ctx: Ctx) -> list[dict[str, Any]]:
    ds = ctx.ds
    for item in _list(ctx):
        gid = _int(item.get("id", max(ds.label_groups, default=0) + 1), "id")
        name, prio = ds.label_groups.get(gid, ("", gid))
        ds.label_groups[gid] = (str(item.get("name") or name), _int(item.get("priority", prio), "priority"))
    ds.bump()
    return [{"id": gid, "name": n, "priority": p} for gid, (n, p) in sorted(ds.label_groups.items())]


def create_session_label(ctx: Ctx) -> dict[str, Any]:
    ds, body = ctx.ds, _obj(ctx, ("name",))
    lid = max(ds.session_labels, default=0) + 1
    ds.session_labels[lid] = (str(body["name"]), _int(body.get("priority", lid), "priority"))
    ds.bump()
    return R.session_label(ds, lid)


def update_session_labels(ctx: Ctx) -> Response:
    ds = ctx.ds
    items = [{**_obj(ctx), "id": _path_id(ctx, ds.session_labels, "label")}] if "id" in ctx.request.path_params \
        else _list(ctx)
    for item in items:
        lid = _int(item.get("id"), "id")
        if lid not in ds.session_labels:
            raise ApiError(404, "reporter.label.not_found", f"Label {lid} not found")
        name, prio = ds.session_labels[lid]
        ds.session_labels[lid] = (str(item.get("name") or name), _int(item.get("priority", prio), "priority"))
    ds.bump()
    return _empty()


def change_priority(catalog_name: str) -> Callable[[Ctx], Response]:
    def route(ctx: Ctx) -> Response:
        catalog = getattr(ctx.ds, catalog_name)
        for item in _list(ctx):
            lid = _int(item.get("id"), "id")
            if lid in catalog:
                catalog[lid] = (catalog[lid][0], _int(item.get("newPriority"), "newPriority"), *catalog[lid][2:])
        ctx.ds.bump()
        return _empty()
    return route


def delete_from(catalog_name: str, what: str) -> Callable[[Ctx], Response]:
    def route(ctx: Ctx) -> Response:
        catalog = getattr(ctx.ds, catalog_name)
        del catalog[_path_id(ctx, catalog, what)]
        ctx.ds.bump()
        return _empty()
    return route


def get_from(catalog_name: str, render: Callable[..., dict[str, Any]]) -> Callable[[Ctx], dict[str, Any]]:
    def route(ctx: Ctx) -> dict[str, Any]:
        return render(ctx.ds, _path_id(ctx, getattr(ctx.ds, catalog_name), "label"))
    return route


# -- labelling sessions and messages ---------------------------------------------------------------------
def label_session(add: bool, replace: bool = False) -> Callable[[Ctx], Response]:
    def route(ctx: Ctx) -> Response:
        ds, j = ctx.ds, _session(ctx)
        wanted = [_label(ctx, ds.session_labels, item) for item in _list(ctx)] if replace else \
            [_label(ctx, ds.session_labels, _obj(ctx, ("labelId",)))]
        current = [] if replace else ds.s_labels.get(j, [])
        ds.s_labels[j] = sorted(set(current) | set(wanted)) if add else [x for x in current if x not in wanted]
        ds.bump()
        return _empty()
    return route


def label_message(add: bool, replace: bool = False) -> Callable[[Ctx], Response]:
    def route(ctx: Ctx) -> Response:
        ds, i = ctx.ds, _message(ctx)
        if replace and ctx.v1:
            ctx.required("sessionId")
        wanted = [_label(ctx, ds.message_labels, item) for item in _list(ctx)] if replace else \
            [_label(ctx, ds.message_labels, _obj(ctx, ("labelId",)))]
        current = [] if replace else ds.m_labels.get(i, [])
        ds.m_labels[i] = sorted(set(current) | set(wanted)) if add else [x for x in current if x not in wanted]
        ds.bump()
        return _empty()
    return route


def bulk_labeling(sessions: bool) -> Callable[[Ctx], Response]:
    """BulkLabelingDto ``{comparisonType, labels, objectIds?, filters?}``: add the labels to the objects."""
    def route(ctx: Ctx) -> Response:
        ds, body = ctx.ds, _obj(ctx, ("labels",))
        catalog, store = (ds.session_labels, ds.s_labels) if sessions else (ds.message_labels, ds.m_labels)
        labels = [_label(ctx, catalog, {"labelId": lid}) for lid in body["labels"]]
        find = ds.find_session if sessions else ds.find_message
        targets = [find(str(oid)) for oid in body.get("objectIds") or []]
        if body.get("filters") is not None:
            flt = compile_filters(ds, validate({"filters": body["filters"]}, v1=ctx.v1))
            targets += list(ctx.api.selector.select("sessions" if sessions else "messages", flt))
        for idx in targets:
            if idx is not None:
                store[idx] = sorted(set(store.get(idx, [])) | set(labels))
        ds.bump()
        return _empty()
    return route


def comment(add: bool) -> Callable[[Ctx], Response]:
    def route(ctx: Ctx) -> Response:
        i = _message(ctx, ctx.request.path_params.get("questionId"))
        if add:
            body = _obj(ctx, ("comment",))
            ctx.ds.m_comment[i] = str(body["comment"])
        else:
            ctx.ds.m_comment.pop(i, None)
        ctx.ds.bump()
        return _empty()
    return route


# -- experiments -----------------------------------------------------------------------------------------
def _experiment_key(ctx: Ctx) -> str:
    key = ctx.required("experimentKey")
    if key not in ctx.ds.experiments:
        raise ApiError(404, "reporter.experiment.not_found", f"Experiment {key!r} not found")
    return key


def create_experiment(ctx: Ctx) -> dict[str, Any]:
    ds, body = ctx.ds, _obj(ctx, ("key", "branches"))
    branches = body["branches"]
    if not isinstance(branches, list) or not all(isinstance(b, dict) and b.get("key") for b in branches):
        raise bad_request("branches must be a list of {key, description?}")
    status = body.get("status") or "CREATED"
    if status not in ("CREATED", "RUNNING", "STOPPED"):
        raise bad_request("status must be CREATED, RUNNING or STOPPED")
    ds.experiments[str(body["key"])] = {
        "key": str(body["key"]), "description": body.get("description"), "status": status,
        "branches": [{"key": str(b["key"]), "description": b.get("description")} for b in branches]}
    ds.bump()
    return R.experiment(ds, str(body["key"]))


def delete_experiment(ctx: Ctx) -> Response:
    del ctx.ds.experiments[_experiment_key(ctx)]
    ctx.ds.bump()
    return _empty()


def stop_experiment(ctx: Ctx) -> Response:
    ctx.ds.experiments[_experiment_key(ctx)]["status"] = "STOPPED"
    ctx.ds.bump()
    return _empty()


def join_experiment(ctx: Ctx) -> str:
    ds, key, j = ctx.ds, _experiment_key(ctx), _session(ctx)
    ctx.required("botId")
    branches = ds.experiments[key]["branches"]
    if not branches:
        raise bad_request(f"experiment {key!r} has no branches")
    if ds.s_exp.get(j, ("", 0))[0] != key:
        ds.s_exp[j] = (key, mix64(j) % len(branches))
        ds.bump()
    return branches[ds.s_exp[j][1] % len(branches)]["key"]


# -- reports ---------------------------------------------------------------------------------------------
def _settings(value: Any) -> dict[str, Any]:
    if value is None:
        return {"fileType": "XLSX", "withHeader": True}
    if not isinstance(value, dict) or value.get("fileType") not in ("XLSX", "CSV"):
        raise bad_request("settings must be ReportSettings with fileType XLSX or CSV")
    if set(value) - {"fileType", "withHeader", "delimiter", "dateTimeFormat"}:
        raise bad_request("unknown ReportSettings field(s)")
    return value


def _new_task(ctx: Ctx, kind: str) -> dict[str, Any]:
    ds, scope = ctx.ds, {"sessions": "sessions", "messages": "messages", "clients": "clients",
                         "client-list": "clients"}.get(kind)
    body = ctx.body()
    if kind == "daily":
        body = _obj(ctx, ("date",))
        settings = _settings(body.get("settings"))
    elif kind == "telephony":
        settings = _settings(None)
    else:
        if kind == "client-list" and body is None:
            raise bad_request("the body CreateReportDto is required")
        settings = _settings(body.get("settings") if isinstance(body, dict) else None)
    total = 0
    if scope:
        flt = compile_filters(ds, validate(body, v1=ctx.v1, extra_keys=frozenset({"settings"})))
        total = len(ctx.api.selector.select(scope, flt))
    task_id = max(ds.reports, default=0) + 1
    ds.reports[task_id] = {"taskId": task_id, "accountId": ds.account_id, "creationTime": R.iso(ds.now_ms),
                           "status": "CREATED", "reportType": REPORT_TYPES[kind], "settings": settings,
                           "projectShortName": ds.project, "writeCount": 0, "totalCount": total}
    return ds.reports[task_id]


def create_report(kind: str) -> Callable[[Ctx], dict[str, Any]]:
    return lambda ctx: dict(_new_task(ctx, kind))


def create_async_report(kind: str) -> Callable[[Ctx], dict[str, Any]]:
    def route(ctx: Ctx) -> dict[str, Any]:
        task = _new_task(ctx, kind)
        return {"requestId": ctx.ds.make_id(3, task["taskId"]), "requestTime": task["creationTime"]}
    return route


def _task(ctx: Ctx) -> dict[str, Any]:
    raw = ctx.request.path_params.get("taskId", "")
    task = ctx.ds.reports.get(int(raw)) if raw.isdigit() else None
    if task is None or task["status"] == "DELETED":
        raise ApiError(404, "reporter.report.not_found", f"Report task {raw!r} not found")
    return task


def get_task(ctx: Ctx) -> dict[str, Any]:
    """A task completes on its first poll."""
    task = _task(ctx)
    if task["status"] in ("CREATED", "STARTED"):
        extension = "csv" if task["settings"].get("fileType") == "CSV" else "xlsx"
        task.update(status="COMPLETED", writeCount=task["totalCount"],
                    fileName=f"{task['reportType'].lower()}-{task['taskId']}.{extension}",
                    fileUrl=f"https://files.example.invalid/reporter/{task['taskId']}.{extension}")
    return dict(task)


def list_tasks(ctx: Ctx) -> dict[str, Any]:
    return {"tasks": [dict(t) for t in ctx.ds.reports.values() if t["status"] != "DELETED"]}


def delete_tasks(which: str) -> Callable[[Ctx], Response]:
    def route(ctx: Ctx) -> Response:
        tasks = [_task(ctx)] if which == "one" else list(ctx.ds.reports.values())
        for task in tasks:
            if which != "completed" or task["status"] == "COMPLETED":
                task["status"] = "DELETED"
        return _empty()
    return route


def register(api: JaicpApi) -> None:
    """Add the write routes (and the few reads among their paths), specific paths first."""
    from emulators.jaicp.api import ASYNC_PREFIX

    add = api.add
    add("PUT", "clients/block", block_client, v1=False)  # removed in v1
    add("PUT", "clients/unblock", unblock_client, v1=False)
    add("PUT", "message/labels/change-priority", change_priority("message_labels"))
    add("PUT", "message/labels/groups/change-priority", change_priority("label_groups"))
    add("PUT", "message/labels/groups", upsert_groups)
    add("DELETE", "message/labels/groups/{id}", delete_from("label_groups", "label_group"))
    add("POST", "message/labels/logs/set-by-list", label_message(add=True, replace=True))
    add("POST", "message/labels/logs/bulk-labeling", bulk_labeling(sessions=False))
    add("POST", "message/labels/logs", label_message(add=True))
    add("DELETE", "message/labels/logs", label_message(add=False))
    add("POST", "message/labels", create_message_label)
    add("GET", "message/labels/{id}", get_from("message_labels", R.message_label))
    add("PUT", "message/labels/{id}", update_message_label)
    add("DELETE", "message/labels/{id}", delete_from("message_labels", "label"))
    add("PUT", "logs/labels/sessions/change-priority", change_priority("session_labels"))
    add("POST", "logs/labels/sessions", create_session_label)
    add("GET", "logs/labels/sessions/{id}", get_from("session_labels", R.session_label))
    add("PUT", "logs/labels/sessions/{id}", update_session_labels)
    add("DELETE", "logs/labels/sessions/{id}", delete_from("session_labels", "label"))
    add("PUT", "session-labels/by-list", update_session_labels)
    add("POST", "session-labels/sessions/set-by-list", label_session(add=True, replace=True))
    add("POST", "session-labels/sessions/bulk-labeling", bulk_labeling(sessions=True))
    add("POST", "session-labels/sessions", label_session(add=True))
    add("DELETE", "session-labels/sessions", label_session(add=False))
    add("POST", "comments/{questionId}", comment(add=True))
    add("DELETE", "comments/{questionId}", comment(add=False))
    add("POST", "scenario-exeperiments/join", join_experiment, project_required=True)
    add("POST", "scenario-exeperiments/stop", stop_experiment, project_required=True)
    add("POST", "scenario-exeperiments", create_experiment, project_required=True)
    add("DELETE", "scenario-exeperiments", delete_experiment, project_required=True)
    add("GET", "reports/tasks/{taskId}", get_task)
    add("DELETE", "reports/tasks/{taskId}", delete_tasks("one"))
    add("GET", "reports", list_tasks)
    add("DELETE", "reports/all", delete_tasks("all"))
    add("DELETE", "reports", delete_tasks("completed"))
    for kind in REPORT_TYPES:
        add("POST", f"reports/{kind}", create_report(kind), v1=False)  # v1: async only
        add("POST", f"reports/{kind}", create_async_report(kind), old=False, prefix_v1=ASYNC_PREFIX)
