"""deploy/kubernetes runs the processes of the Procfile on Kubernetes.

No cluster and no kubectl are needed: the kustomization is built here (the part
of kustomize it uses: ``resources``, files or folders, ``namespace``, ``images``
and patches that delete a resource; where kubectl is installed, a test checks
that ``kubectl kustomize`` builds the same) and every document is validated
offline:

- the core kinds (Deployment, Service, Job, HorizontalPodAutoscaler, ...) against
  the JSON schemas of Kubernetes ``KUBERNETES_VERSION`` that the
  kubernetes-validate package ships, strictly: a field Kubernetes does not know
  is an error;
- the operators' kinds (RabbitmqCluster, CloudNativePG's Cluster, Traefik's
  IngressRoute and Middleware, KEDA's ScaledObject and TriggerAuthentication)
  against the openAPIV3Schema of their CustomResourceDefinitions as JSON Schema,
  kept in ``crd_schemas/`` (copied from the CRDs catalog, github.com/datreeio/
  CRDs-catalog, commit 7b1e26ef9deea49293714d204c1a2270aab1178f), with
  jsonschema.

Then the descriptors are checked against the rest of the repository: the
Procfile's commands, config/variables.py's variables, the settings each process
makes of its environment, traefik/dynamic.yml's routes and docker-compose.yml's
Traefik flags. As in test_compose.py, each check returns a list of problems, so
the tests also run it on a copy broken on purpose.
"""

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml

import config
from config import variables
from services.common.topology import rpc_queue
from tests.unit.test_compose import (
    load_compose,
    parse_procfile,
    split_assignments,
    traefik_flags,
)

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "deploy" / "kubernetes"
KEDA = ROOT / "deploy" / "kubernetes-keda"
PROCFILE = ROOT / "Procfile"
TRAEFIK_DYNAMIC = ROOT / "traefik" / "dynamic.yml"
CRD_SCHEMAS = Path(__file__).parent / "crd_schemas"

#: The Kubernetes version whose schemas the core kinds are validated against.
KUBERNETES_VERSION = "1.30"
#: The schema file of each operator's kind, by (apiVersion, kind).
CRD_KINDS = {
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"): "rabbitmq.com_rabbitmqcluster_v1beta1",
    ("postgresql.cnpg.io/v1", "Cluster"): "postgresql.cnpg.io_cluster_v1",
    ("traefik.io/v1alpha1", "IngressRoute"): "traefik.io_ingressroute_v1alpha1",
    ("traefik.io/v1alpha1", "Middleware"): "traefik.io_middleware_v1alpha1",
    ("keda.sh/v1alpha1", "ScaledObject"): "keda.sh_scaledobject_v1alpha1",
    ("keda.sh/v1alpha1", "TriggerAuthentication"): (
        "keda.sh_triggerauthentication_v1alpha1"
    ),
}
#: Kinds that belong to no namespace.
CLUSTER_KINDS = {"Namespace", "ClusterRole", "ClusterRoleBinding"}
#: What kustomization.yaml may hold: the part of kustomize built here.
KUSTOMIZATION_KEYS = {
    "apiVersion",
    "kind",
    "namespace",
    "resources",
    "images",
    "patches",
}

#: Procfile processes that are no Deployment of our image, and why.
NOT_DEPLOYED = {
    "traefik": "the Traefik image with the CRD provider (traefik.yaml)",
    "bootstrap": "a Job (jobs.yaml), `ems bootstrap --exit`",
    "maildev": "a development inbox; EMS_SMTP_HOST names a real SMTP server",
    "prometheus": "the cluster's own Prometheus scrapes the pods' annotations",
    "alertmanager": "the cluster's own, beside its Prometheus",
    "postgres_exporter": "CloudNativePG's instances export their own metrics",
    "simulator": "a demo feed; EMS_DEMO is off",
}
#: Jobs and the commands they run.
JOBS = {"prepare": ["ems", "prepare"], "bootstrap": ["ems", "bootstrap", "--exit"]}
#: Secrets the operators make, with the keys used of them.
OPERATOR_SECRETS = {"rabbitmq-default-user": {"username", "password"}}
#: Services that select pods of an operator's resource, by its (kind, name).
OPERATOR_SERVICES = {"rabbitmq-mqtt": ("RabbitmqCluster", "rabbitmq")}
#: A long-running process's probes and metrics: the port every container serves.
METRICS_PORT = 9100
#: Deployments that scale by hand only, and why (README.md beside the files).
FIXED_REPLICAS = {
    "monitoring-worker-1": "each ingest queue has its one worker",
    "monitoring-worker-2": "each ingest queue has its one worker",
    "balancer": "it round-robins to named queues",
}
#: ``$(NAME)``: a variable a container's env value refers to.
REFERENCE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")
#: ``${NAME:-default}`` in the Procfile.
SHELL_DEFAULT = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}")


