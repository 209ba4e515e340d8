package fluentbit

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// retentions are the retention periods CloudWatch Logs accepts, in days.
var retentions = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// cloudwatchOutput reports a CloudWatch output's settings: the
// destinations of its inputs, and the keys skiff has once.
func (t *translator) cloudwatchOutput(o *fbOutput) {
	s := o.s
	var uses []string
	for _, in := range o.ins {
		if in.sk != nil && t.cw(in) == o {
			uses = append(uses, in.sk.key("log_group"))
		}
	}
	slices.Sort(uses)
	uses = slices.Compact(uses)
	if len(uses) == 0 {
		t.item(s, nil, Changed, "the inputs it takes were not translated, or ship to another output")
	} else {
		t.item(s, nil, Translated, "the destination of %s", strings.Join(uses, ", "))
	}
	if _, ok := s.Get("auto_create_group"); !ok {
		t.setGlobal(s, nil, []string{"cloudwatch", "auto_create_group"}, false, " (Fluent Bit's default: off)")
	}
	for i := range s.Entries {
		e := &s.Entries[i]
		k := strings.ToLower(e.Key)
		switch k {
		case "match", "match_regex":
			t.item(s, e, Translated, "takes the records of %s", labels(o.ins))
		case "log_group_name", "log_group_template", "log_stream_name", "log_stream_prefix", "log_stream_template":
			t.destinationItem(o, e, k)
		case "region":
			if e.Value == "${AWS_REGION}" {
				t.item(s, e, Translated, "cloudwatch.region: skiff's default is $AWS_REGION (else $AWS_DEFAULT_REGION)")
				continue
			}
			t.setGlobal(s, e, []string{"cloudwatch", "region"}, e.Value, "")
		case "auto_create_group":
			t.setGlobal(s, e, []string{"cloudwatch", "auto_create_group"}, isOn(e.Value), "")
		case "log_retention_days":
			n, err := strconv.Atoi(e.Value)
			if err != nil || !slices.Contains(retentions, n) {
				t.item(s, e, NotTranslated, "not a retention CloudWatch accepts (%s)", fmt.Sprint(retentions))
				continue
			}
			t.setGlobal(s, e, []string{"cloudwatch", "retention_days"}, n, "")
		case "log_group_class":
			t.setGlobal(s, e, []string{"cloudwatch", "log_group_class"}, strings.ToUpper(e.Value), "")
		case "role_arn":
			t.setGlobal(s, e, []string{"cloudwatch", "role_arn"}, e.Value, "")
		case "external_id":
			t.setGlobal(s, e, []string{"cloudwatch", "external_id"}, e.Value, "")
		case "endpoint":
			u := e.Value
			if !strings.Contains(u, "://") {
				u = "https://" + u
			}
			t.setGlobal(s, e, []string{"cloudwatch", "endpoint"}, u, "")
		case "log_key":
			if e.Value != "log" {
				t.item(s, e, NotTranslated, "skiff sends the whole record, or the line alone (cloudwatch.format: raw): not the value of %s", e.Value)
				continue
			}
			t.setGlobal(s, e, []string{"cloudwatch", "format"}, "raw", ": the line alone")
		case "log_format":
			if strings.EqualFold(e.Value, "json") {
				t.item(s, e, Translated, "skiff sends JSON (cloudwatch.format: json, the default)")
				continue
			}
			t.item(s, e, NotTranslated, "skiff does not write CloudWatch's embedded metric format")
		case "metric_namespace", "metric_dimensions":
			t.item(s, e, NotTranslated, "skiff does not write CloudWatch's embedded metric format")
		case "new_log_group_tags", "log_group_tags":
			tags := map[string]string{}
			for _, kv := range splitList(e.Value) {
				k, v, _ := strings.Cut(kv, "=")
				tags[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
			t.setGlobal(s, e, []string{"cloudwatch", "tags"}, tags, "")
		case "extra_user_agent", "auto_retry_requests", "add_entity":
			t.item(s, e, Changed, "not needed: skiff's own user agent and retries")
		case "sts_endpoint", "credentials_endpoint", "profile":
			t.item(s, e, Changed, "skiff takes credentials from the AWS SDK's default chain: set AWS_PROFILE, AWS_ENDPOINT_URL_STS or the container credentials variables in its environment instead")
		case "default_log_group_name", "default_log_stream_name":
			t.item(s, e, Changed, "skiff renders a template field without a value as its fallback ({field|fallback}), or \"unknown\"")
		default:
			if !t.common(s, e) {
				t.item(s, e, Changed, "no skiff equivalent: left out")
			}
		}
	}
}

// destinationItem reports a log group or stream setting of o: what it
// became for each input it takes.
func (t *translator) destinationItem(o *fbOutput, e *Entry, k string) {
	var done, failed []string
	var notes []string
	for _, in := range o.ins {
		if in.sk == nil || t.cw(in) != o {
			continue
		}
		d := t.dest(o, in)
		field, at, val, errText, n := "log_group", d.groupAt, d.group, d.groupErr, d.groupNotes
		if strings.Contains(k, "stream") {
			field, at, val, errText, n = "log_stream", d.streamAt, d.stream, d.streamErr, d.streamNotes
		}
		key := in.sk.key(field)
		if at == nil || at.Pos != e.Pos {
			continue
		}
		notes = append(notes, n...)
		if errText != "" {
			failed = append(failed, key+": "+errText)
			continue
		}
		if t.doc.isDefault(in.sk.path(field), val) {
			val += " (skiff's default)"
		}
		done = append(done, key+": "+val)
	}
	slices.Sort(done)
	done = slices.Compact(done)
	slices.Sort(notes)
	notes = slices.Compact(notes)
	switch {
	case len(failed) > 0:
		t.item(o.s, e, NotTranslated, "%s", strings.Join(failed, "; "))
	case len(done) > 0:
		why := ""
		if len(notes) > 0 {
			why = " (" + strings.Join(notes, "; ") + ")"
		}
		t.item(o.s, e, Translated, "%s%s", strings.Join(done, ", "), why)
	default:
		if strings.HasSuffix(k, "_name") && strings.Contains(k, "group") {
			t.item(o.s, e, Changed, "the fallback of log_group_template: skiff renders a field without a value as its fallback, or \"unknown\"")
		} else {
			t.item(o.s, e, Changed, "not used: another setting names the destination")
		}
	}
}
