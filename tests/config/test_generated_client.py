"""A client generated from the schema by openapi-python-client (a common generator) works: every
module it writes imports, and it creates an incident over real HTTP and reads it back."""

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token

from tests.statuspage.factories import ComponentFactory

PACKAGE = "vigil_generated_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The generated package, importable for the module's tests (and removed afterwards)."""
    root = tmp_path_factory.mktemp("client")
    schema = SchemaGenerator().get_schema(request=None, public=True)
    (root / "schema.json").write_text(json.dumps(schema))
    # No post hooks: the generator would run ruff over its output; the code must work as written.
    (root / "config.yaml").write_text(f"post_hooks: []\npackage_name_override: {PACKAGE}\n")
    subprocess.run(
        [GENERATOR, "generate", "--path", "schema.json", "--config", "config.yaml", "--meta", "none"]
        + ["--output-path", PACKAGE],
        cwd=root,
        check=True,
        capture_output=True,
        timeout=120,
    )
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def _module(generated, name: str):
    return importlib.import_module(f"{PACKAGE}.{name}")


@pytest.mark.django_db
def test_it_generates_modules_that_all_import(generated):
    failed = {}
    names = [info.name for info in pkgutil.walk_packages(generated.__path__, f"{PACKAGE}.")]
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - any failure to import is the finding
            failed[name] = repr(exc)
    assert len(names) > 100 and not failed


def test_it_creates_an_incident_with_components_and_reads_it_back(generated, live_server, staff_user):
    api_client = _module(generated, "client").AuthenticatedClient(
        base_url=live_server.url, token=Token.objects.create(user=staff_user).key, prefix="Token"
    )
    database, web = ComponentFactory(name="Database"), ComponentFactory(name="Web")
    models = _module(generated, "models")
    body = models.IncidentCreateInputRequest(
        title="Slow queries",
        message="We are looking into it.",
        # The first of the field's two shapes (oneOf): statuses by component id.
        components=models.IncidentCreateInputRequestComponentsType0.from_dict(
            {str(database.pk): "major_outage", str(web.pk): "degraded_performance"}
        ),
    )

    created = _module(generated, "api.status_page_staff.api_status_admin_incidents_create").sync_detailed(
        client=api_client, body=body
    )
    assert created.status_code == 201, created.content
    incident_id = int(created.parsed.incident.id)
    read = _module(generated, "api.status_page_public.api_status_incidents_id_get").sync(
        client=api_client, id=incident_id
    )

    assert read.incident.name == "Slow queries"
    assert {(c.name, c.status.value) for c in read.incident.components} == {
        ("Database", "major_outage"),
        ("Web", "degraded_performance"),
    }
