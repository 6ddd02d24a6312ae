"""A person in a real browser at a phone's width: sign up, create a profile, fill the sectioned
editor (with "Add another" in a list), save, read the preview in two formats, and see the secret kept out of the YAML view."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

from portal.testing.browser import click, fill
from portal.testing.waits import DEADLINE

pytestmark = [pytest.mark.slow, pytest.mark.database_agnostic, pytest.mark.django_db(transaction=True)]
SECRET = "browser-Secret-91"


def test_a_person_builds_a_profile_and_previews_it_on_a_phone(browser, live_server):
    browser.get(live_server.url + "/accounts/signup/")
    fill(browser, "username", "erin")
    fill(browser, "password1", "a long enough passphrase")
    fill(browser, "password2", "a long enough passphrase")
    click(browser, "//main//button[@type='submit']")

    browser.save_screenshot("/tmp/after-signup.png")
    browser.get(live_server.url + "/profiles/new/")
    fill(browser, "name", "Phone-made worker")
    click(browser, "//main//button[@type='submit']")
    WebDriverWait(browser, DEADLINE).until(seen.url_matches(r"/profiles/\d+/edit/$"))

    fill(browser, "general-hostname", "{{ cluster.name }}-node-{{ instance.index }}")
    click(browser, "//button[contains(@class, 'accordion-button') and contains(., 'Users')]")
    fill(browser, "users-0-name", "erin")
    fill(browser, "users-0-password", SECRET)
    click(browser, "//button[@data-formset-add='users']")  # "Add another": a second user's blank form
    fill(browser, "users-1-name", "frank")
    click(browser, "//button[@type='submit' and contains(., 'Save a new revision')]")

    WebDriverWait(browser, DEADLINE).until(seen.url_matches(r"/profiles/\d+/$"))
    assert "Saved revision 2" in browser.page_source
    cloud_init = browser.find_element(By.ID, "userdata-cloud-init").text
    assert "hostname: preview-node-0" in cloud_init
    assert "name: erin" in cloud_init and "name: frank" in cloud_init
    click(browser, "//button[@id='tab-shell']")
    shell = WebDriverWait(browser, DEADLINE).until(
        seen.visibility_of_element_located((By.ID, "userdata-shell"))
    )
    assert shell.text.startswith("#!/bin/sh")
    assert SECRET not in browser.page_source

    browser.get(browser.current_url + "yaml/")
    yaml_text = browser.find_element(By.NAME, "document").get_attribute("value")
    assert "password: '********'" in yaml_text
    assert SECRET not in browser.page_source


def test_the_navigation_collapses_behind_a_toggle_on_a_phone(browser, live_server):
    browser.get(live_server.url + "/")
    login_link = browser.find_element(By.CSS_SELECTOR, "#mainnav a[href='/accounts/login/']")
    assert not login_link.is_displayed()
    click(browser, "//button[contains(@class, 'navbar-toggler')]")
    WebDriverWait(browser, DEADLINE).until(seen.visibility_of(login_link))