# -- building the kustomization ------------------------------------------------------


def load_documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def build(directory: Path) -> list[dict]:
    """The documents ``kubectl kustomize directory`` gives, for the kustomize
    features the descriptors use; anything else is refused rather than ignored."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - KUSTOMIZATION_KEYS
    if unknown:
        raise ValueError(f"{directory}: kustomize features not built here: {unknown}")
    documents = []
    for entry in kustomization.get("resources") or []:
        path = (directory / entry).resolve()
        documents += build(path) if path.is_dir() else load_documents(path)
    for patch in kustomization.get("patches") or []:
        documents = deleted(documents, yaml.safe_load(patch["patch"]))
    namespace = kustomization.get("namespace")
    for doc in documents:
        if namespace and doc["kind"] not in CLUSTER_KINDS:
            doc["metadata"]["namespace"] = namespace
        for image in kustomization.get("images") or []:
            for container in containers(doc):
                if container["image"].split(":")[0] == image["name"]:
                    container["image"] = f"{image['newName']}:{image['newTag']}"
    return documents


def deleted(documents: list[dict], patch: dict) -> list[dict]:
    """The documents without the one a ``$patch: delete`` names."""
    if patch.get("$patch") != "delete":
        raise ValueError(f"only deleting patches are built here: {patch}")
    key = (patch["apiVersion"], patch["kind"], patch["metadata"]["name"])
    kept = [doc for doc in documents if identity(doc) != key]
    if len(kept) != len(documents) - 1:
        raise ValueError(f"the patch names no resource: {key}")
    return kept


def identity(doc: dict) -> tuple[str, str, str]:
    return doc["apiVersion"], doc["kind"], doc["metadata"]["name"]


def pod_spec(doc: dict) -> dict | None:
    if doc["kind"] in ("Deployment", "Job"):
        return doc["spec"]["template"]["spec"]
    return None


def containers(doc: dict) -> list[dict]:
    spec = pod_spec(doc)
    if spec is None:
        return []
    return [*spec.get("initContainers", []), *spec["containers"]]


def of_kind(documents: list[dict], kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in documents if doc["kind"] == kind}


def environment(documents: list[dict], container: dict) -> dict[str, str]:
    """A container's literal environment: its ConfigMaps', then its own values
    (a value taken from a Secret is ``<secret>``)."""
    config_maps = of_kind(documents, "ConfigMap")
    env = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(config_maps[source["configMapRef"]["name"]]["data"])
    for item in container.get("env", []):
        env[item["name"]] = item.get("value", "<secret>")
    return env


def is_ours(container: dict) -> bool:
    """Runs the image of the repository's Dockerfile."""
    return container["image"].split(":")[0].rpartition("/")[2] == "ems"


def procfile_name(deployment: str) -> str:
    return deployment.replace("-", "_")


# -- checks: each returns a list of problems -----------------------------------------


def schema_problems(doc: dict) -> list[str]:
    """What the document's schema refuses in it."""
    name = "/".join(identity(doc))
    crd = CRD_KINDS.get((doc["apiVersion"], doc["kind"]))
    if crd is not None:
        schema = json.loads((CRD_SCHEMAS / f"{crd}.json").read_text())
        validator = jsonschema.Draft7Validator(schema)
        return [
            f"{name}: {'.'.join(map(str, error.absolute_path))}: {error.message}"
            for error in validator.iter_errors(doc)
        ]
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        return [f"{name}: no schema for this kind"]
    except kubernetes_validate.ValidationError as error:
        path = ".".join(map(str, error.path))
        return [f"{name}: {path}: {error.message}"]
    return []


