"""Small steps for the Selenium tests, as a person does them in Chromium (see conftest's
`browser` fixture): find a visible field, type, choose, click what can be clicked."""

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import Select, WebDriverWait

from portal.testing.waits import DEADLINE

_TO_CENTRE = "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});"  # no smooth scrolling


def field(browser, name):
    element = WebDriverWait(browser, DEADLINE).until(seen.visibility_of_element_located((By.NAME, name)))
    browser.execute_script(_TO_CENTRE, element)
    return element


def fill(browser, name, value):
    element = field(browser, name)
    element.clear()
    element.send_keys(value)


def choose(browser, name, label):
    Select(field(browser, name)).select_by_visible_text(label)


def click(browser, xpath):
    element = WebDriverWait(browser, DEADLINE).until(seen.element_to_be_clickable((By.XPATH, xpath)))
    browser.execute_script(_TO_CENTRE, element)
    element.click()


def fits_the_screen(browser) -> bool:
    return browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")


def log_in(browser, site_url, username, password):
    """Log in on the login page, as a person does, and wait until the portal has moved on."""
    browser.delete_all_cookies()
    browser.get(site_url + "/accounts/login/")
    fill(browser, "username", username)
    fill(browser, "password", password)
    click(browser, "//main//button[@type='submit']")
    WebDriverWait(browser, DEADLINE).until(seen.url_changes(site_url + "/accounts/login/"))


def carry_session(browser, site_url, user):
    """The browser carries a logged-in session of `user` (for tests whose subject is not the login
    form, which has tests of its own)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    browser.delete_all_cookies()
    browser.get(site_url + "/health/")  # a page of the site, so that its cookie can be set
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    browser.add_cookie({"name": settings.SESSION_COOKIE_NAME, "value": cookie, "path": "/"})


def until(browser, condition, timeout: float = DEADLINE, every: float = 0.5):
    """WebDriverWait for a page with live parts: an element htmx swapped out between being found and
    being read is found again at the next poll instead of failing the test."""
    waiting = WebDriverWait(browser, timeout, poll_frequency=every,
                            ignored_exceptions=(StaleElementReferenceException,))  # fmt: skip
    return waiting.until(condition)
