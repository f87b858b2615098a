"""An httplib2 transport that sends each request at most once, for ``messages.send``.

httplib2 sends a request a second time when the connection closes before the answer's status
line: it takes that for a keep-alive connection the server had already dropped. For a send it
cannot tell that from a server that took the message and then lost the connection, so the
second attempt could send the email twice. :class:`OneAttemptHttp` refuses to send a request
that has already gone out in full and raises :class:`RepeatRefused` instead, which the provider
reports as SendOutcomeUnknown. Imported only when a message is sent (httplib2 is imported with
the Google client).
"""

from __future__ import annotations

from typing import Any

import httplib2


class RepeatRefused(Exception):  # noqa: N818 - says what happened, as the stdlib's names do
    """Raised instead of sending a request a second time after it went out in full."""


class OneAttemptHttp(httplib2.Http):
    """``httplib2.Http`` whose requests each reach the server at most once.

    A request that failed part-way through being written (so the server cannot have acted on
    it) may still be sent again, as httplib2 does.
    """

    def _conn_request(self, conn: Any, request_uri: str, method: str, body: Any, headers: Any) -> Any:
        written = False
        write = conn.request

        def write_once(*args: Any, **kwargs: Any) -> Any:
            nonlocal written
            if written:
                raise RepeatRefused("the connection closed before the server answered")
            result = write(*args, **kwargs)
            written = True
            return result

        conn.request = write_once
        try:
            return super()._conn_request(conn, request_uri, method, body, headers)
        finally:
            del conn.request
