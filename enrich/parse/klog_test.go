package parse

import "testing"

func TestKlog(t *testing.T) {
	cases := []parseCase{
		{ // kube-apiserver starting: a structured line with empty quoted values.
			`I1025 16:06:02.237647       1 server.go:150] "Golang settings" GOGC="" GOMAXPROCS="" GOTRACEBACK=""`,
			`{"severity":"I","time":"1025 16:06:02.237647","pid":"1","source":"server.go:150","message":"Golang settings","GOGC":"","GOMAXPROCS":"","GOTRACEBACK":""}`,
		},
		{ // A printf-style line.
			`I1025 16:06:02.224736       1 options.go:220] external host was not specified, using 192.168.1.105`,
			`{"severity":"I","time":"1025 16:06:02.224736","pid":"1","source":"options.go:220","message":"external host was not specified, using 192.168.1.105"}`,
		},
		{ // kubelet: escaped quotes inside a quoted value.
			`E0314 09:07:51.123456    2043 pod_workers.go:1298] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"app\" with CrashLoopBackOff: \"back-off 5m0s restarting failed container=app pod=web_default(1a2b)\"" pod="default/web" podUID="1a2b"`,
			`{"severity":"E","time":"0314 09:07:51.123456","pid":"2043","source":"pod_workers.go:1298","message":"Error syncing pod, skipping","err":"failed to \"StartContainer\" for \"app\" with CrashLoopBackOff: \"back-off 5m0s restarting failed container=app pod=web_default(1a2b)\"","pod":"default/web","podUID":"1a2b"}`,
		},
		{ // A value klog writes as JSON is kept as its text.
			`I0314 09:07:51.223344    2043 kubelet.go:2424] "SyncLoop (PLEG): event for pod" pod="kube-system/coredns" event={"ID":"6f1c","Type":"ContainerStarted","Data":"9a8b c"}`,
			`{"severity":"I","time":"0314 09:07:51.223344","pid":"2043","source":"kubelet.go:2424","message":"SyncLoop (PLEG): event for pod","pod":"kube-system/coredns","event":"{\"ID\":\"6f1c\",\"Type\":\"ContainerStarted\",\"Data\":\"9a8b c\"}"}`,
		},
		{ // Older klog wrote structs with %+v: blanks inside braces stay in the value.
			`I0314 09:07:51.223399    2043 kubelet.go:2157] "SyncLoop (PLEG): event for pod" pod="kube-system/etcd-node-1" event=&{ID:6f1c Type:ContainerStarted Data:9a8b} n=3`,
			`{"severity":"I","time":"0314 09:07:51.223399","pid":"2043","source":"kubelet.go:2157","message":"SyncLoop (PLEG): event for pod","pod":"kube-system/etcd-node-1","event":"&{ID:6f1c Type:ContainerStarted Data:9a8b}","n":"3"}`,
		},
		{ // A repeated key keeps its last value; a key named like a header field is dropped.
			`W0101 00:00:00.000000   12345 x.go:1] "msg" a="1" time="now" b=[x y] a="2"`,
			`{"severity":"W","time":"0101 00:00:00.000000","pid":"12345","source":"x.go:1","message":"msg","a":"2","b":"[x y]"}`,
		},
		{ // Go escapes in quoted strings.
			`I0101 00:00:00.000000       1 x.go:1] "tab\there" v="\u00e9\x41\x00"`,
			`{"severity":"I","time":"0101 00:00:00.000000","pid":"1","source":"x.go:1","message":"tab\there","v":"éA\u0000"}`,
		},
		{ // Text after the quoted message that is not pairs: the whole text is the message.
			`I0101 00:00:00.000000       1 x.go:1] "quoted" then plain text`,
			`{"severity":"I","time":"0101 00:00:00.000000","pid":"1","source":"x.go:1","message":"\"quoted\" then plain text"}`,
		},
		{ // An unterminated quote, or an unclosed bracket: the same.
			`I0101 00:00:00.000000       1 x.go:1] "quoted" k={a b`,
			`{"severity":"I","time":"0101 00:00:00.000000","pid":"1","source":"x.go:1","message":"\"quoted\" k={a b"}`,
		},
		{
			`I0101 00:00:00.000000       1 x.go:1] "unterminated`,
			`{"severity":"I","time":"0101 00:00:00.000000","pid":"1","source":"x.go:1","message":"\"unterminated"}`,
		},
		{ // Nothing after "]".
			`F0101 00:00:00.000000       1 x.go:1]`,
			`{"severity":"F","time":"0101 00:00:00.000000","pid":"1","source":"x.go:1","message":""}`,
		},
		{ // A source with a directory (-add_dir_header), and a pid wider than 7 columns.
			`I0101 00:00:00.123456 12345678 k8s.io/client-go/tools/cache/reflector.go:539] "Watch close" reflector="pkg/mod/k8s.io/client-go/informers/factory.go:159"`,
			`{"severity":"I","time":"0101 00:00:00.123456","pid":"12345678","source":"k8s.io/client-go/tools/cache/reflector.go:539","message":"Watch close","reflector":"pkg/mod/k8s.io/client-go/informers/factory.go:159"}`,
		},
		{"I0101 00:00:00.000000       1 x.go:1] bad \xff byte", `{"severity":"I","time":"0101 00:00:00.000000","pid":"1","source":"x.go:1","message":"bad ` + "\uFFFD" + ` byte"}`},
		{`D0101 00:00:00.000000       1 x.go:1] unknown severity`, refused},
		{`I0101 00:00:00.000000 x.go:1] no pid`, refused},
		{`I0101 00:00:00.000000       1 x.go] no line`, refused},
		{`I0101 00:00:00.000000       1 x.go:1]no blank`, refused},
		{`I01-1 00:00:00.000000       1 x.go:1] bad date`, refused},
		{`2024-03-14T09:07:51Z INFO started`, refused},
		{`I0101`, refused},
	}
	checkParse(t, builtin(t, "klog"), cases)
	checkParse(t, builtin(t, "glog"), cases)
}
