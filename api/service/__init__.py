"""ketnoi.api.service: the HTTP service (FastAPI) over the ketnoi database and the matcher.

Run it with ``ketnoi serve`` (or ``uvicorn --factory api.service:create_app``); the OpenAPI
docs are at ``/docs``. Every ``/v1`` route but ``/v1/health`` needs an API key.
"""

from ketnoi.api.service._app import create_app
from ketnoi.api.service._settings import ServiceSettings

__all__ = ["ServiceSettings", "create_app"]
