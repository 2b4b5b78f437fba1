# The image behind every service of docker-compose.yml: web (gunicorn), workers, beat.
# Two stages: `build` installs the locked run-time dependencies (uv sync --no-dev: no test tools,
# no embedded PostgreSQL) and collects the static files; `runtime` gets only the virtual
# environment and the application, runs as a numeric non-root user, and carries pg_dump and
# pg_restore for `manage.py backup` / `restore` (docs/operations.md, Backups).
# Python 3.11: the version development and CI run (pyproject's requires-python, .ci/run).
# Lint: hadolint (tests/acs/test_image.py). Build steps exercised without a Docker daemon:
# the same test runs the install and collectstatic steps in a scratch folder.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PYTHONDONTWRITEBYTECODE=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
# collectstatic reads settings only: it needs no database or Redis, just well-formed URLs.
RUN ACS_ENVIRONMENT=production SECRET_KEY=build-only-not-secret-0123456789abcdefghijklmnopqrstuvwxyz \
    DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    STATIC_ROOT=/app/staticfiles /opt/venv/bin/python manage.py collectstatic --noinput

FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH
# pg_dump/pg_restore 15, Debian bookworm's (the major version CI and compose run). The exact
# Debian revision is not pinned: security updates replace it in the archive, and an old pin
# would stop the image from building; the base image's digest pins the rest.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 acs \
    && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/acs acs
COPY --from=build /opt/venv /opt/venv
# The code and static files stay root-owned (read-only to the service); only .local, where
# export files and the beat schedule go, is the service's.
COPY --from=build /app /app
WORKDIR /app
RUN mkdir -p /app/.local/exports && chown -R 10001:10001 /app/.local
USER 10001:10001
EXPOSE 8000
# The web process's liveness (acs/probe.py: GET /healthz/live on this container's gunicorn; no
# restart for a database outage). docker-compose.yml's web asks /healthz/ready; its worker and
# beat services replace it with `manage.py worker_health`.
HEALTHCHECK --interval=15s --timeout=10s --start-period=30s --retries=5 \
    CMD ["python", "-m", "acs.probe"]
CMD ["gunicorn", "-c", "python:acs.gunicorn_conf", "acs.wsgi"]
