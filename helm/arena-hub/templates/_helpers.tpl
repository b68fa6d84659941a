{{/* Labels every object of this chart carries. */}}
{{- define "arena-hub.labels" -}}
app.kubernetes.io/name: arena-hub
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{/* Where grading Jobs run: grading.namespace, by default the release's namespace. */}}
{{- define "arena-hub.gradingNamespace" -}}
{{- .Values.grading.namespace | default .Release.Namespace -}}
{{- end }}

{{/*
The labels of grading pods. They are set by arena_hub.grading.kubernetes.job_manifest(); the
NetworkPolicy selects them (tests/test_helm.py checks that the two agree).
*/}}
{{- define "arena-hub.gradingPodLabels" -}}
app.kubernetes.io/name: arena-hub-grader
app.kubernetes.io/component: grading
{{- end }}

{{/* Zero-to-JupyterHub's hub Service and Secret name (its fullnameOverride: "" -> "hub"). */}}
{{- define "arena-hub.z2jh.hub" -}}
{{- with .Values.jupyterhub.fullnameOverride }}{{ . }}-hub{{ else }}hub{{ end -}}
{{- end }}

{{/* The hub's base URL without a trailing slash ("" for "/"). */}}
{{- define "arena-hub.baseUrl" -}}
{{- trimSuffix "/" (.Values.jupyterhub.hub.baseUrl | default "/") -}}
{{- end }}

{{/*
Environment of a hub service run by this chart (not by the hub): what JupyterHub gives the
processes of services it manages itself (jupyterhub.spawner.Spawner.get_env), with the API token
the hub generated for the service (Zero-to-JupyterHub keeps it in its "hub" Secret).
Call with (dict "root" $ "service" "arena").
*/}}
{{- define "arena-hub.serviceEnv" -}}
{{- $root := .root -}}
{{- $prefix := printf "%s/services/%s/" (include "arena-hub.baseUrl" $root) .service -}}
- name: JUPYTERHUB_SERVICE_NAME
  value: {{ .service | quote }}
- name: JUPYTERHUB_API_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "arena-hub.z2jh.hub" $root }}
      key: hub.services.{{ .service }}.apiToken
- name: JUPYTERHUB_CLIENT_ID
  value: service-{{ .service }}
- name: JUPYTERHUB_API_URL
  value: http://{{ include "arena-hub.z2jh.hub" $root }}:8081{{ include "arena-hub.baseUrl" $root }}/hub/api
- name: JUPYTERHUB_BASE_URL
  value: {{ include "arena-hub.baseUrl" $root }}/
- name: JUPYTERHUB_SERVICE_PREFIX
  value: {{ $prefix }}
- name: JUPYTERHUB_SERVICE_URL
  value: http://0.0.0.0:8888{{ $prefix }}
- name: JUPYTERHUB_OAUTH_CALLBACK_URL
  value: {{ $prefix }}oauth_callback
- name: JUPYTERHUB_OAUTH_SCOPES
  value: {{ list "access:services" (printf "access:services!service=%s" .service) | toJson | quote }}
- name: JUPYTERHUB_OAUTH_ACCESS_SCOPES
  value: {{ list "access:services" (printf "access:services!service=%s" .service) | toJson | quote }}
- name: JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES
  value: "[]"
- name: JUPYTERHUB_USER
  value: ""
- name: JUPYTERHUB_SERVER_NAME
  value: ""
{{- end }}

{{/*
Where the course lives in the formgrader and dashboard pods: the course directory from the image,
the course data claim, the exchange claim; and the gradebook (PostgreSQL when postgresql.enabled,
otherwise nbgrader's SQLite file on the course data volume).
*/}}
{{- define "arena-hub.courseEnv" -}}
- name: ARENA_HUB_COURSE_ROOT
  value: {{ .Values.course.root | quote }}
- name: ARENA_HUB_DATA_DIR
  value: /srv/data
- name: ARENA_HUB_EXCHANGE_DIR
  value: /srv/exchange
- name: ARENA_HUB_GRADING_CONFIG
  value: /etc/arena-hub/grading.json
# Students' servers mount only their own inbound/ and feedback/ folders: collect and
# release_feedback use them (arena_hub.exchange.PerStudentCollect / PerStudentReleaseFeedback).
- name: ARENA_HUB_EXCHANGE_PER_STUDENT
  value: "1"
{{- if .Values.postgresql.enabled }}
- name: ARENA_HUB_GRADEBOOK_URL
  value: {{ .Values.postgresql.gradebookUrl | quote }}
- name: PGPASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.postgresql.passwordSecret.name }}
      key: {{ .Values.postgresql.passwordSecret.key }}
{{- end }}
{{- end }}

{{- define "arena-hub.podSecurityContext" -}}
runAsUser: 1000
runAsGroup: 100
fsGroup: 100
runAsNonRoot: true
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "arena-hub.containerSecurityContext" -}}
allowPrivilegeEscalation: false
capabilities:
  drop: [ALL]
{{- end }}
