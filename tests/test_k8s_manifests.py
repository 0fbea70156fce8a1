"""Offline checks of the deployment in k8s/ and the Dockerfile: no cluster, no Docker, no database.

Every YAML document is validated against the Kubernetes API schemas that the PyPI package
kubernetes-validate bundles (strict: unknown fields fail), then the invariants that a later edit
could quietly break are asserted: non-root containers, both web probes, a single beat, the env var
names that settings.py reads, one image everywhere, and the deploy order around the migrate Job.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from kubernetes_validate import utils as kubernetes_validate

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "k8s"
SETTINGS = ROOT / "platform" / "settings.py"
DOCKERFILE = ROOT / "Dockerfile"

# 1.27 is the oldest release the manifests need (topology spread's matchLabelKeys is on by default
# from 1.27), 1.33 the target, and the newest schema shipped (1.37) catches fields removed since.
KUBERNETES_VERSIONS = ("1.27", "1.33", "1.37")
NAMESPACE = "crm"
APP_UID = 10001
NOT_APPLIED = {"kustomization.yaml", "secret.example.yaml"}


def _documents() -> list[tuple[str, dict]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.append((path.name, doc))
    return docs


DOCUMENTS = _documents()
RESOURCES = [(name, doc) for name, doc in DOCUMENTS if doc.get("kind") != "Kustomization"]


def _id(name: str, doc: dict) -> str:
    return f"{name}:{doc['kind']}/{doc['metadata']['name']}"


def _of_kind(kind: str) -> list[dict]:
    return [doc for _name, doc in RESOURCES if doc["kind"] == kind]


def _named(kind: str, name: str) -> dict:
    (doc,) = [doc for doc in _of_kind(kind) if doc["metadata"]["name"] == name]
    return doc


def _autoscalers_of(deployment: str) -> list[dict]:
    return [
        hpa
        for hpa in _of_kind("HorizontalPodAutoscaler")
        if hpa["spec"]["scaleTargetRef"]["name"] == deployment
    ]


def _pod_templates() -> list[tuple[str, dict]]:
    return [
        (f"{doc['kind']}/{doc['metadata']['name']}", doc["spec"]["template"])
        for _name, doc in RESOURCES
        if doc["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job"}
    ]


def _containers() -> list[tuple[str, dict, dict]]:
    """(owner, pod spec, container) for every container and init container."""
    return [
        (owner, template["spec"], container)
        for owner, template in _pod_templates()
        for container in template["spec"].get("initContainers", []) + template["spec"]["containers"]
    ]


def _settings_env_names() -> set[str]:
    source = SETTINGS.read_text()
    return set(re.findall(r"\benv\.(?:flag|integer|text|required)\(\s*\"([A-Z][A-Z0-9_]*)\"", source))


def _dockerfile_cmd() -> list[str]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    (cmd,) = re.findall(r"^CMD (\[.*\])$", text, flags=re.MULTILINE)
    return json.loads(cmd)


def test_manifests_are_found():
    kinds = {doc["kind"] for _name, doc in RESOURCES}
    assert {
        "Namespace",
        "ConfigMap",
        "Secret",
        "Deployment",
        "Service",
        "Ingress",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Job",
    } <= kinds


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize(("name", "doc"), RESOURCES, ids=[_id(n, d) for n, d in RESOURCES])
def test_schema(name, doc, version):
    try:
        kubernetes_validate.validate(doc, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        path = ".".join(str(part) for part in error.path)
        pytest.fail(f"{_id(name, doc)} against Kubernetes {error.version}: {path}: {error.message}")
    except kubernetes_validate.SchemaNotFoundError as error:
        pytest.fail(error.message)


def test_kustomization_lists_every_manifest():
    (kustomization,) = [doc for name, doc in DOCUMENTS if name == "kustomization.yaml"]
    listed = kustomization["resources"]
    assert len(listed) == len(set(listed))
    on_disk = {path.name for path in K8S.glob("*.yaml")} - NOT_APPLIED
    assert set(listed) == on_disk
    assert kustomization["namespace"] == NAMESPACE
    assert all(doc["metadata"].get("namespace", NAMESPACE) == NAMESPACE for _n, doc in RESOURCES)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (for its built-in kustomize) not found")
def test_kustomize_renders_everything_but_the_secret():
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    docs = [doc for doc in yaml.safe_load_all(rendered) if doc]
    expected = sorted(_id("", d) for n, d in RESOURCES if n not in NOT_APPLIED)
    assert sorted(_id("", d) for d in docs) == expected
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSIONS[-1], strict=True)


def test_every_container_runs_as_non_root_on_a_read_only_root():
    assert _containers()
    for owner, pod, container in _containers():
        pod_context = pod.get("securityContext", {})
        context = container.get("securityContext", {})
        where = f"{owner} container {container['name']}"
        assert context.get("runAsNonRoot", pod_context.get("runAsNonRoot")) is True, where
        assert context.get("runAsUser", pod_context.get("runAsUser")) == APP_UID, where
        assert context.get("allowPrivilegeEscalation") is False, where
        assert context.get("readOnlyRootFilesystem") is True, where
        assert context.get("capabilities", {}).get("drop") == ["ALL"], where
        assert pod_context.get("seccompProfile", {}).get("type") == "RuntimeDefault", where
        assert pod.get("automountServiceAccountToken") is False, where
        # A read-only root still needs a writable /tmp (tempfile, celery beat's schedule).
        volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
        (tmp,) = [m for m in container.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
        assert "emptyDir" in volumes[tmp["name"]], where
        assert container["resources"]["requests"]["memory"], where
        assert container["resources"]["limits"]["memory"], where


def test_dockerfile_user_matches_the_manifests():
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM python:3\.11-slim", text, flags=re.MULTILINE)
    assert re.findall(r"^USER (\S+)$", text, flags=re.MULTILINE) == [f"{APP_UID}:{APP_UID}"]
    assert "pip install --require-hashes -r requirements.lock" in text
    assert "pip install --no-deps -e ." in text
    assert "collectstatic --noinput" in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".devdata", ".env"} <= set(ignored)


def test_web_probes_and_replicas():
    web = _named("Deployment", "crm-web")
    (container,) = web["spec"]["template"]["spec"]["containers"]
    port_names = {port["name"] for port in container["ports"]}
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["port"] in port_names
    # The HPA owns the count (at least 2); a fixed `replicas` would fight it on every apply.
    assert "replicas" not in web["spec"]
    (hpa,) = _autoscalers_of("crm-web")
    assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
    assert hpa["spec"]["minReplicas"] >= 2
    assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
    assert web["spec"]["template"]["spec"]["topologySpreadConstraints"]


def test_web_serves_the_wsgi_app_as_the_image_does():
    (container,) = _named("Deployment", "crm-web")["spec"]["template"]["spec"]["containers"]
    command = container["command"] + container["args"]
    assert command == _dockerfile_cmd()
    assert command[:2] == ["gunicorn", "crm_platform.wsgi:application"]
    assert "--preload" not in command  # each worker must open its own database pool after fork
    threads = int(next(arg for arg in command if arg.startswith("--threads=")).split("=")[1])
    assert int(_named("ConfigMap", "crm-config")["data"]["DB_POOL_MAX"]) == threads


def test_beat_is_a_single_replica_replaced_not_rolled():
    beat = _named("Deployment", "crm-beat")
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate"
    assert not _autoscalers_of("crm-beat")
    (container,) = beat["spec"]["template"]["spec"]["containers"]
    assert container["command"] + container["args"][:3] == ["celery", "-A", "crm_platform", "beat"]


def test_worker_command():
    (container,) = _named("Deployment", "crm-worker")["spec"]["template"]["spec"]["containers"]
    assert container["command"] + container["args"] == [
        "celery",
        "-A",
        "crm_platform",
        "worker",
        "-l",
        "info",
        "--concurrency",
        "2",
    ]


def test_migrate_job_runs_before_the_workloads():
    job = _named("Job", "crm-migrate")
    spec = job["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["command"] == ["python", "manage.py", "migrate_schemas", "--noinput"]
    assert "MIGRATE_PARALLEL" in {env["name"] for env in container.get("env", [])}
    assert spec["restartPolicy"] == "Never"
    assert job["spec"]["backoffLimit"] == 0

    # Argo CD: config in an earlier wave than the Job, the Job (a Sync hook) before the workloads.
    def wave(doc):
        return int(doc["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave", "0"))

    annotations = job["metadata"]["annotations"]
    assert annotations["argocd.argoproj.io/hook"] == "Sync"
    assert annotations["argocd.argoproj.io/hook-delete-policy"] == "BeforeHookCreation"
    assert wave(_named("ConfigMap", "crm-config")) < wave(job)
    assert wave(_named("ServiceAccount", "crm")) < wave(job)
    for deployment in _of_kind("Deployment"):
        assert wave(deployment) > wave(job)

    # Plain kubectl (deploy.sh) picks the phases by label: the Job alone carries component=migrate.
    def component(doc):
        return doc["metadata"].get("labels", {}).get("app.kubernetes.io/component")

    migrate = [doc["metadata"]["name"] for _n, doc in RESOURCES if component(doc) == "migrate"]
    assert migrate == ["crm-migrate"]
    for doc in _of_kind("Deployment") + _of_kind("Service") + _of_kind("Ingress"):
        assert component(doc) not in (None, "migrate")
    for kind in ("Namespace", "ServiceAccount", "ConfigMap"):
        assert all(component(doc) is None for doc in _of_kind(kind))
    script = (K8S / "deploy.sh").read_text()
    assert "-l app.kubernetes.io/component=migrate" in script
    subprocess.run(["bash", "-n", str(K8S / "deploy.sh")], check=True, timeout=30)


def test_env_names_are_read_by_settings():
    known = _settings_env_names()
    assert {"DATABASE_URL", "SECRET_KEY", "BASE_DOMAIN", "MIGRATE_PARALLEL", "DB_POOL_MAX"} <= known
    used = set()
    for doc in _of_kind("ConfigMap"):
        used |= set(doc.get("data", {}))
    for doc in _of_kind("Secret"):
        used |= set(doc.get("stringData", {})) | set(doc.get("data", {}))
    for _owner, _pod, container in _containers():
        used |= {env["name"] for env in container.get("env", [])}
    assert used
    assert used <= known, f"not read by platform/settings.py: {sorted(used - known)}"


def test_env_sources_exist():
    config_maps = {doc["metadata"]["name"] for doc in _of_kind("ConfigMap")}
    secrets = {doc["metadata"]["name"] for doc in _of_kind("Secret")}
    for owner, _pod, container in _containers():
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                assert source["configMapRef"]["name"] in config_maps, owner
            if "secretRef" in source:
                assert source["secretRef"]["name"] in secrets, owner
    secret = _named("Secret", "crm-secrets")
    assert {"DATABASE_URL", "SECRET_KEY"} <= set(secret["stringData"])
    assert all("CHANGE-ME" in value for value in secret["stringData"].values())


def test_data_root_is_a_volume_every_web_pod_shares():
    data_root = _named("ConfigMap", "crm-config")["data"]["DATA_ROOT"]
    web = _named("Deployment", "crm-web")["spec"]["template"]["spec"]
    (mount,) = [m for m in web["containers"][0]["volumeMounts"] if m["mountPath"] == data_root]
    (volume,) = [v for v in web["volumes"] if v["name"] == mount["name"]]
    claim = _named("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]


def test_one_image_everywhere():
    images = {container["image"] for _owner, _pod, container in _containers()}
    assert len(images) == 1, images
    (image,) = images
    repository, _tag = image.rsplit(":", 1)
    (kustomization,) = [doc for name, doc in DOCUMENTS if name == "kustomization.yaml"]
    assert [entry["name"] for entry in kustomization["images"]] == [repository]
    assert "pgbouncer" not in image.lower()


def test_selectors_match_their_pods():
    pods = {
        owner: template["metadata"]["labels"]
        for owner, template in _pod_templates()
        if owner.startswith("Dep")
    }
    for doc in _of_kind("Deployment"):
        labels = doc["spec"]["template"]["metadata"]["labels"]
        assert doc["spec"]["selector"]["matchLabels"].items() <= labels.items()

    def selects(selector):
        return [owner for owner, labels in pods.items() if selector.items() <= labels.items()]

    for service in _of_kind("Service"):
        assert selects(service["spec"]["selector"]) == ["Deployment/crm-web"]
    for pdb in _of_kind("PodDisruptionBudget"):
        assert len(selects(pdb["spec"]["selector"]["matchLabels"])) == 1
    service_names = {service["metadata"]["name"] for service in _of_kind("Service")}
    for ingress in _of_kind("Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                assert path["backend"]["service"]["name"] in service_names


def test_ingress_serves_the_base_domain_and_every_tenant_over_tls():
    config = _named("ConfigMap", "crm-config")["data"]
    base = config["BASE_DOMAIN"]
    assert config["BEHIND_TLS"] == "1"
    assert config["DEBUG"] == "0"
    (ingress,) = _of_kind("Ingress")
    hosts = {rule["host"] for rule in ingress["spec"]["rules"]}
    assert hosts == {base, f"*.{base}"}
    (tls,) = ingress["spec"]["tls"]
    assert set(tls["hosts"]) == hosts
    assert tls["secretName"]
