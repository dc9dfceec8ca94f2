# The churn service: one image for the API replicas (`main.py serve`), the workers (`main.py worker`)
# and, in compose.yaml, the MLflow tracking server (mlflow and the PostgreSQL driver are in
# requirements.txt). Slim, non-root, no state inside: models live in the MLflow server, data in the
# store, and CHURN_HOME holds only a per-version download cache.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin churn \
    && mkdir -p /home/churn/var /home/churn/mlartifacts && chown churn:churn /home/churn/var /home/churn/mlartifacts
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

# Code and the project's synthetic sample only (see .dockerignore: no var/, no *.db, no mlartifacts).
COPY main.py ./
COPY churn ./churn
COPY adapters ./adapters
COPY entrypoints ./entrypoints
COPY data ./data

USER churn
ENV CHURN_HOME=/home/churn/var \
    CHURN_HOST=0.0.0.0 \
    CHURN_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)" || exit 1
CMD ["python", "main.py", "serve"]
