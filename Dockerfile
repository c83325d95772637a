# One image for every owstream service; the command picks the service:
#   docker run --rm owstream:local owstream run fetcher      (or processor, scheduler, meta, notifier, dashboard)
# compose.yaml builds it once (the dashboard service) and runs one container per service.

# --- build: a virtual environment with owstream and its pinned dependencies -------------------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/owstream
WORKDIR /build
# The dependencies first, from the constraints file at the repository root, with an empty package (and an
# empty README) standing in for the source: this layer is built again only when the pins change, not at every
# change of src/ or of the README. Binary wheels only (no compiler in the image); the PostgreSQL driver is
# included so OWSTREAM_STORE_URL=postgresql+psycopg://... works without rebuilding; no dev extras.
COPY constraints.txt pyproject.toml ./
RUN mkdir -p src/owstream && touch src/owstream/__init__.py README.md \
    && /opt/owstream/bin/pip install --no-cache-dir --only-binary :all: --constraint constraints.txt ".[postgres]" \
    && /opt/owstream/bin/pip uninstall --yes owstream
# What owstream never loads (about 80 MB): the libraries' test suites and C++ headers, Arrow Flight (RPC),
# zstandard's second (cffi) backend, pydeck's Jupyter extension; and pyarrow's copies of one library made
# links again (a wheel cannot hold a symbolic link). The import check at the end of the build proves the rest.
RUN cd /opt/owstream/lib/python3.11/site-packages \
    && rm -rf pandas/tests numpy/tests numpy/*/tests pyarrow/tests pyarrow/include pyarrow/src \
        pyarrow/*flight* pyarrow/_pyarrow_cpp_tests* zstandard/_cffi* pydeck/nbextension \
    && for lib in pyarrow/libarrow_python*.so.*.*; do \
        soname=${lib%.*.*}; ln -sf "${lib##*/}" "$soname"; ln -sf "${soname##*/}" "${soname%.so.*}.so"; \
    done
COPY README.md ./
COPY src ./src
RUN /opt/owstream/bin/pip install --no-cache-dir --no-deps . \
    && /opt/owstream/bin/pip uninstall --yes pip setuptools \
    && /opt/owstream/bin/python -c "from owstream.dashboard.serve import preload; preload(); \
import io, pandas; pandas.DataFrame({'a': [1]}).to_parquet(io.BytesIO()); \
import owstream.cli.main, confluent_kafka, psycopg, zstandard"

# --- the image: Python, the environment, an unprivileged user --------------------------------------
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/owstream/bin:$PATH
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin owstream \
    && mkdir /data && chown owstream:owstream /data
COPY --from=build /opt/owstream /opt/owstream

USER owstream
# OWSTREAM_HOME holds the SQLite store by default: mount a volume at /data (compose.yaml mounts the
# owstream-data volume in every service; no VOLUME here, so nothing makes anonymous volumes).
# Inside a container the dashboard must listen on every interface; publish the port on 127.0.0.1 only
# (compose.yaml does) and put a TLS reverse proxy in front of it (docs/deploy.md).
ENV OWSTREAM_HOME=/data \
    OWSTREAM_DASHBOARD_ADDRESS=0.0.0.0 \
    OWSTREAM_DASHBOARD_PORT=8501
EXPOSE 8501

# Streamlit's own health endpoint, for the default command (the dashboard); compose.yaml gives every other
# service its own check.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/_stcore/health' % os.environ.get('OWSTREAM_DASHBOARD_PORT', '8501'), timeout=4)"]

CMD ["owstream", "run", "dashboard"]
