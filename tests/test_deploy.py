"""deploy/: the Kubernetes manifests validate against Kubernetes' own schemas, and the
reverse proxy and the Ingress send every route of each service to that service."""

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
KUBERNETES_VERSION = "1.30"


def documents() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        found += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


@pytest.mark.parametrize(
    ("name", "document"),
    documents(),
    ids=lambda value: value if isinstance(value, str) else value["kind"],
)
def test_each_manifest_validates_against_the_kubernetes_schema(
    name: str, document: dict[str, Any]
) -> None:
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_the_kustomization_lists_every_manifest_and_the_essentials_are_there() -> None:
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    kinds = {(doc["kind"], doc["metadata"]["name"]) for _, doc in documents()}
    for service in ("loan-intake", "guarantee", "bank-gateway"):
        assert {("Deployment", service), ("Service", service)} <= kinds
        assert ("HorizontalPodAutoscaler", service) in kinds
        assert ("Deployment", f"{service}-worker") in kinds
    assert ("Job", "picidai-migrate") in kinds
    for _, doc in documents():
        if doc["kind"] != "Deployment":
            continue
        [container] = doc["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        if container["command"][-1] == "worker":
            # Background work apart from the HTTP servers: no port, no HTTP probes; alive
            # while it touches the heartbeat file the probe reads.
            assert "ports" not in container and "readinessProbe" not in container
            heartbeat = [v for k, v in env.items() if k.endswith("_WORKER_HEARTBEAT_FILE")]
            assert heartbeat == ["/tmp/worker-alive"]
            assert heartbeat[0] in " ".join(container["livenessProbe"]["exec"]["command"])
        else:
            assert container["command"][-1] == "serve"
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
            assert doc["spec"]["replicas"] >= 2
            assert [v for k, v in env.items() if k.endswith("_WORKERS_IN_PROCESS")] == ["false"]
        # Secrets only by reference: no credential is written in a manifest.
        secret_refs = [e for e in container["env"] if "secretKeyRef" in e.get("valueFrom", {})]
        assert secret_refs, "the database URL comes from a Secret"
    assert not [doc for _, doc in documents() if doc["kind"] == "Secret"]


def _service_paths() -> dict[str, set[str]]:
    """Every path each service serves, from its own OpenAPI document, plus its pages."""
    from services.bank_gateway.main import create_app as gateway
    from services.guarantee.main import create_app as guarantee
    from services.loan_intake.main import create_app as intake

    apps = {"loan_intake": intake(), "guarantee": guarantee(), "bank_gateway": gateway()}
    paths = {
        name: {p for p in app.openapi()["paths"] if p.startswith(("/v1/", "/oauth/"))}
        for name, app in apps.items()
    }
    paths["loan_intake"].add("/portal/applications")
    paths["bank_gateway"].add("/console/batches")
    return paths


def _route(prefixes: dict[str, str], path: str) -> str | None:
    matching = [p for p in prefixes if path.startswith(p)]
    return prefixes[max(matching, key=len)] if matching else None


def test_the_proxy_and_the_ingress_send_each_route_to_its_service() -> None:
    conf = (DEPLOY / "proxy" / "nginx.conf").read_text()
    nginx = {
        prefix: service
        for prefix, service in re.findall(r"location (/\S*)\s*\{\s*proxy_pass http://(\w+);", conf)
    }
    [ingress] = [doc for name, doc in documents() if doc["kind"] == "Ingress"]
    k8s_names = {
        "loan-intake": "loan_intake",
        "guarantee": "guarantee",
        "bank-gateway": "bank_gateway",
    }
    ingress_routes = {
        p["path"]: k8s_names[p["backend"]["service"]["name"]]
        for rule in ingress["spec"]["rules"]
        for p in rule["http"]["paths"]
    }
    for service, paths in _service_paths().items():
        for path in paths:
            concrete = re.sub(r"\{[^}]+\}", "x", path)
            assert _route(nginx, concrete) == service, f"nginx: {path} → {service}"
            assert _route(ingress_routes, concrete) == service, f"Ingress: {path} → {service}"


def test_compose_runs_migrations_before_the_services_and_proxies_one_origin() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "migrate", "loan_intake", "guarantee", "bank_gateway", "proxy"} <= set(
        services
    )
    migrate = " ".join(services["migrate"]["command"])
    for name in ("loan_intake", "guarantee", "bank_gateway"):
        assert f"services.{name} migrate" in migrate
        assert services[name]["command"] == ["python", "-m", f"services.{name}", "serve"]
        worker = services[f"{name}_worker"]
        assert worker["command"] == ["python", "-m", f"services.{name}", "worker"]
        heartbeat = [v for k, v in worker["environment"].items() if k.endswith("_HEARTBEAT_FILE")]
        assert heartbeat == ["/tmp/worker-alive"]
        assert heartbeat[0] in " ".join(worker["healthcheck"]["test"])
        for started in (services[name], worker):
            assert started["depends_on"]["migrate"]["condition"] == (
                "service_completed_successfully"
            )
    env = Path(DEPLOY / "production.env").read_text()
    for prefix in ("INTAKE_", "GUARANTEE_", "GATEWAY_"):
        assert f"{prefix}ENVIRONMENT=production" in env
        assert f"{prefix}KEYS_DIR=/keys" in env
        assert f"{prefix}WORKERS_IN_PROCESS=false" in env


def test_no_password_is_committed_and_only_the_proxy_is_believed() -> None:
    """compose reads the database password from deploy/.env (git-ignored, `make
    deploy-env`); every service believes X-Forwarded-For from the proxy alone."""
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:?"
    )
    for url in compose["x-database"].values():
        assert "${POSTGRES_PASSWORD:?" in url
    committed = "\n".join(p.read_text() for p in DEPLOY.rglob("*") if p.suffix in {".yaml", ".env"})
    assert not re.search(r"postgres(ql\+asyncpg)?://\w+:(?!\$\{)[^@\s]+@", committed)
    proxy = compose["services"]["proxy"]["networks"]["inside"]["ipv4_address"]
    env = (DEPLOY / "production.env").read_text()
    for prefix in ("INTAKE", "GUARANTEE", "GATEWAY"):
        assert f'{prefix}_TRUSTED_PROXIES=["{proxy}"]' in env
    for _, doc in documents():
        if doc["kind"] == "Deployment":
            [container] = doc["spec"]["template"]["spec"]["containers"]
            serves = container["command"][-1] == "serve"
            assert serves == any(e["name"].endswith("_TRUSTED_PROXIES") for e in container["env"])


def test_make_run_waits_for_its_own_server_not_another_stacks(tmp_path: Path) -> None:
    """Another server answering ``/readyz`` 200 on the port is not taken for ours: readiness
    waits for the instance id the stack gave its own process."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from deploy.local import LocalStack, free_port

    class Stranger(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"status": "ready", "service": "loan_intake", "instance": "x"})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            pass

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Stranger)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        stack = LocalStack(state_dir=tmp_path, database_urls={}, ports={"loan_intake": port})
        stack.instances["loan_intake"] = "ours"
        with pytest.raises(TimeoutError):
            stack.wait_ready("loan_intake", timeout=1.0)
    finally:
        server.shutdown()
