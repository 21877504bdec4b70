"""Build the Reporter DTOs (SessionInfo, ExtendedMessage, Message, ClientExtendedInfo, labels) from a Dataset.

Optional fields without a value are omitted rather than sent as ``null`` (an assumption: the specs mark
them optional and say nothing about nulls).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from emulators.jaicp import phrases as P
from emulators.jaicp.data import Dataset


def iso(ms: int) -> str:
    """Epoch milliseconds as ``yyyy-MM-ddTHH:mm:ss.SSSZ`` (UTC)."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def client_info(ds: Dataset, k: int) -> dict[str, Any]:
    out: dict[str, Any] = {"id": ds.c_ids[k]}
    for key, value in zip(("firstName", "lastName", "username"), ds.c_names[k], strict=True):
        if value is not None:
            out[key] = value
    return out


def session_label(ds: Dataset, label_id: int) -> dict[str, Any]:
    name, priority = ds.session_labels[label_id]
    return {"id": label_id, "name": name, "priority": priority}


def message_label(ds: Dataset, label_id: int) -> dict[str, Any]:
    name, priority, group = ds.message_labels[label_id]
    gname, gprio = ds.label_groups.get(group, ("", 0))
    return {"id": label_id, "name": name, "priority": priority, "group": {"id": group, "name": gname,
                                                                         "priority": gprio}}


def _session_extras(ds: Dataset, j: int) -> tuple[dict[str, Any], dict[str, str]]:
    """responseData and sessionData of session ``j`` (derived from the seed, not stored)."""
    rng = random.Random(ds.seed * 1_000_003 + j)
    data = {"city": rng.choice(P.CITIES), "utm_source": rng.choice(P.UTM_SOURCES),
            "language": ("ru", "en")[ds.c_lang[ds.s_client[j]]]}
    exp = ds.s_exp.get(j)
    if exp:
        experiment = ds.experiments.get(exp[0])
        if experiment and experiment["branches"]:
            data["experiment"] = experiment["key"]
            data["branch"] = experiment["branches"][exp[1] % len(experiment["branches"])]["key"]
    response = {"rating": rng.randint(1, 5), "orderNumber": str(rng.randint(100_000, 999_999)),
                "contact": {"verified": rng.random() < 0.5}}
    return response, data


def json_path(obj: Any, path: str) -> Any:
    """A tiny ``$.a.b`` / ``a.b`` JSON-path lookup used for ``customFields``."""
    for part in path.removeprefix("$").strip(".").split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def session_info(ds: Dataset, j: int, *, labels: bool = False, session_data: bool = True,
                 custom_paths: tuple[str, ...] = ()) -> dict[str, Any]:
    """SessionInfo of session ``j``; ``labels`` only when asked (needToReturnSessionLabels)."""
    msgs, k = ds.s_msgs[j], ds.s_client[j]
    ch = P.CHANNELS[ds.c_channel[k]]
    response, data = _session_extras(ds, j)
    out: dict[str, Any] = {
        "sessionId": ds.session_id(j), "projectShortName": ds.project, "channelType": ch,
        "botId": ds.bots[ds.c_bot[k]], "client": client_info(ds, k), "startTime": iso(ds.s_start[j]),
    }
    if msgs:
        out["firstQuestion"] = P.PHRASES[ds.m_phrase[msgs[0]]].question
        out["lastQuestion"] = P.PHRASES[ds.m_phrase[msgs[-1]]].question
    out["questionCount"] = len(msgs)
    out["duration"] = ds.duration(j)
    if ch == P.TELEPHONY:
        task, incoming = ds.s_call.get(j, (0, True))
        if task:
            out["callTaskId"] = task
        out["isCallIncoming"] = incoming
        if msgs:
            out["audioFileUrl"] = f"https://records.example.invalid/{ds.project}/{out['sessionId']}.wav"
    if ds.s_result[j]:
        out["sessionResult"] = P.SESSION_RESULTS[ds.s_result[j] - 1]
    out["responseData"] = response
    out["customFields"] = {p: json_path(response, p) for p in custom_paths}
    if session_data:
        out["sessionData"] = data
    out["isLivechat"] = bool(ds.s_transfer[j])
    if labels:
        out["labels"] = [session_label(ds, lid) for lid in ds.s_labels.get(j, ()) if lid in ds.session_labels]
    return out


