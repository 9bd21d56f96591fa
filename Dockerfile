# The emulator as a wheel user gets it: the package built from this context, installed non-editably, run as
# an unprivileged user, state in the /data volume.
FROM python:3.11-slim AS build
WORKDIR /src
COPY . .
RUN pip install --no-cache-dir build && python -m build --wheel --outdir /dist

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 sandbox && mkdir /data && chown sandbox:sandbox /data
COPY --from=build /dist/ /tmp/dist/
RUN pip install --no-cache-dir /tmp/dist/*.whl && rm -rf /tmp/dist
USER sandbox
WORKDIR /home/sandbox
EXPOSE 8000
VOLUME ["/data"]
# The health call needs no admin token (it says nothing about the world), so this works with --admin-token.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["vendor-sandbox", "health", "--url", "http://127.0.0.1:8000"]
# Listen on all interfaces inside the container; publish the port to 127.0.0.1 on the host.
CMD ["vendor-sandbox", "serve", "--host", "0.0.0.0", "--port", "8000", "--data-dir", "/data"]
