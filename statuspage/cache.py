"""The public pages' cache: a generation key in the shared cache, and a per-process layer in front.

Visitors arrive all at once when something breaks, so a public response must cost next to
nothing. Every change bumps one generation key in the shared cache (Redis or the file cache);
rendered responses are stored under that generation, so stale ones are never read again and
nothing has to be deleted. Each process keeps the responses of the current generation in memory
and re-reads the generation key at most every STATUSPAGE_LOCAL_TTL seconds (default 1 s): a hit
costs a dict lookup and no network round trip (Django's Redis backend builds a client per call,
~160 µs), and a visitor sees a change within that TTL. The process that made the change drops its
own layer at once.

CachedPageMiddleware serves those in-memory copies before the session, CSRF, auth, audit and
messages middleware and before URL resolution: none of them has anything to do for a page that is
the same for everyone, and together they were about half the CPU of a cached request. It only
knows paths the cached views have already served (their vary parameters and route come from
there); everything else goes down the whole stack as before.

Two things bound what the cache holds. A request is answered from it only in its canonical form:
`/incidents/06` or `?page=01` would each render and store their own copy of the same page, so
they are sent (301) to `/incidents/6` and `?page=1`'s canonical URL first, and query parameters
a view does not read are left out of the key. And a rendered page larger than
STATUSPAGE_CACHE_MAX_BYTES is served but not stored, so one huge page cannot fill Redis once per
generation.
"""

import gzip
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseNotModified,
    HttpResponsePermanentRedirect,
)
from django.urls import NoReverseMatch, ResolverMatch, reverse
from django.utils.http import urlencode
from django.views.decorators.csrf import csrf_exempt
from redis.exceptions import RedisError

from core.cache import redis_client
from core.i18n import language_headers, public_language, visitor_language
from statuspage.cors import ALLOWED_METHODS, allow_any_origin, preflight

GENERATION_KEY = "statuspage:generation"
# Redis pub/sub channel told of every new generation, so live streams hear of a change at once
# instead of at their next look at the generation key (statuspage/live.py).
CHANGES_CHANNEL = "statuspage:changes"
logger = logging.getLogger(__name__)


def _build_fingerprint() -> str:
    """Changes when the status page's code, templates or static files change, so a deploy never serves
    pages rendered by the previous release from the shared cache."""
    from pathlib import Path

    app = Path(__file__).resolve().parent
    roots = [app, app.parent / "templates" / "statuspage"]
    stamp = hashlib.sha1()
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix in (".py", ".html", ".css", ".js", ".svg", ".ico", ".txt"):
                info = path.stat()
                stamp.update(f"{path.relative_to(app.parent)}:{info.st_size}:{info.st_mtime_ns}".encode())
    return stamp.hexdigest()[:12]


BUILD = _build_fingerprint()
LOCAL_MAX_ENTRIES = 500


class _Local:
    def __init__(self) -> None:
        self.generation: str | None = None
        self.checked_at = 0.0
        self.pages: dict[str, tuple[str, str, bytes, bytes]] = {}
        # request.path -> (vary_on, localized, cors, resolver match) of the cached view serving it.
        self.routes: dict[str, tuple[tuple[str, ...], bool, bool, ResolverMatch]] = {}
        self.render_lock = threading.Lock()


_local = _Local()
clock: Callable[[], float] = time.monotonic


def _fresh_generation() -> str:
    return str(time.time_ns())


def current_generation(*, fresh: bool = False) -> str:
    """The shared generation, re-read at most every STATUSPAGE_LOCAL_TTL unless `fresh`."""
    now = clock()
    recent = now - _local.checked_at < settings.STATUSPAGE_LOCAL_TTL
    if _local.generation is not None and recent and not fresh:
        return _local.generation
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, _fresh_generation(), timeout=None)
        # Another process may have won the add; everyone must agree on one value. If the shared
        # cache is down (a miss every time) the process still works, rendering each time.
        generation = cache.get(GENERATION_KEY) or _local.generation or _fresh_generation()
    if generation != _local.generation:
        _local.pages = {}
    _local.generation, _local.checked_at = generation, now
    return generation


def invalidate() -> None:
    """Make every process render afresh (this one at once, the others within the local TTL)."""
    generation = _fresh_generation()
    cache.set(GENERATION_KEY, generation, timeout=None)
    _local.generation = None
    _local.pages = {}
    _announce(generation)


