"""JAICP Reporter API source settings and constants."""

JAICP_API_URL = "https://app.jaicp.com/api"
API_VERSIONS = ("p", "v1")  # p: /reporter/p/{token}/… (token in the path); v1: /v1/reporter/… with a Bearer token
OLD_PREFIX = "/reporter/p/{token}"
V1_PREFIX = "/v1/reporter"

DEFAULT_START_DATE = "2019-01-01"  # before JAICP's public launch: the first load takes all history
LOOKBACK_HOURS = 1.0  # every incremental run re-reads this much before its cursor (late writes)
SETTLE_MINUTES = 10.0  # windows end this long before now: the newest minutes may still be written
PAGE_SIZE = 500  # asked for; the spec documents no maximum (the notes advise 100-500), a server may serve fewer
FALLBACK_PAGE_SIZE = 100  # used (with a run-report note) when the server answers 400 to PAGE_SIZE
REQUESTS_PER_MINUTE = 0  # no limit is published: the rate is measured (sources/_http/adaptive.py); a value caps it
RATE_WINDOW_SECONDS: float | None = None  # the window the API counts in; None: read off Retry-After (1 s, 1 min, 1 h)
MAX_CONCURRENCY = 16  # the most requests in flight at once, shared by every resource
WINDOW_MESSAGES = 100_000  # a window (one committed load) holds at most about this many messages: large pages
# would otherwise put up to PAGE_SIZE x 1,000 of them in one load, and DuckDB's load step grows with it
STATUS_CHANNELS = ("telegram", "viber", "vk")  # channels whose messages carry a delivery status (seed docs)
STATUS_CONCURRENCY = 16  # sessions whose messages/by-session pages may be read at once (the limiter decides)
STATUS_RECHECK_HOURS = 24.0  # sessions with a non-final status are re-read for this long after their last message
SESSION_RESCAN_DAYS = 3.0  # sessions of the last days are re-listed each run for label changes
LISTING_PASSES = 3  # a listing that returns fewer distinct records than its totalCount is read again
ADVANCED_STATS_DAYS = 366  # days per advanced statistics request (DAY buckets)
SIMPLE_STATS_DAYS = 92  # days per dateFrom/dateTo statistics request

TOKEN_VARIABLE = "SOURCES__JAICP__TOKEN"
BASE_URL_VARIABLE = "SOURCES__JAICP__BASE_URL"
API_VERSION_VARIABLE = "SOURCES__JAICP__API_VERSION"
START_DATE_VARIABLE = "SOURCES__JAICP__START_DATE"
PROJECT_VARIABLE = "SOURCES__JAICP__PROJECT_SHORT_NAME"
PAGE_SIZE_VARIABLE = "SOURCES__JAICP__PAGE_SIZE"

# The read-only POSTs this source sends (path suffixes); the HTTP layer refuses every other write.
READ_ONLY_POSTS = (
    "/sessions/filter",
    "/messages/filter",
    "/clients/filter",
    "/stats/messages/with-advanced-filters",
    "/stats/sessions/with-advanced-filters",
    "/stats/session-labels",
)

# Statuses after which a message's status no longer changes, per channel (seed docs: SENT only in Telegram
# and VK, READ only in Viber and VK); other channels use the default.
FINAL_STATUSES = {"telegram": frozenset({"DELIVERED", "NOT_SENT", "NOT_DELIVERED"})}
DEFAULT_FINAL_STATUSES = frozenset({"READ", "NOT_SENT", "NOT_DELIVERED"})

SESSION_TIME_FIELDS = ("startTime",)
MESSAGE_TIME_FIELDS = ("timestamp", "sessionStartTime")
CLIENT_TIME_FIELDS = ("joinDate", "lastVisitDate", "blockDate")

# Free-form objects (the bot's own keys) are kept as JSON columns rather than flattened into one column per key.
SESSION_JSON_COLUMNS = ("response_data", "custom_fields", "session_data")
MESSAGE_JSON_COLUMNS = ("request_data", "data", "response_data", "utterances_json")

# The documented ExtendedMessage (messages/filter) as the Arrow path reads it (sources/_common/arrow.py): a page
# whose records all fit goes to dlt as Arrow tables; any other page as dicts. tests/common/test_declared_types.py
# checks it against schemas/import/jaicp.schema.yaml (messages, messages__labels, messages__session_labels).
LABEL_FIELDS = {"id": "bigint", "name": "text", "priority": "bigint"}
MESSAGE_FIELDS = {
    "questionId": "text", "sessionId": "text", "projectShortName": "text", "channelType": "text", "botId": "text",
    "client": {"id": "text", "firstName": "text", "lastName": "text", "username": "text"},
    "sessionStartTime": "timestamp", "timestamp": "timestamp", "isLivechat": "bool", "question": "text",
    "textAnswer": "text", "event": "text",
    "operatorInfo": {"id": "text", "firstName": "text", "lastName": "text", "photoUrl": "text", "channelType": "text"},
    "nlpInfo": {"nlpState": "text", "nlpClass": "text", "fromState": "text", "pattern": "text",
                "effectivePattern": "text", "confidence": "double", "rule": "text", "ruleType": "text"},
    "pageName": "text", "previousPageName": "text", "callTaskId": "bigint", "isCallIncoming": "bool",
    "requestData": "json", "data": "json", "responseData": "json", "utterancesJson": "json", "exception": "text",
    "processingTime": "bigint", "cleaned": "bool", "comment": "text",
    "labels": [{**LABEL_FIELDS, "group": LABEL_FIELDS}], "sessionLabels": [LABEL_FIELDS],
}
