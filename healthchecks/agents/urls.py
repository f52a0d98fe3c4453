"""The agents' own API, under /api/agent/ (an agent key, not a staff login)."""

from django.urls import path

from healthchecks.agents import api

urlpatterns = [
    path("register", api.AgentRegister.as_view(), name="agent-register"),
    path("probes", api.AgentProbes.as_view(), name="agent-probes"),
    path("results", api.AgentResults.as_view(), name="agent-results"),
]
