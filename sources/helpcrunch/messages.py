"""Which chats' messages a window reads, and reading them: a fingerprint and a message cursor per chat in state.

An unchanged chat costs nothing. A chat's messages are read when the chat is new, its fingerprint (a hash of the
whole chat object) changed, or the strict ``chats.updatedAt`` search named it ("certainly changed": a private
note moves nothing visible). A new last message changes the fingerprint, and so do a status change, closing,
rating or reassignment, which often come with messages that do not move ``lastMessageId`` (tech messages,
private notes). Messages come newest first, so paging stops at the first page that reaches what is loaded.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from sources._common.timestamps import epoch_seconds, to_utc
from sources.helpcrunch import settings as s
from sources.helpcrunch.client import HelpCrunchClient, Record, message_rows


class MessageReader:
    """Reads the messages of the chats that need it, ``concurrency`` chats at a time.

    ``known``: chat id -> ``[fingerprint, last message time in unix seconds]``, kept in the chats resource's
    state and committed with the window. ``backfill``: read every chat whole and remember nothing.
    """

    def __init__(self, client: HelpCrunchClient, known: dict[str, list[Any]], backfill: bool,
                 concurrency: int) -> None:
        self.client, self.known, self.backfill, self.concurrency = client, known, backfill, max(1, concurrency)

    def read(self, chats: list[Record], certainly_changed: set[int]) -> list[Any]:
        """The message rows (Arrow tables of up to ``MESSAGE_BATCH_ROWS``) of those of ``chats`` that need it."""
        prints = {chat["id"]: fingerprint(chat) for chat in chats}
        todo = [chat for chat in chats if _may_have_messages(chat)
                and (self.backfill or chat["id"] in certainly_changed
                     or self.known.get(str(chat["id"]), [None])[0] != prints[chat["id"]])]
        if not todo:
            return []
        batches: list[Any] = []
        batch: list[Record] = []
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="helpcrunch-messages") as pool:
            for chat_messages in pool.map(self._chat_messages, todo):  # in order, while the pool goes on
                batch.extend(chat_messages)
                if len(batch) >= s.MESSAGE_BATCH_ROWS:
                    batches.append(message_rows(batch))
                    batch = []
        if batch:
            batches.append(message_rows(batch))
        if not self.backfill:
            for chat in todo:
                last_at = chat.get("lastMessageAt")
                self.known[str(chat["id"])] = [prints[chat["id"]], epoch_seconds(last_at) if last_at else None]
        return batches

    def forget_idle(self, before: datetime) -> None:
        """Forget the chats idle since ``before`` (state stays small; such a chat is read whole if it wakes)."""
        cutoff = before.timestamp()
        for chat_id in [k for k, (_, at) in self.known.items() if at is not None and at < cutoff]:
            del self.known[chat_id]

    def _chat_messages(self, chat: Record) -> list[Record]:
        """A chat's messages down to the newest one already loaded (all of them when nothing is known)."""
        entry = None if self.backfill else self.known.get(str(chat["id"]))
        loaded_until = entry[1] if entry and entry[1] is not None else None
        messages: dict[Any, Record] = {}
        for page in self.client.chat_messages(chat["id"]):
            messages.update((m["id"], m) for m in page)  # offset pages shift when a message arrives: later wins
            if loaded_until is not None and any(
                    (at := to_utc(m.get("createdAt"))) is not None and at.timestamp() <= loaded_until for m in page):
                break
        if loaded_until is None:
            return list(messages.values())
        return [m for m in messages.values()
                if (at := to_utc(m.get("createdAt"))) is None or at.timestamp() >= loaded_until]


def _may_have_messages(chat: Record) -> bool:
    """Whether a chat can hold messages: it has a last message, or an agent wrote in it (``lastMessage*``
    leaves private notes out, so a chat whose only messages are notes has no ``lastMessageId``)."""
    return chat.get("lastMessageId") is not None or bool(chat.get("agents"))


def fingerprint(chat: Record) -> str:
    """A short hash of the whole chat object."""
    text = json.dumps(chat, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
