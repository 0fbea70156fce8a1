# syntax=docker/dockerfile:1
# The one image for every process: web (gunicorn), Celery worker and beat, and the migrate Job.
# Each Kubernetes manifest names its own command; the CMD below is the web server.
#
#   docker build -t registry.example.com/crm:0.1.0 .
#
# Not built on the development machine (no Docker there); k8s/README.md says what was checked.
# Pin the base by digest in CI (python:3.11-slim-bookworm@sha256:...) for reproducible builds.
FROM python:3.11-slim-bookworm

# STATIC_ROOT: static files are collected into the image at build time and served by WhiteNoise.
# DATA_ROOT: tenant exports are written under it; Kubernetes mounts a shared volume there
# (k8s/data-pvc.yaml).
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=crm_platform.settings \
    STATIC_ROOT=/app/staticfiles \
    DATA_ROOT=/var/lib/crm

# A fixed numeric uid/gid, so Kubernetes' runAsNonRoot can verify it (k8s manifests use 10001 too).
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid 10001 --home-dir /home/app --create-home \
        --shell /usr/sbin/nologin app \
    && install -d -o 10001 -g 10001 /var/lib/crm \
    && python -m venv /opt/venv

WORKDIR /app

# Dependencies first, so a code change does not reinstall them. Every file is hash-checked.
# (The lock is compiled with the dev extra, so pytest, ruff and kubernetes-validate come along.)
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY . .
# Editable on purpose: `platform/` is the package `crm_platform`, and its sub-packages resolve
# through the editable finder's crm_platform -> platform/ mapping. --no-deps: the lock has them all.
# Build isolation fetches setuptools (pyproject's build-system) for this one step.
RUN pip install --no-deps -e . \
    # Bytecode now: the root filesystem is read-only at run time.
    && python -m compileall -q /app \
    # collectstatic reads settings, which insist on DATABASE_URL and SECRET_KEY, but it never
    # connects: a closed loopback port and a throwaway key are enough. Neither stays in the image.
    && DATABASE_URL=postgres://build@127.0.0.1:1/build SECRET_KEY=collectstatic-only-not-secret \
        python manage.py collectstatic --noinput

# Nothing may write into the image at run time (readOnlyRootFilesystem in k8s/).
ENV PYTHONDONTWRITEBYTECODE=1

USER 10001:10001
EXPOSE 8000

# Same flags as k8s/web-deployment.yaml. No --preload: each worker opens its own database pool after fork.
CMD ["gunicorn", "crm_platform.wsgi:application", \
     "--bind=0.0.0.0:8000", "--workers=2", "--threads=4", \
     "--worker-tmp-dir=/dev/shm", "--no-control-socket", \
     "--access-logfile=-", "--timeout=30", "--graceful-timeout=25"]
