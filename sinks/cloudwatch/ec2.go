package cloudwatch

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// EC2 is what the instance metadata service says of the node: the fields
// Fluent Bit's aws filter adds to records by default, which Container
// Insights' dataplane and host records carry.
type EC2 struct {
	// AvailabilityZone is the record's "az".
	AvailabilityZone string
	// InstanceID is the record's "ec2_instance_id".
	InstanceID string
}

// Fields returns the record keys and values, in the aws filter's order.
func (e EC2) Fields() [][2]string {
	return [][2]string{{"az", e.AvailabilityZone}, {"ec2_instance_id", e.InstanceID}}
}

// DefaultEC2Timeout bounds LookupEC2 at start.
const DefaultEC2Timeout = 3 * time.Second

// LookupEC2 asks the instance metadata service for the node's instance
// identity document, with IMDSv2 (a session token first) and the SDK's
// fallback to IMDSv1, within timeout. The endpoint is
// $AWS_EC2_METADATA_SERVICE_ENDPOINT, else http://169.254.169.254;
// $AWS_EC2_METADATA_DISABLED=true turns the lookup off. A pod reaches the
// service only with hostNetwork or a hop limit of 2 or more on the
// instance (the EKS default for managed node groups).
func LookupEC2(ctx context.Context, timeout time.Duration) (EC2, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := imds.New(imds.Options{})
	doc, err := c.GetInstanceIdentityDocument(ctx, nil)
	if err != nil {
		return EC2{}, fmt.Errorf("instance metadata: %w", err)
	}
	if doc.InstanceID == "" || doc.AvailabilityZone == "" {
		return EC2{}, fmt.Errorf("instance metadata: the identity document has no instance ID or availability zone")
	}
	return EC2{AvailabilityZone: doc.AvailabilityZone, InstanceID: doc.InstanceID}, nil
}