def command_problems(documents: list[dict], procfile: dict[str, str]) -> list[str]:
    """Every Deployment of our image runs its Procfile line, the variables that
    line sets included; every Procfile process is deployed or said why not."""
    problems = []
    deployed = set()
    for name, deployment in of_kind(documents, "Deployment").items():
        for container in filter(is_ours, containers(deployment)):
            process = procfile_name(name)
            deployed.add(process)
            if process not in procfile:
                problems.append(f"{name}: no Procfile process {process!r}")
                continue
            assignments, command = split_assignments(procfile[process])
            if container["command"] != command.split():
                problems.append(
                    f"{name}: runs {container['command']}, the Procfile {command!r}"
                )
            env = environment(documents, container)
            for variable, value in assignments.items():
                value = SHELL_DEFAULT.sub(r"\1", value)
                if env.get(variable) != value:
                    problems.append(f"{name}: the Procfile sets {variable}={value}")
    for job, command in JOBS.items():
        found = of_kind(documents, "Job").get(job)
        if found is None or containers(found)[0]["command"] != command:
            problems.append(f"no Job {job} running {' '.join(command)}")
    for process in procfile:
        if process not in deployed and process not in NOT_DEPLOYED:
            problems.append(f"Procfile process {process!r} is not deployed")
    return problems


def variable_problems(documents: list[dict]) -> list[str]:
    """Every EMS_* variable set anywhere is one config/variables.py declares, and
    every ``$(NAME)`` refers to a variable the container sets before."""
    declared = {variable.name for variable in variables.ALL}
    problems = []
    names = []
    for config_map in of_kind(documents, "ConfigMap").values():
        names += list(config_map.get("data", {}))
    for secret in of_kind(documents, "Secret").values():
        names += [key for key in secret.get("stringData", {}) if key.isupper()]
    for doc in documents:
        for container in containers(doc):
            known = set()
            for source in container.get("envFrom", []):
                ref = source.get("configMapRef") or source.get("secretRef")
                known |= set(keys_of(documents, ref["name"]))
            for item in container.get("env", []):
                names.append(item["name"])
                for reference in REFERENCE.findall(item.get("value", "")):
                    if reference not in known:
                        problems.append(
                            f"{doc['metadata']['name']}: {item['name']} refers to "
                            f"$({reference}), which is not set before it"
                        )
                known.add(item["name"])
    problems += [
        f"{name} is not declared in config/variables.py"
        for name in sorted(set(names))
        if name.startswith("EMS_") and name not in declared
    ]
    return problems


def keys_of(documents: list[dict], name: str) -> set[str]:
    """The keys of the ConfigMap or Secret ``name``."""
    for kind, field in (("ConfigMap", "data"), ("Secret", "stringData")):
        found = of_kind(documents, kind).get(name)
        if found is not None:
            return set(found.get(field, {}))
    return OPERATOR_SECRETS.get(name, set())


def reference_problems(documents: list[dict]) -> list[str]:
    """Every Secret, ConfigMap and key a pod takes exists (or is optional, or an
    operator makes it)."""
    problems = []
    for doc in documents:
        spec = pod_spec(doc)
        if spec is None:
            continue
        name = doc["metadata"]["name"]
        wanted = []
        for container in containers(doc):
            for source in container.get("envFrom", []):
                ref = source.get("configMapRef") or source.get("secretRef")
                wanted.append((ref["name"], None, ref.get("optional", False)))
            for item in container.get("env", []):
                ref = item.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    wanted.append((ref["name"], ref["key"], ref.get("optional", False)))
        for volume in spec.get("volumes", []):
            secret = volume.get("secret")
            if secret:
                for item in secret.get("items", [{"key": None}]):
                    wanted.append((secret["secretName"], item["key"], False))
        for source, key, optional in wanted:
            keys = keys_of(documents, source)
            if optional:
                continue
            if not keys:
                problems.append(f"{name}: no ConfigMap or Secret {source}")
            elif key is not None and key not in keys:
                problems.append(f"{name}: {source} has no key {key}")
    return problems


def pod_labels(documents: list[dict]) -> dict[str, dict]:
    return {
        name: deployment["spec"]["template"]["metadata"]["labels"]
        for name, deployment in of_kind(documents, "Deployment").items()
    }


