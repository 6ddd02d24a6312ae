"""The pages stay fit for a strict Content-Security-Policy (no 'unsafe-inline', no 'unsafe-eval'):
no template has an inline script, event handler or style, scripts are files, and htmx is told to need
neither eval nor a <style> of its own (docs/architecture.md, "Pages")."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)  # onclick=, onload=, ...
INLINE_STYLE = re.compile(
    r"<style\b|\sstyle\s*=", re.IGNORECASE
)  # the policy's style-src has no 'unsafe-inline'
COMMENT = re.compile(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}", re.DOTALL)  # never rendered
NEEDS_EVAL = re.compile(
    r"\s(data-)?hx-on\b|\shx-trigger=\"[^\"]*\[|\shx-vals=\"\s*js:|javascript:", re.IGNORECASE
)


def templates() -> list[Path]:
    folders = [Path(folder) for folder in settings.TEMPLATES[0]["DIRS"]]
    folders += [ROOT / app / "templates" for app in ("portal", "contexts", "clusters")]
    found = [path for folder in folders if folder.is_dir() for path in folder.rglob("*.html")]
    assert len(found) > 40, "the templates were not found"
    return found


def offences(text: str) -> list[str]:
    text = COMMENT.sub("", text)
    found = [
        f"inline script {match.group(0)[:60]!r}"
        for match in SCRIPT.finditer(text)
        if match.group(2).strip() or "src=" not in match.group(1)
    ]
    found += [f"event handler {match.group(0).strip()!r}" for match in HANDLER.finditer(text)]
    found += [f"inline style {match.group(0).strip()!r}" for match in INLINE_STYLE.finditer(text)]
    found += [f"needs eval {match.group(0).strip()!r}" for match in NEEDS_EVAL.finditer(text)]
    return found


def test_the_check_sees_what_it_forbids():
    assert len(offences('<script>alert(1)</script><script src="a.js">x</script><script type="module">')) == 2
    assert offences('<button type="button" onclick="go()">') and offences("<body onload='go()'>")
    assert offences('<div hx-on:click="go()">') and offences('<div hx-trigger="every 2s [ok()]">')
    assert offences('<a href="javascript:go()">')
    assert offences('<div style="width: 5rem">') and offences("<style>p {}</style>")
    assert not offences(
        "<script src=\"{% static 'portal/portal.js' %}\"></script><p>Someone said: go on = yes</p>"
    )
    assert not offences("{# no <script> here, no hx-on #}")


def test_no_template_has_an_inline_script_or_handler():
    found = {str(path.relative_to(ROOT)): offences(path.read_text()) for path in templates()}
    assert {path: problems for path, problems in found.items() if problems} == {}


@pytest.mark.django_db
def test_htmx_is_told_to_need_no_eval_and_no_inline_style(client):
    html = client.get("/").content.decode()
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", html).group(1))
    assert config["allowEval"] is False and config["includeIndicatorStyles"] is False
    assert config["allowScriptTags"] is False
    assert '<script src="/static/vendor/htmx/htmx.min.js"></script>' in html
    assert (ROOT / "static" / "vendor" / "htmx" / "htmx.min.js").exists()
