package cloudwatch

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// api is the part of the CloudWatch Logs client the sink calls.
type api interface {
	PutLogEvents(context.Context, *cloudwatchlogs.PutLogEventsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutLogEventsOutput, error)
	CreateLogStream(context.Context, *cloudwatchlogs.CreateLogStreamInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogStreamOutput, error)
	CreateLogGroup(context.Context, *cloudwatchlogs.CreateLogGroupInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error)
	PutRetentionPolicy(context.Context, *cloudwatchlogs.PutRetentionPolicyInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutRetentionPolicyOutput, error)
}

// newClient builds the SDK client; a non-nil dial replaces the transport's
// dialer. The SDK's retryer is replaced by
// aws.NopRetryer: one attempt per call, so that the sink's own loop decides
// about every retry (backoff curves, adaptive concurrency, the shutdown
// deadline) and no hidden client-side retry quota fails calls fast.
func newClient(ctx context.Context, cfg Config, dial func(ctx context.Context, network, addr string) (net.Conn, error)) (*cloudwatchlogs.Client, error) {
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		// Steady shipping needs a few connections; a burst (a thousand
		// streams' first lines at start) opens up to MaxConcurrency. Keep
		// a quarter of those idle, not all, for at most 30 s: each one
		// holds its TLS state and buffers (1,000 idle files, 64 KiB
		// write buffers and 128 idle connections: 3.8 MB of buffers).
		t.MaxIdleConns = max(4, cfg.MaxConcurrency/4)
		t.MaxIdleConnsPerHost = t.MaxIdleConns
		t.IdleConnTimeout = 30 * time.Second
		// Write a body in TLS records of the largest size, 16 KiB, not
		// in the default 4 KiB pieces.
		t.WriteBufferSize = 16 << 10
		if dial != nil {
			t.DialContext = dial
		}
	})
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }),
		config.WithHTTPClient(httpClient),
	}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(cfg.Credentials))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	if cfg.RoleARN != "" {
		stsClient := sts.NewFromConfig(awsCfg)
		awsCfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, cfg.RoleARN,
			func(o *stscreds.AssumeRoleOptions) {
				o.RoleSessionName = "skiff"
				if cfg.ExternalID != "" {
					o.ExternalID = aws.String(cfg.ExternalID)
				}
			}))
	}
	return cloudwatchlogs.NewFromConfig(awsCfg, func(o *cloudwatchlogs.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.Retryer = aws.NopRetryer{}
	}), nil
}
