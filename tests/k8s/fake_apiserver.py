#!/usr/bin/env python3
"""fake_apiserver.py - a small Kubernetes API server for katibfs's tests.

Python 3 standard library only (plus the `openssl` command line tool, used
once at startup to make a self-signed CA and a server certificate).

    fake_apiserver.py --dir DIR [--port N] [--token T] [--kubelet]
                      [--pod-delay S] [--kubelet-delay S] [--fail-5xx N] [--slow S]
                      [--drop-watch S]

Writes DIR/kubeconfig (server, CA data, bearer token) and DIR/port, then
prints "READY <port>" on stdout. Everything lives in memory:

  * HTTPS with the generated CA; every request needs "Authorization: Bearer
    <token>" or a client certificate signed by the CA (DIR/client.crt and
    client.key are made for tests), 401 otherwise.
  * Discovery: /version, /api, /apis, /api/v1, /apis/<group>/<version>.
  * Namespaced create/get/list/delete/patch/update of any resource that
    discovery lists; resourceVersion counter; labelSelector on list/watch.
  * Watches (?watch=1&resourceVersion=N&allowWatchBookmarks=true): events
    after N, bookmarks, an ERROR event with 410 Expired when N is older than
    the compacted version; timeoutSeconds honoured.
  * Pods with /log (follow=true streams until the container ends;
    previous=true: the instance before a restart, 400 when there is none) and
    /proxy (GET /api/v1/namespaces/NS/pods/NAME:PORT/proxy/PATH): 404 for
    no such pod, 503 while it is not Running or nothing listens on the
    port, else the answer of 127.0.0.1:PORT/PATH (the kubelet's
    "containers" are local processes).
  * --kubelet: every created batch/v1 Job, kubeflow.org/v1 *Job (training
    operator: one pod per replica; the primary replica, Master, Chief or
    Launcher, else Worker 0, decides Succeeded, any failed replica fails
    the job, the pods still running are then deleted), kubeflow.org/v2beta1
    MPIJob (the MPI operator; as both MPI operators, the launcher pod is
    made once the workers run) or trainer.kubeflow.org TrainJob (Kubeflow
    Trainer, node 0 of its JobSet) gets its pods (labels as the real
    controllers set them) whose containers' command
    + args run as local processes (native sidecars, initContainers with
    restartPolicy Always, too; they get SIGTERM once the others ended); a
    command that cannot be run is a container terminated with exit code
    128, reason StartError, as containerd reports it; the pod log is their output; pod phase
    and the owner's status.conditions follow (Job: Complete/Failed,
    training jobs: Created/Running/Succeeded/Failed). --pod-delay S: the
    pod appears S seconds after its owner (controller and scheduler
    latency); --kubelet-delay S: it then stays Pending S seconds.

Fault injection, at startup by flag or at run time by POST /fake/faults
with a JSON object (token required):
  fail5xx: N        the next N requests (not /fake) answer 500
  slow: S           every response waits S seconds first
  drop_watch: S     watch streams end after S seconds, log streams are
                    cut (connection closed mid-stream) (0 = never)
  unauthorized: N   the next N requests answer 401
  forbidden_create: N  the next N creates answer 403 (RBAC-like message)
  forbidden_get: N  the next N GETs of one named object answer 403 (RBAC-like
                    message, e.g. a ConfigMap read without `get configmaps`)
  create_lost: N    the next N creates store the object, then answer 500
                    (the client's retry then sees 409 AlreadyExists)
  compact: true     forget the event history: older watches get 410
  throttle: N       the next N requests answer 429 Too Many Requests with
                    Retry-After: retry_after (seconds, default 1)
  unreachable: S    the server goes away for S seconds: the listening
                    socket is closed (connection refused), open
                    connections and streams are dropped; then it is back
                    on the same port, with the same objects
--compact-every S compacts every S seconds by itself (watches resuming
from before then get 410 Gone).
GET /fake/requests returns the request log ([method, path, query]);
GET /fake/stats the requests counted by what they are (classify()), how
many times each object name was created (stored, not answered 409) and
the TCP connections accepted.
"""
import argparse
import base64
import copy
import datetime
import http.client
import json
import os
import random
import signal
import ssl
import string
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CORE = [
    ("pods", "Pod", True), ("pods/log", "Pod", True),
    ("pods/proxy", "Pod", True),
    ("pods/status", "Pod", True), ("configmaps", "ConfigMap", True),
    ("events", "Event", True), ("namespaces", "Namespace", False),
    ("services", "Service", True), ("secrets", "Secret", True),
]
GROUPS = {
    ("batch", "v1"): [("jobs", "Job", True), ("jobs/status", "Job", True)],
    ("kubeflow.org", "v1"): [
        ("pytorchjobs", "PyTorchJob", True), ("tfjobs", "TFJob", True),
        ("mpijobs", "MPIJob", True), ("xgboostjobs", "XGBoostJob", True),
        ("pytorchjobs/status", "PyTorchJob", True)],
    ("kubeflow.org", "v1beta1"): [
        ("experiments", "Experiment", True), ("trials", "Trial", True)],
    ("kubeflow.org", "v2beta1"): [("mpijobs", "MPIJob", True)],
    ("argoproj.io", "v1alpha1"): [("workflows", "Workflow", True)],
    ("trainer.kubeflow.org", "v1alpha1"): [("trainjobs", "TrainJob", True)],
}
OPERATOR_GVS = ("kubeflow.org/v1", "kubeflow.org/v2beta1")
REPLICA_SPECS = {"PyTorchJob": "pytorchReplicaSpecs", "TFJob": "tfReplicaSpecs",
                 "MPIJob": "mpiReplicaSpecs", "XGBoostJob": "xgbReplicaSpecs"}


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def status_obj(code, reason, message, details=None):
    s = {"kind": "Status", "apiVersion": "v1", "metadata": {},
         "status": "Failure" if code >= 400 else "Success",
         "message": message, "reason": reason, "code": code}
    if details:
        s["details"] = details
    return s


