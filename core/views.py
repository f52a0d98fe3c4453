"""What every read-only view needs, whichever app serves it."""

from collections.abc import Callable

from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe


def read_only(view: Callable) -> Callable:
    """GET and HEAD only: any other method is answered 405 with an Allow header.

    CSRF-exempt on purpose. CsrfViewMiddleware runs before the view, so without the exemption a
    POST from a client with no CSRF cookie got the 403 CSRF page instead of the 405 this view
    gives; and a view that never writes has nothing for a forged request to change."""
    return csrf_exempt(require_safe(view))
