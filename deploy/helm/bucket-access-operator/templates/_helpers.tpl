{{- /* The name of the release's namespaced objects (its Deployment, ServiceAccount, Lease, Service):
       `fullnameOverride`, else `bucket-access-operator` (the kustomize base's names). */ -}}
{{- define "bao.fullname" -}}
{{- .Values.fullnameOverride | default "bucket-access-operator" | trunc 52 | trimSuffix "-" -}}
{{- end }}

{{- /* The name of its cluster-scoped objects (the operator's ClusterRole and binding): the objects' name in the
       namespace of that name (the kustomize base's layout), else followed by the namespace, so that releases in
       two namespaces never share one. A second release in the same namespace sets `fullnameOverride`; every
       release but the first sets `crds.enabled=false`. */ -}}
{{- define "bao.clusterName" -}}
{{- $fullname := include "bao.fullname" . -}}
{{- if eq .Release.Namespace $fullname -}}
{{- $fullname -}}
{{- else -}}
{{- printf "%s-%s" $fullname .Release.Namespace | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end }}

{{- /* The people's aggregated roles: `bucketaccess-checks-*` for the kustomize base's names and layout,
       `CLUSTERNAME-checks-*` for any other release (two releases' roles never collide). */ -}}
{{- define "bao.peoplePrefix" -}}
{{- $name := include "bao.clusterName" . -}}
{{- if eq $name "bucket-access-operator" -}}bucketaccess{{- else -}}{{ $name }}{{- end -}}
{{- end }}

{{- /* The Lease a shard's replicas elect their leader on (the operator's own rule: the name, then the first
       ten hex digits of the SHA-256 of the trimmed selector): `dict "root" $ "shard" $shard`. */ -}}
{{- define "bao.leaseName" -}}
{{- if .shard.selector -}}
{{- printf "%s-%s" (include "bao.fullname" .root) (sha256sum (trim .shard.selector) | trunc 10) -}}
{{- else -}}
{{- include "bao.fullname" .root -}}
{{- end -}}
{{- end }}

{{- /* The shards: the `shards` value, or one unnamed shard with every check. */ -}}
{{- define "bao.shards" -}}
{{- toJson (.Values.shards | default (list (dict "name" "" "selector" ""))) -}}
{{- end }}

{{- define "bao.commonLabels" -}}
app.kubernetes.io/name: bucket-access-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "bao.labels" -}}
{{ include "bao.commonLabels" . }}
{{- end }}

{{- define "bao.selector" -}}
app.kubernetes.io/name: bucket-access-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "bao.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end }}

{{- define "bao.serviceAccount" -}}
{{- .Values.serviceAccount.name | default (include "bao.fullname" .) -}}
{{- end }}