def parse_selector(sel):
    """labelSelector -> list of predicates on a labels dict."""
    preds = []
    if not sel:
        return preds
    terms, depth, cur = [], 0, ""
    for ch in sel:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append(cur)
            cur = ""
        else:
            cur += ch
    terms.append(cur)
    for t in (x.strip() for x in terms):
        if not t:
            continue
        if " notin " in t or " in " in t:
            neg = " notin " in t
            k, vs = t.split(" notin " if neg else " in ", 1)
            vals = {v.strip() for v in vs.strip().strip("()").split(",")}
            k = k.strip()
            if neg:
                preds.append(lambda l, k=k, v=vals: l.get(k) not in v)
            else:
                preds.append(lambda l, k=k, v=vals: l.get(k) in v)
        elif "!=" in t:
            k, v = t.split("!=", 1)
            preds.append(lambda l, k=k.strip(), v=v.strip(): l.get(k) != v)
        elif "==" in t or "=" in t:
            k, v = t.split("==", 1) if "==" in t else t.split("=", 1)
            preds.append(lambda l, k=k.strip(), v=v.strip(): l.get(k) == v)
        elif t.startswith("!"):
            preds.append(lambda l, k=t[1:].strip(): k not in l)
        else:
            preds.append(lambda l, k=t: k in l)
    return preds


def matches(obj, preds):
    labels = obj.get("metadata", {}).get("labels") or {}
    return all(p(labels) for p in preds)


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    for k, v in patch.items():
        if v is None:
            target.pop(k, None)
        else:
            target[k] = merge_patch(target.get(k), v)
    return target


class Store:
    def __init__(self):
        self.lock = threading.Condition()
        self.rv = 100
        self.objs = {}      # (gv, res, ns, name) -> obj
        self.events = []    # (rv, type, gv, res, ns, obj)
        self.compacted = 0
        self.logs = {}      # (ns, pod, container) -> path
        self.procs = {}     # (ns, pod) -> [Popen]
        self.running = {}   # (ns, pod, container) -> True while running
        self.start_errors = {}  # (ns, pod, container) -> why not started

    def bump(self):
        self.rv += 1
        return str(self.rv)

    def emit(self, etype, gv, res, ns, obj):
        self.events.append((self.rv, etype, gv, res, ns, copy.deepcopy(obj)))
        if len(self.events) > 5000:
            self.compacted = self.events[1000][0]
            del self.events[:1000]
        self.lock.notify_all()

    def put(self, gv, res, ns, obj, etype):
        obj["metadata"]["resourceVersion"] = self.bump()
        self.objs[(gv, res, ns, obj["metadata"]["name"])] = obj
        self.emit(etype, gv, res, ns, obj)

    def delete(self, gv, res, ns, name):
        obj = self.objs.pop((gv, res, ns, name), None)
        if obj is None:
            return None
        obj["metadata"]["resourceVersion"] = self.bump()
        self.emit("DELETED", gv, res, ns, obj)
        return obj


