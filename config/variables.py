"""Every environment variable the platform reads, each declared once: its name, its
default, its type and what it sets. ``config.processes`` says which process gets
which; ``python -m config --variables`` lists them."""

from config.environment import Variable, flag, number

LOOPBACK_BROKER = "amqp://guest:guest@127.0.0.1:5672"

# -- the installation ------------------------------------------------------------------

VAR_DIR = Variable(
    "EMS_VAR_DIR",
    "var",
    str,
    "where the installation keeps what is its own: keys, generated passwords, "
    "rendered configuration (relative to the repository)",
)
HTTP_PORT = Variable("EMS_HTTP_PORT", 8080, int, "Traefik's port")
LOG_LEVEL = Variable("EMS_LOG_LEVEL", "INFO", str, "log level of the processes")
LOG_FORMATS = ("plain", "json")


def log_format(text: str) -> str:
    """``plain`` or ``json``; anything else is refused at start."""
    if text not in LOG_FORMATS:
        raise ValueError(f"EMS_LOG_FORMAT is plain or json, not {text!r}")
    return text


LOG_FORMAT = Variable(
    "EMS_LOG_FORMAT",
    "plain",
    log_format,
    "the processes' log lines: plain (time, level, logger, [correlation id], "
    "message) or json (one object per line: time, level, logger, message, process, "
    "correlation_id)",
)
LATITUDE = Variable(
    "EMS_LATITUDE",
    51.48,
    number,
    "where the installation stands, degrees north: the place of the devices that "
    "say none (generation forecasts) and of simulated PV systems (Greenwich: solar "
    "noon is noon UTC, the simulated households' time)",
)
LONGITUDE = Variable(
    "EMS_LONGITUDE", 0.0, number, "where the installation stands, degrees east"
)

# -- metrics and probes ----------------------------------------------------------------

METRICS_HOST = Variable(
    "EMS_METRICS_HOST",
    "127.0.0.1",
    str,
    "the interface each process serves /metrics, /livez and /readyz on (never "
    "routed by Traefik)",
)
METRICS_PORT = Variable(
    "EMS_METRICS_PORT",
    0,
    int,
    "the port of that server; 0: any free port, written to the process's target "
    "file (9100 in every container)",
)
METRICS_TARGETS_DIR = Variable(
    "EMS_METRICS_TARGETS_DIR",
    None,
    str,
    "where each process writes its Prometheus file_sd target file, "
    "`<process>.json` (relative to the repository; default `EMS_VAR_DIR`/metrics)",
)
PROCESS_NAME = Variable(
    "EMS_PROCESS_NAME",
    None,
    str,
    "the process's name in its target file and metrics' `process` label, for a "
    "program run more than once (`monitoring_worker_1`); default the program's",
)
HONCHO_PROCESS_NAME = Variable(
    "HONCHO_PROCESS_NAME",
    None,
    str,
    "honcho's name of the process (`devices.2`, `make up SCALE=devices=3`): "
    "without EMS_PROCESS_NAME, a process after the first of its program is named "
    "`devices_2`",
)

# -- RabbitMQ --------------------------------------------------------------------------

AMQP_ADMIN = Variable(
    "EMS_AMQP_URI",
    f"{LOOPBACK_BROKER}/",
    str,
    "RabbitMQ as its administrator reaches it (`ems prepare` only; it gets no "
    "permission in the platform's virtual host)",
)
RABBIT_MANAGEMENT_URI = Variable(
    "EMS_RABBIT_MANAGEMENT_URI",
    "http://guest:guest@127.0.0.1:15672/",
    str,
    "RabbitMQ's management API as its administrator reaches it (`ems prepare`; "
    "devices keeps devices' broker users through it)",
)
VHOST = Variable("EMS_VHOST", "ems", str, "the platform's RabbitMQ virtual host")
DEAD_QUEUE_MAX_LENGTH = Variable(
    "EMS_DEAD_QUEUE_MAX_LENGTH",
    10000,
    int,
    "messages ems.dead keeps (a broker policy set by `ems prepare`); the oldest "
    "beyond are dropped",
)
DEAD_QUEUE_MAX_BYTES = Variable(
    "EMS_DEAD_QUEUE_MAX_BYTES", 67108864, int, "bytes ems.dead keeps, likewise"
)
MQTT_HOST = Variable(
    "EMS_MQTT_HOST", "127.0.0.1", str, "RabbitMQ's MQTT listener, for the simulator"
)
MQTT_PORT = Variable(
    "EMS_MQTT_PORT",
    1884,
    int,
    "the port of RabbitMQ's MQTT listener (config/rabbitmq/ems.conf), told to "
    "devices with their credentials",
)