def service_problems(documents: list[dict]) -> list[str]:
    """Every Service selects the pods of a Deployment (or of an operator's
    resource) and sends its ports to ports the containers declare."""
    problems = []
    deployments = of_kind(documents, "Deployment")
    for name, service in of_kind(documents, "Service").items():
        selector = service["spec"]["selector"]
        if name in OPERATOR_SERVICES:
            kind, owner = OPERATOR_SERVICES[name]
            if owner not in of_kind(documents, kind):
                problems.append(f"Service {name}: no {kind} {owner}")
            if selector != {"app.kubernetes.io/name": owner}:
                problems.append(f"Service {name}: does not select {kind} {owner}")
            continue
        selected = [
            deployment
            for deployment, labels in pod_labels(documents).items()
            if selector.items() <= labels.items()
        ]
        if len(selected) != 1:
            problems.append(f"Service {name} selects {selected or 'no Deployment'}")
            continue
        ports = container_ports(deployments[selected[0]])
        for port in service["spec"]["ports"]:
            if port.get("targetPort", port["port"]) not in ports:
                problems.append(f"Service {name}: {selected[0]} has no port {port}")
    return problems


def container_ports(deployment: dict) -> set:
    """The ports of a Deployment's containers, by number and by name."""
    ports = set()
    for container in containers(deployment):
        for port in container.get("ports", []):
            ports |= {port["containerPort"], port.get("name")}
    return ports - {None}


def scaling_problems(documents: list[dict]) -> list[str]:
    """Every HorizontalPodAutoscaler or ScaledObject drives an existing Deployment
    that leaves its replicas to it; the ingest workers and the balancer are not
    autoscaled and run one replica each."""
    problems = []
    deployments = of_kind(documents, "Deployment")
    scaled = []
    for hpa in of_kind(documents, "HorizontalPodAutoscaler").values():
        target = hpa["spec"]["scaleTargetRef"]
        if target["kind"] != "Deployment" or target["name"] not in deployments:
            problems.append(f"HPA {hpa['metadata']['name']}: no Deployment {target}")
        scaled.append(target["name"])
    for scaled_object in of_kind(documents, "ScaledObject").values():
        target = scaled_object["spec"]["scaleTargetRef"]
        if target.get("kind", "Deployment") != "Deployment" or (
            target["name"] not in deployments
        ):
            problems.append(f"ScaledObject: no Deployment {target}")
        scaled.append(target["name"])
    for name in sorted({name for name in scaled if scaled.count(name) > 1}):
        problems.append(f"{name}: scaled by more than one autoscaler")
    for name in scaled:
        if "replicas" in deployments.get(name, {}).get("spec", {}):
            problems.append(f"{name}: sets replicas, which its autoscaler owns")
    for name in FIXED_REPLICAS:
        if name in scaled:
            problems.append(f"{name} is autoscaled: {FIXED_REPLICAS[name]}")
        elif deployments.get(name, {}).get("spec", {}).get("replicas") != 1:
            problems.append(f"{name}: not one replica: {FIXED_REPLICAS[name]}")
    return problems


def probe_problems(documents: list[dict]) -> list[str]:
    """Every probe asks a port its container declares; every process of our image
    is probed at /livez and /readyz on the metrics port, has resources, is
    scraped there, and its settings serve the probes there on every interface."""
    problems = []
    for name, deployment in of_kind(documents, "Deployment").items():
        for container in containers(deployment):
            ports = {
                key
                for port in container.get("ports", [])
                for key in (port["containerPort"], port.get("name"))
            }
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                port = container.get(probe, {}).get("httpGet", {}).get("port")
                if port is not None and port not in ports:
                    problems.append(f"{name}: {probe} asks undeclared port {port}")
            if not is_ours(container):
                continue
            number = {p.get("name"): p["containerPort"] for p in container["ports"]}
            for probe, path in (
                ("livenessProbe", "/livez"),
                ("readinessProbe", "/readyz"),
            ):
                get = container.get(probe, {}).get("httpGet", {})
                if get.get("path") != path or (
                    number.get(get.get("port"), get.get("port")) != METRICS_PORT
                ):
                    problems.append(f"{name}: {probe} is not {path} on {METRICS_PORT}")
            resources = container.get("resources", {})
            for bound in ("requests", "limits"):
                if set(resources.get(bound, {})) != {"cpu", "memory"}:
                    problems.append(f"{name}: no {bound} of cpu and memory")
            annotations = deployment["spec"]["template"]["metadata"].get(
                "annotations", {}
            )
            if annotations.get("prometheus.io/scrape") != "true" or annotations.get(
                "prometheus.io/port"
            ) != str(METRICS_PORT):
                problems.append(f"{name}: not scraped on {METRICS_PORT}")
            settings = config.settings(
                program_of(container), environment(documents, container)
            )["METRICS"]
            if (settings["host"], settings["port"]) != ("0.0.0.0", METRICS_PORT):
                problems.append(
                    f"{name}: serves its probes on {settings['host']}:"
                    f"{settings['port']}"
                )
    return problems


