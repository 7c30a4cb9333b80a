"""The published contract: ``/api/schema/`` and ``docs/openapi.yaml``, the same document.

``manage.py openapi_contract --write`` regenerates the file; ``--check`` (run by ``.ci/test``)
fails when the code and the file disagree. Both build it as ``/api/schema/`` does: the
project's generator (``api/schema.EnglishSchemaGenerator``, English whatever the language),
rendered as YAML by drf-spectacular's own renderer.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from django.conf import settings
from drf_spectacular.renderers import OpenApiYamlRenderer
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework.request import Request
from rest_framework.response import Response

#: the published file, beside the changelog of its changes
CONTRACT = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"
REGENERATE = "DJANGO_SETTINGS_MODULE=tests.settings python manage.py openapi_contract --write"


class SchemaView(SpectacularAPIView):
    """``/api/schema/``: the one contract; its language is English, whatever was asked."""

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response: Response = super().get(request, *args, **kwargs)
        response["Content-Language"] = "en"
        return response


def contract_yaml() -> str:
    """The contract as the code makes it now."""
    generator = spectacular_settings.DEFAULT_GENERATOR_CLASS()
    schema = generator.get_schema(request=None, public=True)
    return OpenApiYamlRenderer().render(schema, renderer_context={}).decode()


def contract_diff(*, published: str, generated: str, lines: int = 40) -> list[str]:
    """The head of the unified diff from the published file to the generated one."""
    diff = difflib.unified_diff(
        published.splitlines(keepends=True),
        generated.splitlines(keepends=True),
        fromfile="docs/openapi.yaml (published)",
        tofile="docs/openapi.yaml (generated from the code)",
    )
    return [line for _, line in zip(range(lines), diff, strict=False)]
