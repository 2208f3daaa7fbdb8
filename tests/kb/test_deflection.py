""" "Did this answer your question?": answers are recorded with the reader's query, counted per
article, from the page (anonymous too, without JavaScript) and from the API."""

from __future__ import annotations

import re

from django.conf import settings
from django.test import Client

from kb.models import Article, Deflection
from kb.selectors import articles_with_deflection_counts, deflection_counts
from kb.services import deflection_record
from tests.conftest import World
from tests.kb.conftest import api, make_article


def test_counts_per_article(alpha: World) -> None:
    a = make_article(alpha, "A")
    b = make_article(alpha, "B")
    for helpful in (True, True, False):
        deflection_record(tenant=alpha.tenant, article=a, helpful=helpful, query="reset")
    deflection_record(tenant=alpha.tenant, article=b, helpful=False, user=alpha.contact1.user)
    assert deflection_counts(tenant=alpha.tenant, article=a) == {"helpful": 2, "not_helpful": 1}
    assert deflection_counts(tenant=alpha.tenant, article=b) == {"helpful": 0, "not_helpful": 1}
    rows = {
        r.title: (r.helpful_count, r.not_helpful_count)
        for r in articles_with_deflection_counts(tenant=alpha.tenant)
    }
    assert rows == {"A": (2, 1), "B": (0, 1)}


def test_anonymous_answer_on_the_page_without_javascript(alpha: World) -> None:
    article = make_article(alpha, "Reset your password", "Steps.")
    client = Client(HTTP_HOST=alpha.host, enforce_csrf_checks=True)
    page = client.get("/kb/reset-your-password/", {"q": "forgot password"})
    html = page.content.decode()
    assert "Did this answer your question?" in html
    assert 'name="helpful" value="yes"' in html and 'name="helpful" value="no"' in html
    assert 'value="forgot password"' in html  # the query rides along in a hidden field
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match is not None
    token = match.group(1)
    response = client.post(
        "/kb/reset-your-password/",
        {"csrfmiddlewaretoken": token, "helpful": "yes", "q": "forgot password"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/kb/reset-your-password/#feedback"
    (row,) = Deflection.objects.filter(article=article)
    assert (row.helpful, row.query, row.user) == (True, "forgot password", None)
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert len(row.visitor) == 64 and session_key not in row.visitor  # a hash, not the key
    after = client.get("/kb/reset-your-password/").content.decode()
    assert "Thank you" in after and 'name="helpful"' not in after  # answered once here


def test_member_answers_no(alpha: World) -> None:
    article = make_article(alpha, "Printer")
    client = alpha.client(alpha.contact1)
    assert client.post("/kb/printer/", {"helpful": "no"}).status_code == 302
    (row,) = Deflection.objects.filter(article=article)
    assert (row.helpful, row.user, row.visitor, row.query) == (False, alpha.contact1.user, "", "")


def test_answer_without_a_choice_shows_an_inline_error(alpha: World) -> None:
    make_article(alpha, "Printer")
    response = Client(HTTP_HOST=alpha.host).post("/kb/printer/", {"helpful": "maybe"})
    assert response.status_code == 400
    assert 'class="errorlist"' in response.content.decode()
    assert not Deflection.objects.exists()


def test_no_answers_on_hidden_articles(alpha: World) -> None:
    make_article(alpha, "Runbook", visibility="internal")
    make_article(alpha, "Draft", status=Article.Status.DRAFT)
    client = Client(HTTP_HOST=alpha.host)
    assert client.post("/kb/runbook/", {"helpful": "yes"}).status_code == 404
    assert client.post("/kb/draft/", {"helpful": "yes"}).status_code == 404
    assert not Deflection.objects.exists()


def test_feedback_api(alpha: World) -> None:
    article = make_article(alpha, "Printer")
    url = f"/api/v1/kb/articles/{article.pk}/feedback/"
    customer = api(alpha, alpha.contact1)
    response = customer.post(
        url, {"helpful": True, "query": "printer offline"}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["helpful"] is True
    customer.post(url, {"helpful": False}, content_type="application/json")
    bad = customer.post(url, {"query": "x"}, content_type="application/json")
    assert bad.status_code == 400 and bad["Content-Type"] == "application/problem+json"
    assert "helpful" in bad.json()["errors"]
    # The tally is for staff.
    assert customer.get(url).status_code == 403
    assert api(alpha, alpha.agent).get(url).json() == {"helpful": 1, "not_helpful": 1}
    assert Deflection.objects.get(helpful=True).user == alpha.contact1.user


def test_feedback_api_on_internal_article_is_404_for_customers(alpha: World) -> None:
    article = make_article(alpha, "Runbook", visibility="internal")
    response = api(alpha, alpha.contact1).post(
        f"/api/v1/kb/articles/{article.pk}/feedback/",
        {"helpful": True},
        content_type="application/json",
    )
    assert response.status_code == 404