def _broker_login(process: str, default: str | None) -> Variable:
    return Variable(
        f"EMS_AMQP_URI_{process.upper()}",
        default,
        str,
        f"the broker login of {process} (made by `ems prepare`, kept in "
        "var/broker.env)",
    )


#: Each kind of process's own broker login, by the name of its broker user after
#: ``ems-`` (``ems/broker.py``); ``command`` is the ``ems`` commands' that call the
#: services, ``prepare`` that of ``ems prepare``.
BROKER_LOGINS = {
    **{
        process: _broker_login(process, f"{LOOPBACK_BROKER}/ems")
        for process in (
            "auth",
            "users",
            "devices",
            "monitoring",
            "monitoring_worker",
            "support",
            "batteries",
            "dr",
            "trading",
            "gateway",
            "mail",
            "alarms",
            "audit",
            "balancer",
            "ws_gateway",
            "simulator",
        )
    },
    "command": _broker_login("command", None),
    "prepare": _broker_login("prepare", None),
}

# -- e-mail ----------------------------------------------------------------------------

SMTP_HOST = Variable(
    "EMS_SMTP_HOST", "127.0.0.1", str, "the SMTP server the mail service sends through"
)
SMTP_PORT = Variable(
    "EMS_SMTP_PORT", 1025, int, "its port (1025: maildev, which `make up` starts)"
)
SMTP_USER = Variable("EMS_SMTP_USER", None, str, "its login, if it asks for one")
SMTP_PASSWORD = Variable("EMS_SMTP_PASSWORD", None, str, "its password", secret=True)
SMTP_STARTTLS = Variable(
    "EMS_SMTP_STARTTLS", False, flag, "upgrade the connection with STARTTLS first"
)
SMTP_TIMEOUT = Variable(
    "EMS_SMTP_TIMEOUT", 10, number, "seconds to wait for the SMTP server"
)
MAIL_FROM = Variable(
    "EMS_MAIL_FROM",
    "EMS <no-reply@ems.localhost>",
    str,
    "who the platform's e-mail is from",
)
MAIL_RETRY_FIRST_SECONDS = Variable(
    "EMS_MAIL_RETRY_FIRST_SECONDS",
    1,
    number,
    "the wait after the first failed try of an SMTP server; it doubles with each "
    "further one",
)
MAIL_RETRY_MAX_SECONDS = Variable(
    "EMS_MAIL_RETRY_MAX_SECONDS",
    300,
    number,
    "the longest wait between two tries of an SMTP server that is down (the wait "
    "doubles from one second up to it); the e-mail stays queued meanwhile",
)
MAIL_INBOX_PORT = Variable(
    "EMS_MAIL_INBOX_PORT", 1080, int, "maildev's web inbox and REST API (`ems maildev`)"
)
PUBLIC_URL = Variable(
    "EMS_PUBLIC_URL",
    None,
    str,
    "the web app's address in the links the platform e-mails "
    "(default http://app.localhost:<EMS_HTTP_PORT>)",
)
PASSWORD_RESET_TTL_MINUTES = Variable(
    "EMS_PASSWORD_RESET_TTL_MINUTES",
    30,
    int,
    "how long a password reset link, an e-mail change link or a sign-up "
    "confirmation link may be used",
)
SIGNUP_VERIFICATION = Variable(
    "EMS_SIGNUP_VERIFICATION",
    False,
    flag,
    "an account made at sign-up may log in only once its owner has followed the "
    "link e-mailed to its address",
)