class Server:
    def __init__(self, args):
        self.args = args
        self.store = Store()
        self.faults = {"fail5xx": args.fail_5xx, "slow": args.slow,
                       "drop_watch": args.drop_watch, "unauthorized": 0,
                       "create_lost": 0, "forbidden_create": 0,
                       "forbidden_get": 0,
                       "throttle": 0, "retry_after": 1}
        self.down_until = 0.0   # unreachable until then
        self.go_down = None     # set by POST /fake/faults: callable
        self.requests = []
        self.creates = {}   # "res/name" -> times stored
        self.connections = 0  # TCP connections accepted
        self.flock = threading.Lock()
        self.stopping = False

    def down(self):
        return time.time() < self.down_until

    def compact(self):
        with self.store.lock:
            self.store.compacted = self.store.rv + 1
            self.store.events = []
            self.store.rv += 1

    def take_fault(self, name):
        with self.flock:
            if self.faults.get(name, 0) > 0:
                self.faults[name] -= 1
                return True
        return False

    # ---- kubelet ----
    def owner_ref(self, obj):
        md = obj["metadata"]
        return [{"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"),
                 "name": md["name"], "uid": md["uid"], "controller": True}]

    def kubelet_create(self, gv, res, ns, obj):
        kind = obj.get("kind")
        name = obj["metadata"]["name"]
        if gv == "batch/v1" and res == "jobs":
            tmpl = obj.get("spec", {}).get("template", {})
            suffix = "".join(random.choice(string.ascii_lowercase +
                                           string.digits) for _ in range(5))
            labels = {"job-name": name, "batch.kubernetes.io/job-name": name,
                      "controller-uid": obj["metadata"]["uid"],
                      "batch.kubernetes.io/controller-uid":
                          obj["metadata"]["uid"]}
            self.make_pod(ns, "%s-%s" % (name, suffix), tmpl, labels, obj,
                          gv, res)
        elif gv == "trainer.kubeflow.org/v1alpha1" and kind == "TrainJob":
            # as Kubeflow Trainer's torch runtime through a JobSet: node 0
            # of the "node" replicated job, its container named "node"
            tr = obj.get("spec", {}).get("trainer", {}) or {}
            tmpl = {"spec": {"restartPolicy": "Never", "containers": [{
                "name": "node", "image": tr.get("image", "busybox"),
                "command": tr.get("command") or [],
                "args": tr.get("args") or []}]}}
            labels = {"jobset.sigs.k8s.io/jobset-name": name,
                      "jobset.sigs.k8s.io/replicatedjob-name": "node",
                      "batch.kubernetes.io/job-completion-index": "0"}
            suffix = "".join(random.choice(string.ascii_lowercase +
                                           string.digits) for _ in range(5))
            self.make_pod(ns, "%s-node-0-0-%s" % (name, suffix), tmpl,
                          labels, obj, gv, res)
        elif gv in OPERATOR_GVS and kind in REPLICA_SPECS:
            self.operator_create(gv, res, ns, obj)

    # ---- the training operator and the MPI operator ----
    def replica_labels(self, gv, kind, name, rtype, index, primary):
        """Labels as the operators put them on a replica's pod."""
        rt = rtype.lower()
        labels = {"training.kubeflow.org/job-name": name,
                  "training.kubeflow.org/replica-type": rt}
        if gv == "kubeflow.org/v2beta1":  # mpi-operator v2
            labels["training.kubeflow.org/operator-name"] = "mpi-operator"
            labels["training.kubeflow.org/job-role"] = rt
            if rtype != "Launcher":
                labels["training.kubeflow.org/replica-index"] = str(index)
            return labels
        labels["training.kubeflow.org/operator-name"] = \
            kind.lower().replace("job", "job-controller")
        labels["training.kubeflow.org/replica-index"] = str(index)
        if primary:
            labels["training.kubeflow.org/job-role"] = "master"
        if kind == "MPIJob":
            labels["mpi-job-role"] = rt
        return labels

    def replica_pod_name(self, gv, kind, name, rtype, index):
        if rtype == "Launcher" and gv == "kubeflow.org/v2beta1":
            return "%s-launcher-%s" % (name, "".join(random.choice(
                string.ascii_lowercase + string.digits) for _ in range(5)))
        if rtype == "Launcher":
            return name + "-launcher"
        return "%s-%s-%d" % (name, rtype.lower(), index)

    def operator_create(self, gv, res, ns, obj):
        """One pod per replica. The primary replica (Master, Chief or
        Launcher, else Worker 0) decides the job's Succeeded; any replica
        that fails fails the job; an MPIJob's launcher is made once its
        workers run (as both MPI operators do by default)."""
        kind, name = obj.get("kind"), obj["metadata"]["name"]
        specs = obj.get("spec", {}).get(REPLICA_SPECS[kind]) or {}
        if not specs:
            return
        first = [r for r in ("Master", "Chief", "Launcher") if r in specs]
        prim = first[0] if first else "Worker"
        self.set_conditions(gv, res, ns, name, ["Created"], None)
        pods, launcher = [], None
        for rtype, rs in specs.items():
            for i in range(int((rs or {}).get("replicas", 1))):
                primary = rtype == prim and i == 0
                pod = (self.replica_pod_name(gv, kind, name, rtype, i),
                       (rs or {}).get("template", {}),
                       self.replica_labels(gv, kind, name, rtype, i,
                                           primary),
                       "primary" if primary else "replica")
                if rtype == "Launcher":
                    launcher = pod
                else:
                    pods.append(pod)
        for pname, tmpl, labels, role in pods:
            self.make_pod(ns, pname, tmpl, labels, obj, gv, res, role)
        if launcher:
            threading.Thread(target=self.launch_when_workers_run,
                             daemon=True, args=(ns, obj, gv, res,
                                                [q[0] for q in pods],
                                                launcher)).start()

    def launch_when_workers_run(self, ns, owner, gv, res, workers, launcher):
        st, key = self.store, (gv, res, ns, owner["metadata"]["name"])
        with st.lock:
            while not self.stopping:
                if st.objs.get(key, {}).get("metadata", {}).get("uid") != \
                        owner["metadata"]["uid"]:
                    return  # deleted meanwhile
                phases = [st.objs.get(("v1", "pods", ns, w), {}).get(
                    "status", {}).get("phase") for w in workers]
                if all(ph in ("Running", "Succeeded") for ph in phases):
                    break
                st.lock.wait(0.5)
        pname, tmpl, labels, role = launcher
        self.make_pod(ns, pname, tmpl, labels, owner, gv, res, role)

    def end_job(self, gv, res, ns, name, ok):
        """The operator's verdict, once; then, as cleanPodPolicy Running,
        the job's pods still running are deleted."""
        st = self.store
        with st.lock:
            obj = st.objs.get((gv, res, ns, name))
            if obj is None or any(
                    c.get("type") in ("Succeeded", "Failed") and
                    c.get("status") == "True"
                    for c in obj.get("status", {}).get("conditions", [])):
                return
            self.set_conditions(gv, res, ns, name,
                                ["Succeeded"] if ok else ["Failed"], None)
            uid = obj["metadata"]["uid"]
        self.kill_pods_of(ns, uid, only_running=True)

    def make_pod(self, ns, pname, tmpl, labels, owner, gv, res,
                 role="primary"):
        st = self.store
        md = tmpl.get("metadata", {}) or {}
        lab = dict(md.get("labels") or {})
        lab.update(labels)
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": pname, "namespace": ns, "labels": lab,
                            "uid": "%032x" % random.getrandbits(128),
                            "creationTimestamp": now_iso(),
                            "ownerReferences": self.owner_ref(owner)},
               "spec": copy.deepcopy(tmpl.get("spec", {})),
               "status": {"phase": "Pending"}}
        with st.lock:
            st.put("v1", "pods", ns, pod, "ADDED")
        t = threading.Thread(target=self.run_pod, daemon=True,
                             args=(ns, pname, owner["metadata"]["name"], gv,
                                   res, role))
        t.start()

    def set_conditions(self, gv, res, ns, name, types, extra):
        st = self.store
        with st.lock:
            obj = st.objs.get((gv, res, ns, name))
            if obj is None:
                return
            obj = copy.deepcopy(obj)
            status = obj.setdefault("status", {})
            conds = status.setdefault("conditions", [])
            for c in conds:
                if c["type"] == "Running":
                    c["status"] = "False"
            for t in types:
                conds.append({"type": t, "status": "True",
                              "lastTransitionTime": now_iso(),
                              "reason": "Fake" + t,
                              "message": "fake kubelet: " + t})
            if extra:
                status.update(extra)
            st.put(gv, res, ns, obj, "MODIFIED")

    def set_pod(self, ns, pname, phase, cstatuses):
        st = self.store
        with st.lock:
            pod = st.objs.get(("v1", "pods", ns, pname))
            if pod is None:
                return False
            pod = copy.deepcopy(pod)
            pod["status"] = {"phase": phase, "containerStatuses": cstatuses}
            st.put("v1", "pods", ns, pod, "MODIFIED")
        return True

    def run_pod(self, ns, pname, owner, gv, res, role="primary"):
        st = self.store
        time.sleep(self.args.kubelet_delay)
        with st.lock:
            pod = st.objs.get(("v1", "pods", ns, pname))
            if pod is None:
                return
            containers = copy.deepcopy(pod["spec"].get("containers", []))
            sidecars = [c for c in pod["spec"].get("initContainers") or []
                        if c.get("restartPolicy") == "Always"]
        side = self.start_containers(ns, pname, sidecars)
        procs = self.start_containers(ns, pname, containers)
        with st.lock:
            st.procs[(ns, pname)] = [p for _, p in procs + side if p]
        started = now_iso()
        self.set_pod(ns, pname, "Running", [
            self.running_status(ns, pname, n, p, started, 0)
            for n, p in procs])
        if gv in OPERATOR_GVS and role == "primary":
            self.set_conditions(gv, res, ns, owner, ["Running"], None)
        codes = self.wait_containers(ns, pname, procs, True)
        restarts = 0
        while (self.pod_restart_policy(ns, pname) == "OnFailure" and
               any(c for _, c in codes) and restarts < 3):
            restarts += 1  # as the kubelet: a new instance, a new log
            again = [c for c in containers if dict(codes)[c["name"]]]
            newp = self.start_containers(ns, pname, again, restarts)
            with st.lock:
                st.procs[(ns, pname)] = [p for _, p in newp + side if p]
            self.set_pod(ns, pname, "Running", [
                {"name": n, "ready": True, "restartCount": restarts,
                 "state": {"running": {"startedAt": now_iso()}}}
                for n, _ in procs])
            codes = [(n, c) for n, c in codes if not c] + \
                self.wait_containers(ns, pname, newp)
        for _, p in side:  # native sidecars end after the main containers
            if p:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except OSError:
                    pass
        self.wait_containers(ns, pname, side)
        self.finish_pod(ns, pname, owner, gv, res, codes, started, restarts,
                        role)

    def running_status(self, ns, pname, name, p, started, restarts):
        if p is not None:
            return {"name": name, "ready": True, "restartCount": restarts,
                    "state": {"running": {"startedAt": started}}}
        return {"name": name, "ready": False, "restartCount": restarts,
                "state": {"terminated": self.start_error(ns, pname, name)}}

    def start_error(self, ns, pname, name):
        with self.store.lock:
            msg = self.store.start_errors.get((ns, pname, name), "")
        return {"exitCode": 128, "reason": "StartError", "message": msg,
                "startedAt": now_iso(), "finishedAt": now_iso()}

    def wait_containers(self, ns, pname, procs, report=False):
        """Wait for each container; report: as the kubelet, show each one
        terminated in the pod's status as soon as it has (the pod runs on
        while others do)."""
        st = self.store
        codes = []
        for n, p in procs:
            code = p.wait() if p else 128
            if code < 0:
                code = 128 - code
            codes.append((n, code))
            with st.lock:
                st.running[(ns, pname, n)] = False
                st.lock.notify_all()
            if report and p:
                self.container_ended(ns, pname, n, code)
        return codes

    def container_ended(self, ns, pname, name, code):
        st = self.store
        with st.lock:
            pod = st.objs.get(("v1", "pods", ns, pname))
            if pod is None or pod["status"].get("phase") != "Running":
                return
            pod = copy.deepcopy(pod)
            for cs in pod["status"].get("containerStatuses") or []:
                if cs["name"] == name and "running" in cs["state"]:
                    started = cs["state"]["running"].get("startedAt")
                    cs["ready"] = False
                    cs["state"] = {"terminated": {
                        "exitCode": code, "reason": "Completed" if code == 0
                        else "Error", "startedAt": started,
                        "finishedAt": now_iso()}}
            st.put("v1", "pods", ns, pod, "MODIFIED")

    def pod_restart_policy(self, ns, pname):
        with self.store.lock:
            pod = self.store.objs.get(("v1", "pods", ns, pname))
            return pod and pod["spec"].get("restartPolicy")

    def start_containers(self, ns, pname, containers, instance=0):
        st = self.store
        procs = []
        wd = os.path.join(self.args.dir, "pods", ns, pname)
        os.makedirs(wd, exist_ok=True)
        for c in containers:
            path = os.path.join(wd, "%s.%d.log" % (c["name"], instance))
            out = open(path, "wb")
            argv = list(c.get("command") or []) + list(c.get("args") or [])
            env = dict(os.environ)
            for e in c.get("env") or []:
                env[e["name"]] = str(e.get("value", ""))
            env["HOSTNAME"] = pname
            try:
                p = subprocess.Popen(argv or ["true"], stdout=out,
                                     stderr=subprocess.STDOUT, env=env,
                                     cwd=c.get("workingDir") or wd,
                                     start_new_session=True)
            except OSError as e:
                out.write(("exec: %s\n" % e).encode())
                p = None
                with st.lock:
                    st.start_errors[(ns, pname, c["name"])] = (
                        "failed to create containerd task: exec: %s" % e)
            out.close()
            with st.lock:
                st.logs[(ns, pname, c["name"])] = path
                st.running[(ns, pname, c["name"])] = p is not None
            procs.append((c["name"], p))
        return procs

    def finish_pod(self, ns, pname, owner, gv, res, codes, started,
                   restarts, role):
        ok = all(c == 0 for _, c in codes)
        with self.store.lock:
            failed = {n for (a, b, n) in self.store.start_errors
                      if (a, b) == (ns, pname)}
        if not self.set_pod(ns, pname, "Succeeded" if ok else "Failed", [
                {"name": n, "ready": False, "restartCount": restarts,
                 "state": {"terminated": self.start_error(ns, pname, n)
                           if n in failed else
                           {"exitCode": c, "startedAt": started,
                            "finishedAt": now_iso()}}}
                for n, c in codes]):
            return
        if gv == "batch/v1":
            extra = {"succeeded": 1} if ok else {"failed": 1}
            extra["completionTime"] = now_iso()
            self.set_conditions(gv, res, ns, owner,
                                ["Complete"] if ok else ["Failed"], extra)
        elif gv.startswith("trainer.kubeflow.org/"):
            self.set_conditions(gv, res, ns, owner,
                                ["Complete"] if ok else ["Failed"], None)
        elif role == "primary" or not ok:
            self.end_job(gv, res, ns, owner, ok)

    def kill_pods_of(self, ns, owner_uid, only_running=False):
        st = self.store
        with st.lock:
            victims = [k for k, o in st.objs.items()
                       if k[1] == "pods" and k[2] == ns and any(
                           r.get("uid") == owner_uid for r in
                           o["metadata"].get("ownerReferences") or [])
                       and not (only_running and o.get("status", {}).get(
                           "phase") in ("Succeeded", "Failed"))]
        for (gv, res, pns, name) in victims:
            with st.lock:
                procs = st.procs.pop((pns, name), [])
                st.delete(gv, res, pns, name)
            for p in procs:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass


