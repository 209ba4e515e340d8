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
		// Keep every connection the concurrency limit may use: batches
		// are sealed in bursts (a flush tick seals every stream's), and a
		// connection closed after one burst is a TLS handshake at the
		// next. Keeping a quarter of them cost a fifth of the CPU with a
		// thousand streams in handshakes. An idle one holds its TLS state
		// and 20 KiB of buffers, and is closed after 30 s unused, so a
		// node that needs few keeps few.
		t.MaxIdleConns = max(4, cfg.MaxConcurrency)
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
