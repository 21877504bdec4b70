"""The read endpoints: sessions, messages, clients, label catalogues, experiments, statistics, filters."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from emulators.jaicp import phrases as P
from emulators.jaicp import render as R
from emulators.jaicp import stats as S
from emulators.jaicp.errors import ApiError, bad_request
from emulators.jaicp.filters import Compiled, compile_filters, parse_datetime

if TYPE_CHECKING:
    from emulators.jaicp.api import Ctx, JaicpApi

OLD_SECTIONS = ("CLIENTS", "SESSIONS")
NEW_SECTIONS = (*OLD_SECTIONS, "CLIENTS_DIALOGS", "REPORTS_ACTIVITY", "REPORTS_EFFICIENCY", "REPORTS_SESSION_TOPIC",
                "REPORTS_SESSION_RESULT", "REPORTS_SCENARIO_ACTION")
_FILTER_INFO = {  # key: (type, English label, Russian label, isDefault)
    "MESSAGE_TIME": ("DATE_TIME_RANGE", "Message time", "Время сообщения", True),
    "SESSION_START_TIME": ("DATE_TIME_RANGE", "Session start", "Начало сессии", False),
    "CHANNEL_TYPE": ("CHECKBOX", "Channel", "Канал", False),
    "BOT_ID": ("CHECKBOX", "Bot", "Бот", False),
    "MESSAGE_COUNT": ("NUMERIC_RANGE", "Message count", "Количество сообщений", False),
    "WITHOUT_EMPTY_SESSIONS": ("RADIO", "Without empty sessions", "Без пустых сессий", True),
    "TRANSFER_TO_OPERATOR": ("RADIO", "Transfer to operator", "Перевод на оператора", False),
    "SESSION_ID": ("TEXT", "Session ID", "ID сессии", False),
    "SESSION_LABELS": ("CHECKBOX", "Session labels", "Метки сессий", False),
    "CLIENT_ID_OR_NAME": ("TEXT", "Client ID or name", "ID или имя клиента", False),
    "MESSAGE_TEXT": ("TEXT", "Client phrase", "Фраза клиента", False),
    "ANSWER_TEXT": ("TEXT", "Bot answer", "Ответ бота", False),
    "LOG_LABELS": ("TREE", "Phrase labels", "Метки фраз", False),
    "CLIENT_JOIN_TIME": ("DATE_TIME_RANGE", "First visit", "Первое посещение", False),
    "CLIENT_LAST_ACTIVITY_TIME": ("DATE_TIME_RANGE", "Last activity", "Последняя активность", True),
}
_CLIENT_KEYS = ("CLIENT_LAST_ACTIVITY_TIME", "CLIENT_JOIN_TIME", "CHANNEL_TYPE", "BOT_ID", "CLIENT_ID_OR_NAME")


def page_of(ctx: Ctx, scope: str, flt: Compiled) -> tuple[dict[str, int], Sequence[int]]:
    """The Pagination object and the indices of the requested page."""
    window = ctx.paging()
    result = ctx.api.selector.select(scope, flt)
    return window.paging(len(result)), window.slice(result)


def sessions_filter(ctx: Ctx) -> dict[str, Any]:
    labels = ctx.bool_arg("needToReturnSessionLabels")
    data = ctx.bool_arg("needToReturnSessionData") if ctx.v1 else True
    flt = ctx.filters()
    paging, chunk = page_of(ctx, "sessions", flt)
    return {"paging": paging, "sessions": [R.session_info(ctx.ds, j, labels=labels, session_data=data,
                                                          custom_paths=flt.custom_paths) for j in chunk]}


def messages_filter(ctx: Ctx) -> dict[str, Any]:
    paging, chunk = page_of(ctx, "messages", ctx.filters())
    return {"paging": paging, "messages": [R.extended_message(ctx.ds, i) for i in chunk]}


def clients_filter(ctx: Ctx) -> dict[str, Any]:
    paging, chunk = page_of(ctx, "clients", ctx.filters())
    return {"paging": paging, "clients": [R.client_extended(ctx.ds, k) for k in chunk]}


def _time_arg(ctx: Ctx, name: str) -> int | None:
    raw = ctx.arg(name)
    if raw is None:
        return None
    try:
        return parse_datetime(raw, name)
    except ApiError as exc:
        raise bad_request(exc.message) from None


def messages_by_session(ctx: Ctx) -> dict[str, Any]:
    """MessagesForSessionDto; messages in chronological order (ties: arrival order)."""
    ds = ctx.ds
    j = ds.find_session(ctx.required("sessionId"))
    bot = ctx.arg("botId")
    if j is None or (bot and bot != ds.bot(j)):
        raise ApiError(404, "reporter.session.not_found", "Session not found")
    _time_arg(ctx, "startTime")  # validated; a session is found by its id alone
    ctx.bool_arg("hideEmptyMessage")  # every generated message has a client phrase
    window = ctx.paging()
    msgs = ds.s_msgs[j]
    paths = tuple(ctx.list_arg("responseDataJsonPath"))
    return {"paging": window.paging(len(msgs)), "session": R.session_info(ds, j, custom_paths=paths),
            "messages": [R.message(ds, i) for i in window.slice(msgs)]}


def messages_by_client(ctx: Ctx) -> dict[str, Any]:
    """MessagesForClientDto; chronological (v1 ``sort=desc`` reverses)."""
    ds = ctx.ds
    bot, client = ctx.required("botId"), ctx.required("clientId")
    k = ds.c_key.get((ds.bots.index(bot), client)) if bot in ds.bots else None
    if k is None:
        raise ApiError(404, "reporter.client.not_found", "Client not found")
    lo, hi = _time_arg(ctx, "startTime"), (_time_arg(ctx, "endTime") if ctx.v1 else None)
    channel = ctx.arg("channelType")
    desc = ctx.enum_arg("sort", ("asc", "desc"), "asc") == "desc" if ctx.v1 else False
    msgs: list[int] = []
    if not channel or channel == P.CHANNELS[ds.c_channel[k]]:
        for j in ds.c_sessions[k]:
            msgs.extend(ds.messages_between(j, lo, hi))
    msgs.sort(key=lambda i: (ds.m_ts[i], i), reverse=desc)
    window = ctx.paging()
    return {"paging": window.paging(len(msgs)), "client": R.client_extended(ds, k),
            "messages": [R.message(ds, i) for i in window.slice(msgs)]}


def clients_all_for_bot(ctx: Ctx) -> dict[str, Any]:
    bot, date_to = ctx.required("botId"), _time_arg(ctx, "dateTo")
    if date_to is None:
        raise bad_request("required query parameter 'dateTo' is missing", "reporter.validation.missing_parameter")
    flt = compile_filters(ctx.ds, [{"key": "BOT_ID", "type": "CHECKBOX", "options": [bot]},
                                   {"key": "CLIENT_JOIN_TIME", "type": "DATE_TIME_RANGE", "from": None, "to": date_to}],
                          range_to=ctx.api.switches.range_to)
    paging, chunk = page_of(ctx, "clients", flt)
    return {"paging": paging, "clients": [R.client_extended(ctx.ds, k) for k in chunk]}


def message_labels(ctx: Ctx) -> list[dict[str, Any]]:
    return [R.message_label(ctx.ds, lid) for lid in sorted(ctx.ds.message_labels)]


def label_groups(ctx: Ctx) -> list[dict[str, Any]]:
    ds = ctx.ds
    return [{"id": gid, "name": name, "priority": prio,
             "labels": [{"id": lid, "name": n, "priority": p} for lid, (n, p, g) in sorted(ds.message_labels.items())
                        if g == gid]}
            for gid, (name, prio) in sorted(ds.label_groups.items())]


def session_labels(ctx: Ctx) -> list[dict[str, Any]]:
    return [R.session_label(ctx.ds, lid) for lid in sorted(ctx.ds.session_labels)]


def experiments(ctx: Ctx) -> list[dict[str, Any]]:
    return [R.experiment(ctx.ds, key) for key in ctx.ds.experiments]


def count_sessions(ctx: Ctx) -> list[dict[str, Any]]:
    counts = Counter(key for key, _ in ctx.ds.s_exp.values())
    return [{"key": key, "count": counts[key]} for key in ctx.ds.experiments]


def _advanced(ctx: Ctx) -> tuple[str, int, int, Compiled]:
    interval = ctx.enum_arg("intervalType", S.INTERVALS)
    return interval, ctx.int_arg("step", 1, minimum=1, maximum=10_000), ctx.timezone(), ctx.filters()


def stats_sessions(ctx: Ctx) -> dict[str, Any]:
    interval, step, tz, flt = _advanced(ctx)
    return S.stats_dto(S.session_starts(ctx.ds, flt), interval, step, tz)


def stats_messages(ctx: Ctx) -> dict[str, Any]:
    interval, step, tz, flt = _advanced(ctx)
    return S.stats_dto(S.message_times(ctx.ds, flt), interval, step, tz)


def stats_session_labels(ctx: Ctx) -> dict[str, Any]:
    interval, step, tz, flt = _advanced(ctx)
    return S.session_label_stats(ctx.ds, flt, interval, step, tz)


def stats_log_labels(ctx: Ctx) -> dict[str, Any]:
    interval, step, tz, flt = _advanced(ctx)
    return S.log_label_stats(ctx.ds, flt, interval, step, tz)


def _days(ctx: Ctx) -> tuple[list[int], set[str] | None, int]:
    date_from, date_to = ctx.date_arg("dateFrom"), ctx.date_arg("dateTo")
    if date_from > date_to or (date_to - date_from).days > 3_660:
        raise bad_request("dateFrom must not be after dateTo, and the range must not exceed 10 years")
    tz = ctx.timezone()
    return S.day_range(date_from, date_to, tz), set(ctx.list_arg("botIds")) or None, tz


def stats_switched(ctx: Ctx) -> dict[str, Any]:
    days, bots, tz = _days(ctx)
    method = ctx.enum_arg("transferToOperatorMethod", ("SWITCH", "TEXT"))
    return S.switched_sessions(ctx.ds, days, bots, tz, method, ctx.arg("textForTransfer"))


def stats_telephony(ctx: Ctx) -> dict[str, Any]:
    days, bots, tz = _days(ctx)
    return S.telephony(ctx.ds, days, bots, tz)


def unique_clients(ctx: Ctx) -> list[dict[str, Any]]:
    return [{"projectShortName": ctx.ds.project, "totalCount": len(ctx.ds.c_ids)}]


def sessions_count(ctx: Ctx) -> list[dict[str, Any]]:
    return [{"projectShortName": ctx.ds.project, "amount": len(ctx.ds.s_start)}]


def filters_info(ctx: Ctx) -> list[dict[str, Any]]:
    """FilterInfo of the keys this emulator evaluates, labelled per the ``language`` header (ru or en)."""
    section = ctx.enum_arg("analyticsSection", NEW_SECTIONS if ctx.v1 else OLD_SECTIONS)
    russian = ctx.request.headers.get("language", "").lower().startswith("ru")
    keys = _CLIENT_KEYS if section == "CLIENTS" else [k for k in _FILTER_INFO if k not in _CLIENT_KEYS[:2]]
    ds, out = ctx.ds, []
    options = {"CHANNEL_TYPE": list(P.CHANNELS), "BOT_ID": list(ds.bots),
               "WITHOUT_EMPTY_SESSIONS": ["YES", "NO", "NOT_IMPORTANT"],
               "TRANSFER_TO_OPERATOR": ["ANY", "WITH_TRANSFER", "WITHOUT_TRANSFER"],
               "SESSION_LABELS": [str(lid) for lid in sorted(ds.session_labels)],
               "LOG_LABELS": [str(lid) for lid in sorted(ds.message_labels)]}
    for key in keys:
        ftype, en, ru, default = _FILTER_INFO[key]
        out.append({"key": key, "type": ftype, "label": ru if russian else en, "isDefault": default,
                    "isRequired": False, "settings": {"options": options[key]} if key in options else {}})
    return out


def register(api: JaicpApi) -> None:
    """Add the read routes (specific paths before ``{id}`` templates)."""
    add = api.add
    add("POST", "sessions/filter", sessions_filter)
    add("POST", "messages/filter", messages_filter)
    add("GET", "messages/by-session", messages_by_session)
    add("POST", "messages/by-session", messages_by_session)  # the docs excerpt says POST, the specs GET
    add("GET", "messages/by-client", messages_by_client)
    add("POST", "clients/filter", clients_filter)
    add("POST", "clients/all-for-bot", clients_all_for_bot, project_required=True)
    add("GET", "message/labels/groups", label_groups, v1=False)  # removed in v1
    add("GET", "message/labels", message_labels)
    add("GET", "logs/labels/sessions", session_labels, v1=False)  # removed in v1
    add("GET", "scenario-exeperiments/count-sessions", count_sessions, project_required=True)
    add("GET", "scenario-exeperiments", experiments, project_required=True)
    add("GET", "stats/switched-sessions", stats_switched)
    add("GET", "stats/telephony", stats_telephony)
    add("GET", "stats/unique-clients", unique_clients)
    add("POST", "stats/messages/with-advanced-filters", stats_messages)
    add("POST", "stats/sessions/with-advanced-filters", stats_sessions)
    add("POST", "stats/session-labels", stats_session_labels)
    add("POST", "stats/log-labels", stats_log_labels)
    add("GET", "projects/sessions/count", sessions_count)
    add("GET", "filters", filters_info)
