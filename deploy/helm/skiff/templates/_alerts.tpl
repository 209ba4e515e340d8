{{/*
The alert rules. deploy/grafana/alerts.yaml is this, rendered for release
"skiff" with prometheusRule.namespaced=false: no namespace in its selectors
(deploy/helm_test.go keeps the two equal).
*/}}
{{- define "skiff.alertGroups" -}}
{{- $sel := "" }}
{{- if .Values.prometheusRule.namespaced }}{{ $sel = printf "namespace=%q" .Release.Namespace }}{{ end }}
{{- $selc := "" }}
{{- if $sel }}{{ $selc = printf "%s, " $sel }}{{ end }}
{{- $ds := include "skiff.fullname" . }}
{{- $for := .Values.prometheusRule.noOutputFor }}
groups:
  - name: skiff
    rules:
      - alert: SkiffNoOutput
        expr: |
          sum by (namespace, pod) (rate(skiff_output_proc_records_total{ {{- $sel -}} }[5m])) == 0
        for: {{ $for }}
        labels:
          severity: critical
        annotations:
          summary: "skiff {{`{{ $labels.pod }}`}} delivered nothing for {{ $for }}"
          description: "No record was accepted by the output for {{ $for }}. Check skiff_output_retries_total, the CloudWatch throttle and error counters, and the pod's logs. A node whose pods write no logs also fires this."
      - alert: SkiffDroppingRecords
        expr: |
          sum by (namespace, pod, reason) (rate(skiff_output_dropped_records_total{ {{- $sel -}} }[5m])) > 0
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: "skiff {{`{{ $labels.pod }}`}} drops records ({{`{{ $labels.reason }}`}})"
          description: "Records are dropped for reason {{`{{ $labels.reason }}`}} at {{`{{ $value | humanize }}`}}/s."
      - alert: SkiffSkippingInput
        expr: |
          sum by (namespace, pod, reason) (rate(skiff_input_skipped_bytes_total{ {{- $sel -}} }[5m])) > 0
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: "skiff {{`{{ $labels.pod }}`}} skips log bytes ({{`{{ $labels.reason }}`}})"
          description: "A bound (open files, bytes held by deleted files) forces skipping {{`{{ $value | humanize1024 }}`}}B/s of log data."
      - alert: SkiffBufferNearlyFull
        expr: |
          sum by (namespace, pod) (skiff_buffer_bytes{ {{- $sel -}} })
            / sum by (namespace, pod) (skiff_buffer_limit_bytes{ {{- $sel -}} }) > 0.8
        for: 10m
        labels:
          severity: warning
        annotations:
          summary: "skiff {{`{{ $labels.pod }}`}} buffer above 80% of its limit"
          description: "The output cannot keep up; reading is paused when the buffer is full and logs wait on disk (kubelet rotation may remove them)."
      - alert: SkiffDestinationPaused
        expr: |
          max by (namespace, pod) (skiff_cloudwatch_paused_destinations{ {{- $sel -}} }) > 0
        for: 10m
        labels:
          severity: warning
        annotations:
          summary: "skiff {{`{{ $labels.pod }}`}} holds back {{`{{ $value }}`}} log destinations that refuse records"
          description: "A log group or stream answers AccessDeniedException, a KMS error, or is missing with auto_create_group off (skiff_cloudwatch_destination_errors_total by reason; the pod's log names the group). The files routed there wait on disk, other destinations ship; fix the IAM policy, the key or the group."
      - alert: SkiffEndpointDown
        expr: |
          max by (namespace, pod) (skiff_output_endpoint_state{ {{- $selc -}} state="probing"}) > 0
        for: 5m
        labels:
          severity: critical
        annotations:
          summary: "skiff {{`{{ $labels.pod }}`}} cannot reach CloudWatch Logs"
          description: "Most requests fail (5xx, network, credentials): the output probes one request at a time. Logs wait on disk until it recovers; skiff_output_seconds_since_last_success says for how long."
      - alert: SkiffDaemonSetPodsUnavailable
        expr: |
          kube_daemonset_status_number_unavailable{ {{- $selc -}} daemonset={{ $ds | quote }}} > 0
        for: 15m
        labels:
          severity: warning
        annotations:
          summary: "{{`{{ $value }}`}} skiff pods unavailable"
          description: "Nodes without a ready skiff pod ship no logs."
      - alert: SkiffScrapeTargetMissing
        expr: |
          sum by (namespace) (kube_daemonset_status_number_ready{ {{- $selc -}} daemonset={{ $ds | quote }}})
            > count by (namespace) (skiff_build_info{ {{- $sel -}} })
        for: 15m
        labels:
          severity: warning
        annotations:
          summary: "{{`{{ $value }}`}} ready skiff pods are not scraped"
          description: "Ready skiff pods are missing from Prometheus (a vanished scrape target): their delivery is not watched. Check the ServiceMonitor or scrape annotations and the pods' http.listen."
      - alert: SkiffAccessDenied
        expr: |
          sum by (namespace, pod, reason) (rate(skiff_cloudwatch_destination_errors_total{ {{- $selc -}} reason=~"access_denied|kms"}[5m])) > 0
        for: 5m
        labels:
          severity: critical
        annotations:
          summary: "skiff {{`{{ $labels.pod }}`}}: CloudWatch refuses a destination ({{`{{ $labels.reason }}`}})"
          description: "AccessDeniedException or a KMS error: the IAM role (IRSA or Pod Identity) or the key policy lacks a permission. Those logs wait on disk; the pod's log names the group."
      - alert: SkiffMetadataWatchDown
        expr: |
          min by (namespace, pod, resource) (skiff_enrich_watch_up{ {{- $sel -}} }) == 0
        for: 10m
        labels:
          severity: warning
        annotations:
          summary: "skiff {{`{{ $labels.pod }}`}} cannot watch {{`{{ $labels.resource }}`}} on the API server"
          description: "Records of pods started since go out with the metadata of their file's path only (skiff_enrich_lookups_total); check RBAC and the API server."
      - alert: SkiffBoundReached
        expr: |
          sum by (namespace, pod, reason) (increase(skiff_input_skipped_bytes_total{ {{- $selc -}} reason=~"spool_full|max_deleted_bytes"}[10m])) > 0
        labels:
          severity: critical
        annotations:
          summary: "skiff {{`{{ $labels.pod }}`}} gave up log bytes: {{`{{ $labels.reason }}`}}"
          description: "The spool (tail.max_spool_bytes) or the bytes held by deleted files (tail.max_deleted_bytes) reached their bound during a long outage: {{`{{ $value | humanize1024 }}`}}B were skipped, counted and logged. Raise the bound or fix the output."
{{- end }}
