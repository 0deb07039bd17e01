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