def classify(method, path, query):
    """What a request is, for request counting: the shared ones
    (discovery, list, watch of a whole collection by the experiment
    label) and the per-trial ones (create, delete, get, log, list of one
    trial's pods)."""
    q = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    parts = [x for x in path.split("/") if x]
    if parts in (["version"], ["api"], ["apis"], ["api", "v1"]) or (
            parts and parts[0] == "apis" and len(parts) <= 3):
        return "discovery"
    if method == "POST":
        return "create"
    if method == "DELETE":
        return "delete"
    if method in ("PATCH", "PUT"):
        return "update"
    if parts[-1] == "log":
        return "log"
    if q.get("watch") in ("1", "true"):
        return "watch"
    named = len(parts) >= 2 and parts[-2] not in ("namespaces",) and \
        parts[-1] not in ("pods",) and "namespaces" in parts and \
        len(parts) - parts.index("namespaces") >= 4
    if named:
        return "get"
    sel = q.get("labelSelector") or ""
    if sel == "katib.kubeflow.org/experiment":
        return "list"
    return "list-selected"


def named_object(path):
    """(group, namespace, resource, name) of a path naming one namespaced
    object (no subresource), or None."""
    p = [x for x in path.split("/") if x]
    if len(p) == 6 and p[:2] == ["api", "v1"] and p[2] == "namespaces":
        return "", p[3], p[4], p[5]
    if len(p) == 7 and p[0] == "apis" and p[3] == "namespaces":
        return p[1], p[4], p[5], p[6]
    return None


