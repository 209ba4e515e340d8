package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestStatusLoopbackOnly: /status lists pods and log paths, so it answers
// loopback clients (skiff top on the node, kubectl port-forward) only.
func TestStatusLoopbackOnly(t *testing.T) {
	h := &statusHandler{version: "test"}
	for _, c := range []struct {
		remote string
		want   int
	}{{"127.0.0.1:5000", http.StatusOK}, {"[::1]:5000", http.StatusOK}, {"10.0.3.7:5000", http.StatusForbidden}, {"192.168.1.2:80", http.StatusForbidden}} {
		r := httptest.NewRequest("GET", statusPath, nil)
		r.RemoteAddr = c.remote
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.want {
			t.Errorf("/status from %s = %d; want %d", c.remote, w.Code, c.want)
		}
	}
}
