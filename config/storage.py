"""Static files storage for production (DEBUG=0): WhiteNoise's compressed, hashed files.

Django's manifest storage turns a missing `collectstatic` into a 500 on every page that names a
static file (ValueError: Missing staticfiles manifest entry), error pages included. Here a file
missing from the manifest is named unhashed instead, and logged once; settings then let
WhiteNoise serve the unhashed files from the apps' folders (WHITENOISE_USE_FINDERS). Pages keep
working; `collectstatic` is still what gives long-lived cache headers and compressed files.
"""

import logging

from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger(__name__)


class ForgivingManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    _warned: set[str] = set()

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:
            if not self._warned:
                logger.warning(
                    "static file %s is not collected: run `manage.py collectstatic` (serving it unhashed)",
                    name,
                )
            self._warned.add(name)
            return name
