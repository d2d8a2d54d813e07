"""The one settings module, driven by environment variables (see README's configuration table).

Zero configuration gives the embedded default: SQLite and local blob storage under var/,
Celery tasks run eagerly in-process, e-mail printed to the console.
"""
import hashlib
import warnings
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from registry_portal.env import env_bool, env_int, env_list, env_rate, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("REGISTRY_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG and env_bool("REGISTRY_PRODUCTION", False):
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when REGISTRY_PRODUCTION=1")
    # Development default: stable per checkout so sessions survive restarts, never used in production.
    # Hashed so it is long enough (>= 32 bytes) for the HS256 tokens it also signs by default.
    SECRET_KEY = "insecure-dev-key-" + hashlib.sha256(str(BASE_DIR).encode()).hexdigest()
# Former keys, still accepted when verifying signatures (sessions, e-mailed links, capability
# URLs), so the key can be rotated: set the new DJANGO_SECRET_KEY and list the old one here.
SECRET_KEY_FALLBACKS = env_list("DJANGO_SECRET_KEY_FALLBACKS", [])
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# The public base URL, used in e-mailed links and in the registry's token challenge.
SITE_URL = env_str("REGISTRY_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env_str("REGISTRY_SITE_NAME", "AI Artifact Registry")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "guardian",
    "accounts",
    "artifacts",
    "helmrepo",
    "registry_portal.outbox",
]

MIDDLEWARE = [
    # /healthz and /readyz for probes: first, so neither the HTTPS redirect nor ALLOWED_HOSTS applies.
    "registry_portal.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # A NUL in the path or query is a 400 in the face's format (PostgreSQL text cannot hold it).
    "registry_portal.nul_guard.NulGuardMiddleware",
    # Requests to HELM_HOST get the Helm repository's routes at the root.
    "helmrepo.middleware.HelmHostMiddleware",
    # Container registry routes go straight to their views from here (they use nothing below).
    "artifacts.oci.middleware.RegistryRouteMiddleware",
    # Serves the portal's CSS/JS from gunicorn itself, with caching headers (no proxy needed).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.CurrentSpaceMiddleware",
]

# NGC API paths have no trailing slash; a redirect would drop POST bodies.
APPEND_SLASH = False

ROOT_URLCONF = "registry_portal.urls"
WSGI_APPLICATION = "registry_portal.wsgi.application"

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
                "accounts.context_processors.current_space",
                "registry_portal.site_urls.context",
            ],
        },
    },
]

if not env_str("DATABASE_URL"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # the embedded default keeps its SQLite file here
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'registry.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
    )
}
# The registry's hot statements are PREPAREd per connection (artifacts/oci/fastpath/statements.py); turn off
# behind a transaction-pooling PgBouncer, which does not keep a connection's session state.
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
if env_str("DATABASE_TEST_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": env_str("DATABASE_TEST_NAME")}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Refuses passwords for e-mail domains mapped to an org's single sign-on (before ModelBackend).
    "accounts.sso.PasswordRefusedForSsoBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:signin"