# -- PostgreSQL ------------------------------------------------------------------------

PG_URL = Variable(
    "EMS_PG_URL",
    "postgresql+psycopg2://ems:ems@127.0.0.1:5432",
    str,
    "the PostgreSQL server; each service's database is named after it",
)
DB_PREFIX = Variable("EMS_DB_PREFIX", None, str, "prefix of every database name")

# -- tokens ----------------------------------------------------------------------------

JWT_PRIVATE_KEY = Variable(
    "EMS_JWT_PRIVATE_KEY",
    "var/keys/jwt_private.pem",
    str,
    "auth's token signing key (made by `ems prepare`)",
)
JWT_PUBLIC_KEY = Variable(
    "EMS_JWT_PUBLIC_KEY",
    "var/keys/jwt_public.pem",
    str,
    "the key every process verifies tokens with",
)
JWT_ISSUER = Variable("EMS_JWT_ISSUER", "ems-auth", str, "tokens' issuer (iss)")
JWT_AUDIENCE = Variable("EMS_JWT_AUDIENCE", "ems", str, "tokens' audience (aud)")
TOKEN_TTL = Variable("EMS_TOKEN_TTL", 3600, int, "access token lifetime, seconds")

# -- Nameko services -------------------------------------------------------------------

MAX_WORKERS = Variable(
    "EMS_MAX_WORKERS", 10, int, "workers (greenlets) of each Nameko service process"
)
RPC_TIMEOUT = Variable(
    "EMS_RPC_TIMEOUT",
    10,
    number,
    "seconds a call to another service may take (the gateway answers 503 after)",
)
MAX_REQUEST_BYTES = Variable(
    "EMS_MAX_BODY_BYTES",
    1048576,
    int,
    "request bodies over this many bytes are answered 413 before they are read "
    "(Traefik applies the same limit: traefik/dynamic.yml)",
)
MAX_MESSAGE_BYTES = Variable(
    "EMS_MAX_BODY_BYTES",
    65536,
    int,
    "message bodies over this many bytes, and any compressed one, are "
    "dead-lettered unread; a dead letter's body is kept up to this many bytes",
)

# -- the ADMIN and the demo household --------------------------------------------------

ADMIN_EMAIL = Variable(
    "EMS_ADMIN_EMAIL", "admin@ems.localhost", str, "the ADMIN ensured at start"
)
ADMIN_PASSWORD = Variable(
    "EMS_ADMIN_PASSWORD",
    None,
    str,
    "the ADMIN's password; generated once (var/admin_password) if not given",
    secret=True,
)
ADMIN_NAME = Variable("EMS_ADMIN_NAME", "Administrator", str, "the ADMIN's name")
DEMO = Variable(
    "EMS_DEMO",
    True,
    flag,
    "the demo household `make up` seeds and the simulator feeds; 0 leaves it out",
)
DEMO_EMAIL = Variable(
    "EMS_DEMO_EMAIL", "demo@ems.localhost", str, "the demo household's login"
)
DEMO_PASSWORD = Variable(
    "EMS_DEMO_PASSWORD",
    None,
    str,
    "its password; generated once (var/demo_password) if not given",
    secret=True,
)
DEMO_NAME = Variable("EMS_DEMO_NAME", "Demo household", str, "its name")
NEIGHBOUR_EMAIL = Variable(
    "EMS_NEIGHBOUR_EMAIL",
    "neighbour@ems.localhost",
    str,
    "the demo's neighbour household, which buys the demo household's surplus",
)
NEIGHBOUR_PASSWORD = Variable(
    "EMS_NEIGHBOUR_PASSWORD",
    None,
    str,
    "its password; generated once (var/neighbour_password) if not given",
    secret=True,
)
NEIGHBOUR_NAME = Variable("EMS_NEIGHBOUR_NAME", "Neighbour household", str, "its name")