def _announce(generation: str) -> None:
    client = redis_client()
    if client is None:
        return
    try:
        client.publish(CHANGES_CHANNEL, generation)
    except (RedisError, OSError) as exc:
        # Streams still see the change at their next look at the generation key.
        logger.warning("could not announce a status page change: %s", exc)


def version_of(generation: str) -> str:
    """The version a page or live document of this generation carries (its ETag, without quotes)."""
    return f"{BUILD}-{generation}"


def _etag(generation: str, language: str | None) -> str:
    # Weak: the plain and gzip bodies of one generation share it. A page in several languages
    # has one copy per language, so one tag per language: a visitor who switches language must
    # not be told that the copy in the other language is still good.
    version = version_of(generation)
    return f'W/"{version}-{language}"' if language else f'W/"{version}"'


def _headers(response: HttpResponse, generation: str, language: str | None, cors: bool) -> HttpResponse:
    response["Vary"] = "Accept-Encoding"
    response["Cache-Control"] = f"public, max-age={settings.STATUSPAGE_BROWSER_MAX_AGE}"
    response["ETag"] = _etag(generation, language)
    if language:
        language_headers(response, language)
    if cors:
        allow_any_origin(response)
    return response


def _not_modified(
    request: HttpRequest, generation: str, language: str | None, cors: bool
) -> HttpResponse | None:
    """304 when the client already holds this generation's copy: a poll costs no body at all."""
    if _etag(generation, language) not in request.META.get("HTTP_IF_NONE_MATCH", ""):
        return None
    return _headers(HttpResponseNotModified(), generation, language, cors)


def _canonical_number(raw: str) -> int | None:
    # int() also reads "+2", " 2", "2_0" and other scripts' digits: each is another spelling of
    # a number, so another cache entry unless it is sent to the one spelling. (Past 4,300 digits
    # int() refuses, and the view answers as for any other bad value.)
    try:
        return int(raw)
    except ValueError:
        return None


def _canonical_url(request: HttpRequest, params: dict[str, int]) -> str | None:
    """Where a non-canonical spelling of this page lives, or None when the request is canonical.

    The path is rebuilt from the route and its converted arguments (`/incidents/06` ->
    `/incidents/6`); each whole-number parameter is written in digits without leading zeros and
    left out when it is the default. A value that is not a number stays as it is, for the view
    to refuse."""
    match = request.resolver_match
    path = request.path
    if match is not None and match.view_name:
        try:
            path = reverse(match.view_name, args=match.args, kwargs=match.kwargs)
        except NoReverseMatch:
            path = request.path
    canonical = path != request.path
    query = []
    for name, default in params.items():
        values = request.GET.getlist(name)
        if not values:
            continue
        raw = values[-1]  # what request.GET.get() and so the view reads
        number = _canonical_number(raw)
        if number is None:
            query.append((name, raw))
            canonical = canonical or len(values) > 1
            continue
        if number != default:
            query.append((name, str(number)))
        canonical = canonical or len(values) > 1 or number == default or str(number) != raw
    if not canonical:
        return None
    return f"{path}?{urlencode(query)}" if query else path


def _key(request: HttpRequest, vary_on: tuple[str, ...], language: str | None) -> str:
    # Only the parameters the view reads are part of the key, so ?random=... cannot bust the cache.
    params = "&".join(f"{name}={request.GET.get(name, '')}" for name in vary_on)
    return f"{request.path}?{params}#{language or ''}"


def _accepts_gzip(request: HttpRequest) -> bool:
    return "gzip" in request.META.get("HTTP_ACCEPT_ENCODING", "")


def _response(
    request: HttpRequest, hit: tuple[str, str, bytes, bytes], language: str | None, cors: bool
) -> HttpResponse:
    generation, content_type, body, compressed = hit
    if _accepts_gzip(request):
        # Compressed once per generation, not per request: the home page shrinks about tenfold,
        # which is what lets a surge be served at the bare view's rate.
        response = HttpResponse(compressed, content_type=content_type)
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(body, content_type=content_type)
    return _headers(response, generation, language, cors)


def _remember_route(request: HttpRequest, vary_on: tuple[str, ...], localized: bool, cors: bool) -> None:
    """What CachedPageMiddleware needs to serve this path's next request by itself."""
    if request.path not in _local.routes:
        if len(_local.routes) >= LOCAL_MAX_ENTRIES:
            _local.routes = {}
        _local.routes[request.path] = (vary_on, localized, cors, request.resolver_match)


