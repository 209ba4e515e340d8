package cloudwatch

import (
	"testing"
	"time"

	"github.com/skiff-agent/skiff/sinks/cloudwatch/ec2test"
)

func TestLookupEC2(t *testing.T) {
	srv := ec2test.Server(t, ec2test.Instance{AvailabilityZone: "eu-west-1b", InstanceID: "i-0123456789abcdef0", Region: "eu-west-1"})
	t.Setenv("AWS_EC2_METADATA_DISABLED", "") // TestMain turns it off for the SDK's credential chain
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", srv.URL)
	got, err := LookupEC2(t.Context(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got != (EC2{AvailabilityZone: "eu-west-1b", InstanceID: "i-0123456789abcdef0"}) {
		t.Errorf("LookupEC2 = %+v", got)
	}
	if f := got.Fields(); f[0] != [2]string{"az", "eu-west-1b"} || f[1] != [2]string{"ec2_instance_id", "i-0123456789abcdef0"} {
		t.Errorf("Fields = %v", f)
	}

	// No service (a laptop, or a pod the hop limit keeps out): an error
	// within the timeout, never a hang.
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1")
	if _, err := LookupEC2(t.Context(), time.Second); err == nil {
		t.Error("LookupEC2 without a service = nil error")
	}
}
