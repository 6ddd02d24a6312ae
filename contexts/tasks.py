"""Celery tasks of the contexts app: thin, they call its modules."""

from celery import shared_task

from contexts import pairing


@shared_task(name="contexts.purge_pairings")
def purge_pairings() -> int:
    """Run hourly by Celery beat (CELERY_BEAT_SCHEDULE): delete PIN requests nobody can use any more."""
    return pairing.purge_unpaired()
