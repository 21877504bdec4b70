"""HelpCrunch source settings and constants."""

HELPCRUNCH_API_URL = "https://api.helpcrunch.com/v1"
DEFAULT_START_DATE = "2015-01-01"  # HelpCrunch launched in 2016: the first load takes all history
PAGE_SIZE = 100  # documented default and maximum of every list endpoint
REQUESTS_PER_MINUTE = 120  # documented overall limit, shared by all endpoints of one key
RATE_WINDOW_SECONDS = 60.0  # "per minute": the budget is spent per window of this length
LOOKBACK_HOURS = 1.0  # re-read this much before each cursor: late writes, clock skew
RESCAN_DAYS = 7.0  # fallback mode only: re-read chats created this recently for status/rating changes
STATE_RETENTION_DAYS = 180.0  # forget per-chat message cursors of chats idle this long
MESSAGE_CONCURRENCY = 4  # chats whose messages are fetched at once (all under the one rate budget)
PAGE_LOOKAHEAD = 2  # pages of a listing with a known total fetched ahead, side by side
CHATS_PER_BUDGET_CHECK = 10  # a window checks its request budget after the messages of this many chats
MESSAGE_BATCH_ROWS = 5000  # messages per Arrow table handed to dlt (one parquet row group or more)

API_KEY_VARIABLE = "SOURCES__HELPCRUNCH__API_KEY"
BASE_URL_VARIABLE = "SOURCES__HELPCRUNCH__BASE_URL"
START_DATE_VARIABLE = "SOURCES__HELPCRUNCH__START_DATE"

# Searchable fields the docs list (search-chats-v1); `chats.updatedAt` only in the newer revision.
UPDATED_AT_FIELD = "chats.updatedAt"
CHAT_TIME_FIELDS = ("createdAt", "closedAt", "lastMessageAt", "lastCustomerMessageAt", "snoozedUntil")
MESSAGE_TIME_FIELDS = ("createdAt", "updatedAt")
CHAT_OBJECT_FIELDS = ("customer", "assignee", "department")  # nested objects, flattened to e.g. assignee__id
MESSAGE_OBJECT_FIELDS = ("agent",)
# The documented message record and the type of each field (`messages` is the volume table, built as Arrow;
# a record with any other field or type goes the dict way and dlt adds the column as usual).
MESSAGE_FIELDS = {
    "id": "bigint", "agent": {"id": "bigint", "name": "text"}, "type": "text", "text": "text", "read": "bool",
    "createdAt": "timestamp", "updatedAt": "timestamp", "edited": "bool", "broadcastType": "text", "chat": "bigint",
    "from": "text",
}
CUSTOMER_TIME_FIELDS = ("firstSeen", "lastSeen")

# Where each endpoint puts its records and its total count (docs disagree; every variant is accepted).
ITEMS_KEYS = ("data", "messages")
TOTAL_PATHS = ("meta.total", "total")
