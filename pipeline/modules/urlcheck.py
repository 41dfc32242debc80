"""`--check-urls`: fetch each external media URL once, in parallel, with a timeout."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from pipeline import __version__

if TYPE_CHECKING:  # imported lazily: only --check-urls needs it (saves 0.1 s start-up)
    import httpx

_FALLBACK_TO_GET = {403, 405, 501}


def check_urls(
    urls: Sequence[str], *, timeout: float = 10.0, workers: int = 8
) -> dict[str, str | None]:
    """Map each URL to None when it answers 2xx/3xx, else to the reason it failed."""
    if not urls:
        return {}
    import httpx

    headers = {"User-Agent": f"module-pipeline/{__version__} (+link check)"}
    with (
        httpx.Client(timeout=timeout, follow_redirects=True, headers=headers) as client,
        ThreadPoolExecutor(max_workers=workers) as pool,
    ):
        reasons = pool.map(lambda url: _probe(client, url), urls)
        return dict(zip(urls, reasons, strict=True))


def _probe(client: httpx.Client, url: str) -> str | None:
    import httpx

    try:
        response = client.head(url)
        if response.status_code in _FALLBACK_TO_GET:
            with client.stream("GET", url) as streamed:
                response = streamed
    except httpx.TimeoutException:
        return "timed out"
    except httpx.HTTPError as exc:
        return f"request failed ({type(exc).__name__})"
    if response.status_code >= 400:
        return f"HTTP {response.status_code}"
    return None
