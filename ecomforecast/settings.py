"""One settings module; every deploy knob comes from the environment (see README, Configuration)."""

from __future__ import annotations

from pathlib import Path

from ecomforecast.env import database_config, env_bool, env_float, env_int, env_list, env_str, local_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("ECOMFORECAST_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
# A deploy sets SECRET_KEY; a bare checkout (the demo) gets a random key kept under var/.
SECRET_KEY = env_str("SECRET_KEY") or local_secret_key(VAR_DIR / "secret_key")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "ecomforecast",
    "inventory",
    "customers",
    "forecasting",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "ecomforecast.tenancy.RejectMalformedSessionCookieMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "ecomforecast.tenancy.CurrentMerchantMiddleware",
]

ROOT_URLCONF = "ecomforecast.urls"
WSGI_APPLICATION = "ecomforecast.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ecomforecast.tenancy.merchant_context",
            ],
        },
    },
]

DATABASES = {"default": database_config(env_str("DATABASE_URL"), sqlite_default=VAR_DIR / "ecomforecast.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 50 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Production hardening: HTTPS=1 (behind TLS) turns on redirects, secure cookies and HSTS, so that
# `manage.py check --deploy` is clean; the plain-HTTP demo leaves it off.
HTTPS = env_bool("HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_HTTPS_PROXY", False) else None
X_FRAME_OPTIONS = "DENY"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "ecomforecast.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["ecomforecast.api.permissions.IsMerchantMember"],
    "DEFAULT_PAGINATION_CLASS": "ecomforecast.api.pagination.StandardPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env_str("API_THROTTLE_USER", "6000/min"),
        "anon": env_str("API_THROTTLE_ANON", "120/min"),
    },
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "ecomforecast.api.exceptions.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "ecomforecast API",
    "DESCRIPTION": "Merchant data, forecasts and reorder plans. Authenticate with `Authorization: Api-Key <key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "APPEND_COMPONENTS": {
        "securitySchemes": {"ApiKeyAuth": {"type": "apiKey", "in": "header", "name": "Authorization"}}
    },
    "SECURITY": [{"ApiKeyAuth": []}],
}

# Celery. With no broker configured, tasks run in process (the zero-setup demo default only).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 3300)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 3600)
# Redis re-delivers unacknowledged messages after this; it must exceed the longest time limit.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 7200)}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ROUTES = {
    "forecasting.tasks.train_*": {"queue": "forecast_gpu"},
    "forecasting.tasks.*": {"queue": "forecast_cpu"},
    "inventory.tasks.*": {"queue": "planning"},
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE

# Neural training (the forecast_gpu worker): where trained checkpoints are kept, the torch device ("auto": cuda
# when the worker sees a GPU), intra-op threads (0: torch's default) and the training time budget per model.
MODEL_ARTIFACT_ROOT = Path(env_str("MODEL_ARTIFACT_ROOT", str(VAR_DIR / "models")))
NEURAL_DEVICE = env_str("NEURAL_DEVICE", "auto")
NEURAL_THREADS = env_int("NEURAL_THREADS", 0)
NEURAL_MAX_TRAIN_SECONDS = env_int("NEURAL_MAX_TRAIN_SECONDS", 900)
# Neural candidates of auto in the runs nobody configured (comma-separated: lstm, gru, transformer, gpt; empty:
# statistical only), and how old a trained model may get before a run trains a new one.
NEURAL_MODELS = tuple(env_list("NEURAL_MODELS"))
NEURAL_RETRAIN_DAYS = env_int("NEURAL_RETRAIN_DAYS", 7)
# Weight of the neural candidates' own forecast distributions in auto's final forecasts (quantile averaging; 0: they
# are mean candidates only).
NEURAL_BLEND_WEIGHT = env_float("NEURAL_BLEND_WEIGHT", 0.5)
# A pretrained GPT checkpoint (manage.py pretrain_gpt) that merchants' gpt models fine-tune from; empty: from scratch.
NEURAL_GPT_BASE = env_str("NEURAL_GPT_BASE", "")
# Campaign evaluations of the nightly run: plans for campaigns starting within this many days (or running), readouts
# for campaigns whose post window ended within this many days.
CAMPAIGN_PLAN_DAYS = env_int("CAMPAIGN_PLAN_DAYS", 60)
CAMPAIGN_READOUT_DAYS = env_int("CAMPAIGN_READOUT_DAYS", 30)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