CONFIGMAP_KEY = set(string.ascii_letters + string.digits + "-._")


def configmap_invalid(obj):
    """What the real API server refuses in a ConfigMap: (code, message), or
    None. data and binaryData map keys to strings (JSON decoding fails
    otherwise, 400); keys are [-._a-zA-Z0-9]+, the whole at most 1 MiB (422).
    """
    name = obj.get("metadata", {}).get("name", "")
    size = 0
    for field in ("data", "binaryData"):
        d = obj.get(field)
        if d is None:
            continue
        if not isinstance(d, dict):
            return 400, "json: cannot unmarshal %s into Go struct field " \
                "ConfigMap.%s of type map[string]string" % (
                    type(d).__name__, field)
        for k, v in d.items():
            if not isinstance(v, str):
                return 400, "json: cannot unmarshal %s into Go struct " \
                    "field ConfigMap.%s of type string" % (
                        type(v).__name__, field)
            if not k or set(k) - CONFIGMAP_KEY:
                return 422, 'ConfigMap "%s" is invalid: %s[%s]: Invalid ' \
                    "value: %r: a valid config key must consist of " \
                    "alphanumeric characters, '-', '_' or '.'" % (
                        name, field, k, k)
            size += len(k) + len(v)
    if size > 1048576:
        return 422, 'ConfigMap "%s" is invalid: []: Too long: must have ' \
            "at most 1048576 bytes" % name
    return None


def find_resource(gv, res):
    if gv == "v1":
        lst = CORE
    else:
        g, v = gv.split("/", 1)
        lst = GROUPS.get((g, v))
    if lst is None:
        return None
    for name, kind, namespaced in lst:
        if name == res:
            return kind, namespaced
    return None


