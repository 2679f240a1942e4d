# The product server (`goedgesprek serve`) for those who deploy with containers; see README,
# "Deploy to your tenant". Build: docker build -t goedgesprek . ; run with compose.yaml.
# Put it behind a TLS-terminating proxy: set GOEDGESPREK_PUBLIC_URL and GOEDGESPREK_PROXY_FIX.

FROM python:3.11-slim AS build
# graph: Microsoft 365 and Google (the msgraph-sdk extra); runtime: a smaller image for Google only.
ARG PROVIDER_LOCK=graph
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY requirements/runtime.lock requirements/graph.lock requirements/test.lock requirements/
# PostgreSQL's driver (the `postgres` extra) is locked in test.lock: take its entries, hashes
# and all, so every file installed here is checked against the lock.
RUN awk '/^psycopg(-binary)?==/ {keep = 1} keep {print} keep && !/\\$/ {keep = 0}' \
        requirements/test.lock > requirements/postgres.lock \
    && grep -q '^psycopg==' requirements/postgres.lock \
    && grep -q '^psycopg-binary==' requirements/postgres.lock
RUN python -m venv /opt/goedgesprek \
    && /opt/goedgesprek/bin/pip install --require-hashes --no-deps \
        -r requirements/${PROVIDER_LOCK}.lock -r requirements/postgres.lock
COPY pyproject.toml README.md ./
COPY cadence cadence
COPY connectors connectors
COPY addin addin
COPY templates templates
COPY manifest manifest
RUN /opt/goedgesprek/bin/pip install --no-deps --no-build-isolation . \
    && /opt/goedgesprek/bin/pip check

FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/goedgesprek --create-home \
        --shell /usr/sbin/nologin goedgesprek
COPY --from=build /opt/goedgesprek /opt/goedgesprek
ENV PATH=/opt/goedgesprek/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    GOEDGESPREK_DATA_DIR=/var/lib/goedgesprek
USER goedgesprek
WORKDIR /var/lib/goedgesprek
# The data directory: the keyring (keyring.json), the secret key and, without
# GOEDGESPREK_DATABASE_URL, the SQLite database. Back it up; without the keyring nothing opens.
VOLUME ["/var/lib/goedgesprek"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["goedgesprek", "serve", "--bind", "0.0.0.0:8000", "--workers", "2", "--timeout", "60"]
