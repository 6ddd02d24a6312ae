"""The marketplace search on PostgreSQL (docs/marketplace.md, docs/performance.md): full-text search of names, descriptions and
tags, answered from an index of the names and descriptions, so that it stays fast with thousands
of public profiles, and finds exactly what matching every profile's words and tags finds."""

import json

import pytest

from portal.tests.test_postgresql import manage, postgres_url  # noqa: F401 - postgres_url is a fixture

pytestmark = [pytest.mark.slow, pytest.mark.database_agnostic]

# Run in `manage.py shell` on a throwaway PostgreSQL database; prints what the test checks.
CHECK = """
import json
from django.contrib.auth.models import User
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from contexts import marketplace
from contexts.models import Profile
from contexts.profiles import create_profile

alice = User.objects.create_user("alice")
for name, description, tags in [
    ("Condor worker", "Joins the CMS analysis pool.", ["atlas", "grid"]),
    ("Condor master", "The pool's collector and negotiator.", ["cms"]),
    ("Puppet agent", "Configures a node from the atlas Puppet server.", []),
    ("Analysis node", "Interactive analysis with ROOT.", ["analyses", "workers"]),
    ("Grid squid", "A squid proxy for CernVM-FS.", ["grid", "cvmfs"]),
]:
    create_profile(alice, name, {"schema": 1}, description=description, tags=tags, visibility="public")
create_profile(alice, "Private worker", {"schema": 1}, tags=["atlas"])

QUERIES = ["worker", "workers", "atlas", "atlas worker", "atlas condor", "grid -condor", '"cernvm-fs"',
           "analysis", "analyses worker", "cms or puppet", "-atlas", "the", "squid grid proxy", "nothing-here"]


def names(profiles):
    return sorted(p.name for p in profiles)


def every_word(text):
    # What the search means: every public profile's name, description and tags, matched one by one.
    words = SearchVector("name", "description", marketplace._tag_names(), config="english")
    query = SearchQuery(text, config="english", search_type="websearch")
    return names(Profile.objects.filter(visibility="public").annotate(w=words).filter(w=query))


found = {q: names(marketplace.public_profiles(text=q)) for q in QUERIES}
expected = {q: every_word(q) for q in QUERIES}
with connection.cursor() as cursor:
    cursor.execute("SET enable_seqscan = off")  # six profiles: a scan would be cheaper than any index
plan = marketplace.public_profiles(text="worker").explain()
print(json.dumps({"found": found, "expected": expected, "plan": plan}))
"""


def test_the_search_finds_what_every_word_and_tag_finds_from_an_index(postgres_url):  # noqa: F811
    manage(postgres_url, "migrate", "--noinput")
    result = json.loads(manage(postgres_url, "shell", "-v", "0", "-c", CHECK).strip().splitlines()[-1])
    found, expected = result["found"], result["expected"]
    assert found == expected
    assert found["atlas"] == ["Condor worker", "Puppet agent"]  # a tag, a description
    assert found["atlas worker"] == ["Condor worker"]  # a tag and a name together
    assert found["workers"] == ["Analysis node", "Condor worker"]  # stemmed: a name, a tag
    assert found["grid -condor"] == ["Grid squid"]
    assert found["the"] == [] and found["nothing-here"] == []
    assert "contexts_profile_text_search" in result["plan"], result["plan"]