LOGIN_REDIRECT_URL = "accounts:set-organization"
LOGOUT_REDIRECT_URL = "accounts:signin"
# guardian: no anonymous user row; anonymous access is decided by the policy itself.
ANONYMOUS_USER_NAME = None
GUARDIAN_MONKEY_PATCH_USER = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
# Without `collectstatic` (tests, a quick start) WhiteNoise finds files in STATICFILES_DIRS itself.
WHITENOISE_USE_FINDERS = True
# ...and then STATIC_ROOT may not exist yet, which is expected, not worth a warning per process.
warnings.filterwarnings("ignore", message="No directory at: ")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Celery: Redis broker when REDIS_URL is given, otherwise tasks run eagerly in-process.
# Every enqueue goes through the transactional outbox (registry_portal/outbox/services.py); docs/model-transfers.md
# ("Background work") explains the settings below.
REDIS_URL = env_str("REDIS_URL")
# Connecting to Redis (broker and cache) gives up after this long, so an outage costs a request
# at most about this much, never a hang.
REDIS_TIMEOUT_SECONDS = env_int("REDIS_TIMEOUT_SECONDS", 1)
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None  # nothing reads task results; the outbox row records the outcome
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "registry")
# Tasks are idempotent: acknowledged after they ran, and given back when their worker process dies.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Publishing never retries inside a request: a failed hand-over is the outbox sweep's to repeat.
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT_SECONDS
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # One connection attempt when publishing (kombu would otherwise retry for seconds); the worker's
    # own reconnect loop follows CELERY_BROKER_CONNECTION_* and is not affected.
    "max_retries": 0,
    "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
    # Above the transport's 1 s BRPOP poll, so an idle consumer is never cut.
    "socket_timeout": REDIS_TIMEOUT_SECONDS + 4,
    # A message whose worker vanished comes back after this long (unacknowledged); the outbox sweep
    # re-dispatches such work much sooner (heartbeat), and a duplicate is skipped by the row's claim.
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 600),
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
}
# The outbox: sweep period, heartbeat of a running task (dead after 3 missed beats), first wait
# before a dispatched but unstarted row is sent again (doubled each time), attempts before giving up.
OUTBOX_SWEEP_SECONDS = env_int("OUTBOX_SWEEP_SECONDS", 15)
OUTBOX_HEARTBEAT_SECONDS = 10
OUTBOX_REDISPATCH_SECONDS = 60
OUTBOX_MAX_ATTEMPTS = 10
# The periodic work, run by `celery -A registry_portal beat` with REDIS_URL, and by a scheduler
# thread in the web process without it (registry_portal/periodic.py).
BLOB_GC_INTERVAL_MINUTES = env_int("BLOB_GC_INTERVAL_MINUTES", 60)
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {"task": "outbox.sweep", "schedule": float(OUTBOX_SWEEP_SECONDS)},
    # Unreferenced blobs past BLOB_GC_GRACE_MINUTES and upload sessions idle UPLOAD_SESSION_TTL_HOURS.
    "blob-gc": {"task": "artifacts.tasks.collect_blob_garbage", "schedule": 60.0 * BLOB_GC_INTERVAL_MINUTES},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULER = "registry_portal.celery:Scheduler"
# PATCH ... {"status": "UPLOAD_COMPLETE"} finalises in the request when every blob was verified at
# upload; otherwise it waits this long for the worker's verification before answering the state.
VERSION_COMPLETION_WAIT_SECONDS = env_int("VERSION_COMPLETION_WAIT_SECONDS", 30)

# E-mail: console by default, SMTP when EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "registry@localhost")

# Identity rules.
INVITATION_TTL = timedelta(hours=env_int("INVITATION_TTL_HOURS", 72))
ACCESS_TOKEN_TTL = timedelta(seconds=env_int("ACCESS_TOKEN_TTL_SECONDS", 3600))
# Container registry tokens: reads (pulls) ride one until it expires; writes re-check (docs/permissions.md).
REGISTRY_TOKEN_TTL = timedelta(seconds=env_int("REGISTRY_TOKEN_TTL_SECONDS", 300))
# The key that signs /token's bearer tokens; defaults to SECRET_KEY so one secret suffices.
TOKEN_SIGNING_KEY = env_str("TOKEN_SIGNING_KEY") or SECRET_KEY
TOKEN_ISSUER = env_str("TOKEN_ISSUER", "registry-portal")

# Artifact storage and the container registry (artifacts/blobs, artifacts/oci).
BLOB_STORE_ROOT = Path(env_str("REGISTRY_BLOB_STORE_ROOT", str(VAR_DIR / "storage")))
# Blob bytes through Django's storage API (docs/storage.md), named by their content address
# (artifacts/blobs/store.py): local files under BLOB_STORE_ROOT by default, an S3-compatible
# bucket when REGISTRY_S3_BUCKET is set (artifacts.blobs.store.get_blob_store). Without an access
# key, boto3 finds credentials its usual way (AWS_* variables, an instance role).
S3_BUCKET = env_str("REGISTRY_S3_BUCKET")
S3_ADDRESSING_STYLE = env_str("REGISTRY_S3_ADDRESSING_STYLE").strip().lower() or None
if S3_ADDRESSING_STYLE not in (None, "path", "virtual"):
    raise ImproperlyConfigured(f"REGISTRY_S3_ADDRESSING_STYLE must be path or virtual, got {S3_ADDRESSING_STYLE!r}")


def _presign_seconds(name: str, default: int) -> int:
    # Presigned URLs are bearer credentials: keep them short (SigV4 allows at most 7 days).
    seconds = env_int(name, default)
    if not 1 <= seconds <= 7 * 24 * 3600:
        raise ImproperlyConfigured(f"{name} must be 1 to 604800 seconds, got {seconds}")
    return seconds


