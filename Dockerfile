# syntax=docker/dockerfile:1
# One image for every owstream service; the command picks the service:
#   docker run --rm owstream:local owstream run fetcher      (or processor, scheduler, dashboard)
# compose.yaml builds it and runs one container per service.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin owstream \
    && mkdir /data && chown owstream:owstream /data

WORKDIR /app
# Dependencies are pinned by the constraints file at the repository root; the PostgreSQL driver is
# included so OWSTREAM_STORE_URL=postgresql+psycopg://... works without rebuilding.
COPY constraints.txt pyproject.toml README.md ./
COPY src ./src
RUN pip install --constraint constraints.txt ".[postgres]" \
    && rm -rf /app/src /root/.cache

USER owstream
# OWSTREAM_HOME holds the SQLite store by default: mount a volume at /data.
# Inside a container the dashboard must listen on every interface; publish the port on 127.0.0.1 only
# (compose.yaml does) and put a TLS reverse proxy in front of it (docs/deploy.md).
ENV OWSTREAM_HOME=/data \
    OWSTREAM_DASHBOARD_ADDRESS=0.0.0.0 \
    OWSTREAM_DASHBOARD_PORT=8501
VOLUME ["/data"]
EXPOSE 8501

# Streamlit's own health endpoint. Only the dashboard serves HTTP: compose.yaml gives the other services
# their own check or none.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/_stcore/health' % os.environ.get('OWSTREAM_DASHBOARD_PORT', '8501'), timeout=4)"]

CMD ["owstream", "run", "dashboard"]
