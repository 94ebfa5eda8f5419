//go:build !linux && !darwin && !windows

package main

import (
	"context"
	"errors"
)

func collectOS(context.Context) (updatesFacts, []error, error) {
	return updatesFacts{}, nil, errors.New("update state is not supported on this operating system")
}