# Lifetime of the presigned GETs downloads redirect to: a client follows a 307 at once.
S3_PRESIGN_SECONDS = _presign_seconds("REGISTRY_S3_PRESIGN_SECONDS", 300)
# Lifetime of an NGC upload's presigned UploadPart URLs: all are handed out when a file's upload
# starts and each must still be valid when its part's PUT begins (docs/storage.md).
S3_PART_URL_SECONDS = _presign_seconds("REGISTRY_S3_PART_URL_SECONDS", 3600)
# With S3, blob downloads (OCI blob GET, NGC file URLs, Helm packages) answer 307 to a presigned GET
# so the bytes bypass the app; 0 streams them through the app instead (a bucket clients cannot reach).
S3_REDIRECT_DOWNLOADS = env_bool("REGISTRY_S3_REDIRECT_DOWNLOADS", True)
# Uploads to S3 go in parts of this size (artifacts.blobs.s3_uploads): each a checkpoint a resume
# starts from, held in memory once per uploading request. S3 takes parts of 5 MiB to 5 GiB, at
# most 10,000 per object: 8 MiB parts make blobs of up to ~78 GiB.
S3_UPLOAD_PART_BYTES = env_int("REGISTRY_S3_UPLOAD_PART_BYTES", 8 * 1024 * 1024)
if not 5 * 1024 * 1024 <= S3_UPLOAD_PART_BYTES <= 5 * 1024**3:
    raise ImproperlyConfigured(f"REGISTRY_S3_UPLOAD_PART_BYTES must be 5 MiB to 5 GiB, got {S3_UPLOAD_PART_BYTES}")
if S3_BUCKET:
    _s3_optional = {
        "endpoint_url": env_str("REGISTRY_S3_ENDPOINT_URL"),
        "region_name": env_str("REGISTRY_S3_REGION"),
        "access_key": env_str("REGISTRY_S3_ACCESS_KEY_ID"),
        "secret_key": env_str("REGISTRY_S3_SECRET_ACCESS_KEY"),
        "addressing_style": S3_ADDRESSING_STYLE,
    }
    _blob_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "signature_version": "s3v4",
            "querystring_expire": S3_PRESIGN_SECONDS,  # storage.url() presigns
            **{name: value for name, value in _s3_optional.items() if value},
        },
    }
else:
    _blob_storage = {
        # A FileSystemStorage under BLOB_STORE_ROOT (read when used, so tests may move it).
        "BACKEND": "artifacts.blobs.store.BlobFileSystemStorage",
        # A content address names one set of bytes: saving it again replaces the file under the
        # same name (as S3Storage does) instead of inventing a new one.
        "OPTIONS": {"allow_overwrite": True},
    }
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "blobs": _blob_storage,
}
# The `service` of the registry's token challenge (audience of its tokens): SITE_URL's host by default.
REGISTRY_SERVICE_NAME = env_str("REGISTRY_SERVICE_NAME") or SITE_URL.split("://", 1)[-1].split("/", 1)[0]
# /token's issuer per `service` (registry_portal/token_endpoint.py); names it does not know go to
# the fallback's issuer, which checks the API key before refusing the name.
TOKEN_SERVICES = {
    "ngc": "accounts.token_issuer.issue_ngc_token",
    REGISTRY_SERVICE_NAME: "artifacts.oci.auth.issue_registry_token",
}
TOKEN_FALLBACK_SERVICE = "ngc"
# Garbage collection never removes a blob touched in this window, nor an upload session this fresh.
BLOB_GC_GRACE_MINUTES = env_int("BLOB_GC_GRACE_MINUTES", 60)
UPLOAD_SESSION_TTL_HOURS = env_int("UPLOAD_SESSION_TTL_HOURS", 24)

# Helm repository (helmrepo): chart packages over this many bytes are refused (their unpacked size
# may be at most HELM_MAX_CHART_UNPACKED_RATIO times that, against gzip bombs). HELM_HOST names a
# host that serves the Helm routes at its root (as helm.ngc.nvidia.com does), besides /helm/.
HELM_MAX_CHART_BYTES = env_int("HELM_MAX_CHART_BYTES", 10 * 1024 * 1024)
HELM_MAX_CHART_UNPACKED_RATIO = 20
HELM_HOST = env_str("HELM_HOST").strip().lower()

