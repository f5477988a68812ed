#!/usr/bin/env bash
# Brings a machine to the point where the platform runs and its tests pass, and is
# safe to run again: installs (apt-get, as root) or starts RabbitMQ and PostgreSQL
# where missing or stopped, configures RabbitMQ (its MQTT listener takes devices'
# readings) from config/rabbitmq/ and enables its metrics, installs Prometheus,
# Alertmanager and PostgreSQL's exporter (not as services), creates the database
# role, builds the virtualenv and the web app. `make up` and `make test` both start with it;
# `--test` (what `make test` passes) also installs Chromium for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

FOR_TESTS=0
for argument in "$@"; do
  case $argument in
    --test) FOR_TESTS=1 ;;
    *) echo "usage: $0 [--test]" >&2; exit 2 ;;
  esac
done

PYTHON=${PYTHON:-python3.11}
VENV=${VENV:-.venv}
PG_ROLE=${EMS_PG_ROLE:-ems}
PG_PASSWORD=${EMS_PG_PASSWORD:-ems}

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  say "installing $*"
  if [ -z "${APT_UPDATED:-}" ]; then
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

wait_for() {  # description, command...
  local what=$1; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  echo "$what did not come up" >&2
  return 1
}

# -- Python ---------------------------------------------------------------------
if ! command -v "$PYTHON" >/dev/null; then
  if python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
    PYTHON=python3
  else
    apt_install python3.11 python3.11-venv
  fi
fi

# jq: the README's examples read the API's answers with it.
command -v jq >/dev/null || apt_install jq

# -- PostgreSQL -----------------------------------------------------------------
if ! command -v pg_lsclusters >/dev/null; then
  apt_install postgresql
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  say "starting PostgreSQL"
  for version in $(ls /etc/postgresql); do
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  done
  wait_for PostgreSQL pg_isready -q -h 127.0.0.1 -p 5432
fi
psql_admin() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- psql -qtA "$@"
  else
    psql -h 127.0.0.1 -U postgres -qtA "$@"
  fi
}
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$PG_ROLE'")" != "1" ]; then
  say "creating database role $PG_ROLE"
  psql_admin -c "CREATE ROLE $PG_ROLE LOGIN CREATEDB PASSWORD '$PG_PASSWORD'"
fi

# -- RabbitMQ -------------------------------------------------------------------
if ! command -v rabbitmq-server >/dev/null; then
  apt_install rabbitmq-server
fi
if ! as_root rabbitmqctl -q status >/dev/null 2>&1; then
  say "starting RabbitMQ"
  as_root rabbitmq-server -detached
  wait_for RabbitMQ as_root rabbitmqctl -q await_startup
fi
# The platform's broker settings (the MQTT listener) come from the repository. The
# plugins are enabled offline and the broker restarted once, so that the MQTT
# listener never starts without them (on the default port, which may be taken).
rabbit_conf=/etc/rabbitmq/conf.d/50-ems.conf
rabbit_restart=0
if ! as_root cmp -s config/rabbitmq/ems.conf "$rabbit_conf"; then
  say "installing RabbitMQ's settings as $rabbit_conf"
  as_root install -D -m 644 config/rabbitmq/ems.conf "$rabbit_conf"
  rabbit_restart=1
fi
# The management API keeps devices' broker users and gives the tests a throw-away
# virtual host per run; the MQTT plugin takes devices' MQTT.
for plugin in rabbitmq_management rabbitmq_mqtt; do
  if ! as_root rabbitmq-plugins -q is_enabled "$plugin" >/dev/null 2>&1; then
    say "enabling the RabbitMQ plugin $plugin"
    as_root rabbitmq-plugins -q enable --offline "$plugin" >/dev/null
    rabbit_restart=1
  fi
done
mqtt_port=$(sed -n 's/^mqtt.listeners.tcp.default = .*:\([0-9]*\)$/\1/p' config/rabbitmq/ems.conf)
if [ "$rabbit_restart" = 1 ] || ! (exec 3<>"/dev/tcp/127.0.0.1/$mqtt_port") 2>/dev/null; then
  say "restarting RabbitMQ to apply its settings"
  as_root rabbitmqctl -q stop >/dev/null 2>&1 || true
  wait_for "RabbitMQ to stop" bash -c "! rabbitmqctl -q status"
  as_root rabbitmq-server -detached
  wait_for RabbitMQ as_root rabbitmqctl -q await_startup