# -- HTTP addresses --------------------------------------------------------------------

AUTH_ADDRESS = Variable(
    "EMS_AUTH_ADDRESS", "127.0.0.1:8001", str, "where auth serves HTTP (ForwardAuth)"
)
GATEWAY_ADDRESS = Variable(
    "EMS_GATEWAY_ADDRESS", "127.0.0.1:8000", str, "where the gateway serves /api"
)
WEB_ADDRESS = Variable(
    "EMS_WEB_ADDRESS", "127.0.0.1", str, "the interface the web app's server binds"
)
WEB_PORT = Variable("EMS_WEB_PORT", 8003, int, "the web app server's port")
WEB_ROOT = Variable(
    "EMS_WEB_ROOT", "web/dist", str, "the built app (`npm run build` in web/)"
)
WS_ADDRESS = Variable(
    "EMS_WS_ADDRESS", "127.0.0.1", str, "the interface ws_gateway binds"
)
WS_PORT = Variable("EMS_WS_PORT", 8002, int, "ws_gateway's port")
AUTH_VERIFY_URL = Variable(
    "EMS_AUTH_VERIFY_URL",
    "http://127.0.0.1:8001/internal/verify",
    str,
    "auth's ForwardAuth endpoint, asked by Traefik and at every WebSocket handshake",
)
AUTH_SESSIONS_URL = Variable(
    "EMS_AUTH_SESSIONS_URL",
    "http://127.0.0.1:8001/internal/sessions",
    str,
    "auth's batch check of open sessions, asked by ws_gateway",
)

# -- Traefik (`ems traefik`; traefik/dynamic.yml reads the backends itself) ------------

TRAEFIK_ROUTES = Variable(
    "EMS_TRAEFIK_DYNAMIC",
    "traefik/dynamic.yml",
    str,
    "Traefik's routes, middlewares and backends",
)
TRAEFIK_LOG_LEVEL = Variable(
    "EMS_TRAEFIK_LOG_LEVEL", "WARN", str, "Traefik's log level"
)
GATEWAY_URL = Variable(
    "EMS_GATEWAY_URL",
    "http://127.0.0.1:8000",
    str,
    "the gateway, as Traefik reaches it",
)
WS_GATEWAY_URL = Variable(
    "EMS_WS_GATEWAY_URL", "http://127.0.0.1:8002", str, "ws_gateway, likewise"
)
WEB_URL = Variable("EMS_WEB_URL", "http://127.0.0.1:8003", str, "the web app, likewise")
#: What traefik/dynamic.yml reads with ``{{ env "NAME" | default "..." }}``.
TRAEFIK_BACKENDS = (
    MAX_REQUEST_BYTES,
    AUTH_VERIFY_URL,
    GATEWAY_URL,
    WS_GATEWAY_URL,
    WEB_URL,
)

TRAEFIK_METRICS_PORT = Variable(
    "EMS_TRAEFIK_METRICS_PORT",
    8082,
    int,
    "Traefik's metrics entry point (Prometheus's format at /metrics), on the "
    "loopback interface only",
)

# -- Prometheus and Alertmanager (`ems prometheus`, `ems alertmanager`) ---------------