def resource_list(gv, lst):
    res = []
    for name, kind, namespaced in lst:
        verbs = ["get", "patch", "update"] if "/" in name else [
            "create", "delete", "deletecollection", "get", "list", "patch",
            "update", "watch"]
        if name == "pods/log":
            verbs = ["get"]
        if name == "pods/proxy":
            verbs = ["create", "delete", "get", "patch", "update"]
        res.append({"name": name, "singularName": "" if "/" in name else
                    kind.lower(), "namespaced": namespaced, "kind": kind,
                    "verbs": verbs})
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": gv, "resources": res}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-apiserver/1"

    def log_message(self, fmt, *args):
        if self.server.app.args.verbose:
            sys.stderr.write("fake-apiserver: " + fmt % args + "\n")

    @property
    def app(self):
        return self.server.app

    def setup(self):
        super().setup()
        with self.server.app.flock:
            self.server.app.connections += 1

    def send_json(self, code, obj, headers=None):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def fail(self, code, reason, msg, details=None):
        self.send_json(code, status_obj(code, reason, msg, details))

    def body(self):
        try:
            return json.loads(self.raw) if self.raw else None
        except ValueError:
            return None

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def start_stream(self, ctype):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def end_stream(self):
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            pass

    def handle_any(self, method):
        app = self.app
        n = int(self.headers.get("Content-Length") or 0)
        self.raw = self.rfile.read(n) if n else b""
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        if app.down():
            self.close_connection = True  # dropped, unanswered
            return
        with app.flock:
            app.requests.append([method, url.path, url.query])
        auth = self.headers.get("Authorization", "")
        try:
            cert = self.connection.getpeercert()
        except (AttributeError, ValueError):
            cert = None
        if (auth != "Bearer " + app.args.token and not cert) or \
                app.take_fault("unauthorized"):
            return self.fail(401, "Unauthorized", "Unauthorized")
        if url.path.startswith("/fake/"):
            return self.fake(method, url.path)
        if app.faults.get("slow"):
            time.sleep(app.faults["slow"])
        if method == "POST" and app.take_fault("forbidden_create"):
            parts = [p for p in url.path.split("/") if p]
            res = parts[-1] if parts else "?"
            group = parts[1] if parts and parts[0] == "apis" else ""
            ns = parts[-2] if len(parts) > 2 else "default"
            return self.fail(403, "Forbidden", '%s%s is forbidden: User '
                             '"system:serviceaccount:%s:katibfs" cannot '
                             'create resource "%s" in API group "%s" in the '
                             'namespace "%s"' % (res, "." + group if group
                                                 else "", ns, res, group, ns))
        if method == "GET" and named_object(url.path) and \
                app.take_fault("forbidden_get"):
            group, ns, res, name = named_object(url.path)
            return self.fail(403, "Forbidden", '%s "%s" is forbidden: User '
                             '"system:serviceaccount:%s:katibfs" cannot get '
                             'resource "%s" in API group "%s" in the '
                             'namespace "%s"' % (res, name, ns, res, group,
                                                 ns), {"name": name,
                                                       "kind": res})
        if app.take_fault("throttle"):
            return self.send_json(429, status_obj(
                429, "TooManyRequests", "fake: too many requests, please "
                "try again later"), {"Retry-After": str(
                    app.faults.get("retry_after", 1))})
        if app.take_fault("fail5xx"):
            return self.fail(500, "InternalError",
                             "fake: injected internal error")
        parts = [p for p in url.path.split("/") if p]
        return self.route(method, parts, q)

    def fake(self, method, path):
        app = self.app
        if path == "/fake/requests":
            with app.flock:
                return self.send_json(200, app.requests)
        if path == "/fake/stats":
            with app.flock:
                reqs = list(app.requests)
            with app.store.lock:
                creates = dict(app.creates)
            counts = {}
            for m, p, q in reqs:
                if not p.startswith("/fake"):
                    c = classify(m, p, q)
                    counts[c] = counts.get(c, 0) + 1
            return self.send_json(200, {"counts": counts,
                                        "creates": creates,
                                        "connections": app.connections})
        if path == "/fake/faults" and method == "POST":
            f = self.body() or {}
            if f.pop("compact", False):
                app.compact()
            down = f.pop("unreachable", 0)
            if down:
                app.down_until = time.time() + float(down)
                threading.Thread(target=app.go_down, args=(float(down),),
                                 daemon=True).start()
            with app.flock:
                app.faults.update(f)
                return self.send_json(200, app.faults)
        if path == "/fake/objects":
            with app.store.lock:
                return self.send_json(200, [
                    list(k) for k in sorted(app.store.objs)])
        return self.fail(404, "NotFound", "no such fake endpoint")

    def route(self, method, p, q):
        if p == ["version"]:
            return self.send_json(200, {"major": "1", "minor": "30",
                                        "gitVersion": "v1.30.0-fake",
                                        "platform": "linux/amd64"})
        if p == ["api"]:
            return self.send_json(200, {
                "kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0",
                     "serverAddress": "127.0.0.1"}]})
        if p == ["apis"]:
            groups = {}
            for (g, v) in GROUPS:
                groups.setdefault(g, []).append(v)
            return self.send_json(200, {"kind": "APIGroupList",
                                        "apiVersion": "v1", "groups": [
                {"name": g, "versions": [{"groupVersion": g + "/" + v,
                                          "version": v} for v in vs],
                 "preferredVersion": {"groupVersion": g + "/" + vs[0],
                                      "version": vs[0]}}
                for g, vs in groups.items()]})
        if p == ["api", "v1"]:
            return self.send_json(200, resource_list("v1", CORE))
        if len(p) == 3 and p[0] == "apis" and (p[1], p[2]) in GROUPS:
            return self.send_json(200, resource_list(
                p[1] + "/" + p[2], GROUPS[(p[1], p[2])]))
        if len(p) == 2 and p[0] == "apis":
            vs = [v for (g, v) in GROUPS if g == p[1]]
            if vs:
                return self.send_json(200, {
                    "kind": "APIGroup", "apiVersion": "v1", "name": p[1],
                    "versions": [{"groupVersion": p[1] + "/" + v,
                                  "version": v} for v in vs]})
        if p and p[0] == "api":
            gv, rest = "v1", p[2:] if len(p) > 1 and p[1] == "v1" else None
        elif len(p) >= 3 and p[0] == "apis":
            gv, rest = p[1] + "/" + p[2], p[3:]
        else:
            rest = None
        if rest is None:
            return self.fail(404, "NotFound", "the server could not find "
                             "the requested resource")
        ns = None
        if len(rest) >= 2 and rest[0] == "namespaces" and len(rest) != 2:
            ns, rest = rest[1], rest[2:]
        if not rest:
            return self.fail(404, "NotFound", "no resource")
        res = rest[0]
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if find_resource(gv, res) is None:
            return self.fail(404, "NotFound", "the server could not find "
                             "the requested resource (%s %s)" % (gv, res))
        if res == "namespaces":
            if method == "GET" and name:
                return self.send_json(200, {
                    "apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": name}, "status": {
                        "phase": "Active"}})
            ns = ""
        if sub == "log" and res == "pods" and method == "GET":
            return self.pod_log(ns, name, q)
        if sub == "proxy" and res == "pods" and method == "GET":
            return self.pod_proxy(ns, name, "/" + "/".join(rest[3:]))
        if method == "GET" and name is None:
            if q.get("watch") in ("1", "true"):
                return self.watch(gv, res, ns, q)
            return self.list(gv, res, ns, q)
        if method == "POST" and name is None and ns is not None:
            return self.create(gv, res, ns)
        if ns is None or name is None:
            return self.fail(405, "MethodNotAllowed", "not allowed")
        if method == "GET":
            obj = self.app.store.objs.get((gv, res, ns, name))
            if obj is None:
                return self.notfound(res, name)
            return self.send_json(200, obj)
        if method == "DELETE":
            return self.delete(gv, res, ns, name)
        if method in ("PATCH", "PUT"):
            return self.update(method, gv, res, ns, name, sub)
        return self.fail(405, "MethodNotAllowed", "not allowed")

    def notfound(self, res, name):
        return self.fail(404, "NotFound", '%s "%s" not found' % (res, name),
                         {"name": name, "kind": res})

    def list(self, gv, res, ns, q):
        st = self.app.store
        preds = parse_selector(q.get("labelSelector"))
        with st.lock:
            items = [copy.deepcopy(o) for (g, r, n, _), o in
                     sorted(st.objs.items())
                     if g == gv and r == res and (ns is None or n == ns)
                     and matches(o, preds)]
            rv = str(st.rv)
        kind = find_resource(gv, res)[0]
        for o in items:
            o.setdefault("apiVersion", gv)
            o.setdefault("kind", kind)
        return self.send_json(200, {"kind": kind + "List", "apiVersion": gv,
                                    "metadata": {"resourceVersion": rv},
                                    "items": items})

    def watch(self, gv, res, ns, q):
        app, st = self.app, self.app.store
        preds = parse_selector(q.get("labelSelector"))
        bookmarks = q.get("allowWatchBookmarks") in ("1", "true")
        timeout = float(q.get("timeoutSeconds") or 1800)
        drop = app.faults.get("drop_watch") or 0
        if drop:
            timeout = min(timeout, drop)
        deadline = time.time() + timeout
        rv = q.get("resourceVersion") or ""
        self.start_stream("application/json")

        def send(etype, obj):
            self.chunk(json.dumps({"type": etype, "object": obj}).encode()
                       + b"\n")

        try:
            with st.lock:
                if rv in ("", "0"):
                    for (g, r, n, _), o in sorted(st.objs.items()):
                        if g == gv and r == res and (
                                ns is None or n == ns) and matches(o, preds):
                            send("ADDED", o)
                    last = st.rv
                else:
                    last = int(rv)
                    if last < st.compacted:
                        send("ERROR", status_obj(
                            410, "Expired", "too old resource version: "
                            "%d (%d)" % (last, st.compacted)))
                        self.end_stream()
                        return
            last_bookmark = time.time()
            while time.time() < deadline and not app.stopping:
                if app.down():
                    self.close_connection = True
                    return  # dropped: no last chunk
                with st.lock:
                    if last < st.compacted - 1:
                        send("ERROR", status_obj(
                            410, "Expired", "too old resource version"))
                        break
                    evs = [e for e in st.events if e[0] > last]
                    if not evs:
                        st.lock.wait(min(0.5, max(0.01,
                                                  deadline - time.time())))
                        evs = [e for e in st.events if e[0] > last]
                for (erv, etype, g, r, n, o) in evs:
                    last = erv
                    if g == gv and r == res and (ns is None or n == ns) and \
                            matches(o, preds):
                        send(etype, o)
                if bookmarks and time.time() - last_bookmark > 1:
                    send("BOOKMARK", {"kind": find_resource(gv, res)[0],
                                      "apiVersion": gv, "metadata": {
                                          "resourceVersion": str(last)}})
                    last_bookmark = time.time()
            self.end_stream()  # the connection stays (keep-alive)
        except OSError:
            self.close_connection = True

    def create(self, gv, res, ns):
        app, st = self.app, self.app.store
        obj = self.body()
        if not isinstance(obj, dict):
            return self.fail(400, "BadRequest", "body is not an object")
        md = obj.setdefault("metadata", {})
        if not md.get("name") and md.get("generateName"):
            md["name"] = md["generateName"] + "".join(
                random.choice(string.ascii_lowercase) for _ in range(5))
        if not md.get("name"):
            return self.fail(422, "Invalid", "metadata.name: Required value")
        if md.get("namespace") and md["namespace"] != ns:
            return self.fail(400, "BadRequest", "the namespace of the "
                             "object does not match the namespace of the "
                             "request")
        kind = find_resource(gv, res)[0]
        if obj.get("kind") and obj.get("kind") != kind:
            return self.fail(400, "BadRequest", "kind %s does not match "
                             "resource %s" % (obj.get("kind"), res))
        obj["apiVersion"], obj["kind"] = gv, kind
        bad = configmap_invalid(obj) if kind == "ConfigMap" else None
        if bad:
            return self.fail(bad[0], "BadRequest" if bad[0] == 400
                             else "Invalid", bad[1])
        with st.lock:
            if (gv, res, ns, md["name"]) in st.objs:
                return self.fail(409, "AlreadyExists", '%s "%s" already '
                                 'exists' % (res, md["name"]), {
                                     "name": md["name"], "kind": res})
            md["namespace"] = ns
            md["uid"] = "%032x" % random.getrandbits(128)
            md["creationTimestamp"] = now_iso()
            md["generation"] = 1
            st.put(gv, res, ns, obj, "ADDED")
            key = res + "/" + md["name"]
            app.creates[key] = app.creates.get(key, 0) + 1
            out = copy.deepcopy(obj)
        if app.args.kubelet and app.args.pod_delay > 0:
            # the Job controller and the scheduler take their time
            threading.Timer(app.args.pod_delay, app.kubelet_create,
                            (gv, res, ns, out)).start()
        elif app.args.kubelet:
            app.kubelet_create(gv, res, ns, out)
        if app.take_fault("create_lost"):
            return self.fail(500, "InternalError", "fake: lost the answer")
        return self.send_json(201, out)

    def delete(self, gv, res, ns, name):
        app, st = self.app, self.app.store
        with st.lock:
            obj = st.objs.get((gv, res, ns, name))
            if obj is None:
                return self.notfound(res, name)
            uid = obj["metadata"]["uid"]
            procs = st.procs.pop((ns, name), []) if res == "pods" else []
            st.delete(gv, res, ns, name)
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
        if res != "pods":
            app.kill_pods_of(ns, uid)
        return self.send_json(200, status_obj(200, "", "deleted", {
            "name": name, "kind": res, "uid": uid}))

    def update(self, method, gv, res, ns, name, sub):
        st = self.app.store
        patch = self.body()
        with st.lock:
            obj = st.objs.get((gv, res, ns, name))
            if obj is None:
                return self.notfound(res, name)
            if method == "PUT":
                new = patch
                new["metadata"]["name"] = name
            else:
                ctype = self.headers.get("Content-Type", "")
                if "json-patch" in ctype:
                    return self.fail(415, "UnsupportedMediaType",
                                     "json-patch is not supported here")
                new = merge_patch(copy.deepcopy(obj), patch)
            new["metadata"]["uid"] = obj["metadata"]["uid"]
            new["metadata"]["namespace"] = ns
            st.put(gv, res, ns, new, "MODIFIED")
            out = copy.deepcopy(new)
        return self.send_json(200, out)

    def pod_proxy(self, ns, name, path):
        """The API server's pod proxy: the pod's own answer on PORT."""
        pname, _, port = name.partition(":")
        with self.app.store.lock:
            pod = self.app.store.objs.get(("v1", "pods", ns, pname))
            phase = pod and pod.get("status", {}).get("phase")
        if pod is None:
            return self.notfound("pods", pname)
        if phase != "Running":
            return self.fail(503, "ServiceUnavailable", 'pod "%s" is not '
                             'running (phase %s)' % (pname, phase))
        try:
            conn = http.client.HTTPConnection("127.0.0.1", int(port or 80),
                                              timeout=5)
            conn.request("GET", path)
            r = conn.getresponse()
            data, code = r.read(), r.status
            ctype = r.getheader("Content-Type") or "text/plain"
            conn.close()
        except (OSError, ValueError, http.client.HTTPException) as e:
            return self.fail(503, "ServiceUnavailable", "error trying to "
                             "reach service: dial tcp 127.0.0.1:%s: %s" %
                             (port, e))
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def pod_log(self, ns, name, q):
        st = self.app.store
        with st.lock:
            pod = st.objs.get(("v1", "pods", ns, name))
            if pod is None:
                return self.notfound("pods", name)
            cs = pod["spec"].get("containers", []) + (
                pod["spec"].get("initContainers") or [])
            cname = q.get("container") or (cs[0]["name"] if len(cs) == 1
                                           else None)
            if cname is None:
                return self.fail(400, "BadRequest", "a container name must "
                                 "be specified for pod %s" % name)
            if cname not in [c["name"] for c in cs]:
                return self.fail(400, "BadRequest", "container %s is not "
                                 "valid for pod %s" % (cname, name))
            path = st.logs.get((ns, name, cname))
        if q.get("previous") in ("1", "true"):  # the instance before
            inst = int(path.rsplit(".", 2)[1]) if path else 0
            if not inst:
                return self.fail(400, "BadRequest", 'previous terminated '
                                 'container "%s" in pod "%s" not found' %
                                 (cname, name))
            path = "%s.%d.log" % (path.rsplit(".", 2)[0], inst - 1)
            q = dict(q, follow="false")
        if path is None:
            return self.fail(400, "BadRequest", 'container "%s" in pod "%s"'
                             ' is waiting to start: ContainerCreating' %
                             (cname, name))
        follow = q.get("follow") in ("1", "true")
        if not follow:
            with open(path, "rb") as f:
                data = f.read()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        drop = self.app.faults.get("drop_watch") or 0
        deadline = time.time() + drop if drop else None
        self.start_stream("text/plain")
        try:
            with open(path, "rb") as f:
                while not self.app.stopping:
                    data = f.read(65536)
                    if data:
                        self.chunk(data)
                        continue
                    with st.lock:
                        running = st.running.get((ns, name, cname))
                        gone = ("v1", "pods", ns, name) not in st.objs
                        moved = st.logs.get((ns, name, cname)) != path
                    if not running or gone or moved:
                        data = f.read()
                        if data:
                            self.chunk(data)
                        break
                    if (deadline and time.time() > deadline) or \
                            self.app.down():
                        # a dropped connection: no last chunk
                        self.close_connection = True
                        return
                    time.sleep(0.05)
            self.end_stream()  # the connection stays (keep-alive)
        except OSError:
            self.close_connection = True

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_DELETE(self):
        self.handle_any("DELETE")


