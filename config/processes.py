"""What each process gets: its settings as a template over ``config.variables``,
assembled from the blocks processes share (a broker login, a database, the token
check, logging). ``config.settings`` reads a template against the environment."""

from config import variables as v
from config.environment import Derived

#: Each service's database, in the order ``ems prepare`` creates and migrates them.
DATABASES = {
    "auth": "authdb",
    "users": "userdb",
    "devices": "devicedb",
    "monitoring": "monitoringdb",
    "monitoring_worker": "monitoringdb",
    "support": "supportdb",
    "batteries": "batterydb",
    "dr": "drdb",
    "trading": "tradingdb",
    "alarms": "alarmdb",
    "audit": "auditdb",
}
#: What a Nameko service's workers remember of the calls that led to theirs.
PARENT_CALLS_TRACKED = 10


def broker_login(process: str) -> dict:
    """The process's own broker user (``ems/broker.py``; var/broker.env)."""
    return {"AMQP_URI": v.BROKER_LOGINS[process]}


def database_url(database: str) -> Derived:
    """The URL of ``database`` on the server, its name after the installation's
    prefix."""
    return Derived(
        lambda server, prefix: f"{server}/{prefix or ''}{database}",
        (v.PG_URL, v.DB_PREFIX),
    )


#: What a process needs to verify a token; auth also signs them.
TOKEN_CHECK = {
    "public_key_file": v.JWT_PUBLIC_KEY,
    "issuer": v.JWT_ISSUER,
    "audience": v.JWT_AUDIENCE,
}
#: A plain log line; ``correlation_id`` is the request's id, ``-`` if none
#: (``services/common/tracing.py``).
PLAIN_LOG_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s]: %(message)s"
)
#: The class that hosts each Nameko service: its workers know their correlation id.
CONTAINER_CLASS = "services.common.container.TracingContainer"


