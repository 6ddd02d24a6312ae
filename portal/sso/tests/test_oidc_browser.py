"""A person in a real browser logs in with the institution's single sign-on: the button on the
portal's login page, the provider's own login form and consent page, and back on the portal,
logged in, on the page a login lands on."""

import pytest
from django.contrib.auth.models import User
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

from portal.testing.browser import click, fill
from portal.testing.waits import DEADLINE

pytestmark = [pytest.mark.slow, pytest.mark.database_agnostic, pytest.mark.django_db(transaction=True)]


def test_a_person_logs_in_through_the_provider_and_lands_on_the_portal(browser, live_server, sso):
    browser.delete_all_cookies()
    browser.get(live_server.url + "/accounts/login/")
    click(browser, "//a[@id='sso-login' and contains(., 'Log in with Example SSO')]")

    WebDriverWait(browser, DEADLINE).until(seen.url_contains(sso.url + "/accounts/login/"))
    assert "Test identity provider" in browser.page_source
    fill(browser, "username", "olivia")
    fill(browser, "password", sso.users["olivia"]["password"])
    click(browser, "//button[@type='submit']")
    click(browser, "//input[@name='allow']")  # the provider's consent page

    WebDriverWait(browser, DEADLINE).until(seen.url_to_be(live_server.url + "/profiles/"))
    navbar = browser.find_element(By.CSS_SELECTOR, "nav.navbar").get_attribute("innerHTML")
    assert "olivia" in navbar and "Log out" in navbar
    assert User.objects.get(username="olivia").email == "olivia@example.org"