def make_certs(d):
    ca_key, ca_crt = os.path.join(d, "ca.key"), os.path.join(d, "ca.crt")
    key, csr, crt = (os.path.join(d, n) for n in
                     ("server.key", "server.csr", "server.crt"))
    ext = os.path.join(d, "san.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "basicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n")
    run = lambda *a: subprocess.run(a, check=True, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:prime256v1", "-nodes", "-days",
        "2", "-subj", "/CN=fake-apiserver-ca", "-keyout", ca_key, "-out",
        ca_crt, "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
        "/CN=localhost", "-keyout", key, "-out", csr)
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey",
        ca_key, "-CAcreateserial", "-days", "2", "-out", crt, "-extfile", ext)
    ckey, ccsr, ccrt = (os.path.join(d, n) for n in
                        ("client.key", "client.csr", "client.crt"))
    with open(os.path.join(d, "client.ext"), "w") as f:
        f.write("extendedKeyUsage=clientAuth\n")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
        "/CN=katibfs-tester/O=katibfs", "-keyout", ckey, "-out", ccsr)
    run("openssl", "x509", "-req", "-in", ccsr, "-CA", ca_crt, "-CAkey",
        ca_key, "-CAcreateserial", "-days", "2", "-out", ccrt, "-extfile",
        os.path.join(d, "client.ext"))
    return ca_crt, crt, key


