#!/usr/bin/env python3
"""A moto server on 127.0.0.1 that counts the API calls it serves, per operation.

Usage: moto_counting.py PORT

Same app as `moto_server`, wrapped in a WSGI middleware that tallies each request by its
`X-Amz-Target` header (JSON protocols such as ECR's) or `Action` parameter (query protocols
such as STS). The tally is read with `GET /__counts` and cleared with `POST /__counts`;
`POST /moto-api/reset` resets moto's state as usual. Used by bench/remediate.sh so that every
contender's calls are counted the same way, on the server side.
"""
import io
import json
import sys
import threading
import urllib.parse

from werkzeug.serving import make_server
from moto.server import DomainDispatcherApplication, create_backend_app

LOCK = threading.Lock()
COUNTS = {}


def operation_of(environ):
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.split(".")[-1]
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return query["Action"][0]
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        # Query protocols (STS) send the Action in the body: read it, then put it back.
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        if "Action" in form:
            return form["Action"][0]
    return "%s %s" % (environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))


class Counting:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/__counts":
            with LOCK:
                if environ["REQUEST_METHOD"] == "POST":
                    COUNTS.clear()
                body = json.dumps(COUNTS).encode()
            start_response("200 OK", [("Content-Type", "application/json"),
                                      ("Content-Length", str(len(body)))])
            return [body]
        if not path.startswith("/moto-api"):
            op = operation_of(environ)
            with LOCK:
                COUNTS[op] = COUNTS.get(op, 0) + 1
        return self.app(environ, start_response)


def main():
    port = int(sys.argv[1])
    app = Counting(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", port, app, threaded=True)
    print("listening on 127.0.0.1:%d" % port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
