// Command floor measures the memory below which no agent built on skiff's
// four dependencies can go: it links them, starts them as an agent does,
// and ships lines to CloudWatch Logs at a steady rate, doing nothing else
// (no files read, no batching of its own, no checkpoints). Its peak RSS,
// next to skiff's and Fluent Bit's at the same rate, tells how much of
// skiff's memory is its own.
//
// Usage:
//
//	cwlocal --tls --discard --ca-out ca.pem &
//	AWS_CA_BUNDLE=ca.pem floor --endpoint https://127.0.0.1:4566 --rate 1000
//
// Build it as skiff's image does (CGO_ENABLED=0, -trimpath, -ldflags
// "-s -w"): the size of the executable is most of what is measured. It
// sets GOGC to skiff's 50 unless GOGC is set.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/fsnotify/fsnotify"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

type options struct {
	endpoint  string
	region    string
	rate      int
	streams   int
	lineBytes int
	duration  time.Duration
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var o options
	fs := flag.NewFlagSet("floor", flag.ContinueOnError)
	fs.StringVar(&o.endpoint, "endpoint", "", "CloudWatch Logs endpoint URL (required), e.g. cwlocal's")
	fs.StringVar(&o.region, "region", "us-east-1", "region")
	fs.IntVar(&o.rate, "rate", 1000, "lines per second in all")
	fs.IntVar(&o.streams, "streams", 50, "log streams (one request per stream each second)")
	fs.IntVar(&o.lineBytes, "line-bytes", 256, "bytes per line")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "how long to ship")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case o.endpoint == "":
		return errors.New("--endpoint is required")
	case o.streams < 1 || o.lineBytes < 1:
		return errors.New("--streams and --line-bytes must be at least 1")
	case o.rate < o.streams:
		return fmt.Errorf("--rate %d is below --streams %d: each stream gets at least a line a second", o.rate, o.streams)
	}
	if getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	shippedLines, stopDeps, err := startDeps()
	if err != nil {
		return err
	}
	defer stopDeps()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(o.region))
	if err != nil {
		return err
	}
	client := cloudwatchlogs.NewFromConfig(cfg, func(c *cloudwatchlogs.Options) { c.BaseEndpoint = aws.String(o.endpoint) })
	lines, err := ship(ctx, client, o, shippedLines)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "shipped %d lines in %d streams at %d lines/s: %s\n", lines, o.streams, o.rate, memory())
	return nil
}

// startDeps starts what an agent starts besides its sink: a counter of
// shipped lines served on /metrics, an API server client with a pod informer's machinery (its
// server is never reached: the informer is not run), and a file watcher.
func startDeps() (shipped prometheus.Counter, stop func(), err error) {
	shipped = prometheus.NewCounter(prometheus.CounterOpts{Name: "floor_lines_total", Help: "Lines shipped."})
	reg := prometheus.NewRegistry()
	reg.MustRegister(shipped)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return nil, nil, err
	}
	rc, err := rest.RESTClientFor(&rest.Config{Host: "https://127.0.0.1:1", APIPath: "/api", ContentConfig: rest.ContentConfig{
		GroupVersion: &corev1.SchemeGroupVersion, NegotiatedSerializer: serializer.NewCodecFactory(scheme).WithoutConversion(),
	}})
	if err != nil {
		return nil, nil, err
	}
	lw := cache.NewListWatchFromClient(rc, "pods", "", fields.Everything())
	_ = cache.NewSharedIndexInformer(lw, &corev1.Pod{}, 0, cache.Indexers{})
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, nil, err
	}
	if err := w.Add(os.TempDir()); err != nil {
		return nil, nil, err
	}
	return shipped, func() { w.Close(); srv.Close() }, nil
}

// ship sends o.rate lines a second for o.duration: each second, one
// PutLogEvents per stream, one after another, counted in lines.
func ship(ctx context.Context, client *cloudwatchlogs.Client, o options, lines prometheus.Counter) (int, error) {
	group := "/floor"
	if _, err := client.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &group}); err != nil {
		var exists *types.ResourceAlreadyExistsException
		if !errors.As(err, &exists) {
			return 0, err
		}
	}
	names := make([]string, o.streams)
	for i := range names {
		names[i] = fmt.Sprintf("floor-%d", i)
		if _, err := client.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: &group, LogStreamName: &names[i]}); err != nil {
			var exists *types.ResourceAlreadyExistsException
			if !errors.As(err, &exists) {
				return 0, err
			}
		}
	}
	msg := strings.Repeat("x", o.lineBytes)
	perStream := o.rate / o.streams
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	shipped := 0
	end := time.Now().Add(o.duration)
	for {
		for i := range names {
			now := time.Now().UnixMilli()
			events := make([]types.InputLogEvent, perStream)
			for j := range events {
				events[j] = types.InputLogEvent{Message: &msg, Timestamp: &now}
			}
			if _, err := client.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: &group, LogStreamName: &names[i], LogEvents: events}); err != nil {
				return shipped, err
			}
			shipped += perStream
			lines.Add(float64(perStream))
		}
		if !time.Now().Before(end) {
			return shipped, nil
		}
		select {
		case <-ctx.Done():
			return shipped, ctx.Err()
		case <-tick.C:
		}
	}
}

// memory reports the process's peak and current RSS from /proc.
func memory() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "RSS unknown (no /proc)"
	}
	kb := map[string]int{}
	for _, line := range strings.Split(string(b), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var n int
		if _, err := fmt.Sscanf(strings.TrimSpace(value), "%d kB", &n); err == nil {
			kb[name] = n
		}
	}
	mib := func(name string) float64 { return float64(kb[name]) / 1024 }
	return fmt.Sprintf("RSS peak %.1f MiB (now %.1f MiB: %.1f anonymous, %.1f file)", mib("VmHWM"), mib("VmRSS"), mib("RssAnon"), mib("RssFile"))
}