def write_kubeconfig(path, port, ca_crt, token, namespace):
    with open(ca_crt, "rb") as f:
        ca = base64.b64encode(f.read()).decode()
    with open(path, "w") as f:
        f.write("""apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: https://127.0.0.1:%d
    certificate-authority-data: %s
users:
- name: tester
  user:
    token: %s
contexts:
- name: fake
  context:
    cluster: fake
    user: tester
    namespace: %s
current-context: fake
""" % (port, ca, token, namespace))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--token", default="katibfs-test-token")
    ap.add_argument("--namespace", default="default")
    ap.add_argument("--kubelet", action="store_true")
    ap.add_argument("--kubelet-delay", type=float, default=0.0)
    ap.add_argument("--pod-delay", type=float, default=0.0)
    ap.add_argument("--fail-5xx", type=int, default=0)
    ap.add_argument("--slow", type=float, default=0.0)
    ap.add_argument("--drop-watch", type=float, default=0.0)
    ap.add_argument("--compact-every", type=float, default=0.0)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    ca_crt, crt, key = make_certs(args.dir)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    ctx.load_verify_locations(ca_crt)
    ctx.verify_mode = ssl.CERT_OPTIONAL  # client certificates authenticate
    app = Server(args)

    def listen(port):
        h = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        h.daemon_threads = True
        h.socket = ctx.wrap_socket(h.socket, server_side=True)
        h.app = app
        return h

    holder = [listen(args.port)]
    port = holder[0].server_address[1]
    write_kubeconfig(os.path.join(args.dir, "kubeconfig"), port, ca_crt,
                     args.token, args.namespace)
    with open(os.path.join(args.dir, "port"), "w") as f:
        f.write("%d\n" % port)

    def go_down(seconds):  # the serving loop below closes and reopens
        holder[0].shutdown()

    app.go_down = go_down

    def stop(*_):
        app.stopping = True
        for procs in list(app.store.procs.values()):
            for p in procs:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
        threading.Thread(target=holder[0].shutdown, daemon=True).start()

    if args.compact_every > 0:
        def compactor():
            while not app.stopping:
                time.sleep(args.compact_every)
                app.compact()
        threading.Thread(target=compactor, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("READY %d" % port, flush=True)
    while True:
        holder[0].serve_forever()
        holder[0].server_close()
        if app.stopping:
            break
        while app.down() and not app.stopping:
            time.sleep(0.05)  # connection refused meanwhile
        if app.stopping:
            break
        for _ in range(100):
            try:
                holder[0] = listen(port)
                break
            except OSError:
                time.sleep(0.1)
        sys.stderr.write("fake-apiserver: back after an outage\n")


if __name__ == "__main__":
    main()