def program_of(container: dict) -> str:
    """The ``config`` process whose settings the container's command reads."""
    command = container["command"]
    if command[:2] == ["ems", "run"]:
        return command[2]
    return command[2].split(".")[0]


def secret_setting_problems(documents: list[dict]) -> list[str]:
    """Each process of our image gets the broker login its settings read and no
    other, its database's address where it has one, and the token keys it reads
    as mounted files (the private one only where it signs)."""
    logins = {variable.name for variable in variables.BROKER_LOGINS.values()}
    problems = []
    for name, deployment in of_kind(documents, "Deployment").items():
        for container in filter(is_ours, containers(deployment)):
            program = program_of(container)
            reads = {variable.name for variable in config.variables_of(program)}
            own = {item["name"] for item in container.get("env", [])}
            if own & logins != reads & logins:
                problems.append(
                    f"{name}: broker logins {sorted(own & logins)}, its settings "
                    f"read {sorted(reads & logins)}"
                )
            if variables.PG_URL.name in reads and variables.PG_URL.name not in own:
                problems.append(f"{name}: no database address")
            mounted = mounted_files(deployment, container)
            settings = config.settings(program, environment(documents, container))
            jwt = settings.get("JWT", {})
            for key in ("public_key_file", "private_key_file"):
                if key in jwt and jwt[key] not in mounted:
                    problems.append(f"{name}: {jwt[key]} is not mounted")
            if "private_key_file" not in jwt and (
                variables.JWT_PRIVATE_KEY.default.rpartition("/")[2]
                in {path.rpartition("/")[2] for path in mounted}
            ):
                problems.append(f"{name}: gets the private key, but signs nothing")
    return problems


def mounted_files(pod: dict, container: dict) -> set[str]:
    """The paths of the files a container gets from Secrets' items."""
    volumes = {volume["name"]: volume for volume in pod_spec(pod)["volumes"]}
    files = set()
    for mount in container.get("volumeMounts", []):
        secret = volumes[mount["name"]].get("secret")
        for item in (secret or {}).get("items", []):
            files.add(f"{mount['mountPath']}/{item['path']}")
    return files


def http_problems(documents: list[dict]) -> list[str]:
    """The HTTP port each process's settings listen on is its container's ``http``
    port, on every interface."""
    listens = {
        "auth": lambda s: s["WEB_SERVER_ADDRESS"],
        "gateway": lambda s: s["WEB_SERVER_ADDRESS"],
        "ws_gateway": lambda s: f"{s['ADDRESS']}:{s['PORT']}",
        "web": lambda s: f"{s['ADDRESS']}:{s['PORT']}",
    }
    problems = []
    for name, deployment in of_kind(documents, "Deployment").items():
        for container in filter(is_ours, containers(deployment)):
            program = program_of(container)
            http = [p for p in container["ports"] if p.get("name") == "http"]
            if program not in listens:
                if http:
                    problems.append(f"{name}: an http port, but serves no HTTP")
                continue
            settings = config.settings(program, environment(documents, container))
            address = listens[program](settings)
            if not http or address != f"0.0.0.0:{http[0]['containerPort']}":
                problems.append(f"{name}: listens on {address}, declares {http}")
    return problems


