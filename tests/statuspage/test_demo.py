import pytest

from statuspage.demo import seed_statuspage
from statuspage.models import Component, ComponentUptimeDay, Incident, Maintenance

pytestmark = pytest.mark.django_db


def test_it_seeds_a_realistic_company_once(client):
    seed_statuspage()
    counts = (Component.objects.count(), Incident.objects.count(), Maintenance.objects.count())
    assert seed_statuspage() == "statuspage: demo company already there"
    assert (Component.objects.count(), Incident.objects.count(), Maintenance.objects.count()) == counts
    assert counts[0] >= 10
    assert Incident.objects.unresolved().count() == 1
    assert Maintenance.objects.upcoming().count() == 1
    # Every component has a kept uptime figure for each of the last 90 days.
    assert ComponentUptimeDay.objects.count() == 90 * counts[0]
    html = client.get("/").content.decode()
    assert "Partial System Outage" in html and "Elevated error rates on webhook deliveries" in html
