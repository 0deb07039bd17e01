//! The Helm chart (`deploy/helm/bucket-access-operator`): `helm lint`, `helm template` with and without the
//! optional monitoring objects, its values schema, its RBAC equal to the kustomize base's, and the release the
//! environment installed with `helm install` on the real kube-apiserver (the operator's RBAC and people's).

use crate::support::root;
use crate::Env;
use crate::CHART;
use serde_json::Value;
use std::path::Path;

pub(crate) fn ok(output: std::process::Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The rules of the ClusterRole `name` among `documents`.
fn rules(documents: &[Value], name: &str) -> Value {
    documents
        .iter()
        .find(|d| d["kind"] == "ClusterRole" && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no ClusterRole {name}"))["rules"]
        .clone()
}

pub(crate) fn yaml_documents(text: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(text)
        .unwrap()
        .into_iter()
        .filter(|d| !d.is_null())
        .collect()
}

pub(crate) fn helm_chart_installs_what_the_kustomize_base_holds(env: &Env) {
    let cluster = &env.cluster;
    let chart = root().join(CHART);
    let chart = chart.to_str().unwrap();
    let lint = ok(cluster.helm(&["lint", chart]), "helm lint");
    assert!(lint.contains("0 chart(s) failed"), "{lint}");

    let template = |extra: &[&str]| {
        let mut args = vec![
            "template",
            "bucket-access-operator",
            chart,
            "-n",
            "bucket-access-operator",
            "--kube-version",
            "1.37.2",
        ];
        args.extend(extra);
        yaml_documents(&ok(cluster.helm(&args), "helm template"))
    };
    let defaults = rendered_objects(&template);
    chart_values(&template, &defaults, chart);
    schema_and_rbac(cluster, chart, &defaults);
    crate::chart::value_combinations(cluster, chart);
    people_access(cluster);
}

/// What the chart renders by default and with monitoring on; the operator's arguments and security.
fn rendered_objects(template: &dyn Fn(&[&str]) -> Vec<Value>) -> Vec<Value> {
    let kinds = |docs: &[Value]| -> Vec<String> {
        let mut k: Vec<String> = docs
            .iter()
            .map(|d| d["kind"].as_str().unwrap().to_owned())
            .collect();
        k.sort();
        k
    };
    let defaults = template(&[]);
    assert_eq!(
        kinds(&defaults),
        [
            "ClusterRole",
            "ClusterRole",
            "ClusterRole",
            "ClusterRoleBinding",
            "CustomResourceDefinition",
            "CustomResourceDefinition",
            "Deployment",
            "NetworkPolicy",
            "PodDisruptionBudget",
            "Role",
            "RoleBinding",
            "Service",
            "ServiceAccount"
        ],
        "monitoring objects are off by default"
    );
    let monitored = template(&[
        "--set",
        "serviceMonitor.enabled=true",
        "--set",
        "prometheusRule.enabled=true",
        "--api-versions",
        crate::chart::SERVICE_MONITOR,
        "--api-versions",
        crate::chart::PROMETHEUS_RULE,
    ]);
    let k = kinds(&monitored);
    assert!(
        k.contains(&"ServiceMonitor".to_owned()) && k.contains(&"PrometheusRule".to_owned()),
        "{k:?}"
    );
    let deployment = defaults.iter().find(|d| d["kind"] == "Deployment").unwrap();
    let args = deployment
        .pointer("/spec/template/spec/containers/0/args")
        .unwrap();
    for arg in [
        "--scope-mode=enforce",
        "--aws-concurrency=16",
        "--namespace-aws-share=4",
    ] {
        assert!(
            args.as_array().unwrap().iter().any(|a| a == arg),
            "{arg}: {args}"
        );
    }
    let shared = template(&["--set", "namespaceAwsShare=2"]);
    let args = shared
        .iter()
        .find(|d| d["kind"] == "Deployment")
        .and_then(|d| d.pointer("/spec/template/spec/containers/0/args"))
        .unwrap();
    assert!(
        args.as_array()
            .unwrap()
            .iter()
            .any(|a| a == "--namespace-aws-share=2"),
        "{args}"
    );
    assert_eq!(deployment["spec"]["replicas"], 2);
    let security = deployment
        .pointer("/spec/template/spec/containers/0/securityContext")
        .unwrap();
    assert_eq!(security["readOnlyRootFilesystem"], true);
    defaults
}

/// The values schema refuses what the operator would refuse; the chart's RBAC is the kustomize base's.
fn schema_and_rbac(cluster: &crate::cluster::Cluster, chart: &str, defaults: &[Value]) {
    // The values schema refuses what the operator would refuse.
    let refused = cluster.helm(&[
        "template",
        "bucket-access-operator",
        chart,
        "--kube-version",
        "1.37.2",
        "--set",
        "scopeMode=maybe",
    ]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("scopeMode"));

    // The chart's RBAC is the kustomize base's, rule for rule.
    let base = |file: &str| {
        yaml_documents(&std::fs::read_to_string(root().join("deploy/base").join(file)).unwrap())
    };
    let (operator, people) = (base("rbac.yaml"), base("rbac-people.yaml"));
    assert_eq!(
        rules(defaults, "bucket-access-operator"),
        rules(&operator, "bucket-access-operator")
    );
    for name in ["bucketaccess-checks-edit", "bucketaccess-checks-view"] {
        assert_eq!(rules(defaults, name), rules(&people, name), "{name}");
    }
}

/// The environment's release is deployed, and people's access came with it: `view` reads, `edit` writes.
fn people_access(cluster: &crate::cluster::Cluster) {
    let releases: Value = serde_json::from_str(&ok(
        cluster.helm(&["list", "-n", crate::OPERATOR_NS, "-o", "json"]),
        "helm list",
    ))
    .unwrap();
    assert_eq!(releases[0]["name"], "bucket-access-operator");
    assert_eq!(releases[0]["status"], "deployed");
    cluster.ok(&[
        "create",
        "rolebinding",
        "viewer-view",
        "--clusterrole",
        "view",
        "--user",
        "viewer",
        "-n",
        "default",
    ]);
    cluster.ok(&[
        "create",
        "rolebinding",
        "editor-edit",
        "--clusterrole",
        "edit",
        "--user",
        "editor",
        "-n",
        "default",
    ]);
    crate::cluster::wait_for("the aggregated roles hold the checks", 30, || {
        Some(cluster.user_can(
            "viewer",
            &["get", "bucketaccesschecks.bucketaccess.io", "-n", "default"],
        ))
    });
    for (user, verb, allowed) in [
        ("viewer", "get", true),
        ("viewer", "list", true),
        ("viewer", "create", false),
        ("viewer", "delete", false),
        ("editor", "create", true),
        ("editor", "delete", true),
    ] {
        assert_eq!(
            cluster.user_can(
                user,
                &[verb, "bucketaccesschecks.bucketaccess.io", "-n", "default"]
            ),
            allowed,
            "{user} {verb}"
        );
    }
    for user in ["viewer", "editor"] {
        assert!(
            !cluster.user_can(user, &["create", "bucketaccessscopes.bucketaccess.io"]),
            "{user}"
        );
    }
}

/// The first rendered object of `kind` (null when there is none).
fn find(docs: &[Value], kind: &str) -> Value {
    docs.iter()
        .find(|d| d["kind"] == kind)
        .cloned()
        .unwrap_or(Value::Null)
}

/// The operator's pod template.
fn pod(docs: &[Value]) -> Value {
    find(docs, "Deployment")["spec"]["template"].clone()
}

/// The values users expect of a chart (cert-manager's and external-secrets' names), each rendered.
fn chart_values(template: &dyn Fn(&[&str]) -> Vec<Value>, defaults: &[Value], chart: &str) {
    // The CRDs come with the release, kept on uninstall; real files (a symlink is dropped by Flux).
    for crd in defaults
        .iter()
        .filter(|d| d["kind"] == "CustomResourceDefinition")
    {
        assert_eq!(
            crd["metadata"]["annotations"]["helm.sh/resource-policy"], "keep",
            "{crd}"
        );
    }
    assert!(
        !Path::new(chart).join("crds").exists(),
        "a crds symlink or directory"
    );
    let without = template(&["--set", "crds.enabled=false"]);
    assert!(without
        .iter()
        .all(|d| d["kind"] != "CustomResourceDefinition"));
    let unkept = template(&["--set", "crds.keep=false"]);
    assert!(unkept
        .iter()
        .filter(|d| d["kind"] == "CustomResourceDefinition")
        .all(|d| d["metadata"]["annotations"].is_null()));
    // The image: a real name, or a digest.
    let image = pod(defaults)["spec"]["containers"][0]["image"].clone();
    assert!(!image.to_string().contains("example"), "{image}");
    let digest = format!("image.digest=sha256:{}", "a".repeat(64));
    let pinned = pod(&template(&["--set", &digest]));
    assert!(
        pinned["spec"]["containers"][0]["image"]
            .as_str()
            .unwrap()
            .ends_with(&format!("@sha256:{}", "a".repeat(64))),
        "{pinned}"
    );
    // The organization reader role, passed to `run`.
    let member = pod(&template(&[
        "--set",
        "organization.readerRoleArn=arn:aws:iam::111122223333:role/bucket-access-org-reader",
        "--set",
        "organization.externalId=org-ext",
    ]));
    let args = member["spec"]["containers"][0]["args"].to_string();
    assert!(
        args.contains(
            "--org-reader-role-arn=arn:aws:iam::111122223333:role/bucket-access-org-reader"
        ) && args.contains("--org-reader-external-id=org-ext"),
        "{args}"
    );
    assert!(!pod(defaults)["spec"]["containers"][0]["args"]
        .to_string()
        .contains("--org-reader"));
    custom_values(template);
    second_release(template, defaults, chart);
}

/// One replica, and every other value at once.
fn custom_values(template: &dyn Fn(&[&str]) -> Vec<Value>) {
    // One replica: no PodDisruptionBudget to block node drains.
    let single = template(&["--set", "replicaCount=1"]);
    assert!(single.iter().all(|d| d["kind"] != "PodDisruptionBudget"));
    // Everything else, at once.
    let custom = template(&[
        "--set-json",
        r#"extraEnv=[{"name":"HTTPS_PROXY","value":"http://proxy:3128"}]"#,
        "--set-json",
        r#"extraVolumes=[{"name":"aws","secret":{"secretName":"aws"}}]"#,
        "--set-json",
        r#"extraVolumeMounts=[{"name":"aws","mountPath":"/aws"}]"#,
        "--set",
        "podAnnotations.checked=yes",
        "--set",
        "podLabels.tier=ops",
        "--set",
        "commonLabels.team=platform",
        "--set",
        "priorityClassName=system-cluster-critical",
        "--set-json",
        r#"topologySpreadConstraints=[{"maxSkew":1,"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"ScheduleAnyway"}]"#,
        "--set",
        "podSecurityContext.runAsUser=null",
        "--set",
        "podSecurityContext.runAsGroup=null",
        "--set",
        "serviceMonitor.enabled=true",
        "--set",
        "serviceMonitor.labels.release=prometheus",
        "--set",
        "prometheusRule.enabled=true",
        "--set",
        "prometheusRule.labels.release=prometheus",
        "--api-versions",
        crate::chart::SERVICE_MONITOR,
        "--api-versions",
        crate::chart::PROMETHEUS_RULE,
        "--set-json",
        r#"networkPolicy.ingressFrom=[{"namespaceSelector":{"matchLabels":{"name":"prom"}}}]"#,
    ]);
    let template_of = pod(&custom);
    let container = &template_of["spec"]["containers"][0];
    assert!(
        container["env"].to_string().contains("HTTPS_PROXY"),
        "{container}"
    );
    assert_eq!(container["volumeMounts"][0]["mountPath"], "/aws");
    assert_eq!(
        template_of["spec"]["volumes"][0]["secret"]["secretName"],
        "aws"
    );
    assert_eq!(template_of["metadata"]["annotations"]["checked"], "yes");
    assert_eq!(template_of["metadata"]["labels"]["tier"], "ops");
    assert_eq!(
        template_of["spec"]["priorityClassName"],
        "system-cluster-critical"
    );
    assert_eq!(
        template_of["spec"]["topologySpreadConstraints"][0]["maxSkew"],
        1
    );
    let security = &template_of["spec"]["securityContext"];
    assert!(
        security["runAsUser"].is_null() && security["runAsNonRoot"] == true,
        "OpenShift's restricted SCC assigns the UID: {security}"
    );
    for doc in &custom {
        assert_eq!(
            doc["metadata"]["labels"]["team"], "platform",
            "{}",
            doc["kind"]
        );
    }
    for kind in ["ServiceMonitor", "PrometheusRule"] {
        assert_eq!(
            find(&custom, kind)["metadata"]["labels"]["release"],
            "prometheus"
        );
    }
    let policy = find(&custom, "NetworkPolicy");
    assert_eq!(
        policy["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"]["name"], "prom",
        "{policy}"
    );
}

/// A second release: its own names everywhere (cluster-scoped roles included) and its own Lease.
fn second_release(template: &dyn Fn(&[&str]) -> Vec<Value>, defaults: &[Value], chart: &str) {
    let second = template(&[
        "--set",
        "fullnameOverride=media-bao",
        "--set",
        "crds.enabled=false",
    ]);
    for doc in &second {
        let name = doc["metadata"]["name"].as_str().unwrap();
        assert!(name.starts_with("media-bao"), "{}: {name}", doc["kind"]);
    }
    let names = |docs: &[Value]| -> std::collections::BTreeSet<String> {
        docs.iter()
            .filter(|d| d["kind"] != "CustomResourceDefinition")
            .map(|d| format!("{}/{}", d["kind"], d["metadata"]["name"]))
            .collect()
    };
    assert!(names(&second).is_disjoint(&names(defaults)));
    assert!(pod(&second)["spec"]["containers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a == "--lease-name=media-bao"));
    let notes = std::fs::read_to_string(Path::new(chart).join("templates/NOTES.txt")).unwrap();
    assert!(!notes.contains("https://..."), "{notes}");
}

/// Installs the release from the registry's chart (`oci://`), the image pinned by its digest, with non-default
/// values the API server must accept as rendered; the operator runs locally under the ServiceAccount
/// `start.sh` made (its token), so the chart does not create it.
pub(crate) fn install_release(
    cluster: &crate::cluster::Cluster,
    registry: &crate::cluster::Registry,
    chart: &str,
    image: &str,
) {
    let repository = format!(
        "image.repository={}/bucket-access-operator",
        registry.address
    );
    let digest = format!("image.digest={image}");
    let installed = cluster.helm(&[
        "install",
        "bucket-access-operator",
        chart,
        "--version",
        &crate::image::chart_version(),
        "--plain-http",
        "--set",
        &repository,
        "--set",
        &digest,
        "-n",
        crate::OPERATOR_NS,
        "--set",
        "serviceAccount.create=false",
        // Non-default values the API server must accept as rendered.
        "--set",
        "commonLabels.team=platform",
        "--set",
        "podAnnotations.checked=yes",
        "--set-json",
        r#"extraEnv=[{"name":"HTTPS_PROXY","value":"http://127.0.0.1:3128"}]"#,
        "--set-json",
        r#"topologySpreadConstraints=[{"maxSkew":1,"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"ScheduleAnyway"}]"#,
        "--set",
        "podSecurityContext.runAsUser=null",
        "--set",
        "namespaceAwsShare=3",
    ]);
    assert!(
        installed.status.success(),
        "helm install: {}",
        String::from_utf8_lossy(&installed.stderr)
    );
}
