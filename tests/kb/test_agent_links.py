"""Agents link knowledge-base articles in replies: the picker on the agent's ticket page offers
the tenant's published public articles only, and the link it inserts opens for the customer."""

from __future__ import annotations

import html
import re

from channels.notifications.emails import tenant_base_url
from kb.models import Article
from tests.conftest import World
from tests.kb.conftest import make_article
from tests.tickets.page_helpers import assert_csp_clean, file_ticket
from tickets.models import Message, Ticket


def _ticket(world: World) -> Ticket:
    return file_ticket(world, world.contact1, "Printer jams on page two")


def _textarea(page: str) -> str:
    match = re.search(r'<textarea[^>]*id="reply-body"[^>]*>(.*?)</textarea>', page, re.S)
    assert match, "reply box missing"
    return html.unescape(match.group(1))


def test_picker_offers_published_public_articles_only(alpha: World, beta: World) -> None:
    ticket = _ticket(alpha)
    make_article(alpha, "Fixing printer jams", "Open tray two and pull the paper.")
    make_article(alpha, "Printer jams (internal runbook)", visibility=Article.Visibility.INTERNAL)
    make_article(alpha, "Printer jams draft", status=Article.Status.DRAFT)
    make_article(beta, "Printer jams at beta")
    agent = alpha.client(alpha.agent)

    page = agent.get(f"/agent/tickets/{ticket.reference}/", {"kb_q": "printer jam"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "Fixing printer jams" in body
    assert "internal runbook" not in body
    assert "draft" not in body.lower().split("kb-results")[1]
    assert "beta" not in body.split('id="kb-results"')[1].split("</div>")[0]
    assert_csp_clean(body)

    # The htmx endpoint answers with the same results, as a fragment.
    fragment = agent.get(f"/agent/tickets/{ticket.reference}/kb/", {"kb_q": "printer"})
    assert fragment.status_code == 200
    text = fragment.content.decode()
    assert text.lstrip().startswith('<div id="kb-results"')
    assert "Fixing printer jams" in text and "internal runbook" not in text
    assert agent.get(f"/agent/tickets/{ticket.reference}/kb/", {"kb_q": "zebra"}).content.decode()
    assert (
        "No published public article"
        in agent.get(f"/agent/tickets/{ticket.reference}/kb/", {"kb_q": "zebra"}).content.decode()
    )


def test_insert_link_without_javascript_prefills_the_reply(alpha: World) -> None:
    ticket = _ticket(alpha)
    article = make_article(alpha, "Fixing printer jams")
    internal = make_article(alpha, "Runbook", visibility=Article.Visibility.INTERNAL)
    agent = alpha.client(alpha.agent)

    page = agent.get(f"/agent/tickets/{ticket.reference}/", {"kb_article": article.pk})
    expected = f"[Fixing printer jams]({tenant_base_url(alpha.tenant)}/kb/{article.slug}/)"
    assert _textarea(page.content.decode()).strip() == expected

    for bad in (internal.pk, "nope", 999999):
        page = agent.get(f"/agent/tickets/{ticket.reference}/", {"kb_article": bad})
        assert _textarea(page.content.decode()).strip() == ""


def test_linked_article_reaches_the_customer_as_a_link(alpha: World) -> None:
    ticket = _ticket(alpha)
    article = make_article(alpha, "Fixing printer jams")
    agent = alpha.client(alpha.agent)
    link = f"[Fixing printer jams]({tenant_base_url(alpha.tenant)}/kb/{article.slug}/)"
    response = agent.post(
        f"/agent/tickets/{ticket.reference}/message/",
        {"kind": "reply", "body": f"This should help:\n\n{link}", "then_status": ""},
    )
    assert response.status_code == 302
    message = Message.objects.for_tenant(alpha.tenant).filter(ticket=ticket, public=True).last()
    assert message is not None
    assert f'href="{tenant_base_url(alpha.tenant)}/kb/{article.slug}/"' in message.body_html

    customer_page = alpha.client(alpha.contact1).get(f"/tickets/{ticket.reference}/")
    assert (
        f'href="{tenant_base_url(alpha.tenant)}/kb/{article.slug}/"'
        in customer_page.content.decode()
    )
    # …and the article opens for the customer.
    assert alpha.client(alpha.contact1).get(f"/kb/{article.slug}/").status_code == 200


def test_picker_is_staff_only(alpha: World) -> None:
    ticket = _ticket(alpha)
    make_article(alpha, "Fixing printer jams")
    customer = alpha.client(alpha.contact1)
    assert (
        customer.get(f"/agent/tickets/{ticket.reference}/kb/", {"kb_q": "printer"}).status_code
        == 404
    )
    anonymous = alpha.client()
    response = anonymous.get(f"/agent/tickets/{ticket.reference}/kb/", {"kb_q": "printer"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
