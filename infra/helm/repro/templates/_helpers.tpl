{{- define "repro.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "repro.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "repro.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ default (include "repro.fullname" .) .Values.serviceAccount.name }}{{- else -}}{{ default "default" .Values.serviceAccount.name }}{{- end -}}
{{- end -}}

{{/* An image's reference (image or gpuImage): pinned by digest when one is given, else by tag. */}}
{{- define "repro.image" -}}
{{- if .digest -}}{{ printf "%s@%s" .repository .digest }}{{- else -}}{{ printf "%s:%s" .repository .tag }}{{- end -}}
{{- end -}}

{{/* TLS is on when asked for, or implied by certificates or an API key (as in repro's config). */}}
{{- define "repro.tls" -}}
{{- if or .Values.temporal.tls.enabled .Values.temporal.tls.existingSecret .Values.temporal.apiKey.existingSecret -}}true{{- end -}}
{{- end -}}

{{/*
Pod Security "restricted" (every pod: workers and hooks). The pod runs as the image's non-root
user 10001 unless securityContext.openshift is set (or runAsUser/fsGroup are null): OpenShift's
restricted SCC then assigns a UID and fsGroup from the namespace's range.
*/}}
{{- define "repro.podSecurityContext" -}}
runAsNonRoot: true
{{- if not .Values.securityContext.openshift }}
{{- with .Values.securityContext.runAsUser }}
runAsUser: {{ . }}
{{- end }}
{{- with .Values.securityContext.runAsGroup }}
runAsGroup: {{ . }}
{{- end }}
{{- with .Values.securityContext.fsGroup }}
fsGroup: {{ . }}
{{- end }}
{{- end }}
seccompProfile: { type: RuntimeDefault }
{{- end -}}

{{- define "repro.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities: { drop: ["ALL"] }
seccompProfile: { type: RuntimeDefault }
{{- end -}}

{{/*
"true" when KEDA scales a pool (dict "root" $ "w" <pool values>): autoscaling on, the pool on, and
KEDA's API in the cluster (`helm template` offline: --api-versions keda.sh/v1alpha1/ScaledObject).
Without KEDA the chart renders no ScaledObject and the Deployment keeps its `replicas`.
*/}}
{{- define "repro.kedaScales" -}}
{{- if and .w.enabled .w.autoscaling.enabled (.root.Capabilities.APIVersions.Has "keda.sh/v1alpha1/ScaledObject") -}}true{{- end -}}
{{- end -}}
