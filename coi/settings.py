"""Settings for the conflict-of-interest workflow.

One module, configured only from the environment through the typed helpers below (STYLE.md rule 27).
The embedded default is SQLite in ``var/`` with DEBUG on; production sets ``DJANGO_DEBUG=false``,
``DJANGO_SECRET_KEY``, ``DJANGO_ALLOWED_HOSTS`` and ``DATABASE_URL`` (PostgreSQL).
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from whitenoise.compress import Compressor  # type: ignore[import-untyped]

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"The environment variable {name} is required.")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw.strip().lower() in _TRUE:
        return True
    if raw.strip().lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_networks(name: str) -> list[str]:
    """A comma-separated list of IP addresses or networks (``10.0.0.0/8``); none by default."""
    items = env_list(name, [])
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must list IP addresses or networks, got {item!r}."
            ) from None
    return items


DEBUG = env_bool("DJANGO_DEBUG", True)

# No default secret outside DEBUG: a production deployment that forgot it must not start.
SECRET_KEY = env_str(
    "DJANGO_SECRET_KEY", "django-insecure-development-only-key-do-not-deploy" if DEBUG else None
)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

VAR_DIR = Path(env_str("COI_VAR_DIR", str(BASE_DIR / "var")))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from our static files, no CDN
    "django_tasks",
    "django_tasks_db",
    "axes",  # login throttling: failed attempts per user name and address
    "csp",  # Content-Security-Policy on every response
    "declarations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # under /api/, the JSON envelope in place of any error page Django would show (issue 18)
    "declarations.api.middleware.ApiErrorMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # after authentication: a signed-in user reads in the language they chose, on any device
    "declarations.web.middleware.SessionLimitMiddleware",
    "declarations.web.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

# The reverse proxies in front of us (addresses or networks). X-Forwarded-For is read only when
# the request comes from one of them, one hop per proxy of ours (declarations/client.py); with
# none listed, the TCP peer is the client and forwarding headers are ignored, so a client cannot
# pick a fresh address for every rate limit (issue 12). A list rather than a hop count: a count
# would trust the header on requests that bypass the proxy.
COI_TRUSTED_PROXIES = env_networks("COI_TRUSTED_PROXIES")

# Axes first: a locked-out user name or address is refused before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Five wrong passwords for one user name from one address lock that pair for 30 minutes; the
# lock is per pair so that a colleague's typos cannot lock a whole office behind one NAT, and so
# that nobody can lock a servant out by guessing their name from elsewhere. The sign-in page and
# the token endpoint share it (declarations/api/people.py TokenView); a guesser who moves to
# another address starts a new pair there, and meets the per-address ceiling below too.
AXES_FAILURE_LIMIT = env_int("COI_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("COI_LOGIN_COOLOFF_MINUTES", 30) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "declarations.web.account.locked_out"
AXES_VERBOSE = False
# The address axes locks is the one the API's throttles count (never ipware's header guessing).
AXES_CLIENT_IP_CALLABLE = "declarations.client.client_address"

# A strict policy: our own scripts, styles and images only; no inline code, no frames.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "coi.urls"

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
                "declarations.web.context.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "coi.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'coi.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded database's folder (var/ by default) is ignored by git, so a fresh clone has
    # none: SQLite creates the file, not its folder (issue 13).
    _sqlite_name = str(DATABASES["default"]["NAME"])
    if _sqlite_name and _sqlite_name != ":memory:" and not _sqlite_name.startswith("file:"):
        Path(_sqlite_name).parent.mkdir(parents=True, exist_ok=True)
    # WAL and a busy timeout let the embedded deployment serve reads while a write is running.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Time is stored in UTC and shown in Asia/Almaty (UTC+5 since 1 March 2024).
USE_TZ = True
TIME_ZONE = "Asia/Almaty"

USE_I18N = True
LANGUAGE_CODE = "ru"
LANGUAGES = [("kk", _("Kazakh")), ("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Django's Kazakh locale has no date and number formats: ours are in coi/formats/kk.
FORMAT_MODULE_PATH = ["coi.formats"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "declarations:home"
LOGOUT_REDIRECT_URL = "login"

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

# ---- record store (issue 17) ------------------------------------------------------------------
# Records (sealed PDFs, dossiers), export ZIPs and attachments, through one storage (STORAGES
# "default"; declarations/stores.py). COI_STORAGE=filesystem (the default) keeps them under
# COI_MEDIA_ROOT, as on one machine; COI_STORAGE=s3 puts them in a bucket of an S3-compatible
# store that every application and worker machine shares (docs/DEPLOY.md "Record store"). The
# keys are boto3's own environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or an instance
# role, AWS_SESSION_TOKEN, AWS_CA_BUNDLE for a private CA). Either way the files are handed out
# only by the application, after the scope check: MEDIA_URL is not served, the bucket stays
# private (no ACL is written, no link to an object made). Checkpoints keep their own store
# (COI_CHECKPOINT_DIR).
MEDIA_ROOT = Path(env_str("COI_MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
COI_STORAGE = env_str("COI_STORAGE", "filesystem")
_RECORD_STORES: dict[str, dict[str, object]] = {
    "filesystem": {"BACKEND": "django.core.files.storage.FileSystemStorage"},  # at MEDIA_ROOT
}
if COI_STORAGE == "s3":
    _RECORD_STORES["s3"] = {
        "BACKEND": "declarations.stores.ObjectStore",
        "OPTIONS": {
            "bucket_name": env_str("COI_S3_BUCKET"),
            # unset for AWS itself; https://minio.example.kz:9000 for a store of one's own
            "endpoint_url": env_str("COI_S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("COI_S3_REGION", "") or None,
            # a folder inside the bucket, so that one bucket serves several deployments
            "location": env_str("COI_S3_PREFIX", "").strip("/"),
            # "path" for stores without per-bucket host names (MinIO behind one name, say)
            "addressing_style": env_str("COI_S3_ADDRESSING_STYLE", "") or None,
            "signature_version": "s3v4",
        },
    }
if COI_STORAGE not in _RECORD_STORES:
    raise ImproperlyConfigured(f"COI_STORAGE must be filesystem or s3, got {COI_STORAGE!r}.")
STORAGES = {
    "default": _RECORD_STORES[COI_STORAGE],
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# ---- end of record store ------------------------------------------------------------------------

# the default is also the number the API contract states (declarations/api/operations.py)
COI_ATTACHMENT_MAX_BYTES_DEFAULT = 10 * 1024 * 1024
COI_ATTACHMENT_MAX_BYTES = env_int("COI_ATTACHMENT_MAX_BYTES", COI_ATTACHMENT_MAX_BYTES_DEFAULT)
# The NCA test contour's identifiers (IIN123456789011, BIN123456789021) fail the check digit;
# they are accepted in development and the demo only, so the demo servant can sign with the
# shared test key (issue 15). The deploy check refuses this setting with DEBUG off.
COI_EDS_ACCEPT_TEST_IDENTIFIERS = env_bool("COI_EDS_ACCEPT_TEST_IDENTIFIERS", DEBUG)

# Personal signatures (ЭЦП) through NCALayer, verified here (issue 15;
# declarations/signatures/conf.py lists them all). Paths are separated by ":"; CRLs may be
# http(s) URLs. Without them every signature is refused (fail closed). In development and the
# demo (DEBUG) the NCA *test* contour shipped in declarations/signatures/testpki/ is trusted and
# the development signer stands in for NCALayer; the deploy checks refuse both in production.
_TEST_PKI = BASE_DIR / "declarations" / "signatures" / "testpki"


def _paths(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    return [v for v in value.split(":") if v] if value is not None else default


def _urls(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    return value.split() if value is not None else default


COI_EDS_TRUSTED_ROOTS = _paths(
    "COI_EDS_TRUSTED_ROOTS", [str(_TEST_PKI / "root_test_gost_2022.cer")] if DEBUG else []
)
COI_EDS_CA_CERTS = _paths(
    "COI_EDS_CA_CERTS", [str(_TEST_PKI / "nca_gost2022_test.cer")] if DEBUG else []
)
COI_EDS_CRLS = _urls("COI_EDS_CRLS", [str(_TEST_PKI / "nca_gost2022_test.crl")] if DEBUG else [])
COI_EDS_OCSP_URL = env_str("COI_EDS_OCSP_URL", "")
COI_EDS_VERIFIER = env_str("COI_EDS_VERIFIER", "local")
COI_EDS_NCANODE_URL = env_str("COI_EDS_NCANODE_URL", "")
COI_EDS_DEV_SIGNER = env_bool("COI_EDS_DEV_SIGNER", DEBUG)
COI_EDS_CRL_REFRESH_MINUTES = env_int("COI_EDS_CRL_REFRESH_MINUTES", 60)
COI_EDS_HTTP_TIMEOUT_SECONDS = env_int("COI_EDS_HTTP_TIMEOUT_SECONDS", 10)
# how far the signing time a signer's computer claims may be from the server's
COI_EDS_SIGNING_TIME_TOLERANCE_MINUTES = env_int("COI_EDS_SIGNING_TIME_TOLERANCE_MINUTES", 30)
COI_EDS_NCANODE_REVOCATION = env_list("COI_EDS_NCANODE_REVOCATION", ["OCSP", "CRL"])
# Where the pages' script finds NCALayer on the signer's computer.
COI_NCALAYER_URL = env_str("COI_NCALAYER_URL", "wss://127.0.0.1:13579")
# ...and the one place besides this site the pages may connect to (scripts stay 'self').
CONTENT_SECURITY_POLICY["DIRECTIVES"]["connect-src"].append(COI_NCALAYER_URL)
# Addenda per declaration: far more than any honest correction needs, and a bound on the declaration
# page, its trail and its dossier, which a declarant could otherwise grow without end.
# the default is also the number the API contract states (declarations/api/operations.py)
COI_ADDENDA_MAX_DEFAULT = 50
COI_ADDENDA_MAX = env_int("COI_ADDENDA_MAX", COI_ADDENDA_MAX_DEFAULT)
# Everything but the file itself must be small: 1 MB of JSON or form fields (the API's JSON
# parser answers 413 above it, declarations/api/parsers.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# The REST API (declarations/api). One error shape for every error (api/errors.py); session
# authentication (with CSRF) for the web pages and tokens for programs.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "declarations.api.auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON within DATA_UPLOAD_MAX_MEMORY_SIZE and 32 levels deep, checked before json recurses
    "DEFAULT_PARSER_CLASSES": ["declarations.api.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON, or a download's own type; anything else a 406 (answered in JSON all the same)
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "declarations.api.negotiation.ApiContentNegotiation",
    "DEFAULT_THROTTLE_CLASSES": ["declarations.api.throttles.WriteRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        # every sign-in attempt (page or token) from one address: a ceiling against floods, far
        # above an office signing in at nine behind one NAT address; guessing is axes' job
        "login-address": env_str("COI_THROTTLE_LOGIN_ADDRESS", "600/min"),
        "write": env_str("COI_THROTTLE_WRITE", "120/min"),
        "verify": env_str("COI_THROTTLE_VERIFY", "30/min"),
        "dossier": env_str("COI_THROTTLE_DOSSIER", "30/hour"),  # each one is rendered and sealed
    },
    "EXCEPTION_HANDLER": "declarations.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "declarations.api.schema.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "COERCE_DECIMAL_TO_STRING": True,
    # DRF's own get_ident must never believe X-Forwarded-For; ours read COI_TRUSTED_PROXIES
    "NUM_PROXIES": 0,
}
if "COI_THROTTLE_LOGIN" in os.environ:
    # it limited sign-ins per address (10/min) and locked offices out: refuse rather than ignore
    raise ImproperlyConfigured(
        "COI_THROTTLE_LOGIN is gone: wrong passwords are limited per user name and address by "
        "COI_LOGIN_FAILURE_LIMIT and COI_LOGIN_COOLOFF_MINUTES, and COI_THROTTLE_LOGIN_ADDRESS "
        "is the ceiling per address against floods (600/min by default)."
    )

SPECTACULAR_SETTINGS = {
    "TITLE": "Conflict-of-interest declarations API",
    "DESCRIPTION": (
        "Written notices of a conflict of interest by civil servants of the Republic of Kazakhstan "
        'and the measures taken on them (Law No. 410-V "On Combating Corruption", Art. 15).\n\n'
        "- **Errors** have one shape, `ErrorOutput`: a stable `code` for programs and a `message` "
        "for people.\n"
        "- **Language**: send `Accept-Language: kk`, `ru` or `en` (default `ru`); messages and "
        "labels (`*_display`, `title`) come in it, and `Content-Language` says which was used. "
        "Codes, enum values and this document are the same in every language.\n"
        "- **Versions**: a declaration or a measure answers with an `ETag`; send it back as "
        "`If-Match` on every change to it (a stale one gets 412).\n"
        "- **Lists** are paged by `cursor`; follow `next`.\n"
        "- **Downloads** answer the file's own type (`application/pdf`, `application/zip`, "
        "`image/png`, `image/jpeg`) as `format: binary`, its name in `Content-Disposition`; "
        "each also lists `application/octet-stream`, which `Accept` may name, so that a "
        "generator that knows no other binary type reads the file with no configuration.\n"
        "- The contract's changes are listed in `docs/API-CHANGELOG.md`; `info.version` follows "
        "them."
    ),
    # The contract's version (docs/API-CHANGELOG.md): MAJOR is the URL's (/api/v1/), MINOR moves
    # with every published change of the contract, PATCH with corrections of its prose.
    "VERSION": "1.1.0",
    # 3.1: a nullable reference is `oneOf: [$ref, {type: null}]`, which strict validators accept
    # (3.0's `allOf` + `nullable` is not nullable there)
    "OAS_VERSION": "3.1.0",
    # built in English whatever the caller's language (declarations/api/schema.py)
    "DEFAULT_GENERATOR_CLASS": "declarations.api.schema.EnglishSchemaGenerator",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "declarations.api.schema.parameter_enums_by_reference",
        "declarations.api.schema.nullable_as_json_schema",
    ],
    # Every closed set has a named component, stable across releases and languages; generated
    # clients name their classes after these.
    "ENUM_NAME_OVERRIDES": {
        "AccessActionEnum": "declarations.choices.AccessAction",
        "AddresseeEnum": "declarations.choices.Addressee",
        "AllowedActionEnum": "declarations.choices.DeclarationAction",
        "AuditActionEnum": "declarations.choices.AuditAction",
        "CategoryEnum": "declarations.choices.Category",
        "ClockEnum": "declarations.choices.Clock",
        "ConflictTypeEnum": "declarations.choices.ConflictType",
        "ConsentDecisionEnum": "declarations.api.serializers.measures.CONSENT_DECISIONS",
        "DeadlineOutcomeEnum": "declarations.choices.DeadlineOutcome",
        "DeclarationStateEnum": "declarations.choices.DeclarationState",
        "DutyEnum": "declarations.choices.Duty",
        "ErrorCodeEnum": "declarations.api.serializers.common.ERROR_CODES",
        "ExportFailureEnum": "declarations.choices.ExportFailure",
        "ExportStatusEnum": "declarations.choices.ExportStatus",
        "MeasureKindEnum": "declarations.choices.MeasureKind",
        "MeasureStateEnum": "declarations.choices.MeasureState",
        "NotificationKindEnum": "declarations.choices.NotificationKind",
        "OriginEnum": "declarations.choices.Origin",
        "RecordKindEnum": "declarations.choices.RecordKind",
        "RecordLanguageEnum": "declarations.api.serializers.records.RECORD_LANGUAGES",
        "RecordStatusEnum": "declarations.choices.RecordStatus",
        "RoleEnum": "declarations.choices.Role",
        "SignaturePolicyEnum": "declarations.choices.SignaturePolicy",
        "VerificationProblemEnum": "declarations.choices.VerificationProblem",
    },
}

# The task queue (DESIGN.md §7). Development runs tasks in-process after commit; the embedded
# deployment sets COI_TASK_BACKEND=database and runs `manage.py run_worker` (one or more
# processes); several machines set COI_TASK_BACKEND=rq: RQ over one Redis (docs/DEPLOY.md).
_TASK_BACKENDS = {
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "dummy": "django_tasks.backends.dummy.DummyBackend",
}
_task_backend = env_str("COI_TASK_BACKEND", "immediate" if DEBUG else "database")
if _task_backend not in _TASK_BACKENDS:
    _task_backend_error = f"COI_TASK_BACKEND must be one of {', '.join(_TASK_BACKENDS)}"
    raise ImproperlyConfigured(_task_backend_error)
TASKS = {
    "default": {
        "BACKEND": _TASK_BACKENDS[_task_backend],
        "QUEUES": ["default", "records", "exports"],
    }
}
# RQ (issue 17): every machine's workers take tasks from the one Redis at COI_REDIS_URL
# (redis://[user:password@]host:6379/0, rediss:// with TLS). Required: a Redis per machine would
# split the queue silently. One django-rq queue per task queue; no RQ job timeout (-1), as with
# the database queue: a render stops itself at COI_RENDER_TIME_LIMIT (RQ's alarm would share its
# SIGALRM) and the sweep fails a stalled export, while a dead worker is found by RQ's heartbeats.
if _task_backend == "rq":
    COI_REDIS_URL = env_str("COI_REDIS_URL")
    if not COI_REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        _redis_url_error = "COI_REDIS_URL must be a redis://, rediss:// or unix:// URL."
        raise ImproperlyConfigured(_redis_url_error)
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]  # RQ's pages in the admin, for superusers
    RQ_QUEUES = {
        name: {"URL": COI_REDIS_URL, "DEFAULT_TIMEOUT": -1} for name in TASKS["default"]["QUEUES"]
    }
    RQ = {"JOB_CLASS": "django_tasks_rq.Job"}  # so that a bare `manage.py rqworker` runs our tasks

# Signed records (DESIGN.md §4). The seal is the state body's PKCS#12 file; without one, a
# development seal is generated on first use under COI_DEV_SEAL_DIR (outside the repository)
# and every page it signs says so. COI_TSA_URL adds an RFC 3161 timestamp (PAdES B-T).
COI_SEAL_PKCS12 = env_str("COI_SEAL_PKCS12", "")
COI_SEAL_PASSPHRASE = env_str("COI_SEAL_PASSPHRASE", "")
COI_SEAL_ALLOW_DEVELOPMENT = env_bool("COI_SEAL_ALLOW_DEVELOPMENT", DEBUG)
COI_DEV_SEAL_DIR = Path(env_str("COI_DEV_SEAL_DIR", str(Path.home() / ".local/share/coi/dev-seal")))
COI_TSA_URL = env_str("COI_TSA_URL", "")
# Issued records: the language(s) of the record ("kk-ru" prints both side by side), the
# render time limit and the retry policy of the `issue_records` sweep.
COI_RECORD_LANGUAGE = env_str("COI_RECORD_LANGUAGE", "kk-ru")
COI_RENDER_TIME_LIMIT = env_int("COI_RENDER_TIME_LIMIT", 60)
COI_RECORD_MAX_ATTEMPTS = env_int("COI_RECORD_MAX_ATTEMPTS", 5)
# the default is also the number the API contract states (declarations/api/operations.py)
COI_VERIFY_MAX_BYTES_DEFAULT = 50 * 1024 * 1024
COI_VERIFY_MAX_BYTES = env_int("COI_VERIFY_MAX_BYTES", COI_VERIFY_MAX_BYTES_DEFAULT)
# Where /verify/<code> is reached from outside: printed on every record and in its QR code.
COI_PUBLIC_URL = env_str("COI_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
COI_EXPORT_CHUNK = env_int("COI_EXPORT_CHUNK", 10)  # dossiers per export task
# An export with no progress for this long is failed by the `issue_records` sweep (a queued
# job no worker took up, or a worker that died); each chunk of dossiers records progress.
COI_EXPORT_STALL_MINUTES = env_int("COI_EXPORT_STALL_MINUTES", 30)
# Checkpoints (issue 14): a signed commitment to every chain, made every
# COI_CHECKPOINT_MINUTES when anything changed (by `issue_records`) and at every export, written
# to COI_CHECKPOINT_DIR (made if missing; mount it where the database's owner cannot write).
COI_CHECKPOINT_MINUTES = env_int("COI_CHECKPOINT_MINUTES", 10)
COI_CHECKPOINT_DIR = Path(env_str("COI_CHECKPOINT_DIR", str(VAR_DIR / "checkpoints")))

# E-mail (issue 16): SMTP when DJANGO_EMAIL_HOST is set, else the console (development prints
# each message). DJANGO_EMAIL_BACKEND still wins when set. TLS is STARTTLS (usually port 587),
# SSL is implicit TLS (usually port 465): one or the other.
EMAIL_HOST = env_str("DJANGO_EMAIL_HOST", "")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("DJANGO_EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set DJANGO_EMAIL_USE_TLS or DJANGO_EMAIL_USE_SSL, not both.")
EMAIL_BACKEND = env_str(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = EMAIL_HOST or "localhost"  # Django's default, for a backend chosen explicitly
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "coi@localhost")

# Security headers; with DEBUG off, `manage.py check --deploy` must be clean.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# A web session ends after an hour without a request (every request renews it, so nobody is
# signed out while working), when the browser closes, and in any case ten hours after signing
# in (a working day; ``SessionLimitMiddleware``) — a workstation left signed in overnight is not.
SESSION_COOKIE_AGE = env_int("COI_SESSION_IDLE_MINUTES", 60) * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = True
COI_SESSION_MAX_SECONDS = env_int("COI_SESSION_MAX_HOURS", 10) * 60 * 60
# API tokens live a working day; then the program logs in again. Each sign-in makes a token of
# its own (one per device or integration); a user keeps at most COI_TOKEN_MAX_PER_USER live
# ones, and a sign-in beyond that ends the least recently used (issue 18).
COI_TOKEN_TTL_SECONDS = env_int("COI_TOKEN_TTL_SECONDS", 8 * 60 * 60)
COI_TOKEN_MAX_PER_USER = env_int("COI_TOKEN_MAX_PER_USER", 20)
if COI_TOKEN_MAX_PER_USER < 1:
    raise ImproperlyConfigured("COI_TOKEN_MAX_PER_USER must be at least 1.")
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# LOGGING: in the production profile section below.
# Send queued notifications right after each commit (small deployments); otherwise the scheduler
# (`manage.py run_worker` or `run_scheduler`) sends them every tick.
COI_SEND_NOTIFICATIONS_INLINE = env_bool("COI_SEND_NOTIFICATIONS_INLINE", False)

# Deadlines that run by themselves (issue 16). Reminders before each clock's due time, unless a
# body sets its own in the admin: "Nwd@HH:MM" is HH:MM Almaty on the working day N working days
# before the due day (0: the due day), "Nh" is N hours before the due instant.
COI_REMINDERS = env_list("COI_REMINDERS", ["1wd@09:00", "0wd@09:00"])
# A missed clock is escalated at this time (Almaty) on the first working day after its due day,
# and again, one level up, every StateBody.escalation_step_days working days while still missed.
COI_ESCALATION_TIME = env_str("COI_ESCALATION_TIME", "09:00")
# At most this many escalations per run of the sweep (each is an audited step); the next run,
# a minute later, goes on: a catch-up after an outage stays well inside the job's lease.
COI_ESCALATIONS_PER_RUN = env_int("COI_ESCALATIONS_PER_RUN", 500)
# The weekly digest for management and the ethics commissioner: ISO weekday (1 = Monday), time.
COI_DIGEST_WEEKDAY = env_int("COI_DIGEST_WEEKDAY", 1)
COI_DIGEST_TIME = env_str("COI_DIGEST_TIME", "09:00")
# The scheduler looks for due jobs this often; a job it takes is leased for COI_JOB_LEASE_SECONDS.
COI_SCHEDULER_TICK_SECONDS = env_int("COI_SCHEDULER_TICK_SECONDS", 15)
COI_JOB_LEASE_SECONDS = env_int("COI_JOB_LEASE_SECONDS", 600)
# E-mail delivery: a failed send is tried again after COI_MAIL_RETRY_SECONDS, twice as long each
# time (capped at six hours), up to COI_MAIL_MAX_ATTEMPTS; a sender that died mid-send leaves its
# claim to run out after COI_MAIL_LEASE_SECONDS.
COI_MAIL_RETRY_SECONDS = env_int("COI_MAIL_RETRY_SECONDS", 60)
COI_MAIL_MAX_ATTEMPTS = env_int("COI_MAIL_MAX_ATTEMPTS", 12)
COI_MAIL_LEASE_SECONDS = env_int("COI_MAIL_LEASE_SECONDS", 300)
EMAIL_TIMEOUT = env_int("DJANGO_EMAIL_TIMEOUT", 20)


# ------------------------------------------------------------------------------------------------
# Production profile (issue 17): gunicorn (its settings are in gunicorn.conf.py), WhiteNoise for
# the static files, PostgreSQL's connection pool, JSON logs with a request id, /healthz and
# /readyz. The security settings it relies on (HSTS, secure cookies, the SSL redirect) are in
# "Security headers" above. docs/DEPLOY.md describes the whole profile.
# ------------------------------------------------------------------------------------------------

# First the request id (every log line of a request carries it, the health answers too), then
# /healthz and /readyz, answered ahead of SecurityMiddleware (declarations/web/health.py says
# why); WhiteNoise right after SecurityMiddleware, where its documentation puts it.
MIDDLEWARE[:0] = [
    "declarations.web.middleware.RequestIdMiddleware",
    "declarations.web.health.HealthMiddleware",
]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "whitenoise.middleware.WhiteNoiseMiddleware",
)

# Static files: with DEBUG off, `manage.py collectstatic` writes them to STATIC_ROOT with a
# content hash in each name and gzip and Brotli copies, and WhiteNoise serves them from the
# application server with far-future cache headers. Only the hashed copies are kept (pages
# name no other) and source maps are not compressed (only developer tools read them): the
# Swagger UI and Redoc bundles made collectstatic four times slower otherwise.
# (STORAGES["default"] is the record store's, above.)
STORAGES["staticfiles"] = {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    if DEBUG
    else "whitenoise.storage.CompressedManifestStaticFilesStorage"
}
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]

# PostgreSQL through psycopg 3 with Django's connection pool (on by default with DEBUG off),
# sized per process: a gunicorn worker needs one connection per thread, `run_worker` two (the
# queue's worker and the scheduler). Each connection is checked when taken from the pool
# (Django does so with CONN_HEALTH_CHECKS, on above), so a restarted server costs no failed
# request. The pool replaces persistent connections: Django refuses both at once, so an
# explicit DATABASE_CONN_MAX_AGE is an error here rather than silently dropped.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "COI_DB_POOL", not DEBUG
):
    if env_int("DATABASE_CONN_MAX_AGE", 0) != 0:
        raise ImproperlyConfigured(
            "COI_DB_POOL and DATABASE_CONN_MAX_AGE exclude each other: unset "
            "DATABASE_CONN_MAX_AGE (or set it to 0) to use the pool, or set COI_DB_POOL=false."
        )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("COI_DB_POOL_MIN_SIZE", 1),
        "max_size": env_int("COI_DB_POOL_MAX_SIZE", 4),
        "timeout": env_int("COI_DB_POOL_TIMEOUT", 10),  # seconds to wait for a free connection
    }

# Logs: one JSON object per line (python-json-logger) with DEBUG off, text in development;
# either way each line carries the id of the request it was written in (RequestIdMiddleware,
# "-" outside a request), and the production profile logs one line per request
# ("coi.requests": method, path, status, duration_ms, client).
COI_LOG_FORMAT = env_str("COI_LOG_FORMAT", "text" if DEBUG else "json")
if COI_LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"COI_LOG_FORMAT must be json or text, got {COI_LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "declarations.web.request_id.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": ["levelname", "name", "message", "request_id"],
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # ISO 8601, UTC
        },
        "text": {"format": "{asctime} {levelname} {name} [{request_id}] {message}", "style": "{"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": COI_LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # WeasyPrint announces every rendering step at INFO; its warnings and errors still show.
        "weasyprint.progress": {"level": "WARNING"},
        # runserver already prints a line per request in development
        "coi.requests": {"level": "WARNING" if DEBUG else "INFO"},
    },
}

# /healthz fails its task-queue check when the oldest ready task has waited longer than this.
COI_HEALTH_MAX_QUEUE_LAG_SECONDS = env_int("COI_HEALTH_MAX_QUEUE_LAG_SECONDS", 900)
