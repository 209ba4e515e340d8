package cwlocal

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// TestMain refuses every dial that is not to loopback, so that no test can
// reach AWS by accident (the SDK's credential chain included).
func TestMain(m *testing.M) {
	base := http.DefaultTransport.(*http.Transport)
	dial := (&net.Dialer{Timeout: 5 * time.Second}).DialContext
	base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("test refuses non-loopback dial to %s", addr)
		}
		return dial(ctx, network, addr)
	}
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	os.Exit(m.Run())
}

const (
	testAccessKey = "AKIDEXAMPLE"
	testSecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// startServer starts a server for one test and closes it at the end.
func startServer(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := NewServer(opts)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// newClient is the real SDK client pointed at s with static credentials and
// no retries, so every error is seen as the service sent it.
func newClient(s *Server, access, secret string, opt ...func(*cloudwatchlogs.Options)) *cloudwatchlogs.Client {
	o := cloudwatchlogs.Options{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(access, secret, ""),
		BaseEndpoint:     aws.String(s.URL()),
		RetryMaxAttempts: 1,
	}
	return cloudwatchlogs.New(o, opt...)
}

// fixedClock returns a clock stopped at t.
func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func mustCreate(t *testing.T, c *cloudwatchlogs.Client, group, stream string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &group}); err != nil {
		var exists *types.ResourceAlreadyExistsException
		if !errors.As(err, &exists) {
			t.Fatalf("CreateLogGroup(%s): %v", group, err)
		}
	}
	if stream == "" {
		return
	}
	if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: &group, LogStreamName: &stream}); err != nil {
		t.Fatalf("CreateLogStream(%s, %s): %v", group, stream, err)
	}
}