PROMETHEUS_PORT = Variable(
    "EMS_PROMETHEUS_PORT",
    9090,
    int,
    "Prometheus's web UI and HTTP API (`ems prometheus`), on the loopback interface",
)
PROMETHEUS_URL = Variable(
    "EMS_PROMETHEUS_URL",
    None,
    str,
    "where the gateway asks Prometheus's HTTP API for the operations page "
    "(default http://127.0.0.1:EMS_PROMETHEUS_PORT)",
)
SCRAPE_INTERVAL = Variable(
    "EMS_SCRAPE_INTERVAL",
    "15s",
    str,
    "how often Prometheus reads every process's metrics and judges the alerting "
    "rules (a Prometheus duration: 15s, 1m)",
)
ALERT_FOR = Variable(
    "EMS_ALERT_FOR",
    "1m",
    str,
    "how long an alerting rule's condition must hold before its alert fires (a "
    "Prometheus duration)",
)
RABBIT_METRICS_URL = Variable(
    "EMS_RABBIT_METRICS_URL",
    "http://127.0.0.1:15692",
    str,
    "RabbitMQ's own metrics (the rabbitmq_prometheus plugin), which Prometheus reads",
)
POSTGRES_EXPORTER_PORT = Variable(
    "EMS_POSTGRES_EXPORTER_PORT",
    9187,
    int,
    "PostgreSQL's metrics (`ems postgres-exporter`), on the loopback interface, "
    "which Prometheus reads",
)
ALERTMANAGER_PORT = Variable(
    "EMS_ALERTMANAGER_PORT",
    9093,
    int,
    "Alertmanager's web UI and HTTP API (`ems alertmanager`), on the loopback "
    "interface; Prometheus sends it the alerts that fire",
)
ALERT_EMAIL = Variable(
    "EMS_ALERT_EMAIL",
    None,
    str,
    "who Alertmanager e-mails the alerts to, through EMS_SMTP_HOST "
    "(default the ADMIN's address, EMS_ADMIN_EMAIL)",
)

# -- auth ------------------------------------------------------------------------------

LOGIN_MAX_FAILURES = Variable(
    "EMS_LOGIN_MAX_FAILURES",
    5,
    int,
    "failed logins allowed per client and e-mail address within the window",
)
LOGIN_MAX_FAILURES_PER_CLIENT = Variable(
    "EMS_LOGIN_MAX_FAILURES_PER_CLIENT",
    20,
    int,
    "failed logins allowed per client address, whatever the e-mail (password spraying)",
)
LOGIN_WINDOW_SECONDS = Variable(
    "EMS_LOGIN_WINDOW_SECONDS", 300, int, "the window of failed logins, seconds"
)
REGISTER_MAX_PER_CLIENT = Variable(
    "EMS_REGISTER_MAX_PER_CLIENT",
    10,
    int,
    "registrations allowed per client address within the window",
)
REGISTER_WINDOW_SECONDS = Variable(
    "EMS_REGISTER_WINDOW_SECONDS", 3600, int, "the window of registrations, seconds"
)
HASHING_THREADS = Variable(
    "EMS_HASHING_THREADS",
    2,
    int,
    "Argon2id hashes an auth process runs at once (OS threads); keep threads + "
    "max_waiting below EMS_MAX_WORKERS",
)
HASHING_MAX_WAITING = Variable(
    "EMS_HASHING_MAX_WAITING",
    6,
    int,
    "logins that may wait for a hash; more are refused with 503 so they never hold "
    "the workers ForwardAuth needs",
)
HASHING_NICENESS = Variable(
    "EMS_HASHING_NICENESS",
    10,
    int,
    "how much nicer (lower CPU priority) the hashing threads run than the rest (0-19)",
)

# -- devices ---------------------------------------------------------------------------

DEFAULT_MAX_HOURLY_KWH = Variable(
    "APP_OVER_LIMIT_KWH",
    0.5,
    number,
    "hourly limit of a device created without one, kWh",
)
MAX_DEVICES_PER_USER = Variable(
    "EMS_MAX_DEVICES_PER_USER",
    100,
    int,
    "devices one user may own; creating one more answers 409",
)

TIMEZONE = Variable(
    "EMS_TIMEZONE",
    "UTC",
    str,
    "the time zone (IANA name) of a site created without one, default sites too",
)

# -- monitoring and its ingest workers -------------------------------------------------

