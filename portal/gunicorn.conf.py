"""The portal's web server, in one place: `make run` (scripts/run.sh) and the tests that start the
real server (clusters/tests/test_rendezvous_server.py) both run
`gunicorn --config portal/gunicorn.conf.py --bind HOST:PORT`.

Gunicorn manages the worker processes; each runs uvicorn, which serves the portal as an ASGI
application (portal/asgi.py). An instance waiting for a rendezvous key (up to 30 s a request)
then sleeps in the event loop instead of holding a worker, so waiting instances never keep pages
waiting (docs/instance-api.md). Pages and the rest of the API are ordinary Django views, which
run in a pool of WEB_THREADS (4) threads per process, as under a WSGI server (portal/asgi.py).

WEB_CONCURRENCY processes (2, one per core): 3 or 4 served check-ins no faster on 2 cores.
"""

import os

wsgi_app = "portal.asgi:application"
worker_class = "uvicorn_worker.UvicornWorker"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
accesslog = "-"
errorlog = "-"