def _storable(key: str, hit: tuple[str, str, bytes, bytes]) -> bool:
    size = len(hit[2]) + len(hit[3])
    if size <= settings.STATUSPAGE_CACHE_MAX_BYTES:
        return True
    logger.warning(
        "public page %s is %d bytes (plain and gzip), over STATUSPAGE_CACHE_MAX_BYTES=%d: served uncached",
        key,
        size,
        settings.STATUSPAGE_CACHE_MAX_BYTES,
    )
    return False


def cached_public(*, params: dict[str, int] | None = None, cors: bool = False, localized: bool = False):
    """Serve a public GET view from the page cache. Only 200 responses are kept.

    `params` names the whole-number query parameters the view reads, with their defaults: they
    are part of the cache key and have one canonical spelling (any other is redirected to it).
    `localized`: the view answers in the visitor's language (core.i18n), which is then part of
    the key, the ETag and the headers; machine-read answers (JSON, feeds, badges) are not."""
    params = dict(params or {})
    vary_on = tuple(params)

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if cors and request.method == "OPTIONS":
                return preflight(request)
            if request.method not in ("GET", "HEAD"):
                # Read-only pages: any other method is refused here, before the view, so it
                # can neither write nor make the view render past the cache.
                return HttpResponseNotAllowed(list(ALLOWED_METHODS) if cors else ["GET", "HEAD"])
            generation = current_generation()
            language = visitor_language(request) if localized else None
            not_modified = _not_modified(request, generation, language, cors)
            if not_modified is not None:
                return not_modified
            # The page embeds its version, so the live-update script knows what it shows.
            request.live_version = version_of(generation)
            key = _key(request, vary_on, language)
            hit = _local.pages.get(key)
            if hit is not None and hit[0] == generation:
                _remember_route(request, vary_on, localized, cors)
                return _response(request, hit, language, cors)
            canonical = _canonical_url(request, params)
            if canonical is not None:
                return HttpResponsePermanentRedirect(canonical)
            shared_key = f"statuspage:page:{BUILD}:{generation}:{hashlib.sha1(key.encode()).hexdigest()}"
            hit = cache.get(shared_key)
            if hit is None:
                # One render per process at a time: a surge right after a change waits for the
                # first render instead of rendering the same page on every thread.
                with _local.render_lock:
                    hit = _local.pages.get(key)
                    if hit is None or hit[0] != generation:
                        response = view(request, *args, **kwargs)
                        if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                            response.render()
                        if response.status_code != 200:
                            # Not cached, but a widget must still be able to read the error.
                            return allow_any_origin(response) if cors else response
                        body = response.content
                        hit = (generation, response["Content-Type"], body, gzip.compress(body, 6))
                        if not _storable(key, hit):
                            return _response(request, hit, language, cors)
                        cache.set(shared_key, hit, timeout=settings.STATUSPAGE_CACHE_TIMEOUT)
            if len(_local.pages) >= LOCAL_MAX_ENTRIES:
                _local.pages = {}
            _local.pages[key] = hit
            _remember_route(request, vary_on, localized, cors)
            return _response(request, hit, language, cors)

        if localized:
            public_language(wrapper)
        # Read-only, so CSRF-exempt for the reason core.views.read_only gives: otherwise a POST
        # gets the CSRF page before the method check above can answer 405.
        return csrf_exempt(wrapper)

    return decorator


class CachedPageMiddleware:
    """A cached public page served from this process's memory, early in MIDDLEWARE: after the
    middleware that counts, throttles or adds headers to every answer (request timing, throttle,
    security, X-Frame-Options), before those with nothing to do for an anonymous cached page
    (sessions, CSRF, auth, audit, messages) and before URL resolution. A middleware that adds
    headers to every response must sit above this one (a test compares the two paths' headers)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.method in ("GET", "HEAD"):
            route = _local.routes.get(request.path)
            if route is not None:
                vary_on, localized, cors, match = route
                generation = current_generation()
                language = visitor_language(request) if localized else None
                not_modified = _not_modified(request, generation, language, cors)
                if not_modified is not None:
                    request.get_host()
                    request.resolver_match = match
                    return not_modified
                hit = _local.pages.get(_key(request, vary_on, language))
                if hit is not None and hit[0] == generation:
                    request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware would check it
                    request.resolver_match = match  # the route request timing records
                    response = _response(request, hit, language, cors)
                    response["Content-Length"] = str(len(response.content))  # as CommonMiddleware
                    return response
        return self.get_response(request)
