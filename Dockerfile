# Production image: the web app (gunicorn), Celery worker and beat share it.
FROM node:20-bookworm-slim AS assets
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY assets ./assets
RUN npm run build

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_ENV=production
WORKDIR /app
RUN useradd --create-home --uid 10001 portal
# WeasyPrint (the evaluation report's PDF) draws text with Pango.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY . .
COPY --from=assets /app/build ./build
# collectstatic needs settings that start; these throwaway values never reach a running container.
RUN SECRET_KEY=collectstatic-only-0123456789abcdefghijklmnopqrstuvwxyz \
    ALLOWED_HOSTS=localhost DATABASE_URL=postgres://x@localhost/x \
    REDIS_URL=redis://localhost:6379/0 EMAIL_HOST=localhost SITE_URL=https://localhost \
    python manage.py collectstatic --noinput \
 && mkdir -p /app/var && chown -R portal /app/var
USER portal
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi:application", "--config", "portal/gunicorn.conf.py"]
