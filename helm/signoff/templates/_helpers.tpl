{{/* The chart's name, or nameOverride. */}}
{{- define "signoff.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release's resource name: fullnameOverride, else the release name when it
already holds the chart's name, else release-chart.
*/}}
{{- define "signoff.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "signoff.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object but the component. */}}
{{- define "signoff.commonLabels" -}}
helm.sh/chart: {{ include "signoff.chart" . }}
app.kubernetes.io/name: {{ include "signoff.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: signoff
{{- end }}

{{/* Labels on the server's objects. */}}
{{- define "signoff.labels" -}}
{{ include "signoff.commonLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{/* The server pods' selector; the migrate Job's pods carry another component. */}}
{{- define "signoff.selectorLabels" -}}
app.kubernetes.io/name: {{ include "signoff.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end }}

{{- define "signoff.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "signoff.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "signoff.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{- define "signoff.postgresql" -}}
{{- if eq .Values.database.mode "postgresql" }}true{{ end }}
{{- end }}

{{/* Where the pod's files are mounted. */}}
{{- define "signoff.paths.config" -}}/etc/signoff/config{{- end }}
{{- define "signoff.paths.db" -}}/etc/signoff/db{{- end }}
{{- define "signoff.paths.jwks" -}}/etc/signoff/jwks{{- end }}
{{- define "signoff.paths.tls" -}}/etc/signoff/tls{{- end }}
{{- define "signoff.paths.data" -}}/var/lib/signoff{{- end }}

{{/* The Secret holding the PostgreSQL URL; the schema requires its name in PostgreSQL mode. */}}
{{- define "signoff.dbSecretName" -}}
{{- required "database.postgresql.urlSecret.name: name the existing Secret that holds the PostgreSQL URL" .Values.database.postgresql.urlSecret.name }}
{{- end }}

{{- define "signoff.jwksSecretName" -}}
{{- .Values.auth.jwt.jwksSecret.name | default (printf "%s-jwks" (include "signoff.fullname" .)) }}
{{- end }}

{{- define "signoff.tlsSecretName" -}}
{{- .Values.tls.secretName | default (printf "%s-tls" (include "signoff.fullname" .)) }}
{{- end }}

{{/* The ConfigMap holding definitions, calendars and the organisation, if any. */}}
{{- define "signoff.configMapName" -}}
{{- if .Values.config.existingConfigMap.name }}
{{- .Values.config.existingConfigMap.name }}
{{- else if or .Values.config.organisation .Values.config.definitions .Values.config.calendars }}
{{- printf "%s-config" (include "signoff.fullname" .) }}
{{- end }}
{{- end }}

{{/*
The ConfigMap's keys and where each lands under /etc/signoff/config, as a
YAML list of {key, path} (the configMap volume's items). The chart's own
ConfigMap keys definitions "definition.<file>" and calendars "calendar.<file>",
so that a definition and a calendar may share a file name.
*/}}
{{- define "signoff.configItems" -}}
{{- $existing := .Values.config.existingConfigMap }}
{{- if $existing.name }}
{{- if $existing.organisationKey }}
- key: {{ $existing.organisationKey }}
  path: organisation.yaml
{{- end }}
{{- range $existing.definitionKeys }}
- key: {{ . }}
  path: definitions/{{ . }}
{{- end }}
{{- range $existing.calendarKeys }}
- key: {{ . }}
  path: calendars/{{ . }}
{{- end }}
{{- else }}
{{- if .Values.config.organisation }}
- key: organisation.yaml
  path: organisation.yaml
{{- end }}
{{- range $file, $_ := .Values.config.definitions }}
- key: definition.{{ $file }}
  path: definitions/{{ $file }}
{{- end }}
{{- range $file, $_ := .Values.config.calendars }}
- key: calendar.{{ $file }}
  path: calendars/{{ $file }}
{{- end }}
{{- end }}
{{- end }}

{{/* The signoffd flags that name the database, for serve and migrate alike. */}}
{{- define "signoff.dbArgs" -}}
{{- if include "signoff.postgresql" . }}
- --db-file={{ include "signoff.paths.db" . }}/url
{{- else }}
- --db={{ include "signoff.paths.data" . }}/{{ .Values.database.sqlite.file }}
- --synchronous={{ .Values.database.sqlite.synchronous }}
{{- end }}
{{- end }}

{{/* The volume with the PostgreSQL URL: one file, "url", readable by the pod's user and group. */}}
{{- define "signoff.dbVolume" -}}
- name: db
  secret:
    secretName: {{ include "signoff.dbSecretName" . }}
    defaultMode: 0440
    items:
      - key: {{ .Values.database.postgresql.urlSecret.key }}
        path: url
{{- end }}

{{/* The pod's securityContext, shared by the server and the migrate Job. */}}
{{- define "signoff.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
fsGroup: {{ .Values.securityContext.fsGroup }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "signoff.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* gRPC port numbers, named once. */}}
{{- define "signoff.probePort" -}}
{{- if .Values.envoy.enabled }}{{ .Values.envoy.probePort }}{{ else }}{{ .Values.grpc.port }}{{ end }}
{{- end }}