def route_problems(documents: list[dict], dynamic: dict, host: str) -> list[str]:
    """The IngressRoute has traefik/dynamic.yml's routers (``host`` for the web
    app's) to the same backends on the same ports, and the Middlewares its
    middlewares with the same settings; ForwardAuth asks the address the
    processes know auth's by."""
    problems = []
    ports = {
        name: {port["port"] for port in service["spec"]["ports"]}
        for name, service in of_kind(documents, "Service").items()
    }
    backends = {
        name: urlsplit(service["loadBalancer"]["servers"][0]["url"]).port
        for name, service in dynamic["http"]["services"].items()
    }
    routes = {
        squeeze(route["match"]): route
        for route in of_kind(documents, "IngressRoute")["ems"]["spec"]["routes"]
    }
    for name, router in dynamic["http"]["routers"].items():
        rule = squeeze(router["rule"].replace("app.localhost", host))
        route = routes.pop(rule, None)
        if route is None:
            problems.append(f"router {name}: no route {rule!r}")
            continue
        if route.get("priority") != router["priority"]:
            problems.append(f"router {name}: priority {route.get('priority')}")
        if [m["name"] for m in route.get("middlewares", [])] != router["middlewares"]:
            problems.append(f"router {name}: middlewares {route.get('middlewares')}")
        backend = {"name": router["service"], "port": backends[router["service"]]}
        if route["services"] != [backend]:
            problems.append(f"router {name}: goes to {route['services']}")
        if backend["port"] not in ports.get(backend["name"], ()):
            problems.append(f"router {name}: no Service port {backend}")
    problems += [f"a route dynamic.yml does not have: {rule!r}" for rule in routes]
    middlewares = of_kind(documents, "Middleware")
    environ = of_kind(documents, "ConfigMap")["ems-environment"]["data"]
    for name, middleware in dynamic["http"]["middlewares"].items():
        (kind,) = middleware
        expected = dict(middleware[kind])
        if "service" in expected:
            service = expected["service"]
            expected["service"] = {"name": service, "port": backends[service]}
        if "address" in expected:
            expected["address"] = environ["EMS_AUTH_VERIFY_URL"]
        actual = middlewares.get(name, {"spec": {}})["spec"].get(kind)
        if actual != expected:
            problems.append(f"Middleware {name}: {kind} is {actual}, not {expected}")
    return problems


def squeeze(rule: str) -> str:
    return " ".join(rule.split())


# -- fixtures ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def base():
    return build(BASE)


@pytest.fixture(scope="module")
def keda():
    return build(KEDA)


@pytest.fixture(scope="module")
def procfile():
    return parse_procfile(PROCFILE.read_text())


@pytest.fixture(scope="module")
def dynamic():
    # Only the {{ env ... }} templates' defaults matter here: Go's template syntax
    # is not YAML, so each is replaced by its default.
    text = re.sub(
        r"""'?\{\{\s*env\s+"[A-Z_]+"\s*\|\s*default\s+"([^"]*)"\s*\}\}'?""",
        r"\1",
        TRAEFIK_DYNAMIC.read_text(),
    )
    return yaml.safe_load(text)


def web_host(documents: list[dict]) -> str:
    public = of_kind(documents, "ConfigMap")["ems-environment"]["data"][
        "EMS_PUBLIC_URL"
    ]
    return public.partition("://")[2].rstrip("/")


# -- the tests ---------------------------------------------------------------------


def test_every_file_is_part_of_a_kustomization():
    listed = set()
    for directory in (BASE, KEDA):
        kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
        listed |= {
            (directory / entry).resolve() for entry in kustomization["resources"]
        }
    files = {path.resolve() for path in [*BASE.rglob("*.yaml"), *KEDA.rglob("*.yaml")]}
    files -= {BASE / "kustomization.yaml", KEDA / "kustomization.yaml"}
    assert files - listed == set()


def test_the_kustomizations_build(base, keda):
    names = {identity(doc) for doc in base}
    assert len(names) == len(base), "two resources of one name"
    assert all(
        doc["metadata"].get("namespace") == "ems"
        for doc in base
        if doc["kind"] not in CLUSTER_KINDS
    )
    assert ("autoscaling/v2", "HorizontalPodAutoscaler", "devices") in names
    overlay = {identity(doc) for doc in keda}
    assert names - overlay == {("autoscaling/v2", "HorizontalPodAutoscaler", "devices")}
    assert ("keda.sh/v1alpha1", "ScaledObject", "devices") in overlay


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="no kubectl here")
@pytest.mark.parametrize("directory", [BASE, KEDA], ids=["base", "keda"])
def test_the_build_here_is_kubectl_kustomize_s(directory):
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(directory)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    kubectl = {identity(doc): doc for doc in yaml.safe_load_all(rendered) if doc}
    assert {identity(doc): doc for doc in build(directory)} == kubectl


