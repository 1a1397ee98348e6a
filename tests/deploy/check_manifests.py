"""deploy/'s compose file, Kubernetes manifests and image recipe parse, and say
what deploy/README.md promises: KRaft Kafka with every topic created at one
partition count, Redis with its append-only file on a volume, probes on the
daemon's real /healthz and /readyz port, replicas no more than the partitions,
a PodDisruptionBudget, resources, a non-root user with a read-only root, and
runtime and build packages that exist in Debian (apt-cache show).
usage: check_manifests.py ROOT"""
import os
import re
import shlex
import subprocess
import sys

import yaml

ROOT = sys.argv[1]
DEPLOY = os.path.join(ROOT, "deploy")
CONFIG_IN_IMAGE = "/etc/csmetrics/csmetrics.yaml"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def load(rel):
    with open(os.path.join(DEPLOY, rel)) as f:
        return yaml.safe_load(f)


def load_all(rel):
    with open(os.path.join(DEPLOY, rel)) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def package_list(name):
    with open(os.path.join(DEPLOY, "container", name)) as f:
        return [l.split("#")[0].strip() for l in f if l.split("#")[0].strip()]


# ---- the image recipe
def check_containerfile():
    with open(os.path.join(DEPLOY, "container/Containerfile")) as f:
        text = f.read()
    lines = [l.strip() for l in text.replace("\\\n", " ").splitlines()]
    froms = [l for l in lines if l.startswith("FROM ")]
    check(len(froms) == 2 and all(l.split()[1] == "debian:bookworm-slim" for l in froms),
          "Containerfile: two stages FROM debian:bookworm-slim, got %s" % froms)
    check(froms and froms[0].endswith(" AS build"), "Containerfile: first stage is 'build'")
    check(any("deploy/container/build.sh /src /src/build /usr/local" in l for l in lines if l.startswith("RUN ")),
          "Containerfile: the build stage runs build.sh into /usr/local")
    for lst in ("packages-build.txt", "packages-runtime.txt"):
        check(any(l.startswith("RUN ") and "install-packages.sh /tmp/" + lst in l for l in lines),
              "Containerfile: installs " + lst)
    check("COPY --from=build /usr/local /usr/local" in lines, "Containerfile: runtime stage copies /usr/local")
    users = [l.split()[1] for l in lines if l.startswith("USER ")]
    uid = users[-1].split(":")[0] if users else "0"
    check(uid.isdigit() and int(uid) != 0, "Containerfile: runs as a numeric non-root USER, got %s" % users)
    exposed = {p for l in lines if l.startswith("EXPOSE ") for p in l.split()[1:]}
    check({"9109", "8080", "9110"} <= exposed, "Containerfile: EXPOSE 9109 8080 9110, got %s" % exposed)
    env = dict(re.findall(r"^ENV (\w+)=(\S+)", text, re.M))
    check(env.get("CSM_HEALTH_URL") == "http://127.0.0.1:9109/healthz",
          "Containerfile: CSM_HEALTH_URL is the daemon's /healthz")
    health = [l for l in lines if l.startswith("HEALTHCHECK ")]
    check(len(health) == 1 and 'CMD curl -fsS -o /dev/null "$CSM_HEALTH_URL"' in health[0],
          "Containerfile: HEALTHCHECK curls $CSM_HEALTH_URL")
    check('ENTRYPOINT ["/usr/local/bin/csmetrics"]' in lines, "Containerfile: ENTRYPOINT csmetrics")
    check('CMD ["run", "-c", "%s"]' % CONFIG_IN_IMAGE in lines, "Containerfile: CMD run -c " + CONFIG_IN_IMAGE)
    check("COPY deploy/container/csmetrics.yaml %s" % CONFIG_IN_IMAGE in lines,
          "Containerfile: the default configuration in " + CONFIG_IN_IMAGE)
    return int(uid) if uid.isdigit() else None


def check_packages():
    for name in ("packages-runtime.txt", "packages-build.txt"):
        pkgs = package_list(name)
        check(pkgs, name + " lists packages")
        for p in pkgs:
            r = subprocess.run(["apt-cache", "show", "--no-all-versions", p], capture_output=True, text=True)
            check(r.returncode == 0 and re.search(r"^Package: %s$" % re.escape(p), r.stdout, re.M),
                  "%s: %s is not a Debian package (apt-cache show)" % (name, p))
    check(not any(p.endswith("-dev") for p in package_list("packages-runtime.txt")),
          "packages-runtime.txt: no -dev package")