DEAD_LETTERS_KEPT = Variable(
    "EMS_DEAD_LETTERS_KEPT",
    10000,
    int,
    "dead letters monitoring keeps for ADMIN to list, replay or purge (the newest)",
)
INGEST_QUEUE = Variable(
    "EMS_INGEST_QUEUE",
    "monitoring.ingest.1",
    str,
    "the ingest queue a worker consumes; one process per queue (and more per "
    "queue to share it)",
)
BATCH_SIZE = Variable("EMS_BATCH_SIZE", 200, int, "readings per transaction")
BATCH_WAIT = Variable(
    "EMS_BATCH_WAIT", 0.05, number, "seconds a batch waits to fill up"
)
INGEST_PREFETCH = Variable(
    "EMS_INGEST_PREFETCH", 1000, int, "readings a worker holds unacknowledged"
)
MAX_READING_KWH = Variable(
    "EMS_MAX_READING_KWH", 100, number, "a single reading above this is refused"
)
BACKFILL_DAYS = Variable(
    "EMS_BACKFILL_DAYS",
    45,
    number,
    "readings stamped more than this many days ago are refused (DR baselines look "
    "back 30 days)",
)
READINGS_RETENTION_DAYS = Variable(
    "EMS_READINGS_RETENTION_DAYS",
    90,
    number,
    "raw readings are kept this many days (whole UTC days), hourly totals forever; "
    "the ingest refuses readings older than this less a day, if that is shorter "
    "than EMS_BACKFILL_DAYS",
)
MAX_AHEAD_SECONDS = Variable(
    "EMS_MAX_AHEAD_SECONDS",
    300,
    number,
    "readings stamped more than this many seconds ahead are refused",
)
OFFLINE_AFTER_INTERVALS = Variable(
    "EMS_OFFLINE_AFTER_INTERVALS",
    3,
    int,
    "a device silent for this many of its reading intervals (and the grace) is offline",
)
OFFLINE_GRACE_SECONDS = Variable(
    "EMS_OFFLINE_GRACE_SECONDS",
    30,
    number,
    "seconds added to that silence, for a reading's way through the platform",
)
STATUS_CHECK_SECONDS = Variable(
    "EMS_STATUS_CHECK_SECONDS",
    10,
    number,
    "seconds between monitoring's checks for devices gone silent",
)

# -- alarms ----------------------------------------------------------------------------

ALARM_EVALUATE_SECONDS = Variable(
    "EMS_ALARM_EVALUATE_SECONDS",
    10,
    number,
    "seconds between rounds of the alarm rules: how late an alarm is raised or "
    "cleared at most, beyond its rule's own minutes",
)
ALARM_NOTIFY_SECONDS = Variable(
    "EMS_ALARM_NOTIFY_SECONDS",
    60,
    number,
    "seconds between looks for alarm e-mail held through quiet hours and digests due",
)

WEATHER_URL = Variable(
    "EMS_WEATHER_URL",
    None,
    str,
    "a weather API answering as Open-Meteo's forecast API does "
    "(https://api.open-meteo.com/v1/forecast): its hourly cloud cover scales "
    "generation forecasts; unset, they use none",
)
WEATHER_TIMEOUT = Variable(
    "EMS_WEATHER_TIMEOUT",
    5,
    number,
    "seconds the weather API has to answer before a generation forecast goes on "
    "without it",
)

# -- support ---------------------------------------------------------------------------

