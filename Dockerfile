# The image behind every service of docker-compose.yml: web (gunicorn), worker, beat.
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    PATH=/opt/venv/bin:$PATH

RUN pip install --no-cache-dir uv==0.13.8 \
    && useradd --system --create-home --home-dir /home/acs acs

WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

COPY . .
# collectstatic reads settings only: it needs no database or Redis, just well-formed URLs.
RUN ACS_ENVIRONMENT=production SECRET_KEY=build-only-not-secret-0123456789abcdefghijklmnopqrstuvwxyz \
    DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    STATIC_ROOT=/app/staticfiles python manage.py collectstatic --noinput \
    && mkdir -p /app/.local/exports && chown -R acs:acs /app/.local

USER acs
EXPOSE 8000
CMD ["gunicorn", "-c", "python:acs.gunicorn_conf", "acs.wsgi"]