def test_every_document_is_valid_against_its_schema(base, keda):
    documents = {identity(doc): doc for doc in [*base, *keda]}
    problems = [p for doc in documents.values() for p in schema_problems(doc)]
    assert problems == []


def test_every_kind_has_a_schema_here(base, keda):
    crds = {(doc["apiVersion"], doc["kind"]) for doc in [*base, *keda]} & set(CRD_KINDS)
    assert crds == set(CRD_KINDS)


def test_deployments_run_the_procfile_commands(base, procfile):
    assert command_problems(base, procfile) == []


def test_every_variable_is_declared_and_every_reference_set(base, keda):
    assert variable_problems(base) == []
    assert variable_problems(keda) == []


def test_every_secret_and_config_map_taken_exists(base):
    assert reference_problems(base) == []


def test_every_service_selects_a_deployment(base):
    assert service_problems(base) == []


def test_autoscalers_drive_deployments_that_may_scale(base, keda):
    assert scaling_problems(base) == []
    assert scaling_problems(keda) == []


def test_every_process_is_probed_and_scraped_on_its_metrics_port(base):
    assert probe_problems(base) == []


def test_each_process_gets_its_own_login_database_and_keys(base):
    assert secret_setting_problems(base) == []


def test_http_processes_listen_where_their_services_send(base):
    assert http_problems(base) == []


def test_traefik_routes_are_those_of_dynamic_yml(base, dynamic):
    assert route_problems(base, dynamic, web_host(base)) == []


def test_traefik_takes_compose_s_static_settings(base):
    compose = traefik_flags(load_compose()["services"]["traefik"])
    (container,) = containers(of_kind(base, "Deployment")["traefik"])
    flags = traefik_flags({"command": container["args"]})
    for flag, value in compose.items():
        if flag.startswith("providers.file") or "${" in value:
            continue
        assert flags.get(flag) == value, flag


def test_the_keda_trigger_reads_the_rpc_queue_of_its_target(keda):
    (scaled,) = of_kind(keda, "ScaledObject").values()
    (trigger,) = [t for t in scaled["spec"]["triggers"] if t["type"] == "rabbitmq"]
    service = scaled["spec"]["scaleTargetRef"]["name"]
    assert trigger["metadata"]["queueName"] == rpc_queue(service).name
    assert trigger["metadata"]["vhostName"] == variables.VHOST.default


