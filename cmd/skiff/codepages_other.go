//go:build !linux

package main

import "errors"

// releaseCodePages is Linux's: elsewhere skiff keeps its pages.
func releaseCodePages() (int64, error) {
	return 0, errors.ErrUnsupported
}