def logging_settings(process: str) -> dict:
    """``logging.config.dictConfig`` of a process (``ems run`` and the pika and
    Tornado processes apply it): every line with its correlation id, plain or one
    JSON object (``EMS_LOG_FORMAT``); the latest errors kept for ``/errors``."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "correlation": {
                "()": "services.common.tracing.CorrelationFilter",
                "process": process,
            },
            "probes": {"()": "services.common.tracing.QuietProbes"},
            "expected": {"()": "services.common.tracing.BriefExpectedErrors"},
        },
        "formatters": {
            "plain": {"format": PLAIN_LOG_FORMAT},
            "json": {"()": "services.common.tracing.JsonFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": v.LOG_FORMAT,
                "filters": ["correlation", "probes", "expected"],
            },
            # The latest errors, which the metrics server answers at /errors.
            "recent": {
                "()": "services.common.tracing.RecentErrors",
                "level": "ERROR",
                "filters": ["correlation", "expected"],
            },
        },
        "root": {"level": v.LOG_LEVEL, "handlers": ["console", "recent"]},
    }


#: Where processes write their Prometheus target files and Prometheus reads them.
METRICS_TARGETS_DIR = Derived(
    lambda directory, var: directory or f"{var}/metrics",
    (v.METRICS_TARGETS_DIR, v.VAR_DIR),
)


def process_name(program: str, honcho: str | None) -> str:
    """A process's name by honcho's (``devices.2``): the program's for the first
    of its processes, ``devices_2`` for the second, and so on."""
    number = (honcho or "").rpartition(".")[2]
    if number.isdigit() and int(number) > 1:
        return f"{program}_{number}"
    return program


def metrics(program: str) -> dict:
    """Where a process serves ``/metrics``, ``/livez`` and ``/readyz``, and the
    Prometheus target file it writes there (``services/common/metrics.py``)."""
    return {
        "METRICS": {
            "host": v.METRICS_HOST,
            "port": v.METRICS_PORT,
            "targets_dir": METRICS_TARGETS_DIR,
            # The Procfile's name for a program run twice (monitoring_worker_1).
            "process": Derived(
                lambda name, honcho: name or process_name(program, honcho),
                (v.PROCESS_NAME, v.HONCHO_PROCESS_NAME),
            ),
            "program": program,
        }
    }


def service(process: str, **own) -> dict:
    """A Nameko service process: its broker login and workers, its database if it
    has one, the token check and logging; then what is its own."""
    return {
        **broker_login(process),
        "max_workers": v.MAX_WORKERS,
        "parent_calls_tracked": PARENT_CALLS_TRACKED,
        **(
            {"DATABASE_URL": database_url(DATABASES[process])}
            if process in DATABASES
            else {}
        ),
        "JWT": TOKEN_CHECK,
        "LOGGING": logging_settings(process),
        "SERVICE_CONTAINER_CLS": CONTAINER_CLASS,
        **metrics(process),
        **own,
    }


def _own_or(own, installation):
    """A process's own value of a setting if it has one, else the installation's."""
    return installation if own is None else own


#: The web app's address in the links the platform e-mails.
PUBLIC_URL = Derived(
    lambda url, port: (url or f"http://app.localhost:{port}").rstrip("/"),
    (v.PUBLIC_URL, v.HTTP_PORT),
)


#: Traefik's metrics entry point, never routed: Prometheus reads it on the loopback.
TRAEFIK_METRICS_ADDRESS = Derived(
    lambda port: f"127.0.0.1:{port}", (v.TRAEFIK_METRICS_PORT,)
)


#: Every process's settings, by the name ``config.settings`` and ``ems run`` take.
PROCESSES = {
    # The installation, as the ``ems`` commands (prepare, bootstrap, traefik,
    # dead-letters) and the test harness see it.
    "common": {
        # ``ems prepare`` makes the virtual host and each process's user with the
        # administrator, which itself gets no permission in that virtual host.
        "AMQP_URI": v.AMQP_ADMIN,
        "RABBIT_MANAGEMENT_URI": v.RABBIT_MANAGEMENT_URI,
        "VHOST": v.VHOST,
        "AMQP_URI_PREPARE": v.BROKER_LOGINS["prepare"],
        "AMQP_URI_COMMAND": v.BROKER_LOGINS["command"],
        "PG_URL": v.PG_URL,
        "DB_PREFIX": v.DB_PREFIX,
        "DATABASES": list(dict.fromkeys(DATABASES.values())),
        "DEAD_LETTERS": {
            "queue_max_length": v.DEAD_QUEUE_MAX_LENGTH,
            "queue_max_bytes": v.DEAD_QUEUE_MAX_BYTES,
        },
        "HTTP_PORT": v.HTTP_PORT,
        "VAR_DIR": v.VAR_DIR,
        "JWT": {"private_key_file": v.JWT_PRIVATE_KEY, **TOKEN_CHECK},
        "ADMIN": {
            "email": v.ADMIN_EMAIL,
            "password": v.ADMIN_PASSWORD,
            "name": v.ADMIN_NAME,
        },
        "DEMO": {
            "enabled": v.DEMO,
            "email": v.DEMO_EMAIL,
            "password": v.DEMO_PASSWORD,
            "name": v.DEMO_NAME,
        },
        "NEIGHBOUR": {
            "email": v.NEIGHBOUR_EMAIL,
            "password": v.NEIGHBOUR_PASSWORD,
            "name": v.NEIGHBOUR_NAME,
        },
    },
    "auth": service(
        "auth",
        WEB_SERVER_ADDRESS=v.AUTH_ADDRESS,
        JWT={
            "private_key_file": v.JWT_PRIVATE_KEY,
            "ttl_seconds": v.TOKEN_TTL,
            **TOKEN_CHECK,
        },
        LOGIN_RATE_LIMIT={
            "max_failures": v.LOGIN_MAX_FAILURES,
            "max_failures_per_client": v.LOGIN_MAX_FAILURES_PER_CLIENT,
            "window_seconds": v.LOGIN_WINDOW_SECONDS,
        },
        REGISTRATION_RATE_LIMIT={
            "max_per_client": v.REGISTER_MAX_PER_CLIENT,
            "window_seconds": v.REGISTER_WINDOW_SECONDS,
        },
        PASSWORD_HASHING={
            "threads": v.HASHING_THREADS,
            "max_waiting": v.HASHING_MAX_WAITING,
            "niceness": v.HASHING_NICENESS,
        },
        # The links of password resets, e-mail changes and sign-up confirmations.
        ACCOUNT_LINKS={
            "public_url": PUBLIC_URL,
            "ttl_minutes": v.PASSWORD_RESET_TTL_MINUTES,
        },
        SIGNUP_VERIFICATION=v.SIGNUP_VERIFICATION,
    ),
    "users": service("users"),
    # Stores the audit log's records (``audit.records``) and lists them to ADMIN.
    "audit": service("audit"),
    # Sends the e-mail queued on ``mail.outbox`` through the SMTP server.
    "mail": service(
        "mail",
        SMTP={
            "host": v.SMTP_HOST,
            "port": v.SMTP_PORT,
            "user": v.SMTP_USER,
            "password": v.SMTP_PASSWORD,
            "starttls": v.SMTP_STARTTLS,
            "timeout": v.SMTP_TIMEOUT,
        },
        MAIL={
            "from": v.MAIL_FROM,
            "retry_first_seconds": v.MAIL_RETRY_FIRST_SECONDS,
            "retry_max_seconds": v.MAIL_RETRY_MAX_SECONDS,
        },
        # E-mail goes out a little at a time; while the server is down, each
        # of two workers holds one e-mail through its wait, and the third answers
        # the health check.
        max_workers=3,
    ),
    # Rules, the alarms they raise, and who is told (in the app, by e-mail).
    "alarms": service(
        "alarms",
        # Monitoring, batteries, devices and users, asked in each round.
        RPC_TIMEOUT=v.RPC_TIMEOUT,
        EVALUATE_SECONDS=v.ALARM_EVALUATE_SECONDS,
        NOTIFY_SECONDS=v.ALARM_NOTIFY_SECONDS,
        # The link to the alarms page in the e-mail.
        PUBLIC_URL=PUBLIC_URL,
    ),
    "devices": service(
        "devices",
        # Asked of trading when a device's kind changes.
        RPC_TIMEOUT=v.RPC_TIMEOUT,
        # Devices' broker users are kept through RabbitMQ's management API, and
        # their MQTT logins land in the platform's virtual host (mqtt.vhost in
        # config/rabbitmq/ems.conf).
        RABBIT_MANAGEMENT_URI=v.RABBIT_MANAGEMENT_URI,
        MQTT_PORT=v.MQTT_PORT,
        MQTT_VHOST=v.VHOST,
        DEVICES={
            "default_max_hourly_kwh": v.DEFAULT_MAX_HOURLY_KWH,
            "max_per_user": v.MAX_DEVICES_PER_USER,
            # What a site is given when created without them (default sites too).
            "default_timezone": v.TIMEZONE,
            "default_tariff": {
                "currency": "EUR",
                "import_per_kwh": 0.30,
                "export_per_kwh": 0.08,
                "periods": [],
            },
            "default_co2_kg_per_kwh": 0.4,
        },
    ),
    "monitoring": service(
        "monitoring",
        # A dead letter's body is kept up to the size a message may have; a longer
        # one cannot be replayed.
        DEAD_LETTERS_KEPT=v.DEAD_LETTERS_KEPT,
        DEAD_LETTER_BODY_BYTES=v.MAX_MESSAGE_BYTES,
        OFFLINE_AFTER_INTERVALS=v.OFFLINE_AFTER_INTERVALS,
        OFFLINE_GRACE_SECONDS=v.OFFLINE_GRACE_SECONDS,
        STATUS_CHECK_SECONDS=v.STATUS_CHECK_SECONDS,
        # The readings' partitions are dropped past it.
        READINGS_RETENTION_DAYS=v.READINGS_RETENTION_DAYS,
        FORECAST={
            "latitude": v.LATITUDE,
            "longitude": v.LONGITUDE,
            "weather_url": v.WEATHER_URL,
            "weather_timeout_s": v.WEATHER_TIMEOUT,
        },
    ),
    "monitoring_worker": service(
        "monitoring_worker",
        INGEST_QUEUE=v.INGEST_QUEUE,
        BATCH_SIZE=v.BATCH_SIZE,
        BATCH_WAIT=v.BATCH_WAIT,
        PREFETCH_COUNT=v.INGEST_PREFETCH,
        MAX_READING_KWH=v.MAX_READING_KWH,
        BACKFILL_DAYS=v.BACKFILL_DAYS,
        # Bounds the back-fill window: no reading lands in a partition being dropped.
        READINGS_RETENTION_DAYS=v.READINGS_RETENTION_DAYS,
        MAX_AHEAD_SECONDS=v.MAX_AHEAD_SECONDS,
        # A reading brings its device online only if it is this recent: the
        # status check's rule.
        OFFLINE_AFTER_INTERVALS=v.OFFLINE_AFTER_INTERVALS,
        OFFLINE_GRACE_SECONDS=v.OFFLINE_GRACE_SECONDS,
        MAX_BODY_BYTES=v.MAX_MESSAGE_BYTES,
        RPC_TIMEOUT=v.RPC_TIMEOUT,
    ),
    "support": service(
        "support",
        OPENAI_API_KEY=v.OPENAI_API_KEY,
        OPENAI_BASE_URL=v.OPENAI_BASE_URL,
        SUPPORT={
            "ai_model": v.SUPPORT_AI_MODEL,
            "ai_timeout": v.SUPPORT_AI_TIMEOUT,
            "history_for_ai": v.SUPPORT_AI_HISTORY,
            "max_messages_per_minute": v.SUPPORT_MAX_MESSAGES_PER_MINUTE,
            "max_ai_calls_per_hour": v.SUPPORT_MAX_AI_CALLS_PER_HOUR,
        },
    ),
    "batteries": service(
        "batteries",
        BATTERIES={
            "control_interval_s": v.BATTERY_CONTROL_INTERVAL,
            "plan_step_s": v.BATTERY_PLAN_STEP,
            "drift_fraction": v.BATTERY_DRIFT_FRACTION,
            "override_minutes": v.BATTERY_OVERRIDE_MINUTES,
        },
    ),
    "dr": service(
        "dr",
        # Devices and monitoring; batteries have a shorter wait of their own.
        RPC_TIMEOUT=v.RPC_TIMEOUT,
        BATTERIES_RPC_TIMEOUT=v.DR_BATTERIES_RPC_TIMEOUT,
        RESULTS_SETTLE_DELAY_MINUTES=v.DR_SETTLE_DELAY,
    ),
    "trading": service(
        "trading",
        # Settlement waits this long for monitoring, then retries later.
        RPC_TIMEOUT=v.RPC_TIMEOUT,
        TRADING={
            "penalty_factor": v.TRADING_PENALTY_FACTOR,
            "settle_delay_minutes": v.TRADING_SETTLE_DELAY,
            "days_ahead": v.TRADING_DAYS_AHEAD,
            "max_open_orders_per_user": v.MAX_OPEN_ORDERS_PER_USER,
        },
    ),
    "gateway": service(
        "gateway",
        WEB_SERVER_ADDRESS=v.GATEWAY_ADDRESS,
        MAX_BODY_BYTES=v.MAX_REQUEST_BYTES,
        RPC_TIMEOUT=v.RPC_TIMEOUT,
        SUPPORT_RPC_TIMEOUT=v.SUPPORT_RPC_TIMEOUT,
        # Asked for the operations page's figures (gateway/operations.py).
        PROMETHEUS_URL=Derived(
            lambda url, port: url or f"http://127.0.0.1:{port}",
            (v.PROMETHEUS_URL, v.PROMETHEUS_PORT),
        ),
    ),
    # ``python -m balancer``: balancer.raw to the ingest queues, in turn.
    "balancer": {
        **broker_login("balancer"),
        "TARGETS": v.BALANCER_TARGETS,
        "PREFETCH": v.BALANCER_PREFETCH,
        "STATS_INTERVAL": v.BALANCER_STATS_INTERVAL,
        "SHUTDOWN_TIMEOUT": v.BALANCER_SHUTDOWN_TIMEOUT,
        "MAX_BODY_BYTES": v.MAX_MESSAGE_BYTES,
        "LOG_LEVEL": v.LOG_LEVEL,
        "LOGGING": logging_settings("balancer"),
        **metrics("balancer"),
    },
    # ``python -m ws_gateway``, behind Traefik at /ws.
    "ws_gateway": {
        **broker_login("ws_gateway"),
        "ADDRESS": v.WS_ADDRESS,
        "PORT": v.WS_PORT,
        "AUTH_VERIFY_URL": v.AUTH_VERIFY_URL,
        "AUTH_SESSIONS_URL": v.AUTH_SESSIONS_URL,
        "SESSION_RECHECK_INTERVAL": v.WS_SESSION_RECHECK_INTERVAL,
        "ALLOWED_ORIGINS": v.WS_ALLOWED_ORIGINS,
        "PING_INTERVAL": v.WS_PING_INTERVAL,
        "PING_TIMEOUT": v.WS_PING_TIMEOUT,
        "MAX_PENDING": v.WS_MAX_PENDING,
        "MAX_SOCKETS_PER_USER": v.WS_MAX_SOCKETS_PER_USER,
        # A command a socket sends waits this long for devices (then UNAVAILABLE).
        "RPC_TIMEOUT": v.RPC_TIMEOUT,
        "JWT": TOKEN_CHECK,
        "LOG_LEVEL": v.LOG_LEVEL,
        "LOGGING": logging_settings("ws_gateway"),
        **metrics("ws_gateway"),
    },
    # ``python -m web.server``: the single-page app, behind Traefik.
    "web": {
        "ADDRESS": v.WEB_ADDRESS,
        "PORT": v.WEB_PORT,
        "ROOT": v.WEB_ROOT,
        "LOGGING": logging_settings("web"),
        **metrics("web"),
    },
    # ``ems simulate``, the reading producer.
    "simulator": {
        **broker_login("simulator"),
        "MQTT_HOST": v.MQTT_HOST,
        "MQTT_PORT": v.MQTT_PORT,
        "API_URL": v.API_URL,
        "HTTP_PORT": v.HTTP_PORT,
        "PASSWORD": v.SIMULATOR_PASSWORD,
        "SPIKE_PROBABILITY": v.SIMULATOR_SPIKE_PROBABILITY,
        "SEED": v.SIMULATOR_SEED,
        # The simulated PV systems stand where the installation does, unless told
        # otherwise: their generation is then what the forecasts expect.
        "LATITUDE": Derived(_own_or, (v.SIMULATOR_LATITUDE, v.LATITUDE)),
        "LONGITUDE": Derived(_own_or, (v.SIMULATOR_LONGITUDE, v.LONGITUDE)),
        "DEMO_HISTORY_DAYS": v.DEMO_HISTORY_DAYS,
    },
    # ``ems maildev``: the development SMTP server and its web inbox.
    "maildev": {
        "SMTP_PORT": v.SMTP_PORT,
        "INBOX_PORT": v.MAIL_INBOX_PORT,
        "HTTP_PORT": v.HTTP_PORT,
    },
    # ``ems traefik``: what it sets in traefik/traefik.yml before starting Traefik.
    "traefik": {
        "ADDRESS": Derived(lambda port: f":{port}", (v.HTTP_PORT,)),
        "METRICS_ADDRESS": TRAEFIK_METRICS_ADDRESS,
        "ROUTES": v.TRAEFIK_ROUTES,
        "LOG_LEVEL": v.TRAEFIK_LOG_LEVEL,
    },
    # ``ems prometheus``: what it sets in config/prometheus/ before starting
    # Prometheus; its data is kept in <EMS_VAR_DIR>/prometheus.
    "prometheus": {
        "VAR_DIR": v.VAR_DIR,
        "PORT": v.PROMETHEUS_PORT,
        "SCRAPE_INTERVAL": v.SCRAPE_INTERVAL,
        "ALERT_FOR": v.ALERT_FOR,
        "TARGETS_DIR": METRICS_TARGETS_DIR,
        # Only the platform's virtual host's queues, of the broker's.
        "VHOST": v.VHOST,
        "RABBIT_METRICS_URL": v.RABBIT_METRICS_URL,
        "TRAEFIK_METRICS_ADDRESS": TRAEFIK_METRICS_ADDRESS,
        "ALERTMANAGER_ADDRESS": Derived(
            lambda port: f"127.0.0.1:{port}", (v.ALERTMANAGER_PORT,)
        ),
        "POSTGRES_EXPORTER_ADDRESS": Derived(
            lambda port: f"127.0.0.1:{port}", (v.POSTGRES_EXPORTER_PORT,)
        ),
    },
    # ``ems postgres-exporter``: PostgreSQL's statistics (connections, sizes, by
    # database) for Prometheus, read as the platform's database role.
    "postgres_exporter": {"PG_URL": v.PG_URL, "PORT": v.POSTGRES_EXPORTER_PORT},
    # ``ems alertmanager``: it e-mails the alerts Prometheus sends it, through the
    # SMTP server the mail service sends through (maildev by default).
    "alertmanager": {
        "VAR_DIR": v.VAR_DIR,
        "PORT": v.ALERTMANAGER_PORT,
        "SMTP": {
            "host": v.SMTP_HOST,
            "port": v.SMTP_PORT,
            "user": v.SMTP_USER,
            "password": v.SMTP_PASSWORD,
            "starttls": v.SMTP_STARTTLS,
        },
        "FROM": v.MAIL_FROM,
        "TO": Derived(_own_or, (v.ALERT_EMAIL, v.ADMIN_EMAIL)),
    },
}