# ---- compose
def compose_command(svc):
    c = svc.get("command")
    return c if isinstance(c, list) else shlex.split(c or "")


def port_option(cmd):
    return cmd[cmd.index("--port") + 1] if "--port" in cmd else None


def healthcheck_url(svc):
    test = svc.get("healthcheck", {}).get("test", [])
    urls = [t for t in test if t.startswith("http://")]
    return urls[0] if urls else ""


def check_compose():
    compose = load("compose.yaml")
    cfg = load("compose/csmetrics.yaml")
    svcs = compose.get("services", {})
    for name in ("kafka", "kafka-init", "redis", "csmetrics", "gen", "dashboard", "exporter"):
        check(name in svcs, "compose: service " + name)
    if failures:
        return
    env = svcs["kafka"]["environment"]
    check(set(env.get("KAFKA_PROCESS_ROLES", "").split(",")) == {"broker", "controller"},
          "compose: kafka is a KRaft broker+controller")
    check(env.get("KAFKA_CONTROLLER_QUORUM_VOTERS") == "1@kafka:9093", "compose: KRaft quorum voters")
    check("CONTROLLER://:9093" in env.get("KAFKA_LISTENERS", ""), "compose: a CONTROLLER listener")
    check(env.get("KAFKA_CONTROLLER_LISTENER_NAMES") == "CONTROLLER", "compose: controller listener name")
    check(re.fullmatch(r"[A-Za-z0-9_-]{22}", str(env.get("CLUSTER_ID", ""))), "compose: CLUSTER_ID a base64 UUID")
    check(not any(k.startswith("KAFKA_ZOOKEEPER") for k in env), "compose: no ZooKeeper")
    check(env.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE") == "false", "compose: topics are not auto-created")
    check(cfg["kafka"]["brokers"] == env["KAFKA_ADVERTISED_LISTENERS"].split("//")[1],
          "compose: csmetrics' brokers are kafka's advertised listener")

    # Every topic csmetrics uses, created at one partition count.
    init = svcs["kafka-init"]
    script = init["command"][0]
    topics = re.search(r"for t in ([^;]+);", script).group(1).split()
    wanted = [cfg["kafka"][k] for k in ("chat_topic", "order_topic", "deadletter_topic", "alerts_topic")]
    check(sorted(topics) == sorted(wanted), "compose: kafka-init creates %s, not %s" % (topics, wanted))
    check(script.count("--partitions") == 1 and '--partitions "$$PARTITIONS"' in script,
          "compose: one partition count for every topic")
    check(init["depends_on"]["kafka"]["condition"] == "service_healthy", "compose: kafka-init waits for kafka")

    redis = svcs["redis"]
    cmd = compose_command(redis)
    check(cmd[cmd.index("--appendonly") + 1] == "yes" if "--appendonly" in cmd else False,
          "compose: redis --appendonly yes")
    vols = [v.split(":") for v in redis.get("volumes", [])]
    check(any(v[1] == "/data" and v[0] in compose.get("volumes", {}) for v in vols),
          "compose: redis' /data on a named volume")
    check(redis.get("healthcheck", {}).get("test") == ["CMD", "redis-cli", "ping"], "compose: redis healthcheck")

    for name in ("csmetrics", "gen", "dashboard", "exporter"):
        svc = svcs[name]
        build = svc.get("build", {})
        check(build.get("dockerfile") == "deploy/container/Containerfile" and
              os.path.normpath(os.path.join(DEPLOY, build.get("context", ""))) == os.path.normpath(ROOT),
              "compose: %s is built from deploy/container/Containerfile at the root" % name)
        check("./compose/csmetrics.yaml:%s:ro" % CONFIG_IN_IMAGE in svc.get("volumes", []),
              "compose: %s mounts compose/csmetrics.yaml" % name)
        cmd = compose_command(svc)
        check(cmd[1:3] == ["-c", CONFIG_IN_IMAGE], "compose: %s reads %s" % (name, CONFIG_IN_IMAGE))
        check(svc.get("read_only") is True, "compose: %s has a read-only root" % name)

    run = svcs["csmetrics"]
    check(compose_command(run)[0] == "run", "compose: csmetrics runs `run`")
    port = cfg["http"]["port"]
    check(cfg["http"]["bind"] == "0.0.0.0", "compose: telemetry on every interface of the container")
    check(healthcheck_url(run) == "http://127.0.0.1:%d/readyz" % port, "compose: csmetrics healthy = /readyz")
    check("%d:%d" % (port, port) in run.get("ports", []), "compose: csmetrics publishes %d" % port)
    check(run["depends_on"] == {"kafka-init": {"condition": "service_completed_successfully"},
                                "redis": {"condition": "service_healthy"}},
          "compose: csmetrics starts after the topics exist and Redis is healthy")
    gen = compose_command(svcs["gen"])
    check(gen[0] == "gen" and "--kafka" in gen, "compose: gen --kafka")
    check(svcs["gen"].get("restart") == "no", "compose: gen runs once")
    check(svcs["gen"]["depends_on"]["csmetrics"]["condition"] == "service_healthy",
          "compose: gen starts once csmetrics is ready")
    for name, path in (("dashboard", "/"), ("exporter", "/healthz")):
        svc = svcs[name]
        cmd = compose_command(svc)
        p = port_option(cmd)
        check(cmd[0] == name and p and cmd[cmd.index("--bind") + 1] == "0.0.0.0",
              "compose: %s on --port, --bind 0.0.0.0" % name)
        url = "http://127.0.0.1:%s%s" % (p, path)
        check(healthcheck_url(svc) == url, "compose: %s healthcheck %s" % (name, url))
        check(svc.get("environment", {}).get("CSM_HEALTH_URL") == url,
              "compose: %s's image HEALTHCHECK points at %s" % (name, url))
        check("%s:%s" % (p, p) in svc.get("ports", []), "compose: %s publishes %s" % (name, p))
        check(svc["depends_on"]["redis"]["condition"] == "service_healthy", "compose: %s waits for redis" % name)
    for name, svc in svcs.items():
        check("healthcheck" in svc or name == "kafka-init", "compose: %s has a healthcheck (or disables it)" % name)


# ---- Kubernetes
def k8s_objects():
    kust = load("kubernetes/kustomization.yaml")
    files = sorted(f for f in os.listdir(os.path.join(DEPLOY, "kubernetes"))
                   if f.endswith(".yaml") and f != "kustomization.yaml")
    check(sorted(kust.get("resources", [])) == files, "kustomization: resources are every manifest")
    objs = {}
    for f in files:
        for d in load_all("kubernetes/" + f):
            objs[(d["kind"], d["metadata"]["name"])] = d
    return objs


def matches(selector, labels):
    return selector and all(labels.get(k) == v for k, v in selector.items())


def check_pod(dep, uid, what):
    pod = dep["spec"]["template"]["spec"]
    psc = pod.get("securityContext", {})
    check(psc.get("runAsNonRoot") is True and psc.get("runAsUser") == uid,
          "%s: runAsNonRoot with the image's uid %s" % (what, uid))
    (c,) = pod["containers"]
    sc = c.get("securityContext", {})
    check(sc.get("readOnlyRootFilesystem") is True, what + ": readOnlyRootFilesystem")
    check(sc.get("allowPrivilegeEscalation") is False, what + ": no privilege escalation")
    check(sc.get("capabilities", {}).get("drop") == ["ALL"], what + ": drops every capability")
    res = c.get("resources", {})
    for kind in ("requests", "limits"):
        check(set(res.get(kind, {})) == {"cpu", "memory"}, "%s: resources.%s cpu and memory" % (what, kind))
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    cm = vols.get(mounts.get(os.path.dirname(CONFIG_IN_IMAGE)), {}).get("configMap", {})
    check(cm.get("name") == "csmetrics-config", "%s: the ConfigMap at %s" % (what, os.path.dirname(CONFIG_IN_IMAGE)))
    check(matches(dep["spec"]["selector"]["matchLabels"], dep["spec"]["template"]["metadata"]["labels"]),
          what + ": selector matches its pods")
    return c


def probe(c, kind):
    p = c.get(kind, {}).get("httpGet", {})
    ports = {cp["name"]: cp["containerPort"] for cp in c.get("ports", [])}
    return p.get("path"), ports.get(p.get("port"), p.get("port"))


def check_service(svc, dep, port, what):
    check(matches(svc["spec"]["selector"], dep["spec"]["template"]["metadata"]["labels"]),
          what + ": Service selects the pods")
    (sp,) = svc["spec"]["ports"]
    (c,) = dep["spec"]["template"]["spec"]["containers"]
    ports = {cp["name"]: cp["containerPort"] for cp in c["ports"]}
    check(sp["port"] == port and ports.get(sp["targetPort"]) == port, "%s: Service port %d" % (what, port))


def check_kubernetes(uid):
    objs = k8s_objects()
    for key in (("ConfigMap", "csmetrics-config"), ("Deployment", "csmetrics"), ("Service", "csmetrics-metrics"),
                ("PodDisruptionBudget", "csmetrics"), ("Deployment", "csmetrics-dashboard"),
                ("Service", "csmetrics-dashboard")):
        check(key in objs, "kubernetes: %s %s" % key)
    if failures:
        return
    cfg = yaml.safe_load(objs[("ConfigMap", "csmetrics-config")]["data"]["csmetrics.yaml"])
    port = cfg["http"]["port"]
    check(port == 9109 and cfg["http"]["bind"] == "0.0.0.0", "kubernetes: telemetry on 0.0.0.0:9109")

    dep = objs[("Deployment", "csmetrics")]
    with open(os.path.join(DEPLOY, "kubernetes/deployment.yaml")) as f:
        m = re.search(r"replicas \((\d+)\) must not exceed the partition count of the input topics \((\d+) here",
                      f.read())
    check(m, "deployment.yaml: the comment states replicas against the partition count")
    replicas = dep["spec"]["replicas"]
    if m:
        check(int(m.group(1)) == replicas and replicas <= int(m.group(2)),
              "deployment: replicas %d ≤ partitions (comment: %s, %s)" % (replicas, m.group(1), m.group(2)))
    c = check_pod(dep, uid, "deployment csmetrics")
    check(c["args"] == ["run", "-c", CONFIG_IN_IMAGE], "deployment: run -c " + CONFIG_IN_IMAGE)
    check(probe(c, "livenessProbe") == ("/healthz", port), "deployment: liveness /healthz on %d" % port)
    check(probe(c, "readinessProbe") == ("/readyz", port), "deployment: readiness /readyz on %d" % port)
    grace = dep["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30)
    check(grace >= 5, "deployment: grace period ≥ the 5 s a SIGTERM takes")
    check_service(objs[("Service", "csmetrics-metrics")], dep, port, "metrics")

    pdb = objs[("PodDisruptionBudget", "csmetrics")]
    check(pdb["apiVersion"] == "policy/v1", "pdb: policy/v1")
    check(matches(pdb["spec"]["selector"]["matchLabels"], dep["spec"]["template"]["metadata"]["labels"]),
          "pdb: selects the csmetrics pods")
    check(pdb["spec"].get("maxUnavailable") == 1, "pdb: one member away at a time")

    dash = objs[("Deployment", "csmetrics-dashboard")]
    c = check_pod(dash, uid, "deployment csmetrics-dashboard")
    args = c["args"]
    dport = int(port_option(args))
    check(args[:3] == ["dashboard", "-c", CONFIG_IN_IMAGE] and args[args.index("--bind") + 1] == "0.0.0.0",
          "dashboard: dashboard -c %s --bind 0.0.0.0" % CONFIG_IN_IMAGE)
    check(probe(c, "livenessProbe") == ("/", dport) and probe(c, "readinessProbe") == ("/", dport),
          "dashboard: probes on its page, port %d" % dport)
    check_service(objs[("Service", "csmetrics-dashboard")], dash, dport, "dashboard")


uid = check_containerfile()
check_packages()
check_compose()
check_kubernetes(uid)
for f in failures:
    print("check_manifests: " + f, file=sys.stderr)
if failures:
    sys.exit(1)
print("check_manifests: compose, kubernetes and the image recipe as promised")
