"""In Chromium, the main pages break no rule of the Content-Security-Policy: no script, style or
image is blocked, also after htmx refreshes a live part (docs/security.md, "Headers")."""

import pytest

from clusters.models import Cluster, ClusterDefinition
from contexts.models import Profile
from portal.testing.browser import log_in
from portal.testing.waits import wait_for
from portal.tests.test_csp_pages import alices_things  # noqa: F401 - the fixture

pytestmark = [pytest.mark.slow, pytest.mark.database_agnostic, pytest.mark.django_db(transaction=True)]

# Runs in every page before its own scripts (DevTools, so the policy does not apply to it) and
# keeps what the browser reports, whatever the console shows.
LISTEN = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline") + " "
    + event.sourceFile + ":" + event.lineNumber);
});
"""


@pytest.fixture
def violations_kept(browser):
    script = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": LISTEN})
    browser.get_log("browser")  # what earlier tests left in the console
    yield browser
    browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]})


def violations_on(browser, url) -> list[str]:
    browser.get(url)
    wait_for(lambda: browser.execute_script("return document.readyState") == "complete", message=url)
    found = browser.execute_script("return window.cspViolations || [];")
    console = [e["message"] for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]
    return found + console


def test_the_main_pages_show_no_policy_violation(violations_kept, live_server, alice, alices_things):  # noqa: F811
    browser = violations_kept
    profile, definition, cluster = (
        Profile.objects.get(name="Condor"),
        ClusterDefinition.objects.get(),
        Cluster.objects.get(),
    )
    assert violations_on(browser, live_server.url + "/accounts/login/") == []
    log_in(browser, live_server.url, "alice", "correct horse battery staple")
    pages = ["/", "/profiles/", f"/profiles/{profile.pk}/", f"/profiles/{profile.pk}/edit/", "/definitions/",
             f"/definitions/{definition.pk}/", "/clusters/", f"/clusters/{cluster.pk}/", "/clouds/", "/usage/",
             "/marketplace/profiles/", "/health/", "/accounts/tokens/", "/api/docs/"]  # fmt: skip
    found = {page: violations_on(browser, live_server.url + page) for page in pages}
    assert {page: problems for page, problems in found.items() if problems} == {}
    # The cluster page's live part, refreshed by htmx, stays within the policy too.
    browser.get(live_server.url + f"/clusters/{cluster.pk}/")
    browser.execute_script(
        "window.swapped = 0; document.body.addEventListener('htmx:afterSwap', () => window.swapped++);"
    )
    wait_for(lambda: browser.execute_script("return window.swapped") > 0, timeout=30, message="a refresh")
    assert browser.execute_script("return window.cspViolations") == []


def test_the_listener_sees_a_violation(violations_kept, live_server):
    """The check can fail: an inline style set through markup is reported."""
    browser = violations_kept
    browser.get(live_server.url + "/accounts/login/")
    browser.execute_script(
        "document.body.insertAdjacentHTML('beforeend', '<div style=\"color: red\">x</div>');"
    )
    wait_for(
        lambda: browser.execute_script("return window.cspViolations.length") > 0,
        timeout=10,
        message="a report",
    )
    assert "style-src" in browser.execute_script("return window.cspViolations[0]")