OPENAI_API_KEY = Variable(
    "OPENAI_API_KEY",
    None,
    str,
    "the support chat's AI fallback, any OpenAI-compatible chat API; without a key "
    "there is none and unanswered questions go straight to staff",
    secret=True,
)
OPENAI_BASE_URL = Variable(
    "OPENAI_BASE_URL", "https://api.openai.com/v1", str, "that API's address"
)
SUPPORT_AI_MODEL = Variable("SUPPORT_AI_MODEL", "gpt-4o-mini", str, "its model")
SUPPORT_AI_TIMEOUT = Variable(
    "SUPPORT_AI_TIMEOUT",
    10,
    number,
    "seconds the model may take before the question goes to staff (keep below "
    "EMS_SUPPORT_RPC_TIMEOUT)",
)
SUPPORT_AI_HISTORY = Variable(
    "SUPPORT_AI_HISTORY",
    10,
    int,
    "how many of the conversation's last messages the model sees with a question",
)
SUPPORT_MAX_MESSAGES_PER_MINUTE = Variable(
    "SUPPORT_MAX_MESSAGES_PER_MINUTE",
    10,
    int,
    "messages one user may send in any minute; more answer 429",
)
SUPPORT_MAX_AI_CALLS_PER_HOUR = Variable(
    "SUPPORT_MAX_AI_CALLS_PER_HOUR",
    30,
    int,
    "questions of one user put to the model in any hour; past that they go to staff",
)

# -- batteries -------------------------------------------------------------------------

BATTERY_CONTROL_INTERVAL = Variable(
    "EMS_BATTERY_CONTROL_INTERVAL_S",
    900,
    number,
    "seconds of a control interval: a battery in auto mode gets its plan's "
    "setpoint once each",
)
BATTERY_PLAN_STEP = Variable(
    "EMS_BATTERY_PLAN_STEP_S",
    3600,
    number,
    "seconds of a step of an auto battery's plan: one hour of its hourly prices",
)
BATTERY_DRIFT_FRACTION = Variable(
    "EMS_BATTERY_DRIFT_FRACTION",
    0.05,
    number,
    "an auto battery's plan is worked out again when the reported charge is this "
    "far (a fraction of its capacity) from the plan's",
)
BATTERY_OVERRIDE_MINUTES = Variable(
    "EMS_BATTERY_OVERRIDE_MINUTES",
    60,
    number,
    "minutes a manual command holds a battery in auto mode, unless it says",
)

# -- DR --------------------------------------------------------------------------------

DR_BATTERIES_RPC_TIMEOUT = Variable(
    "EMS_DR_BATTERIES_RPC_TIMEOUT",
    2,
    number,
    "seconds DR waits for batteries, whose headroom flexibility shows as "
    "unavailable rather than wait for it",
)
DR_SETTLE_DELAY = Variable(
    "EMS_DR_SETTLE_DELAY",
    60,
    number,
    "minutes after a DR event's end before its results are settled for good",
)

# -- trading ---------------------------------------------------------------------------

TRADING_PENALTY_FACTOR = Variable(
    "EMS_TRADING_PENALTY_FACTOR",
    1.5,
    number,
    "times the trade price a seller pays per kWh sold but not delivered, to the "
    "buyers of that hour",
)
TRADING_SETTLE_DELAY = Variable(
    "EMS_TRADING_SETTLE_DELAY",
    15,
    number,
    "minutes after a delivery hour ends before the timer settles it",
)
TRADING_DAYS_AHEAD = Variable(
    "EMS_TRADING_DAYS_AHEAD", 7, int, "how far ahead an order's delivery hour may be"
)
MAX_OPEN_ORDERS_PER_USER = Variable(
    "EMS_MAX_OPEN_ORDERS_PER_USER",
    100,
    int,
    "open orders one user may have at once; one more answers 409",
)

# -- the gateway -----------------------------------------------------------------------

SUPPORT_RPC_TIMEOUT = Variable(
    "EMS_SUPPORT_RPC_TIMEOUT",
    20,
    number,
    "seconds the gateway waits for support, which may wait for the AI fallback",
)

# -- the balancer ----------------------------------------------------------------------

