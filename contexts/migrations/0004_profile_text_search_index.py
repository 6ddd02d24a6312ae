"""A full-text index for the marketplace search on PostgreSQL (contexts.marketplace.search): the
words of a profile's name and description, by the very expression the search uses, or PostgreSQL
would not use it. SQLite, the development database, searches by substring and has no such index."""

from django.db import migrations

INDEX = "contexts_profile_text_search"
WORDS = "to_tsvector('english'::regconfig, COALESCE(name, '') || ' ' || COALESCE(description, ''))"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON contexts_profile USING gin ({WORDS})")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("contexts", "0003_pairing")]

    operations = [migrations.RunPython(create_index, drop_index)]
