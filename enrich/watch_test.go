package enrich

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestClassify(t *testing.T) {
	gr := schema.GroupResource{Resource: "pods"}
	tests := []struct {
		err  error
		want string
	}{
		{io.EOF, reasonClosed},
		{fmt.Errorf("watch: %w", io.ErrUnexpectedEOF), reasonClosed},
		{apierrors.NewResourceExpired("too old"), reasonExpired},
		{apierrors.NewForbidden(gr, "", errors.New("no")), stateForbidden},
		{apierrors.NewUnauthorized("who"), stateUnauthorized},
		{apierrors.NewServiceUnavailable("down"), stateUnavailable},
		{apierrors.NewTooManyRequests("slow down", 1), stateUnavailable},
		{&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, stateUnavailable},
		{errors.New("http2: client connection lost"), stateUnavailable},
		{context.DeadlineExceeded, stateUnavailable},
		{apierrors.NewBadRequest("field selector"), stateError},
	}
	for _, tt := range tests {
		if got := classify(tt.err); got != tt.want {
			t.Errorf("classify(%v) = %s; want %s", tt.err, got, tt.want)
		}
	}
}