BALANCER_TARGETS = Variable(
    "EMS_BALANCER_TARGETS",
    "monitoring.ingest.1,monitoring.ingest.2",
    str,
    "the ingest queues the balancer feeds, comma-separated; each gets every n-th "
    "reading",
)
BALANCER_PREFETCH = Variable(
    "EMS_BALANCER_PREFETCH",
    500,
    int,
    "readings in flight at once (unacked on balancer.raw, unconfirmed on the way)",
)
BALANCER_STATS_INTERVAL = Variable(
    "EMS_BALANCER_STATS_INTERVAL",
    30,
    number,
    "seconds between two log lines of the counters",
)
BALANCER_SHUTDOWN_TIMEOUT = Variable(
    "EMS_BALANCER_SHUTDOWN_TIMEOUT",
    5,
    number,
    "seconds a stop waits for the broker to confirm what is on its way",
)

# -- ws_gateway ------------------------------------------------------------------------

WS_SESSION_RECHECK_INTERVAL = Variable(
    "EMS_WS_SESSION_RECHECK_INTERVAL",
    60,
    number,
    "seconds between ws_gateway's re-checks of its open sockets with auth, so that "
    "a missed session.ended cannot keep one open (0: off)",
)
WS_ALLOWED_ORIGINS = Variable(
    "EMS_WS_ALLOWED_ORIGINS",
    "http://app.localhost:8080,http://localhost:8080",
    str,
    "origins whose pages may open /ws, comma-separated; clients sending no Origin "
    "(not browsers) are let through",
)
WS_PING_INTERVAL = Variable(
    "EMS_WS_PING_INTERVAL", 20, number, "seconds between pings of a socket"
)
WS_PING_TIMEOUT = Variable(
    "EMS_WS_PING_TIMEOUT",
    20,
    number,
    "seconds a pong may take before the socket is dropped (Tornado caps it at the "
    "interval)",
)
WS_MAX_PENDING = Variable(
    "EMS_WS_MAX_PENDING",
    256,
    int,
    "unflushed messages a socket may have before it is dropped as too slow",
)
WS_MAX_SOCKETS_PER_USER = Variable(
    "EMS_WS_MAX_SOCKETS_PER_USER",
    10,
    int,
    "sockets one user may hold on one ws_gateway process; more are refused with 429",
)

# -- the simulator ---------------------------------------------------------------------

API_URL = Variable(
    "EMS_API_URL",
    None,
    str,
    "the API as the simulator and `ems bootstrap` reach it; "
    "http://127.0.0.1:<EMS_HTTP_PORT> if unset",
)
SIMULATOR_PASSWORD = Variable(
    "EMS_SIMULATOR_PASSWORD",
    None,
    str,
    "the password of `ems simulate --email`, kept off the command line",
    secret=True,
)
SIMULATOR_SPIKE_PROBABILITY = Variable(
    "EMS_SIMULATOR_SPIKE_PROBABILITY",
    0.01,
    number,
    "chance that a simulated reading is a spike above its device's limit",
)
SIMULATOR_SEED = Variable(
    "EMS_SIMULATOR_SEED",
    None,
    int,
    "seed of the load profiles; a new one per run (printed) if unset",
)
DEMO_HISTORY_DAYS = Variable(
    "EMS_DEMO_HISTORY_DAYS",
    60,
    number,
    "days of hourly history `ems simulate --demo` sends for each demo device before "
    "going live, unless --history says; 0 sends none (the ingest takes readings up "
    "to EMS_BACKFILL_DAYS old)",
)
SIMULATOR_LATITUDE = Variable(
    "EMS_SIMULATOR_LATITUDE",
    None,
    number,
    "where simulated PV systems stand, degrees north, if not where the "
    "installation does (`EMS_LATITUDE`)",
)
SIMULATOR_LONGITUDE = Variable(
    "EMS_SIMULATOR_LONGITUDE",
    None,
    number,
    "where simulated PV systems stand, degrees east, if not where the installation "
    "does (`EMS_LONGITUDE`)",
)

#: Every variable declared here, Traefik's included.
ALL = (
    *(value for value in list(globals().values()) if isinstance(value, Variable)),
    *BROKER_LOGINS.values(),
)
