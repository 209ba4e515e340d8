package cwlocal

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// TestEndpointFromEnvironment: an SDK configured only through the
// environment (as skiff and other programs are) reaches the server through
// AWS_ENDPOINT_URL_CLOUDWATCH_LOGS, with signatures verified.
func TestEndpointFromEnvironment(t *testing.T) {
	s := startServer(t, Options{AccessKey: testAccessKey, SecretKey: testSecretKey})
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_CLOUDWATCH_LOGS":    s.URL(),
		"AWS_ACCESS_KEY_ID":                   testAccessKey,
		"AWS_SECRET_ACCESS_KEY":               testSecretKey,
		"AWS_SESSION_TOKEN":                   "",
		"AWS_REGION":                          "us-east-1",
		"AWS_CONFIG_FILE":                     none,
		"AWS_SHARED_CREDENTIALS_FILE":         none,
		"AWS_PROFILE":                         "",
		"AWS_ENDPOINT_URL":                    "",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "",
	} {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := cloudwatchlogs.NewFromConfig(cfg)
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/env")}); err != nil {
		t.Fatalf("CreateLogGroup through AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: %v", err)
	}
	out, err := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	if err != nil || len(out.LogGroups) != 1 {
		t.Fatalf("DescribeLogGroups = %+v, %v", out, err)
	}
}
