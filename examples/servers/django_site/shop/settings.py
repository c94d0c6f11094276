"""The shop's settings. The whole tracelog set-up is the two marked lines."""

from __future__ import annotations

import os

import tracelog

if os.environ.get("EXAMPLE_SPANS"):  # the tests read spans back; not part of the set-up
    from _spans import export_spans_if_asked

    export_spans_if_asked("shop")

tracelog.configure()  # tracelog set-up, 1 of 2

DEBUG = True
SECRET_KEY = "example-only-not-secret"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "shop.urls"
INSTALLED_APPS: list[str] = []
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
MIDDLEWARE = [
    "tracelog.web.DjangoMiddleware",  # tracelog set-up, 2 of 2: first in the list
    "django.middleware.common.CommonMiddleware",
]
