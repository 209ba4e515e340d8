{{/* Chart name, overridable. */}}
{{- define "skiff.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: the release name when it already contains the chart name. */}}
{{- define "skiff.fullname" -}}
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

{{/* Selector labels. app.kubernetes.io/name is also skiff's self-exclude label. */}}
{{- define "skiff.selectorLabels" -}}
app.kubernetes.io/name: {{ include "skiff.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "skiff.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "skiff.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: agent
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "skiff.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "skiff.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "skiff.configMapName" -}}
{{- default (include "skiff.fullname" .) .Values.existingConfigMap }}
{{- end }}

{{- define "skiff.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The metrics and probe port, from config.http.listen (host:port). */}}
{{- define "skiff.port" -}}
{{- $listen := toString .Values.config.http.listen }}
{{- $port := regexFind "[0-9]+$" $listen }}
{{- if or (not $port) (not (contains ":" $listen)) }}
{{- fail (printf "config.http.listen %q: want host:port (the probes and metrics need the port)" $listen) }}
{{- end }}
{{- $port }}
{{- end }}

{{/*
Seconds in a Go duration string ("25s", "1m30s", "1500ms"), as a float.
*/}}
{{- define "skiff.seconds" -}}
{{- $d := toString . }}
{{- if not (regexMatch "^([0-9]+(\\.[0-9]+)?(h|ms|m|s))+$" $d) }}
{{- fail (printf "duration %q: want a Go duration such as 25s or 1m30s" $d) }}
{{- end }}
{{- $total := 0.0 }}
{{- range regexFindAll "[0-9.]+(h|ms|m|s)" $d -1 }}
{{- $n := float64 (regexFind "^[0-9.]+" .) }}
{{- $unit := regexFind "(h|ms|m|s)$" . }}
{{- if eq $unit "h" }}{{ $total = addf $total (mulf $n 3600) }}
{{- else if eq $unit "m" }}{{ $total = addf $total (mulf $n 60) }}
{{- else if eq $unit "s" }}{{ $total = addf $total $n }}
{{- else }}{{ $total = addf $total (divf $n 1000) }}
{{- end }}
{{- end }}
{{- $total }}
{{- end }}

{{/* Fails unless the pod's grace period is above shutdown_timeout. */}}
{{- define "skiff.checkGrace" -}}
{{- $shutdown := include "skiff.seconds" (default "25s" .Values.config.shutdown_timeout) | float64 }}
{{- $grace := .Values.terminationGracePeriodSeconds | float64 }}
{{- if le $grace $shutdown }}
{{- fail (printf "terminationGracePeriodSeconds (%v) must be above config.shutdown_timeout (%v s): the kubelet kills the pod when the grace period ends, before skiff has flushed and checkpointed" $grace $shutdown) }}
{{- end }}
{{- end }}

{{/*
Fails without config.cluster: skiff refuses to start in a cluster without a
cluster name rather than ship to a made-up log group, and the chart says so
before anything is installed.
*/}}
{{- define "skiff.checkCluster" -}}
{{- if not (toString (default "" .Values.config.cluster) | trim) }}
{{- fail "config.cluster is required: set the cluster's name with --set config.cluster=NAME (the log groups are /aws/containerinsights/NAME/application, /dataplane and /host)" }}
{{- end }}
{{- end }}

{{/* The pod's DNS policy: dnsPolicy, else the one that keeps cluster DNS. */}}
{{- define "skiff.dnsPolicy" -}}
{{- if .Values.dnsPolicy }}
{{- .Values.dnsPolicy }}
{{- else if .Values.hostNetwork }}
{{- "ClusterFirstWithHostNet" }}
{{- else }}
{{- "ClusterFirst" }}
{{- end }}
{{- end }}

{{/*
Fails when an enabled journal input would read a directory of
config.journal.dirs (skiff's default when unset) that no mount brings into
the pod: skiff would wait for it forever and ship nothing.
*/}}
{{- define "skiff.checkJournal" -}}
{{- $journal := not (hasKey .Values.config "inputs") }}{{/* skiff's defaults read the journal */}}
{{- range $name, $in := .Values.config.inputs }}
{{- if and $in (eq (toString $in.type) "journal") (ne (toString $in.enabled) "false") }}
{{- $journal = true }}
{{- end }}
{{- end }}
{{- if $journal }}
{{- $mounts := list .Values.hostPaths.log }}
{{- with include "skiff.journalPath" . }}
{{- $mounts = append $mounts . }}
{{- end }}
{{- range .Values.extraVolumeMounts }}
{{- $mounts = append $mounts (toString .mountPath) }}
{{- end }}
{{- range (dig "journal" "dirs" list .Values.config | default (list "/var/log/journal" "/run/log/journal")) }}
{{- $dir := toString . | trimSuffix "/" }}
{{- $covered := contains "$" $dir }}
{{- range $mounts }}
{{- $m := trimSuffix "/" . }}
{{- if or (eq $dir $m) (hasPrefix (printf "%s/" $m) $dir) }}
{{- $covered = true }}
{{- end }}
{{- end }}
{{- if not $covered }}
{{- fail (printf "config.journal.dirs: %s is not under hostPaths.log (%s), hostPaths.journal (%q) or an extraVolumeMounts path: the journal inputs would read nothing there; mount it, or drop it from config.journal.dirs" $dir $.Values.hostPaths.log (include "skiff.journalPath" $)) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The volatile journal's host path: hostPaths.journal ("" for none), or
/run/log/journal in values from before the key existed (helm upgrade
--reuse-values).
*/}}
{{- define "skiff.journalPath" -}}
{{- if hasKey .Values.hostPaths "journal" }}
{{- toString (default "" .Values.hostPaths.journal) }}
{{- else }}
{{- "/run/log/journal" }}
{{- end }}
{{- end }}
