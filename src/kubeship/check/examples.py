"""The YAML each lint rule asks for: shown by `kubeship check --explain ID` and in SARIF rule help.

Each example is a fragment at the place named in its first comment, written the
way `kubeship render` writes it, so what a user pastes is what kubeship checks clean.
"""

from __future__ import annotations

EXAMPLES: dict[str, str] = {
    "KS101": """\
# spec.template.spec.containers[]: a cheap "process alive" check
livenessProbe:
  httpGet: {path: /healthz, port: http}
  periodSeconds: 10
  failureThreshold: 3
""",
    "KS102": """\
# spec.template.spec.containers[]: "ready for traffic", dependencies included
readinessProbe:
  httpGet: {path: /readyz, port: http}
  periodSeconds: 5
""",
    "KS103": """\
# spec.template.spec.containers[]: the probe names a port the container declares
ports:
- {name: http, containerPort: 8080}
readinessProbe:
  httpGet: {path: /readyz, port: http}
""",
    "KS104": """\
# spec.template.spec.containers[]
resources:
  requests: {cpu: 250m, memory: 256Mi}
""",
    "KS105": """\
# spec.template.spec.containers[]
resources:
  requests: {cpu: 250m, memory: 256Mi}
  limits: {memory: 512Mi}
""",
    "KS106": """\
# spec.template.spec.containers[]: a version, or better a digest
image: registry.example.com/web:1.4.2@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
""",
    "KS107": """\
# spec.template.spec.containers[]: a pinned image never changes, so the node's copy is good
image: registry.example.com/web:1.4.2
imagePullPolicy: IfNotPresent
""",
    "KS108": """\
# spec.template.spec
topologySpreadConstraints:
- maxSkew: 1
  topologyKey: topology.kubernetes.io/zone
  whenUnsatisfiable: ScheduleAnyway
  labelSelector: {matchLabels: {app.kubernetes.io/name: web}}
- maxSkew: 1
  topologyKey: kubernetes.io/hostname
  whenUnsatisfiable: ScheduleAnyway
  labelSelector: {matchLabels: {app.kubernetes.io/name: web}}
""",
    "KS109": """\
# spec.template.spec.containers[]: liveness asks "is the process alive", readiness "can it serve"
livenessProbe:
  httpGet: {path: /healthz, port: http}
readinessProbe:
  httpGet: {path: /readyz, port: http}
""",
    "KS110": """\
# spec.template.spec.containers[]: each name once
env:
- {name: LOG_LEVEL, value: info}
""",
    "KS111": """\
# Deployment: or an HPA that never goes below two
spec:
  replicas: 2
""",
    "KS112": """\
# Job spec: gone an hour after it finishes (its logs with it: ship them first)
ttlSecondsAfterFinished: 3600
""",
    "KS201": """\
# spec.template.spec.containers[]: the one capability the process needs, not the whole host
securityContext:
  capabilities:
    drop: [ALL]
    add: [NET_BIND_SERVICE]
""",
    "KS202": """\
# spec.template.spec.containers[]
securityContext:
  allowPrivilegeEscalation: false
""",
    "KS203": """\
# spec.template.spec.containers[]: or on the pod, where no container overrides it
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
""",
    "KS204": """\
# spec.template.spec
securityContext:
  runAsNonRoot: true
""",
    "KS205": """\
# spec.template.spec: a read-only root, and a writable /tmp
containers:
- name: web
  securityContext:
    readOnlyRootFilesystem: true
  volumeMounts:
  - {name: tmp, mountPath: /tmp}
volumes:
- {name: tmp, emptyDir: {}}
""",
    "KS206": """\
# spec.template.spec.containers[]
securityContext:
  capabilities:
    drop: [ALL]
""",
    "KS207": """\
# spec.template.spec.containers[]
securityContext:
  capabilities:
    drop: [ALL]
""",
    "KS208": """\
# spec.template.spec: the pod's own network, reached through a Service
hostNetwork: false
hostPID: false
hostIPC: false
""",
    "KS209": """\
# spec.template.spec: scratch space that lives and dies with the pod
volumes:
- {name: cache, emptyDir: {sizeLimit: 1Gi}}
""",
    "KS210": """\
# spec.template.spec.containers[]: the value lives in a Secret
env:
- name: DB_PASSWORD
  valueFrom:
    secretKeyRef: {name: db-credentials, key: password}
""",
    "KS211": """\
# spec.template.spec: no API token unless the app calls the Kubernetes API
automountServiceAccountToken: false
""",
    "KS212": """\
# metadata: of every object of the app
namespace: shop
""",
    "KS213": """\
# spec.template.spec
securityContext:
  seccompProfile: {type: RuntimeDefault}
""",
    "KS214": """\
# Role: what the app reads, nothing more
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list, watch]
""",
    "KS215": """\
# a Role in the app's namespace, bound to its ServiceAccount
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: web, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: web}
subjects:
- {kind: ServiceAccount, name: web, namespace: shop}
""",
    "KS216": """\
# Role: the one Secret the app reads, by name
rules:
- apiGroups: [""]
  resources: [secrets]
  resourceNames: [db-credentials]
  verbs: [get]
""",
    "KS217": """\
# spec.template.spec.securityContext: only sysctls from the safe set
sysctls:
- {name: net.ipv4.ip_local_port_range, value: "1024 65535"}
""",
    "KS301": """\
# Service spec: the selector is a subset of the pod template's labels
selector:
  app.kubernetes.io/name: web
""",
    "KS302": """\
# Ingress spec.rules[].http.paths[]: an existing Service and one of its ports
backend:
  service:
    name: web
    port: {name: http}
""",
    "KS303": """\
# HorizontalPodAutoscaler spec
scaleTargetRef:
  apiVersion: apps/v1
  kind: Deployment
  name: web
""",
    "KS304": """\
# spec.template.spec.containers[]: every container, for every resource the HPA measures
resources:
  requests: {cpu: 250m, memory: 256Mi}
""",
    "KS305": """\
# spec.template.spec.volumes[]: or create the ConfigMap; optional only if the app copes without it
- name: config
  configMap: {name: app-config, optional: true}
""",
    "KS306": """\
# PodDisruptionBudget spec
selector:
  matchLabels: {app.kubernetes.io/name: web}
""",
    "KS307": """\
# PodDisruptionBudget spec: one pod at a time may go
maxUnavailable: 1
""",
    "KS308": """\
# NetworkPolicy spec
podSelector:
  matchLabels: {app.kubernetes.io/name: web}
""",
    "KS309": """\
# metadata: one name per kind and namespace
name: web-admin
""",
    "KS310": """\
# Deployment spec: the selector is a subset of the template's labels
selector:
  matchLabels: {app.kubernetes.io/name: web}
template:
  metadata:
    labels: {app.kubernetes.io/name: web, app.kubernetes.io/version: 1.4.2}
""",
    "KS311": """\
# Service spec.ports[]: a port name the container declares
- {name: http, port: 80, targetPort: http}
""",
    "KS312": """\
# Ingress metadata: cert-manager writes the TLS Secret
annotations:
  cert-manager.io/cluster-issuer: letsencrypt
""",
    "KS313": """\
# Deployment spec: no replicas; the HPA's minReplicas is the floor
selector:
  matchLabels: {app.kubernetes.io/name: web}
""",
    "KS314": """\
# Rollout spec.strategy.canary: Services that exist next to the Rollout
canaryService: web-canary
stableService: web
""",
    "KS316": """\
# HorizontalPodAutoscaler spec.metrics[]: the exporter's total, averaged over the pods by the HPA
- type: External
  external:
    metric: {name: kafka_consumergroup_lag}
    target: {type: AverageValue, averageValue: "100"}
""",
    "KS113": """\
# Deployment spec: replace pods a few at a time, never all at once
strategy:
  type: RollingUpdate
  rollingUpdate: {maxSurge: 25%, maxUnavailable: 0}
""",
    "KS218": """\
# Deployment spec.template.spec.containers[]: the Secret as read-only files, its path in the env
env:
- {name: DB_PASSWORD_FILE, value: /etc/kubeship/secrets/password}
volumeMounts:
- {name: tmp, mountPath: /tmp}
- {name: config, mountPath: /etc/kubeship/config, readOnly: true}
- {name: secrets, mountPath: /etc/kubeship/secrets, readOnly: true}
""",
    "KS219": """\
# Deployment spec.template.spec.containers[]: an unprivileged port; the Service maps 80 to it
ports:
- {name: http, containerPort: 8080}
""",
    "KS220": """\
# Deployment spec.template.spec.containers[]: the runtime's default /proc masking
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  runAsNonRoot: true
  capabilities: {drop: [ALL]}
""",
    "KS222": """\
# Deployment spec.template.spec.containers[]: port names of at most 15 lower-case letters, digits, hyphens
ports:
- {name: http, containerPort: 8080}
- {name: metrics, containerPort: 9090}
""",
    "KS224": """\
# Role rules[]: read what the app needs; create no pods, exec into none
- {apiGroups: [""], resources: [configmaps], verbs: [get, list, watch]}
""",
    "KS225": """\
# Deployment spec.template.spec: the workload's own ServiceAccount (kubeship render writes it), no token
serviceAccountName: web
automountServiceAccountToken: false
""",
    "KS226": """\
# Service metadata: a NodePort on purpose (the guide's), with the reason check shows
annotations:
  kubeship.io/ignore: "KS226: the guide exposes the service on NodePort 30001 for its test cluster"
""",
    "KS317": """\
# a PodDisruptionBudget next to the workload: drains take one pod at a time
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {app.kubernetes.io/name: web}
""",
    "KS318": """\
# the headless Service a StatefulSet's serviceName names: pod-0.db, pod-1.db
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  clusterIP: None
  selector: {app: db}
  ports:
  - {name: postgres, port: 5432}
""",
    "KS115": """\
# HorizontalPodAutoscaler spec: room for what the other site sends when it fails
maxReplicas: 14   # the kubeship.io/site-failover-replicas annotation, at least
""",
    "KS114": """\
# spec.template.spec.containers[]: the disk it writes (logs, writable layer, emptyDir) and a ceiling
resources:
  requests: {cpu: 100m, memory: 128Mi, ephemeral-storage: 64Mi}
  limits: {memory: 256Mi, ephemeral-storage: 1Gi}
""",
    "KS324": """\
# Deployment spec.template.spec: spread the workload's own pods (its template labels)
affinity:
  podAntiAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
    - topologyKey: kubernetes.io/hostname
      labelSelector:
        matchLabels: {app.kubernetes.io/name: web}
""",
    "KS227": """\
# spec.template.spec: the ServiceAccount by its current field name
serviceAccountName: web
""",
    "KS319": """\
# the ServiceAccount the pods run as, next to them
apiVersion: v1
kind: ServiceAccount
metadata: {name: web}
automountServiceAccountToken: false
""",
    "KS320": """\
# ServiceMonitor spec: the Service's own labels, and one of its port names
selector:
  matchLabels: {app.kubernetes.io/name: web}
endpoints:
- {port: http, path: /metrics, interval: 30s}
""",
    "KS321": """\
# NetworkPolicy spec.ingress[]: peers whose labels the pod templates really carry
- from:
  - podSelector:
      matchLabels: {app.kubernetes.io/name: web}
""",
    "KS323": """\
# PodDisruptionBudget spec: pods that never became ready do not hold a drain up
unhealthyPodEvictionPolicy: AlwaysAllow
""",
    "KS330": """\
# Rollout spec.strategy.canary: one step kind per step (setWeight, pause, experiment or analysis)
steps:
- setWeight: 20
- pause: {duration: 5m}
- setWeight: 50
- pause: {duration: 10m}
""",
    "KS331": """\
# AnalysisTemplate spec: a metric measured several times needs an interval between measurements
metrics:
- name: success-rate
  interval: 1m
  count: 5
  failureLimit: 1
  successCondition: result[0] >= 0.99
  provider:
    prometheus: {address: "http://prometheus.monitoring:9090", query: "vector(1)"}
""",
    "KS332": """\
# AnalysisTemplate spec.metrics[]: a count, so that a step's analysis ends
- name: success-rate
  interval: 1m
  count: 5
  successCondition: result[0] >= 0.99
  provider:
    prometheus: {address: "http://prometheus.monitoring:9090", query: "vector(1)"}
""",
    "KS315": """\
# a NetworkPolicy next to the workload: only the ingress controller reaches its port
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web}
spec:
  podSelector:
    matchLabels: {app.kubernetes.io/name: web}
  policyTypes: [Ingress]
  ingress:
  - from:
    - namespaceSelector:
        matchLabels: {kubernetes.io/metadata.name: ingress-nginx}
    ports:
    - {port: http}
""",
}
