package cwlocal

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// TestDescribeAndProtectionErrors covers the remaining errors of the group
// calls as the SDK reports them.
func TestDescribeAndProtectionErrors(t *testing.T) {
	s := startServer(t, Options{})
	c := newClient(s, testAccessKey, testSecretKey)
	ctx := context.Background()
	mustCreate(t, c, "/p", "s")

	_, err := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/a"), LogGroupNamePattern: aws.String("a")})
	apiErr(t, "prefix and pattern", err, "InvalidParameterException", 400, "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
	_, err = c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{Limit: aws.Int32(0)})
	apiErr(t, "limit 0", err, "InvalidParameterException", 400, "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1")
	_, err = c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{NextToken: aws.String("bogus")})
	apiErr(t, "bad token", err, "InvalidParameterException", 400, "The specified nextToken is invalid.")
	mustCreate(t, c, "/GroupDataLogs", "")
	out, err := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePattern: aws.String("DataLogs")})
	if err != nil || len(out.LogGroups) != 1 || aws.ToString(out.LogGroups[0].LogGroupName) != "/GroupDataLogs" ||
		out.LogGroups[0].Arn == nil || out.LogGroups[0].LogGroupArn != nil || out.LogGroups[0].StoredBytes != nil {
		t.Errorf("pattern DataLogs = %+v, %v; want /GroupDataLogs with name, creation time and arn only", out, err)
	}
	if out, _ := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePattern: aws.String("datalogs")}); len(out.LogGroups) != 0 {
		t.Errorf("pattern datalogs matched %+v; the match is case-sensitive", out.LogGroups)
	}
	_, err = c.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{})
	apiErr(t, "no group", err, "InvalidParameterException", 400, "Either LogGroupName or LogGroupIdentifier is required.")

	if _, err := c.PutLogGroupDeletionProtection(ctx, &cloudwatchlogs.PutLogGroupDeletionProtectionInput{
		LogGroupIdentifier: aws.String("/p"), DeletionProtectionEnabled: aws.Bool(true)}); err != nil {
		t.Fatalf("PutLogGroupDeletionProtection: %v", err)
	}
	_, err = c.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String("/p")})
	var ve *types.ValidationException
	if !errors.As(err, &ve) {
		t.Fatalf("DeleteLogGroup of a protected group: err = %v; want ValidationException", err)
	}
	apiErr(t, "protected group", err, "ValidationException", 400, "Cannot delete log group with deletion protection enabled.")
	c.PutLogGroupDeletionProtection(ctx, &cloudwatchlogs.PutLogGroupDeletionProtectionInput{LogGroupIdentifier: aws.String("/p"), DeletionProtectionEnabled: aws.Bool(false)})
	if _, err := c.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String("/p")}); err != nil {
		t.Errorf("DeleteLogGroup after disabling protection: %v", err)
	}
	_, err = c.PutLogGroupDeletionProtection(ctx, &cloudwatchlogs.PutLogGroupDeletionProtectionInput{LogGroupIdentifier: aws.String("/p"), DeletionProtectionEnabled: aws.Bool(true)})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("PutLogGroupDeletionProtection(missing): %v", err)
	}
}