def breakages():
    """A copy of the descriptors broken in one way, the check that must notice it,
    and a part of what it must say."""

    def deployment(documents, name):
        return of_kind(documents, "Deployment")[name]

    def container(documents, name):
        return containers(deployment(documents, name))[0]

    def typo(documents):
        deployment(documents, "users")["spec"]["replica"] = 2

    def bad_crd(documents):
        of_kind(documents, "Middleware")["auth"]["spec"]["forwardAuth"]["adress"] = "x"

    def wrong_command(documents):
        container(documents, "devices")["command"] = ["ems", "run", "users"]

    def worker_queue(documents):
        for item in container(documents, "monitoring-worker-2")["env"]:
            if item["name"] == "EMS_INGEST_QUEUE":
                item["value"] = "monitoring.ingest.1"

    def undeclared(documents):
        # Spelled in pieces: the tests may name declared variables only
        # (tests/unit/config/test_settings.py).
        container(documents, "gateway").setdefault("env", []).append(
            {"name": "_".join(("EMS", "NO", "SUCH", "SETTING")), "value": "1"}
        )

    def late_reference(documents):
        env = container(documents, "users")["env"]
        env.append(
            env.pop(next(i for i, e in enumerate(env) if e["name"] == "DB_USER"))
        )

    def missing_key(documents):
        for item in container(documents, "dr")["env"]:
            if item["name"] == "EMS_AMQP_URI_DR":
                item["valueFrom"]["secretKeyRef"]["key"] += "X"

    def borrowed_login(documents):
        for item in container(documents, "users")["env"]:
            if item["name"] == "EMS_AMQP_URI_USERS":
                item["name"] = item["valueFrom"]["secretKeyRef"]["key"] = (
                    "EMS_AMQP_URI_DEVICES"
                )

    def private_key_everywhere(documents):
        volumes = pod_spec(deployment(documents, "gateway"))["volumes"]
        (jwt,) = [volume for volume in volumes if volume["name"] == "jwt"]
        jwt["secret"]["items"].append(
            {"key": "jwt_private.pem", "path": "jwt_private.pem"}
        )

    def stray_service(documents):
        of_kind(documents, "Service")["web"]["spec"]["selector"] = {
            "app.kubernetes.io/name": "webapp"
        }

    def stray_hpa(documents):
        hpa = of_kind(documents, "HorizontalPodAutoscaler")["users"]
        hpa["spec"]["scaleTargetRef"]["name"] = "userz"

    def scaled_worker(documents):
        hpa = copy.deepcopy(of_kind(documents, "HorizontalPodAutoscaler")["users"])
        hpa["metadata"]["name"] = hpa["spec"]["scaleTargetRef"]["name"] = "balancer"
        documents.append(hpa)

    def probe_port(documents):
        container(documents, "audit")["readinessProbe"]["httpGet"]["port"] = "health"

    def metrics_on_loopback(documents):
        container(documents, "trading").setdefault("env", []).append(
            {"name": "EMS_METRICS_HOST", "value": "127.0.0.1"}
        )

    def wrong_http_port(documents):
        container(documents, "gateway")["ports"][1]["containerPort"] = 8080

    def open_route(documents):
        route = of_kind(documents, "IngressRoute")["ems"]["spec"]["routes"][2]
        route["middlewares"] = [m for m in route["middlewares"] if m["name"] != "auth"]

    def lost_header(documents):
        headers = of_kind(documents, "Middleware")["auth"]["spec"]["forwardAuth"]
        headers["authResponseHeaders"].remove("X-Identity-Signature")

    return [
        (
            typo,
            lambda d, p, y: [q for doc in d for q in schema_problems(doc)],
            "replica",
        ),
        (
            bad_crd,
            lambda d, p, y: [q for doc in d for q in schema_problems(doc)],
            "adress",
        ),
        (wrong_command, lambda d, p, y: command_problems(d, p), "devices: runs"),
        (worker_queue, lambda d, p, y: command_problems(d, p), "EMS_INGEST_QUEUE"),
        (undeclared, lambda d, p, y: variable_problems(d), "NO_SUCH_SETTING is not"),
        (late_reference, lambda d, p, y: variable_problems(d), "$(DB_USER)"),
        (missing_key, lambda d, p, y: reference_problems(d), "has no key"),
        (borrowed_login, lambda d, p, y: secret_setting_problems(d), "users"),
        (
            private_key_everywhere,
            lambda d, p, y: secret_setting_problems(d),
            "signs nothing",
        ),
        (stray_service, lambda d, p, y: service_problems(d), "Service web"),
        (stray_hpa, lambda d, p, y: scaling_problems(d), "userz"),
        (scaled_worker, lambda d, p, y: scaling_problems(d), "balancer is autoscaled"),
        (probe_port, lambda d, p, y: probe_problems(d), "health"),
        (metrics_on_loopback, lambda d, p, y: probe_problems(d), "127.0.0.1"),
        (wrong_http_port, lambda d, p, y: http_problems(d), "gateway: listens"),
        (open_route, lambda d, p, y: route_problems(d, y, web_host(d)), "middlewares"),
        (
            lost_header,
            lambda d, p, y: route_problems(d, y, web_host(d)),
            "authResponse",
        ),
    ]


@pytest.mark.parametrize(
    ("breakage", "check", "expected"),
    breakages(),
    ids=[breakage.__name__ for breakage, _, _ in breakages()],
)
def test_checks_notice_a_broken_copy(
    base, procfile, dynamic, breakage, check, expected
):
    broken = copy.deepcopy(base)
    assert not check(broken, procfile, dynamic)
    breakage(broken)
    problems = check(broken, procfile, dynamic)
    assert any(expected in problem for problem in problems), problems