# Django's cache (the rendered Helm index per space, image platforms): Redis when REDIS_URL is set,
# else files under REGISTRY_VAR_DIR, which every gunicorn worker of the machine shares (a per-process
# cache would serve one worker's stale Helm index after another's push). Redis unreachable degrades
# to no cache (registry_portal/cache.py), never an error.
CACHES = {
    "default": (
        {
            "BACKEND": "registry_portal.cache.DegradingRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "registry",
            "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT_SECONDS, "socket_timeout": REDIS_TIMEOUT_SECONDS},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(VAR_DIR / "cache" / "default")}
    )
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's JSON parser with a nesting limit (registry_portal/json_input.py): deep bodies are a 400.
    "DEFAULT_PARSER_CLASSES": ["registry_portal.json_input.JSONParser"],
    "EXCEPTION_HANDLER": "registry_portal.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "registry_portal.schema.PathOperationIdSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AI Artifact Registry API",
    "DESCRIPTION": "NGC-compatible REST API of the private registry.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# Production hardening, switched on by REGISTRY_PRODUCTION=1 (behind a TLS-terminating proxy or gunicorn --certfile).
if env_bool("REGISTRY_PRODUCTION", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

# --- Throttling, and answers when the database is down (docs/permissions.md "Throttling") -------
# Portal sign-in (and the admin's): django-axes locks an (e-mail, client IP) pair out after
# SIGNIN_FAILURE_LIMIT wrong passwords in a row for SIGNIN_COOLOFF_MINUTES; its records live in
# the database, so every worker and node sees them, and `manage.py axes_reset` unlocks.
INSTALLED_APPS += ["axes"]
AUTHENTICATION_BACKENDS = ["accounts.throttles.SignInLockoutBackend", *AUTHENTICATION_BACKENDS]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # last, as axes requires
AXES_FAILURE_LIMIT = env_int("SIGNIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SIGNIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"  # the name authenticate() and its failure signal give the e-mail
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # failures are recorded; a row per successful sign-in is not needed
AXES_LOCKOUT_CALLABLE = "accounts.throttles.signin_locked_out"
AXES_SENSITIVE_PARAMETERS = ["password_confirm"]
AXES_VERBOSE = False  # no start-up banner in every manage.py command
# Behind a proxy: how many proxies append to X-Forwarded-For (0: the peer address is the client and
# the header is ignored, so a client cannot pick its own address). One rule for every throttle.
REGISTRY_PROXY_COUNT = env_int("REGISTRY_PROXY_COUNT", 0)
REST_FRAMEWORK["NUM_PROXIES"] = REGISTRY_PROXY_COUNT
AXES_CLIENT_IP_CALLABLE = "registry_portal.throttling.client_ip"
# /token: a client IP + user name (`$oauthtoken` for API keys) that presents TOKEN_FAILURE_LIMIT bad
# credentials within TOKEN_FAILURE_WINDOW_SECONDS is refused (429) until the window ends; any
# client IP + credential may ask for TOKEN_RATE tokens (generous: clients renew tokens often).
THROTTLE_TOKEN_FAILURE_LIMIT = env_int("TOKEN_FAILURE_LIMIT", 20)
THROTTLE_TOKEN_FAILURE_WINDOW = env_int("TOKEN_FAILURE_WINDOW_SECONDS", 300)
THROTTLE_TOKEN_RATE = env_rate("TOKEN_RATE", "600/min")
# Invitation links: unknown or expired links per client IP, and acceptance attempts (POSTs) per IP.
THROTTLE_INVITATION_FAILURE_LIMIT = env_int("INVITATION_FAILURE_LIMIT", 10)
THROTTLE_INVITATION_FAILURE_WINDOW = env_int("INVITATION_FAILURE_WINDOW_SECONDS", 900)
THROTTLE_INVITATION_RATE = env_rate("INVITATION_RATE", "30/hour")
# The throttles' counts (registry_portal/throttling.py): Redis when REDIS_URL is set, so workers
# and nodes share them; else files under REGISTRY_VAR_DIR, shared by the machine's workers (per
# process, each worker would allow the limit again). 1 s timeouts: a Redis outage lets requests through.
CACHES["throttle"] = (
    {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "throttle",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(VAR_DIR / "cache" / "throttle")}
)
# PostgreSQL that does not answer: give up connecting after DATABASE_CONNECT_TIMEOUT seconds
# (libpq's minimum is 2), so requests answer 503 (registry_portal/server_errors.py) instead of hanging.
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 2))
DATABASE_RETRY_AFTER_SECONDS = 10