def _content(ds: Dataset, i: int) -> dict[str, Any]:
    """The fields Message and ExtendedMessage share."""
    j = ds.m_session[i]
    phrase = P.PHRASES[ds.m_phrase[i]]
    live = bool(ds.m_live[i])
    out: dict[str, Any] = {"questionId": ds.question_id(i), "timestamp": iso(ds.m_ts[i]), "isLivechat": live,
                           "sessionId": ds.session_id(j), "question": phrase.question, "textAnswer": phrase.answer}
    if phrase.event:
        out["event"] = phrase.event
    if live:
        oid, first, last = P.OPERATORS[ds.s_operator[j] % len(P.OPERATORS)]
        out["operatorInfo"] = {"id": oid, "firstName": first, "lastName": last,
                               "photoUrl": f"https://avatars.example.invalid/{oid}.png",
                               "channelType": P.OPERATOR_CHANNEL}
    else:
        state = phrase.nlp_class or "/NoMatch"
        out["nlpInfo"] = {"nlpState": state, "nlpClass": state, "fromState": "/Start" if state != "/Start" else "/",
                          "pattern": phrase.question if phrase.rule_type == "pattern" else None,
                          "effectivePattern": phrase.question if phrase.rule_type == "pattern" else None,
                          "confidence": round(0.55 + (ds.m_proc[i] % 45) / 100, 2), "rule": state,
                          "ruleType": phrase.rule_type}
        out["nlpInfo"] = {key: value for key, value in out["nlpInfo"].items() if value is not None}
    ch = ds.channel(j)
    if ch == "chatwidget":
        out["pageName"] = "Оформление заказа" if ds.c_lang[ds.s_client[j]] == 0 else "Checkout"
        out["previousPageName"] = "Каталог" if ds.c_lang[ds.s_client[j]] == 0 else "Catalog"
    out["requestData"] = {"channel": ch, "query": phrase.question}
    out["data"] = {"answerLength": len(phrase.answer)}
    out["responseData"] = {"replies": [{"type": "text", "text": phrase.answer}]}
    if ch == P.TELEPHONY:
        out["utterancesJson"] = [{"text": phrase.question, "confidence": 0.9}]
    if i in ds.m_exception:
        out["exception"] = "java.lang.IllegalStateException: Script timeout in state /Order/Status"
    out["processingTime"] = ds.m_proc[i]
    out["labels"] = [message_label(ds, lid) for lid in ds.m_labels.get(i, ()) if lid in ds.message_labels]
    out["cleaned"] = False
    if i in ds.m_comment:
        out["comment"] = ds.m_comment[i]
    return out


def extended_message(ds: Dataset, i: int) -> dict[str, Any]:
    """ExtendedMessage (messages/filter): message content plus session, client, bot and call fields."""
    j = ds.m_session[i]
    k = ds.s_client[j]
    out = {"projectShortName": ds.project, "channelType": ds.channel(j), "botId": ds.bots[ds.c_bot[k]],
           "client": client_info(ds, k), "sessionStartTime": iso(ds.s_start[j])}
    out.update(_content(ds, i))
    if j in ds.s_call:
        task, incoming = ds.s_call[j]
        if task:
            out["callTaskId"] = task
        out["isCallIncoming"] = incoming
    out["sessionLabels"] = [session_label(ds, lid) for lid in ds.s_labels.get(j, ()) if lid in ds.session_labels]
    return out


def message(ds: Dataset, i: int) -> dict[str, Any]:
    """Message (messages/by-session, by-client): content plus ``status`` in Telegram, Viber and VK only."""
    out = _content(ds, i)
    if ds.m_status[i]:
        out["status"] = P.STATUSES[ds.m_status[i]]
    return out


def client_extended(ds: Dataset, k: int) -> dict[str, Any]:
    """ClientExtendedInfo of client ``k``."""
    out = client_info(ds, k)
    out.update({"accountId": ds.account_id, "projectShortName": ds.project,
                "channelType": P.CHANNELS[ds.c_channel[k]], "botId": ds.bots[ds.c_bot[k]],
                "lastSessionId": ds.session_id(ds.client_last_session(k)), "joinDate": iso(ds.client_join(k)),
                "lastVisitDate": iso(ds.client_last_visit(k)), "isBlocked": k in ds.c_blocked})
    if k in ds.c_blocked:
        reason, by, when = ds.c_blocked[k]
        if reason is not None:
            out["blockReason"] = reason
        out["blockedBy"] = by
        out["blockDate"] = iso(when)
    return out


def experiment(ds: Dataset, key: str) -> dict[str, Any]:
    exp = ds.experiments[key]
    return {"key": exp["key"], "description": exp["description"], "status": exp["status"],
            "branches": [dict(b) for b in exp["branches"]]}
