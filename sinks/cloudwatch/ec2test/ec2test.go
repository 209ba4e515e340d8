// Package ec2test is an EC2 instance metadata service for tests: the
// instance metadata service cannot run off EC2, and this double answers as
// it does to the SDK's client (IMDSv2).
package ec2test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Instance is what the service says of the instance.
type Instance struct {
	AvailabilityZone, InstanceID, Region string
}

// Server serves the session token (PUT /latest/api/token, which must ask
// for a TTL) and the instance identity document (GET
// /latest/dynamic/instance-identity/document, which must carry the token;
// without it the answer is 401, as on an instance that requires IMDSv2).
// It is closed when the test ends.
func Server(t testing.TB, in Instance) *httptest.Server {
	t.Helper()
	const token = "AQAEAtest-token"
	doc, err := json.Marshal(map[string]string{
		"accountId": "123456789012", "architecture": "x86_64", "availabilityZone": in.AvailabilityZone,
		"imageId": "ami-0123456789abcdef0", "instanceId": in.InstanceID, "instanceType": "m7i.large",
		"privateIp": "10.0.1.23", "region": in.Region, "version": "2017-09-30", "pendingTime": "2026-12-01T10:00:00Z",
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
			if r.Header.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds") == "" {
				http.Error(w, "missing TTL", http.StatusBadRequest)
				return
			}
			w.Header().Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", "21600")
			_, _ = w.Write([]byte(token))
		case r.Method == http.MethodGet && r.URL.Path == "/latest/dynamic/instance-identity/document":
			if r.Header.Get("X-Aws-Ec2-Metadata-Token") != token {
				http.Error(w, "", http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write(doc)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}
