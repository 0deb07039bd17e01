{{- /* The name of the release's objects: `fullnameOverride`, else `bucket-access-operator` (the kustomize
       base's names). A second release in the cluster sets `fullnameOverride` (its cluster-scoped roles and
       binding then differ) and `crds.enabled=false` (the CRDs are the first release's). */ -}}
{{- define "bao.fullname" -}}
{{- .Values.fullnameOverride | default "bucket-access-operator" | trunc 52 | trimSuffix "-" -}}
{{- end }}

{{- /* The people's aggregated roles: `bucketaccess-checks-*`, or `FULLNAME-checks-*` with `fullnameOverride`. */ -}}
{{- define "bao.peoplePrefix" -}}
{{- if .Values.fullnameOverride -}}{{ include "bao.fullname" . }}{{- else -}}bucketaccess{{- end -}}
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
