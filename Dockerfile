# alloy-mock, the Alloy Embedded API emulator, as a container image.
#
#   docker build -t alloy-mock .
#   docker run --rm -p 8000:8000 -v alloy-mock-data:/data alloy-mock
#
# BASE_IMAGE is any image with python3 (>= 3.10) and its venv module: the official python slim
# images, or a Debian bookworm with python3 + python3-venv (see scripts/container/test.sh, which
# builds one with debootstrap for machines that cannot pull images). Both stages use the same base,
# so the virtual environment built in the first finds its interpreter at the same path in the second.
# Documentation: docs/container.md.
ARG BASE_IMAGE=python:3.12-slim

# ---------------------------------------------------------------------------------------------
# Builder: a virtual environment in /opt/alloy-mock holding alloy-mock and its dependencies.
# ---------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS builder

# Optional pip settings for this stage only (a mirror, a CA bundle: --build-arg PIP_CERT=/path);
# they never reach the final image. pip ignores them while empty.
ARG PIP_INDEX_URL=""
ARG PIP_EXTRA_INDEX_URL=""
ARG PIP_TRUSTED_HOST=""
ARG PIP_CERT=""

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_INPUT=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src

# Dependencies first, read from pyproject.toml alone, so that a change to the code does not download
# them again (this layer stays cached until pyproject.toml changes): the build backend
# ([build-system] requires) into /opt/build, which is thrown away with this stage, and the
# [project] dependencies into /opt/alloy-mock, the venv that the final image gets.
# `python3 -m venv` rather than pip itself: a Debian base has no pip outside a venv.
COPY pyproject.toml ./
RUN python3 -m venv /opt/alloy-mock \
 && python3 -m venv /opt/build \
 && /opt/build/bin/pip install --no-cache-dir 'tomli; python_version < "3.11"' \
 && /opt/build/bin/python -c 'import sys; toml = __import__("tomllib" if sys.version_info >= (3, 11) else "tomli"); \
project = toml.load(open("pyproject.toml", "rb")); \
open("/tmp/build-requirements.txt", "w").write("\n".join(project["build-system"]["requires"]) + "\n"); \
open("/tmp/requirements.txt", "w").write("\n".join(project["project"]["dependencies"]) + "\n")' \
 && /opt/build/bin/pip install --no-cache-dir -r /tmp/build-requirements.txt \
 && /opt/alloy-mock/bin/pip install --no-cache-dir -r /tmp/requirements.txt

# Then the package: a wheel (which bundles fixtures/ as alloy_mock/_bundled_fixtures), installed
# into the venv; pip and setuptools leave the venv, as nothing installs at run time.
COPY README.md ./
COPY alloy_mock ./alloy_mock
COPY fixtures ./fixtures
RUN /opt/build/bin/pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /tmp/wheels . \
 && /opt/alloy-mock/bin/pip install --no-cache-dir /tmp/wheels/*.whl \
 && /opt/alloy-mock/bin/python -m pip uninstall --yes pip setuptools wheel \
 && /opt/alloy-mock/bin/alloy-mock --version

# ---------------------------------------------------------------------------------------------
# Final image: the base, a non-root user, and the venv. No compilers, no pip cache, no sources.
# ---------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE}

LABEL org.opencontainers.image.title="alloy-mock" \
      org.opencontainers.image.description="A local, stateful emulator of the Alloy Embedded REST API for tests and CI" \
      org.opencontainers.image.licenses="MIT"

# A fixed, numeric uid/gid (10001), so that orchestrators can check runAsNonRoot and a bind-mounted
# host folder can be given to it (chown 10001:10001 DIR).
RUN groupadd --gid 10001 alloy \
 && useradd --uid 10001 --gid alloy --home-dir /data --no-create-home --no-log-init --shell /usr/sbin/nologin alloy \
 && mkdir -p /data \
 && chown alloy:alloy /data

COPY --from=builder /opt/alloy-mock /opt/alloy-mock

# Every `alloy-mock serve` flag has an ALLOY_MOCK_* variable (flags win over variables), e.g.
# ALLOY_MOCK_DEV_KEY, ALLOY_MOCK_PROD_KEY, ALLOY_MOCK_FIXTURES, ALLOY_MOCK_KEYS_FILE,
# ALLOY_MOCK_TOKEN_TTL, ALLOY_MOCK_JWT_ALG, ALLOY_MOCK_ACCESS_LOG. Change the port with
# ALLOY_MOCK_PORT rather than `serve --port`: the HEALTHCHECK reads the variable, not the flag.
ENV PATH=/opt/alloy-mock/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ALLOY_MOCK_HOST=0.0.0.0 \
    ALLOY_MOCK_PORT=8000 \
    ALLOY_MOCK_DATA_DIR=/data \
    ALLOY_MOCK_DB=/data/db.json

USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000

# `alloy-mock healthcheck` GETs http://127.0.0.1:$ALLOY_MOCK_PORT/health and exits 0 on a 200.
HEALTHCHECK --interval=5s --timeout=5s --start-period=10s --retries=3 \
    CMD ["alloy-mock", "healthcheck"]

# SIGTERM (docker stop) shuts the server down cleanly with exit code 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["alloy-mock"]
CMD ["serve"]
