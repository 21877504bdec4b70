"""What time does to a JAICP project between two pipeline runs, and the snapshot of the expected warehouse."""

from __future__ import annotations

from typing import Any

from emulators.jaicp import phrases as P
from emulators.jaicp import render as R
from emulators.jaicp.data import Dataset

DEFAULTS: dict[str, int] = {"advance_seconds": 3600, "new_sessions": 5, "new_messages_in_old_sessions": 20,
                            "new_clients": 2, "status_updates": 20, "label_changes": 3}


def mutate(ds: Dataset, **params: Any) -> dict[str, Any]:
    """Move ``now`` forward, then add clients, sessions and messages in old sessions, progress delivery
    statuses and toggle session labels. Unknown parameters are reported, not applied."""
    unknown = sorted(set(params) - set(DEFAULTS))
    opts = {k: max(0, int(params.get(k, v))) for k, v in DEFAULTS.items()}
    rng = ds.rng
    with ds.lock:
        window_start = ds.now_ms
        ds.now_ms += opts["advance_seconds"] * 1000
        old_sessions = len(ds.s_start)
        new_client_ids = []
        touched_clients: set[int] = set()
        for _ in range(opts["new_clients"]):
            k = ds.add_client(rng)
            new_client_ids.append(ds.c_ids[k])
            _new_session(ds, k, window_start)
        for _ in range(opts["new_sessions"]):
            k = rng.randrange(len(ds.c_ids))
            _new_session(ds, k, window_start)
            touched_clients.add(k)
        for k in touched_clients:
            ds.c_sessions[k].sort(key=ds.s_start.__getitem__)
        touched = _messages_in_old_sessions(ds, opts["new_messages_in_old_sessions"], old_sessions, window_start)
        statuses = _progress_statuses(ds, opts["status_updates"])
        labels = _toggle_labels(ds, opts["label_changes"], old_sessions)
        ds.bump()
        return {"now": R.iso(ds.now_ms), "new_clients": new_client_ids,
                "new_sessions": len(ds.s_start) - old_sessions,
                "new_messages_in_old_sessions": opts["new_messages_in_old_sessions"] if old_sessions else 0,
                "touched_sessions": sorted(ds.session_id(j) for j in touched), "status_updates": statuses,
                "label_changes": labels, "totals": {"sessions": len(ds.s_start), "messages": len(ds.m_ts),
                                                    "clients": len(ds.c_ids)},
                "unknown_params": unknown}


def _new_session(ds: Dataset, k: int, window_start: int) -> int:
    rng, window = ds.rng, max(2_000, ds.now_ms - window_start)
    n = rng.randint(1, max(1, round(2 * ds.mps) - 1))
    offsets = [o for o in ds.message_offsets(rng, n, channel=P.CHANNELS[ds.c_channel[k]]) if o < window - 1_000]
    offsets = offsets or [0]
    latest = ds.now_ms - offsets[-1] - 1  # the last message must not be in the future
    start = rng.randint(window_start + 1, latest) if latest > window_start else latest
    return ds.add_session(rng, k, start, offsets)


def _messages_in_old_sessions(ds: Dataset, count: int, old_sessions: int, window_start: int) -> set[int]:
    rng, touched = ds.rng, set()
    if not old_sessions:
        return touched
    for _ in range(count):
        j = rng.randrange(old_sessions)
        msgs = ds.s_msgs[j]
        last = ds.m_ts[msgs[-1]] if msgs else ds.s_start[j]
        hi = max(last, ds.now_ms - 3_000)
        ts = rng.randint(min(max(last, window_start + 1), hi), hi)
        lang = ("ru", "en")[ds.c_lang[ds.s_client[j]]]
        kind = "operator" if ds.s_transfer[j] else "normal"
        pool = P.phrase_indices(lang, kind)
        ds.add_message(rng, j, ts, rng.choice(pool), bool(ds.s_transfer[j]))
        touched.add(j)
    return touched


def _progress_statuses(ds: Dataset, count: int) -> int:
    """Move up to ``count`` delivery statuses one step along their channel's ladder (newest first)."""
    done = 0
    for i in range(len(ds.m_ts) - 1, -1, -1):
        if done >= count:
            break
        status = ds.m_status[i]
        if not status:
            continue
        ladder = P.STATUS_LADDER[ds.channel(ds.m_session[i])]
        if status in ladder and status != ladder[-1]:
            ds.m_status[i] = ladder[ladder.index(status) + 1]
            ds.m_status_ts[i] = max(ds.m_status_ts[i], ds.now_ms - ds.rng.randint(0, 60_000))
            done += 1
    return done


def _toggle_labels(ds: Dataset, count: int, old_sessions: int) -> int:
    if not old_sessions or not ds.session_labels:
        return 0
    for _ in range(count):
        j = ds.rng.randrange(old_sessions)
        lid = ds.rng.choice(sorted(ds.session_labels))
        labels = ds.s_labels.setdefault(j, [])
        if lid in labels:
            labels.remove(lid)
        else:
            labels.append(lid)
            labels.sort()
    return count


def snapshot(ds: Dataset) -> dict[str, list[dict[str, Any]]]:
    """Every record, as the old generation serves it with labels (``sessionData`` included)."""
    with ds.lock:
        statuses = [{"sessionId": ds.session_id(ds.m_session[i]), "questionId": ds.question_id(i),
                     "status": P.STATUSES[ds.m_status[i]], "timestamp": R.iso(ds.m_status_ts[i])}
                    for i in range(len(ds.m_ts)) if ds.m_status[i]]
        return {
            "sessions": [R.session_info(ds, j, labels=True) for j in range(len(ds.s_start))],
            "messages": [R.extended_message(ds, i) for i in range(len(ds.m_ts))],
            "message_statuses": statuses,
            "clients": [R.client_extended(ds, k) for k in range(len(ds.c_ids))],
            "session_labels": [R.session_label(ds, lid) for lid in sorted(ds.session_labels)],
            "message_labels": [R.message_label(ds, lid) for lid in sorted(ds.message_labels)],
            "experiments": [R.experiment(ds, key) for key in ds.experiments],
        }
