import csv
import io

import pytest
from django.urls import reverse

from subscribers.models import Subscriber, SubscriberStatus
from tests.statuspage.factories import ComponentFactory
from tests.subscribers.factories import SubscriberFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:subscribers_subscriber_changelist"


@pytest.fixture
def admin(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-12345")
    client.force_login(user)
    return client


def test_it_lists_subscribers_with_status_counts_and_filters(admin):
    SubscriberFactory.create_batch(2)
    SubscriberFactory(status=SubscriberStatus.PENDING)
    response = admin.get(reverse(CHANGELIST))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Confirmed: <strong>2</strong>" in text and "Pending: <strong>1</strong>" in text
    assert "kind__startswith=incident." in text  # the link to per-message delivery progress
    filtered = admin.get(reverse(CHANGELIST), {"status__exact": "pending", "q": "example"})
    assert filtered.status_code == 200 and filtered.context["cl"].result_count == 1


def test_it_opens_the_change_page(admin):
    subscriber = SubscriberFactory()
    assert admin.get(reverse("admin:subscribers_subscriber_change", args=[subscriber.pk])).status_code == 200


def test_it_offers_only_url_kinds_on_the_add_page(admin):
    response = admin.get(reverse("admin:subscribers_subscriber_add"))
    kinds = [value for value, _ in response.context["adminform"].form.fields["kind"].choices]
    assert response.status_code == 200 and kinds == ["webhook", "slack", "teams"]


def test_it_adds_a_webhook_subscriber_through_the_service_and_shows_its_secret(admin):
    from tests.subscribers.receivers import Receiver

    server = Receiver()
    try:
        response = admin.post(
            reverse("admin:subscribers_subscriber_add"), {"kind": "webhook", "url": server.url()}, follow=True
        )
    finally:
        server.stop()
    subscriber = Subscriber.objects.get()
    shown = [str(m) for m in response.context["messages"]]
    assert subscriber.status == SubscriberStatus.CONFIRMED and any(subscriber.secret in m for m in shown)


def test_it_shows_the_add_form_error_for_a_refused_url(admin, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    response = admin.post(
        reverse("admin:subscribers_subscriber_add"), {"kind": "webhook", "url": "http://10.1.1.1/"}
    )
    assert response.status_code == 200 and "not a public address" in response.content.decode()


def test_it_opens_a_url_subscriber_showing_only_its_host(admin):
    subscriber = SubscriberFactory(
        kind="slack", email="", url="https://hooks.slack.com/services/T0/B0/secret"
    )
    response = admin.get(reverse("admin:subscribers_subscriber_change", args=[subscriber.pk]))
    assert response.status_code == 200 and b"B0/secret" not in response.content


def test_it_exports_the_selection_as_streamed_csv(admin):
    api = ComponentFactory(name="API")
    ann = SubscriberFactory(email="ann@example.com", components=[api])
    SubscriberFactory(email="=cmd@example.com")
    response = admin.post(
        reverse(CHANGELIST),
        {"action": "export_csv", "_selected_action": [s.pk for s in Subscriber.objects.all()]},
    )
    assert response.status_code == 200 and response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["email", "status", "components"]
    by_email = {row[0]: row for row in rows[1:]}
    assert by_email[ann.email][1:3] == ["confirmed", "API"]
    assert "'=cmd@example.com" in by_email  # no spreadsheet formula injection


def test_it_unsubscribes_the_selection_through_the_service(admin):
    ann, bob = SubscriberFactory(), SubscriberFactory(status=SubscriberStatus.UNSUBSCRIBED)
    response = admin.post(
        reverse(CHANGELIST),
        {"action": "unsubscribe_selected", "_selected_action": [ann.pk, bob.pk]},
        follow=True,
    )
    assert "1 unsubscribed (1 already were)" in response.content.decode()
    ann.refresh_from_db()
    assert ann.status == SubscriberStatus.UNSUBSCRIBED and ann.unsubscribed_at


def test_it_shows_delivery_progress_of_subscriber_mail_in_the_message_admin(admin):
    from statuspage import services

    SubscriberFactory.create_batch(2)
    services.incident_create(title="Down", message="x")
    response = admin.get(reverse("admin:notifications_message_changelist"), {"kind__startswith": "incident."})
    assert response.status_code == 200 and "0 / 2 / 0" in response.content.decode()