fi
wait_for "RabbitMQ's MQTT listener" bash -c "(exec 3<>/dev/tcp/127.0.0.1/$mqtt_port)"
wait_for "RabbitMQ management API" \
  curl -sf -u guest:guest http://127.0.0.1:15672/api/overview
# RabbitMQ's own metrics for Prometheus (rabbitmq_prometheus, port 15692; the
# platform's queues one by one at /metrics/detailed), enabled on the running node:
# it needs no restart.
if ! as_root rabbitmq-plugins -q is_enabled rabbitmq_prometheus >/dev/null 2>&1; then
  say "enabling the RabbitMQ plugin rabbitmq_prometheus"
  as_root rabbitmq-plugins -q enable rabbitmq_prometheus >/dev/null
fi
wait_for "RabbitMQ's metrics" curl -sf -o /dev/null http://127.0.0.1:15692/metrics

# -- Prometheus, Alertmanager, PostgreSQL's exporter ------------------------------
# Debian's, which `ems prometheus`, `ems alertmanager` and `ems postgres-exporter`
# run with the installation's own configuration (promtool, of Prometheus's package,
# checks the rules in the tests). Never the machine's services: where a package
# starts its own (Prometheus on 9090, Alertmanager on 9093, the exporter on 9187),
# it is stopped and disabled.
monitoring_packages=(prometheus prometheus-alertmanager prometheus-postgres-exporter)
if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null \
   || ! command -v prometheus-alertmanager >/dev/null \
   || ! command -v prometheus-postgres-exporter >/dev/null; then
  apt_install --no-install-recommends "${monitoring_packages[@]}"
  for unit in "${monitoring_packages[@]}"; do
    if [ -d /run/systemd/system ]; then
      as_root systemctl disable --now "$unit" >/dev/null 2>&1 || true
    elif [ -x "/etc/init.d/$unit" ]; then
      as_root "/etc/init.d/$unit" stop >/dev/null 2>&1 || true
      as_root update-rc.d "$unit" disable >/dev/null 2>&1 || true
    fi
  done
fi

# -- virtualenv -----------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
  say "creating the virtualenv in $VENV"
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.installed"
if [ ! -f "$stamp" ] || [ setup.cfg -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  say "installing the platform and its test tools"
  "$VENV/bin/pip" install -q --upgrade pip "setuptools<81" wheel
  "$VENV/bin/pip" install -q -e ".[test]"
  touch "$stamp"
fi

# -- web app ----------------------------------------------------------------------
# Node.js from the machine (or Debian's packages); the app's libraries and its
# build tool from the npm registry, as web/package-lock.json pins them.
node_ok() {
  node -e 'const [a, b] = process.versions.node.split(".").map(Number);
           process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' 2>/dev/null
}
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  apt_install nodejs npm
fi
if ! node_ok; then
  echo "the web app needs Node.js 20.19 or newer; this machine has $(node --version)." >&2
  echo "install a newer one (https://nodejs.org/en/download) and run this again." >&2
  exit 1
fi
if [ ! -f web/node_modules/.package-lock.json ] \
   || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  say "installing the web app's packages"
  npm --prefix web ci --no-audit --no-fund --loglevel=error
fi
if [ ! -f web/dist/index.html ] \
   || [ -n "$(find web/src web/public web/index.html web/vite.config.js web/package-lock.json \
                -newer web/dist/index.html -print -quit)" ]; then
  say "building the web app"
  npm --prefix web run build --silent >/dev/null
fi

# maildev, the development SMTP server and inbox (`ems maildev`), as
# tools/maildev/package-lock.json pins it.
if [ ! -f tools/maildev/node_modules/.package-lock.json ] \
   || [ tools/maildev/package-lock.json -nt tools/maildev/node_modules/.package-lock.json ]; then
  say "installing maildev"
  npm --prefix tools/maildev ci --no-audit --no-fund --loglevel=error
fi

# -- Chromium, for the browser tests ----------------------------------------------
if [ "$FOR_TESTS" = 1 ] && [ ! -x "${EMS_CHROMIUM:-/usr/bin/chromium}" ]; then
  apt_install chromium
fi
