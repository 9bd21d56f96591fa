FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml README.md ./
COPY mockserver ./mockserver
COPY contracts ./contracts
COPY fixtures ./fixtures
RUN pip install --no-cache-dir -e .

EXPOSE 8000
VOLUME ["/data"]
# Listen on all interfaces inside the container; publish the port to 127.0.0.1 on the host.
CMD ["vendor-sandbox", "serve", "--host", "0.0.0.0", "--port", "8000", "--data-dir", "/data"]
