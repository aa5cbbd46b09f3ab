//! Synthetic but realistic inputs for the benchmarks: a large umbrella-chart
//! values file (many components, each with image maps, resources, probes, comments,
//! flow collections and quoted strings), in the shape real Helm charts use.

use std::fmt::Write;

/// A values file with `components` sub-charts, each like a real chart's values block.
/// Every component `cN` has `cN.image.tag` (quoted) and `cN.image.repository`.
pub fn large_values(components: usize) -> String {
    let mut s = String::with_capacity(components * 1400);
    s.push_str("# Umbrella chart values.\n# Generated for benchmarks: the layout follows common charts.\n\nglobal:\n  imageRegistry: \"\"\n  imagePullSecrets: []\n  storageClass: \"\"\n\n");
    for i in 0..components {
        let _ = write!(
            s,
            r#"## Component {i}
c{i}:
  enabled: true
  replicaCount: {replicas}
  image:
    registry: ghcr.io
    repository: acme/component-{i}   # built by pipeline {i}
    tag: "1.{i}.0"
    digest: ""
    pullPolicy: IfNotPresent
  ## Service account
  serviceAccount:
    create: true
    annotations: {{}}
    name: ""
  podAnnotations:
    prometheus.io/scrape: "true"
    prometheus.io/port: '9090'
  securityContext:
    runAsNonRoot: true
    runAsUser: 1001
    capabilities:
      drop: [ALL]
  service:
    type: ClusterIP
    ports:
      - name: http
        port: 80
        targetPort: 8080
  resources:
    limits: {{cpu: 500m, memory: 512Mi}}
    requests:
      cpu: 100m
      memory: 128Mi
  livenessProbe:
    httpGet:
      path: /healthz
      port: http
    initialDelaySeconds: 10
  env:
    - name: LOG_LEVEL
      value: info
    - name: FEATURE_FLAGS
      value: "a,b,c"
  extraArgs: |
    --metrics
    --port=8080

"#,
            replicas = 1 + i % 3
        );
    }
    s
}
