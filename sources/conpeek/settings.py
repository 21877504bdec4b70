"""Conpeek source settings and constants."""

DEFAULT_START_DATE = "2015-01-01"  # no launch date is public: the first load takes all history
PAGE_SIZE = 100  # documented default and maximum of `limit`
SMALLEST_PARTITION_SECONDS = 600  # a walk's time partition is not cut into halves shorter than this
BATCH_RECORDS = 5000  # records per item handed to dlt (pages are gathered: dlt's cost is per item)
MAX_PAGE_SIZE = 100
LOOKBACK_HOURS = 24.0  # re-read this much before the cursor: asynchronous writes (up to a day late), ids minted
# out of order; a nightly job then reads each record on at least two nights
REQUESTS_PER_MINUTE = 0  # no limit is published: the rate is measured (sources/_http/adaptive.py); a value caps it
RATE_WINDOW_SECONDS: float | None = None  # the window the API counts in; None: read off Retry-After (1 s, 1 min, 1 h)
MAX_CONCURRENCY = 16  # the most requests in flight at once, shared by every resource
TIME_PROPERTY = "date"  # the documented filter property; the docs' example uses "ts" (the fallback)
TIME_PROPERTY_FALLBACK = {"date": "ts", "ts": "date"}
CURSOR_FIELD = "ts"  # the record field the time filter is taken to act on (the record model is not public)
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # filter values: UTC, as documented
ID_KEYS = ("id", "_id")  # the id key is detected from the records, in this order, unless configured
ID_COLUMN = "id"  # the warehouse key (contract): an `_id` that arrives is stored as `id`
TIME_FIELDS = ("ts", "date", "system_date")  # record fields stored as TIMESTAMP WITH TIME ZONE (UTC)
ZERO_ID_SUFFIX = "0" * 16  # an ObjectId's random part and counter at their lowest: a synthetic cursor
# The fields of each record as assumed in README.md, and their types: pages of exactly this shape are built as
# Arrow tables (the volume path); a record with another field or type goes the dict way, where dlt adds it.
RECORD_FIELDS = {
    "conversation_statistics_opened": {
        "id": "text", "ts": "timestamp", "project_id": "bigint", "project_name": "text", "conversation_type": "text",
        "conversation_id": "text", "direction": "text", "peer_identifier": "text", "channel_identifier": "text",
        "tenant_user_id": "bigint", "subject": "text"},
    "messages": {
        "id": "text", "ts": "timestamp", "system_date": "timestamp", "conversation_id": "text", "project_id": "bigint",
        "tenant_user_id": "bigint", "message_type": "text", "direction": "text", "channel_identifier": "text",
        "peer_identifier": "text", "text": "text", "attachment_count": "bigint"},
}

API_KEY_VARIABLE = "SOURCES__CONPEEK__API_KEY"
BASE_URL_VARIABLE = "SOURCES__CONPEEK__BASE_URL"
START_DATE_VARIABLE = "SOURCES__CONPEEK__START_DATE"
TIME_PROPERTY_VARIABLE = "SOURCES__CONPEEK__TIME_PROPERTY"
ID_KEY_VARIABLE = "SOURCES__CONPEEK__ID_KEY"
CURSOR_FIELD_VARIABLE = "SOURCES__CONPEEK__CURSOR_FIELD"
LOOKBACK_VARIABLE = "SOURCES__CONPEEK__LOOKBACK_HOURS"

# resource (= table) -> (path, the optional filter settings its endpoint documents)
ENDPOINTS = {
    "conversation_statistics_opened": ("/conversation_statistics_opened",
                                       ("project_id_list", "conversation_type_list")),
    "messages": ("/message", ("project_id_list", "tenant_user_id_list", "message_type_list", "direction")),
}
