from celery import shared_task


@shared_task
def ping() -> str:
    """A trivial task: answering it proves the broker path and a live worker."""
    return "pong"
