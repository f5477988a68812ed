# One image for every Python process of EMS: the Nameko services (auth, users,
# devices, gateway), the web app's server, and the `ems` CLI (prepare, bootstrap).
# docker-compose.yml picks the process with `command:`; see that file to run it.
#
#   docker build -t ems .
#   docker run --rm ems ems --help

# The web app, built with Node.js; only its output (web/dist) goes into the image.
FROM node:22-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/index.html web/vite.config.js ./
COPY web/public ./public
COPY web/src ./src
RUN npm run build

FROM python:3.11-slim

# PYTHONPATH=/app: the processes import the repository copy in /app rather than the
# copy `pip install .` puts in site-packages, because config.ROOT_DIR (the folder
# above config/) must be /app, where alembic.ini, migrations/, traefik/ and
# web/dist are; the installed package provides the `ems` script and every
# dependency.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --system --user-group --uid 10001 --create-home --home-dir /home/ems \
        --shell /usr/sbin/nologin ems

WORKDIR /app

# The dependencies first, from setup.cfg alone, so that a change to the code does
# not reinstall them.
COPY setup.cfg pyproject.toml ./
RUN python -c "import configparser; c = configparser.ConfigParser(); \
c.read('setup.cfg'); print(c['options']['install_requires'])" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Then the package itself (.dockerignore says what stays out). The code belongs to
# root and is only read by the processes; var/ is the one folder they write, where
# docker-compose.yml mounts the `keys` volume (a new volume takes this folder's
# owner, so the non-root user can write into it).
COPY . .
COPY --from=web /web/dist ./web/dist
RUN pip install . \
    && rm -rf build ./*.egg-info \
    && python -m compileall -q /app \
    && mkdir -p /app/var \
    && chown ems:ems /app/var

USER ems

# gateway, auth (HTTP and ForwardAuth), web
EXPOSE 8000 8001 8003

CMD ["ems", "--help"]
